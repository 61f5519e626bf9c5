"""Repository functions for the write mutations other than ingesting a report.

Each runs in one write transaction: it happens entirely or not at all.
"""

from __future__ import annotations

from typing import LiteralString

from service.graph.claims import MOVE_SOURCE_ANONYMITY, about_keys, standing_twin
from service.graph.driver import Database, Record

ADD_ALIAS: LiteralString = """
MATCH (a:Actor {id: $id})
SET a.aliases = CASE WHEN toLower($alias) IN [x IN [a.name] + coalesce(a.aliases, []) | toLower(x)]
                     THEN a.aliases ELSE coalesce(a.aliases, []) + $alias END
SET a.aliasText = reduce(s = '', x IN coalesce(a.aliases, []) | s + ' ' + x)
MERGE (k:Name {key: toLower($alias)})
MERGE (k)-[:NAMES]->(a)
RETURN a {.*} AS actor
"""

# Every relationship of the merged actor moves to the kept one, with its
# properties; relations keep their ids (the old one is deleted first so the
# uniqueness constraint holds). Names and aliases join the kept actor's; the
# claims it now sources take its anonymity, and ABOUT links the keys of the
# kept actor (about_keys).
MERGE_ACTORS: LiteralString = (
    """
MATCH (keep:Actor {id: $keep}), (gone:Actor {id: $merge})
CALL (keep, gone) {
  MATCH (gone)<-[r:ABOUT|ATTRIBUTED_TO|PUBLISHED_BY|AUTHORED_BY|NAMES]-(x)
  WITH keep, r, x, type(r) AS t, properties(r) AS p
  DELETE r
  WITH keep, x, t, p
  CALL (keep, x, t, p) {
    WITH keep, x, t, p WHERE t = 'ABOUT' MERGE (x)-[n:ABOUT]->(keep)
    """
    + about_keys(claim="x", link="n", actor="keep")
    + standing_twin(claim="x", link="n", actor="keep", fresh=False)
    + """
  }
  CALL (keep, x, t, p) {
    WITH keep, x, t, p WHERE t = 'ATTRIBUTED_TO' MERGE (x)-[:ATTRIBUTED_TO]->(keep)
  }
  CALL (keep, x, t, p) {
    WITH keep, x, t, p WHERE t = 'PUBLISHED_BY' MERGE (x)-[:PUBLISHED_BY]->(keep)
  }
  CALL (keep, x, t, p) {
    WITH keep, x, t, p WHERE t = 'AUTHORED_BY' MERGE (x)-[n:AUTHORED_BY]->(keep) SET n += p
  }
  CALL (keep, x, t, p) {
    WITH keep, x, t, p WHERE t = 'NAMES' MERGE (x)-[:NAMES]->(keep)
  }
}
CALL (keep, gone) {
  MATCH (gone)-[r:PARTICIPATED_IN]->(e:Event)
  WITH keep, r, e, properties(r) AS p
  DELETE r
  MERGE (keep)-[n:PARTICIPATED_IN {role: p.role}]->(e)
}
CALL (keep, gone) {
  MATCH (gone)-[r:RELATED_TO]->(x:Actor)
  WITH keep, gone, r, x, properties(r) AS p
  DELETE r
  WITH keep, gone, x, p
  CALL (keep, gone, x, p) {
    WITH keep, gone, x, p WHERE x = gone
    CREATE (keep)-[n:RELATED_TO]->(keep) SET n = p
  }
  CALL (keep, gone, x, p) {
    WITH keep, gone, x, p WHERE x <> gone
    CREATE (keep)-[n:RELATED_TO]->(x) SET n = p
  }
}
CALL (keep, gone) {
  MATCH (gone)<-[r:RELATED_TO]-(x:Actor)
  WITH keep, r, x, properties(r) AS p
  DELETE r
  CREATE (x)-[n:RELATED_TO]->(keep) SET n = p
}
CALL (keep, gone) {
  MATCH (gone)-[r:AFFILIATED_WITH]->(x:Actor)
  WITH keep, gone, r, x, properties(r) AS p
  DELETE r
  WITH keep, CASE WHEN x = gone THEN keep ELSE x END AS target, p
  MERGE (keep)-[n:AFFILIATED_WITH]->(target) SET n += p
}
CALL (keep, gone) {
  MATCH (gone)<-[r:AFFILIATED_WITH]-(x:Actor)
  WITH keep, r, x, properties(r) AS p
  DELETE r
  MERGE (x)-[n:AFFILIATED_WITH]->(keep) SET n += p
}
WITH keep, gone, [x IN [gone.name] + coalesce(gone.aliases, [])
                  WHERE NOT toLower(x) IN [y IN [keep.name] + coalesce(keep.aliases, []) | toLower(y)]] AS extra,
     coalesce(gone.mergedFrom, []) + gone.id AS absorbed
WITH keep, gone, absorbed, coalesce(keep.aliases, []) + reduce(acc = [], x IN extra |
      CASE WHEN toLower(x) IN [y IN acc | toLower(y)] THEN acc ELSE acc + x END) AS aliases
SET keep.aliases = CASE WHEN size(aliases) > 0 THEN aliases END,
    keep.mergedFrom = coalesce(keep.mergedFrom, []) + absorbed,
    keep.description = coalesce(keep.description, gone.description),
    keep.descriptor = coalesce(keep.descriptor, gone.descriptor),
    // what the background notes explain (names among them) moves with the names
    keep.background = CASE WHEN keep.background IS NULL OR gone.background IS NULL
                           THEN coalesce(keep.background, gone.background)
                           ELSE keep.background + ' ' + gone.background END
SET keep.aliasText = reduce(s = '', x IN coalesce(keep.aliases, []) | s + ' ' + x)
DETACH DELETE gone
WITH keep
CALL (keep) {
  MATCH (keep)<-[:ATTRIBUTED_TO]-(c:Claim)
  WITH c, coalesce(keep.anonymous, false) AS anonymous"""
    + MOVE_SOURCE_ANONYMITY
    + """
}
RETURN keep {.*} AS actor
"""
)

