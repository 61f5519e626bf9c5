"""Repository functions for actors. Each is one Cypher round trip, whatever the row count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, LiteralString

from service.graph.driver import Database, Record
from service.graph.paging import Direction, Page, fetch_root_page, page_query

MAX_NEIGHBOR_DEPTH = 4

ACTORS_BY_IDS: LiteralString = """
UNWIND $ids AS id
MATCH (a:Actor {id: id})
RETURN collect(a {.*}) AS rows
"""

# Canonical-name matches first, then alias matches; ties broken by id so the
# answer is stable when two actors share an alias.
ACTORS_BY_NAME: LiteralString = """
MATCH (:Name {key: toLower($name)})-[:NAMES]->(a:Actor)
RETURN a {.*} AS actor
ORDER BY CASE WHEN toLower(a.name) = toLower($name) THEN 0 ELSE 1 END, a.id
LIMIT $limit
"""


@dataclass(frozen=True)
class ActorFilter:
    name: str | None = None
    name_contains: str | None = None
    kind: str | None = None
    anonymous: bool | None = None

    def params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nameContains": self.name_contains,
            "kind": self.kind,
            "anonymous": self.anonymous,
        }


class ActorOrder(Enum):
    NAME_ASC = ("toLower(n.name)", Direction.ASC)
    NAME_DESC = ("toLower(n.name)", Direction.DESC)


ACTOR_FILTER: LiteralString = """
($kind IS NULL OR n.kind = $kind)
AND ($anonymous IS NULL OR coalesce(n.anonymous, false) = $anonymous)
AND ($name IS NULL OR EXISTS { (:Name {key: toLower($name)})-[:NAMES]->(n) })
AND ($nameContains IS NULL
     OR any(x IN [n.name] + coalesce(n.aliases, []) WHERE toLower(x) CONTAINS toLower($nameContains)))
"""

ACTOR_PAGES: dict[ActorOrder, LiteralString] = {
    order: page_query(
        parent="", pattern="(n:Actor)", filter=ACTOR_FILTER, sort_key=order.value[0], direction=order.value[1]
    )
    for order in ActorOrder
}

# Relations touching each actor, either direction; valid at $asOf when given
# (since inclusive, until exclusive, compared at the precision of $asOf).
RELATIONS_OF_ACTORS: LiteralString = """
UNWIND $actorIds AS actorId
MATCH (a:Actor {id: actorId})-[r:RELATED_TO]-(other:Actor)
WHERE ($kinds IS NULL OR r.kind IN $kinds)
  AND ($asOf IS NULL OR (
        (r.since IS NULL OR substring(r.since, 0, size($asOf)) <= $asOf)
        AND (r.until IS NULL OR substring(r.until, 0, size($asOf)) > $asOf)))
WITH actorId, r, other, startNode(r) = a AS outgoing
ORDER BY coalesce(r.since, ''), r.id
WITH actorId, collect({relation: properties(r), outgoing: outgoing, other: other {.*}}) AS relations
RETURN collect({actorId: actorId, relations: relations}) AS rows
"""

AFFILIATIONS_OF_ACTORS: LiteralString = """
UNWIND $actorIds AS actorId
MATCH (:Actor {id: actorId})-[x:AFFILIATED_WITH]->(other:Actor)
WITH actorId, x, other ORDER BY coalesce(x.since, ''), other.name
WITH actorId, collect({role: x.role, since: x.since, until: x.until, actor: other {.*}}) AS affiliations
RETURN collect({actorId: actorId, affiliations: affiliations}) AS rows
"""


# One level of a breadth-first walk: the actors one relation away from the
# frontier that no earlier level reached, each once.
_NEIGHBOR_LEVEL: LiteralString = """
  CALL (seen, frontier) {
    UNWIND frontier AS f
    MATCH (f)-[r:RELATED_TO]-(b:Actor)
    WHERE ($kinds IS NULL OR r.kind IN $kinds) AND NOT b IN seen
    RETURN collect(DISTINCT b) AS next
  }
  WITH seen + next AS seen, next AS frontier, found + [x IN next | {b: x, distance: DISTANCE}] AS found
