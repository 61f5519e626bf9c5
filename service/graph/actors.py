"""Repository functions for actors. Each is one Cypher round trip, whatever the row count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import LiteralString

from service.graph.driver import Database, Record

ACTORS_BY_IDS: LiteralString = """
UNWIND $ids AS id
MATCH (a:Actor {id: id})
RETURN a {.*} AS actor
"""

# Canonical-name matches first, then alias matches; ties broken by id so the
# answer is stable.
ACTORS_BY_NAME: LiteralString = """
MATCH (:Name {key: toLower($name)})-[:NAMES]->(a:Actor)
RETURN a {.*} AS actor
ORDER BY CASE WHEN toLower(a.name) = toLower($name) THEN 0 ELSE 1 END, a.id
LIMIT $limit
"""


async def actors_by_ids(db: Database, ids: Sequence[str]) -> dict[str, Record]:
    """The actors with these ids, keyed by id; unknown ids are absent."""
    records = await db.read(ACTORS_BY_IDS, {"ids": list(ids)})
    return {r["actor"]["id"]: r["actor"] for r in records}


async def actors_by_name(db: Database, name: str, limit: int = 10) -> list[Record]:
    """Actors going by ``name`` (canonical or alias, case-insensitive), canonical matches first."""
    records = await db.read(ACTORS_BY_NAME, {"name": name.strip(), "limit": limit})
    return [r["actor"] for r in records]
