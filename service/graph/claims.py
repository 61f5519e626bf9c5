"""Repository functions for claims. Each is one Cypher round trip, whatever the row count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import LiteralString

from service.graph.driver import Database, Record


@dataclass(frozen=True)
class Page:
    """One page of a list, fetched in the database: ``limit + 1`` rows tell if more follow."""

    items: list[Record]
    total: int
    has_next: bool


# Claims about each actor, keyset-paged on claim id. Retracted claims are
# hidden. ``$anonymous`` null means "named and anonymous sources alike".
CLAIMS_ABOUT_ACTORS: LiteralString = """
UNWIND $actorIds AS actorId
MATCH (a:Actor {id: actorId})
CALL (a) {
  MATCH (a)<-[:ABOUT]-(c:Claim)-[:ATTRIBUTED_TO]->(s:Actor)
  WHERE NOT coalesce(c.retracted, false)
    AND ($anonymous IS NULL OR coalesce(s.anonymous, false) = $anonymous)
  RETURN count(c) AS total
}
CALL (a) {
  MATCH (a)<-[:ABOUT]-(c:Claim)-[:ATTRIBUTED_TO]->(s:Actor)
  WHERE NOT coalesce(c.retracted, false)
    AND ($anonymous IS NULL OR coalesce(s.anonymous, false) = $anonymous)
    AND ($after IS NULL OR c.id > $after)
  WITH c ORDER BY c.id LIMIT $limit
  RETURN collect(c {.*}) AS claims
}
RETURN actorId, total, claims
"""

CLAIMS_BY_IDS: LiteralString = """
UNWIND $ids AS id
MATCH (c:Claim {id: id})
RETURN c {.*} AS claim
"""

SOURCES_OF_CLAIMS: LiteralString = """
UNWIND $claimIds AS claimId
MATCH (:Claim {id: claimId})-[:ATTRIBUTED_TO]->(s:Actor)
RETURN claimId, s {.*} AS source
"""


async def claims_about_actors(
    db: Database,
    actor_ids: Sequence[str],
    *,
    anonymous: bool | None,
    first: int,
    after: str | None,
) -> dict[str, Page]:
    """A page of claims about each actor, ordered by claim id, with the total count."""
    records = await db.read(
        CLAIMS_ABOUT_ACTORS,
        {"actorIds": list(actor_ids), "anonymous": anonymous, "after": after, "limit": first + 1},
    )
    return {
        r["actorId"]: Page(items=r["claims"][:first], total=r["total"], has_next=len(r["claims"]) > first)
        for r in records
    }


async def claims_by_ids(db: Database, ids: Sequence[str]) -> dict[str, Record]:
    records = await db.read(CLAIMS_BY_IDS, {"ids": list(ids)})
    return {r["claim"]["id"]: r["claim"] for r in records}


async def sources_of_claims(db: Database, claim_ids: Sequence[str]) -> dict[str, Record]:
    """The actor each claim is attributed to, keyed by claim id."""
    records = await db.read(SOURCES_OF_CLAIMS, {"claimIds": list(claim_ids)})
    return {r["claimId"]: r["source"] for r in records}