"""
_DISTANCES: tuple[LiteralString, ...] = ("1", "2", "3", "4")


def _neighbors_query(depth: int) -> LiteralString:
    """Breadth first, level by level, each actor kept at its smallest distance.

    The work grows with the actors reached, not with the paths between them (a
    variable-length pattern enumerates every path, which explodes around
    well-connected actors). Levels are unrolled: depth is at most 4.
    """
    levels: LiteralString = "".join(_NEIGHBOR_LEVEL.replace("DISTANCE", d) for d in _DISTANCES[:depth])
    return (
        """
UNWIND $actorIds AS actorId
MATCH (a:Actor {id: actorId})
CALL (a) {
  WITH [a] AS seen, [a] AS frontier, [] AS found
"""
        + levels
        + """
  UNWIND found AS hit
  WITH hit.b AS b, hit.distance AS distance
  RETURN b, distance ORDER BY distance, b.name, b.id LIMIT $limit
}
WITH actorId, collect({actor: b {.*}, distance: distance}) AS neighbors
RETURN collect({actorId: actorId, neighbors: neighbors}) AS rows
"""
    )


NEIGHBORS_OF_ACTORS: dict[int, LiteralString] = {d: _neighbors_query(d) for d in range(1, MAX_NEIGHBOR_DEPTH + 1)}


async def actors_by_ids(db: Database, ids: Sequence[str]) -> dict[str, Record]:
    """The actors with these ids, keyed by id; unknown ids are absent."""
    rows = await db.read_rows(ACTORS_BY_IDS, {"ids": list(ids)})
    return {r["id"]: r for r in rows}


async def actors_by_name(db: Database, name: str, limit: int = 10) -> list[Record]:
    """Actors going by ``name`` (canonical or alias, case-insensitive), canonical matches first."""
    records = await db.read(ACTORS_BY_NAME, {"name": name.strip(), "limit": limit})
    return [r["actor"] for r in records]


async def actor_page(
    db: Database, *, where: ActorFilter, order: ActorOrder, first: int, after: list[str] | None, with_total: bool = True
) -> Page:
    return await fetch_root_page(
        db,
        ACTOR_PAGES[order],
        first=first,
        after=after,
        direction=order.value[1],
        params=where.params(),
        with_total=with_total,
    )


async def relations_of_actors(
    db: Database, actor_ids: Sequence[str], *, kinds: Sequence[str] | None, as_of: str | None
) -> dict[str, list[Record]]:
    """Per actor: [{relation, outgoing, other}], oldest first."""
    records = await db.read_rows(
        RELATIONS_OF_ACTORS,
        {"actorIds": list(actor_ids), "kinds": list(kinds) if kinds is not None else None, "asOf": as_of},
    )
    return {r["actorId"]: r["relations"] for r in records}


async def affiliations_of_actors(db: Database, actor_ids: Sequence[str]) -> dict[str, list[Record]]:
    records = await db.read_rows(AFFILIATIONS_OF_ACTORS, {"actorIds": list(actor_ids)})
    return {r["actorId"]: r["affiliations"] for r in records}


async def neighbors_of_actors(
    db: Database, actor_ids: Sequence[str], *, depth: int, kinds: Sequence[str] | None, limit: int
) -> dict[str, list[Record]]:
    """Per actor: actors within ``depth`` relations, nearest first: [{actor, distance}]."""
    records = await db.read_rows(
        NEIGHBORS_OF_ACTORS[depth],
        {"actorIds": list(actor_ids), "kinds": list(kinds) if kinds is not None else None, "limit": limit},
    )
    return {r["actorId"]: r["neighbors"] for r in records}
