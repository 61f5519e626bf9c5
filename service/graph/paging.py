"""Keyset paging in the database, for many parents in one round trip.

A list query is assembled once, at import time, from fragments this package
owns (a pattern, a filter, a sort key); every value a user gives is a
parameter. It returns, per parent, the total count and one page of rows
ordered by (sort key, id), with ``limit + 1`` rows fetched to tell whether
another page follows. A cursor is the (sort key, id) of the row it follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, LiteralString

from service.graph.driver import Database, Record


class Direction(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class Row:
    sort_key: str
    node: Record


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, the total across pages, and whether more follow."""

    rows: list[Row]
    total: int
    has_next: bool

    @property
    def items(self) -> list[Record]:
        return [row.node for row in self.rows]


EMPTY_PAGE = Page(rows=[], total=0, has_next=False)

# Rows with no value for the sort key come last in either direction.
NULL_KEY = {Direction.ASC: "\uffff", Direction.DESC: ""}


def page_query(
    *,
    parent: LiteralString,
    pattern: LiteralString,
    filter: LiteralString,
    sort_key: LiteralString,
    direction: Direction,
    projection: LiteralString = "n {.*}",
) -> LiteralString:
    """The Cypher of one list query.

    ``parent`` binds ``p`` for each ``parentId`` of ``$parentIds`` (or is empty
    for a root list, called with one parent id ``""``); ``pattern`` binds ``n``;
    ``sort_key`` is a string expression over ``n``; ``projection`` is what each row returns of ``n``
    (its properties, and whatever related nodes the caller asks for alongside; run on the page's rows only).

    A parent's list is walked once whether or not ``$withTotal`` asks for its
    count: the rows are counted and the page kept in the same pass (a popular
    actor's claims are a quarter of a million rows, and a second walk doubled
    the cost). A root list instead walks the whole label for its count and,
    ordered by id, the id index from the cursor for its page.
    """
    order = direction.value
    compare = ">" if direction is Direction.ASC else "<"
    after = f"($after IS NULL OR k {compare} $after[0] OR (k = $after[0] AND id {compare} $after[1]))"
    if not parent:
        return _root_page_query(pattern, filter, sort_key, direction, after, projection)
    return f"""
UNWIND $parentIds AS parentId
{parent}
CALL (p) {{
  MATCH {pattern}
  WHERE {filter}
  WITH DISTINCT n
  WITH n, coalesce({sort_key}, $nullKey) AS k
  WITH n, k, n.id AS id
  WITH count(n) AS total, collect(CASE WHEN {after} THEN [k, id, n] END) AS candidates
  CALL (candidates) {{
    UNWIND candidates AS row
    WITH row ORDER BY row[0] {order}, row[1] {order} LIMIT $limit
    WITH row[0] AS k, row[2] AS n
    RETURN collect({{k: k, node: {projection}}}) AS rows
  }}
  RETURN CASE WHEN $withTotal THEN total ELSE 0 END AS total, rows
}}
RETURN parentId, total, rows
"""


def _root_page_query(
    pattern: LiteralString,
    filter: LiteralString,
    sort_key: LiteralString,
    direction: Direction,
    after: LiteralString,
    projection: LiteralString,
) -> LiteralString:
    if sort_key == "''" and direction is Direction.ASC:
        # Id order: a range on n.id (ids are never empty) lets Neo4j walk the id index
        # in order and stop after the page, instead of sorting every row.
        page = f"""
  MATCH {pattern}
  WHERE n.id > coalesce($after[1], '') AND {filter}
  WITH DISTINCT n
  WITH n ORDER BY n.id LIMIT $limit
  RETURN collect({{k: '', node: {projection}}}) AS rows"""
    else:
        page = f"""
  MATCH {pattern}
  WHERE {filter}
  WITH DISTINCT n
  WITH n, coalesce({sort_key}, $nullKey) AS k, n.id AS id
  WHERE {after}
  WITH n, k ORDER BY k {direction.value}, n.id {direction.value} LIMIT $limit
  RETURN collect({{k: k, node: {projection}}}) AS rows"""
    return f"""
UNWIND $parentIds AS parentId
CALL () {{
  WITH true AS counted WHERE $withTotal
  MATCH {pattern}
  WHERE {filter}
  RETURN count(DISTINCT n) AS total
}}
CALL () {{{page}
}}
RETURN parentId, total, rows
"""


async def fetch_pages(
    db: Database,
    query: LiteralString,
    parent_ids: Sequence[str],
    *,
    first: int,
    after: list[str] | None,
    direction: Direction,
    params: Mapping[str, Any],
    with_total: bool = True,
) -> dict[str, Page]:
    """Run a ``page_query`` for many parents at once; pages keyed by parent id.

    Without ``with_total`` the count is not made (its match is cut off by the
    parameter before it expands) and each page's total is 0: for clients that
    did not ask for ``totalCount``, which would otherwise cost a pass over
    every matching row.
    """
    records = await db.read(
        query,
        {
            **params,
            "parentIds": list(parent_ids),
            "after": after,
            "limit": first + 1,
            "nullKey": NULL_KEY[direction],
            "withTotal": with_total,
        },
    )
    pages: dict[str, Page] = {}
    for record in records:
        rows = [Row(sort_key=str(r["k"]), node=r["node"]) for r in record["rows"]]
        pages[record["parentId"]] = Page(rows=rows[:first], total=record["total"], has_next=len(rows) > first)
    return pages


async def fetch_root_page(
    db: Database,
    query: LiteralString,
    *,
    first: int,
    after: list[str] | None,
    direction: Direction,
    params: Mapping[str, Any],
    with_total: bool = True,
) -> Page:
    """Run a root ``page_query`` (one with no parent)."""
    pages = await fetch_pages(
        db, query, [""], first=first, after=after, direction=direction, params=params, with_total=with_total
    )
    return pages[""]