ADD_RELATION: LiteralString = """
MATCH (a:Actor {id: $relation.from}), (b:Actor {id: $relation.to})
MERGE (a)-[r:RELATED_TO {id: $relation.id}]->(b)
SET r.kind = $relation.kind, r.since = $relation.since, r.until = $relation.until,
    r.evidence = CASE WHEN size($relation.evidence) > 0 THEN $relation.evidence END
RETURN properties(r) AS relation, a {.*} AS source, b {.*} AS target
"""

# A retracted claim leaves its actors' index of standing claims (about_keys), and their counts (standing_twin).
RETRACT_CLAIM: LiteralString = (
    """
MATCH (c:Claim {id: $id})
SET c.retracted = true, c.retractedAt = coalesce(c.retractedAt, toString(datetime())),
    c.retractionReason = coalesce($reason, c.retractionReason)
WITH c
CALL (c) { MATCH (c)-[r:ABOUT]->(a:Actor) REMOVE r.liveClaimId"""
    + standing_twin(claim="c", link="r", actor="a", fresh=False)
    + """ }
RETURN c {.*} AS claim
"""
)

# The report goes, with the claims no other report carried; actors, events and
# claims that other reports carried stay.
DELETE_REPORT: LiteralString = """
MATCH (r:Report {id: $id})
OPTIONAL MATCH (c:Claim)-[:REPORTED_IN]->(r)
WHERE NOT EXISTS { (c)-[:REPORTED_IN]->(other:Report) WHERE other <> r }
WITH r, collect(c) AS orphans
FOREACH (c IN orphans | DETACH DELETE c)
WITH r, size(orphans) AS claimsDeleted
DETACH DELETE r
RETURN claimsDeleted
"""


async def add_alias(db: Database, actor_id: str, alias: str) -> Record | None:
    records = await db.write(ADD_ALIAS, {"id": actor_id, "alias": alias})
    return records[0]["actor"] if records else None


async def merge_actors(db: Database, keep: str, merge: str) -> Record | None:
    """Fold actor ``merge`` into ``keep``; None when either does not exist."""
    records = await db.write(MERGE_ACTORS, {"keep": keep, "merge": merge})
    return records[0]["actor"] if records else None


async def add_relation(db: Database, relation: Record) -> Record | None:
    records = await db.write(ADD_RELATION, {"relation": relation})
    return records[0] if records else None


async def retract_claim(db: Database, claim_id: str, reason: str | None) -> Record | None:
    records = await db.write(RETRACT_CLAIM, {"id": claim_id, "reason": reason})
    return records[0]["claim"] if records else None


async def delete_report(db: Database, report_id: str) -> int | None:
    """Delete a report and the claims only it carried; None when there is no such report."""
    records = await db.write(DELETE_REPORT, {"id": report_id})
    return int(records[0]["claimsDeleted"]) if records else None
