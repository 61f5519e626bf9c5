"""A page of claims loads its rows' sources, reports and publishers ahead, for the whole page at once.

The answers are the same as field by field (node(id:) takes that path); fragments and aliases are
followed; the rows' resolvers answer from what was loaded, without asking a loader per row.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.api.types import Claim, Report
from service.graph.driver import Database, statement_log
from tests.conftest import Execute

FIELDS = "id text source { name anonymous } reports { title publisher { name } cites { title publisher { name } } }"
PAGE = "query($name: String!) { actor(name: $name) { claims(first: 100) { edges { node { " + FIELDS + " } } } } }"
ONE = "query($id: ID!) { node(id: $id) { ... on Claim { " + FIELDS + " } } }"
FRAGMENTS = """
query($name: String!) { actor(name: $name) { claims(first: 100) { edges { ...Row } } } }
fragment Row on ClaimEdge { node { id text ... on Claim { s: source { name anonymous } } ...Carried } }
fragment Carried on Claim { reports { title p: publisher { name } cites { title publisher { name } } } }
"""


async def page(execute: Execute, query: str) -> list[dict[str, Any]]:
    result = await execute(query, name="Israel")
    assert result["errors"] == []
    return [edge["node"] for edge in result["data"]["actor"]["claims"]["edges"]]


async def test_a_page_answers_as_each_claim_does_alone(seeded: Database, execute: Execute) -> None:
    rows = await page(execute, PAGE)

    assert len(rows) >= 5
    assert any(row["reports"] and row["reports"][0]["cites"] for row in rows)  # the nested levels are exercised
    for row in rows:
        alone = await execute(ONE, id=row["id"])
        assert alone["data"]["node"] == row


async def test_fragments_and_aliases_are_looked_through(seeded: Database, execute: Execute) -> None:
    plain, through = await page(execute, PAGE), await page(execute, FRAGMENTS)

    assert [r["source"] for r in plain] == [r["s"] for r in through]
    assert [[x["publisher"] for x in r["reports"]] for r in plain] == [[x["p"] for x in r["reports"]] for r in through]
    assert [[x["cites"] for x in r["reports"]] for r in plain] == [[x["cites"] for x in r["reports"]] for r in through]


async def test_rows_answer_from_the_look_ahead_not_a_loader_each(
    seeded: Database, execute: Execute, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_: Any) -> None:
        raise AssertionError("a row asked its own loader")

    for owner, name in ((Claim, "_source"), (Claim, "_reports"), (Report, "_publisher")):
        monkeypatch.setattr(owner, name, refuse)
    sent: list[tuple[str, dict[str, Any]]] = []
    token = statement_log.set(sent)
    try:
        rows = await page(execute, PAGE)
    finally:
        statement_log.reset(token)

    assert rows
    assert all(row["source"] for row in rows)
    # actor, page, sources, reports, publishers, cited reports; the cited reports are rows' reports too,
    # so their publishers come from the request's loader cache.
    assert len(sent) == 6
    # A claim reached any other way still answers field by field (and here meets the refusal).
    alone = await execute(ONE, id=rows[0]["id"])
    assert alone["errors"]
