"""Writes validated seed documents to Neo4j, many reports per transaction.

Every statement UNWINDs a batch and MERGEs on ids, so writing the same
documents twice leaves the graph as it was. Each entity carries a hash of
what its document says about it: an entity whose hash has not changed is
left alone (no write at all), which is what makes a second load change
nothing, counters included. A changed entity's own facts replace the old
ones (a claim's source and subjects, an actor's names); links that other
documents contributed (a claim also carried by another report) are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

from service.graph.driver import Database
from service.ingest.models import ActorIn, SeedDocument

KINDS = ("actors", "reports", "events", "claims", "relations")

# Each upsert returns how many of its rows were created, updated or unchanged.
_TALLY: LiteralString = """
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN changed AND NOT created THEN 1 ELSE 0 END) AS updated,
       sum(CASE WHEN changed THEN 0 ELSE 1 END) AS unchanged
"""

UPSERT_ACTORS: LiteralString = (
    """
UNWIND $rows AS a
MERGE (n:Actor {id: a.id})
WITH n, a, n.hash IS NULL AS created, coalesce(n.hash <> a.hash, true) AS changed
CALL (n, a, changed) {
  WITH n, a WHERE changed
  SET n.name = a.name, n.kind = a.kind, n.aliases = a.aliases,
      n.aliasText = reduce(s = '', x IN a.aliases | s + ' ' + x),
      n.description = a.description, n.anonymous = a.anonymous, n.descriptor = a.descriptor,
      n.hash = a.hash
  WITH n, a
  CALL (n, a) {
    MATCH (stale:Name)-[old:NAMES]->(n)
    WHERE NOT stale.key IN [x IN [a.name] + a.aliases | toLower(x)]
    DELETE old
  }
  CALL (n, a) {
    UNWIND [a.name] + a.aliases AS label
    MERGE (k:Name {key: toLower(label)})
    MERGE (k)-[:NAMES]->(n)
  }
  CALL (n, a) {
    MATCH (n)-[stale:AFFILIATED_WITH]->(b:Actor)
    WHERE NOT b.id IN [f IN a.affiliations | f.actor]
    DELETE stale
  }
  CALL (n, a) {
    UNWIND a.affiliations AS f
    MERGE (b:Actor {id: f.actor})
    MERGE (n)-[x:AFFILIATED_WITH]->(b)
    SET x.role = f.role, x.since = f.since, x.until = f.until
  }
}
"""
    + _TALLY
)

UPSERT_REPORTS: LiteralString = (
    """
UNWIND $rows AS rep
MERGE (r:Report {id: rep.id})
WITH r, rep, r.hash IS NULL AS created, coalesce(r.hash <> rep.hash, true) AS changed
CALL (r, rep, changed) {
  WITH r, rep WHERE changed
  SET r.title = rep.title, r.url = rep.url, r.publishedAt = rep.publishedAt, r.kind = rep.kind,
      r.hash = rep.hash
  WITH r, rep
  CALL (r) {
    MATCH (r)-[old:PUBLISHED_BY|AUTHORED_BY|CITES]->()
    DELETE old
  }
  CALL (r, rep) {
    UNWIND CASE WHEN rep.publisher IS NULL THEN [] ELSE [rep.publisher] END AS pid
    MERGE (p:Actor {id: pid})
    MERGE (r)-[:PUBLISHED_BY]->(p)
  }
  CALL (r, rep) {
    UNWIND range(0, size(rep.authors) - 1) AS i
    MERGE (a:Actor {id: rep.authors[i]})
    MERGE (r)-[x:AUTHORED_BY]->(a)
    SET x.position = i
  }
  CALL (r, rep) {
    UNWIND rep.cites AS cid
    MERGE (c:Report {id: cid})
    MERGE (r)-[:CITES]->(c)
  }
}
"""
    + _TALLY
)

UPSERT_EVENTS: LiteralString = (
    """
UNWIND $rows AS e
MERGE (n:Event {id: e.id})
WITH n, e, n.hash IS NULL AS created, coalesce(n.hash <> e.hash, true) AS changed
CALL (n, e, changed) {
  WITH n, e WHERE changed
  SET n.name = e.name, n.kind = e.kind, n.startDate = e.startDate, n.endDate = e.endDate,
      n.place = e.place, n.status = e.status, n.description = e.description, n.hash = e.hash
  WITH n, e
  CALL (n) {
    MATCH ()-[old:PARTICIPATED_IN]->(n)
    DELETE old
  }
  CALL (n, e) {
    UNWIND e.participants AS p
    MERGE (a:Actor {id: p.actor})
    MERGE (a)-[:PARTICIPATED_IN {role: p.role}]->(n)
  }
}
"""
    + _TALLY
)

UPSERT_CLAIMS: LiteralString = (
    """
UNWIND $rows AS c
MERGE (n:Claim {id: c.id})
WITH n, c, n.hash IS NULL AS created, coalesce(n.hash <> c.hash, true) AS changed
CALL (n, c, changed) {
  WITH n, c WHERE changed
  SET n.text = c.text, n.quote = c.quote, n.modality = c.modality, n.proposition = c.proposition,
      n.retracted = coalesce(n.retracted, false), n.hash = c.hash
  WITH n, c
  CALL (n) {
    MATCH (n)-[old:ATTRIBUTED_TO|ABOUT]->()
    DELETE old
  }
  MERGE (s:Actor {id: c.source})
  MERGE (n)-[:ATTRIBUTED_TO]->(s)
  WITH n, c
  CALL (n, c) {
    UNWIND c.about AS aid
    MERGE (a:Actor {id: aid})
    MERGE (n)-[:ABOUT]->(a)
  }
  CALL (n, c) {
    UNWIND c.aboutEvents AS eid
    MERGE (e:Event {id: eid})
    MERGE (n)-[:ABOUT]->(e)
  }
}
"""
    + _TALLY
)

# Which reports carried which claims: links only ever added, so a claim that
# several documents carried keeps them all.
LINK_REPORTED_IN: LiteralString = """
UNWIND $rows AS link
MATCH (c:Claim {id: link.claim})
MERGE (r:Report {id: link.report})
MERGE (c)-[:REPORTED_IN]->(r)
"""

# A claim's date is when it was first reported: kept on the claim so that
# filtering and sorting by it can use an index. Written only when it moves.
DATE_CLAIMS: LiteralString = """
UNWIND $claimIds AS claimId
MATCH (c:Claim {id: claimId})
CALL (c) {
  MATCH (c)-[:REPORTED_IN]->(r:Report)
  RETURN min(r.publishedAt) AS first
}
WITH c, first WHERE (c.firstReportedAt IS NULL) <> (first IS NULL) OR c.firstReportedAt <> first
SET c.firstReportedAt = first
"""

UPSERT_RELATIONS: LiteralString = (
    """
UNWIND $rows AS x
MERGE (a:Actor {id: x.from})
MERGE (b:Actor {id: x.to})
MERGE (a)-[r:RELATED_TO {id: x.id}]->(b)
WITH r, x, r.hash IS NULL AS created, coalesce(r.hash <> x.hash, true) AS changed
CALL (r, x, changed) {
  WITH r, x WHERE changed
  SET r.kind = x.kind, r.since = x.since, r.until = x.until, r.evidence = x.evidence, r.hash = x.hash
}
"""
    + _TALLY
)


@dataclass
class WriteSummary:
    """Per kind of entity: how many were created, updated, and left as they were."""

    tally: dict[str, dict[str, int]] = field(
        default_factory=lambda: {kind: {"created": 0, "updated": 0, "unchanged": 0} for kind in KINDS}
    )

    def add(self, other: WriteSummary) -> None:
        for kind, counts in other.tally.items():
            for outcome, n in counts.items():
                self.tally[kind][outcome] += n

    def total(self, outcome: str) -> int:
        return sum(counts[outcome] for counts in self.tally.values())


def _hashed(row: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.blake2b(json.dumps(row, sort_keys=True).encode(), digest_size=12).hexdigest()
    return {**row, "hash": digest}


def batch_parameters(documents: Sequence[SeedDocument]) -> dict[str, list[Any]]:
    """The documents as rows for the batch statements; a later definition of an id wins."""
    actors: dict[str, dict[str, Any]] = {}
    reports: dict[str, dict[str, Any]] = {}
    events: dict[str, dict[str, Any]] = {}
    claims: dict[str, dict[str, Any]] = {}
    relations: dict[str, dict[str, Any]] = {}
    links: list[dict[str, str]] = []
    for document in documents:
        data = document.model_dump(mode="json", by_alias=True)
        report_id = data["report"]["id"]
        reports[report_id] = _hashed(data["report"])
        actors.update((a["id"], _hashed(a)) for a in data["actors"])
        events.update((e["id"], _hashed(e)) for e in data["events"])
        for claim in data["claims"]:
            reported_in = claim.pop("reportedIn")
            claims[claim["id"]] = _hashed(claim)
            links.extend({"claim": claim["id"], "report": r} for r in [report_id, *reported_in])
        links.extend({"claim": c, "report": report_id} for c in data["carriedClaims"])
        relations.update((r["id"], _hashed(r)) for r in data["relations"])
    return {
        "actors": list(actors.values()),
        "reports": list(reports.values()),
        "events": list(events.values()),
        "claims": list(claims.values()),
        "relations": list(relations.values()),
        "links": links,
    }


async def write_documents(db: Database, documents: Sequence[SeedDocument]) -> WriteSummary:
    """Write many reports in one transaction: all of them are stored, or none."""
    rows = batch_parameters(documents)
    dated = sorted({link["claim"] for link in rows["links"]})
    results = await db.write_transaction(
        [
            (UPSERT_ACTORS, {"rows": rows["actors"]}),
            (UPSERT_REPORTS, {"rows": rows["reports"]}),
            (UPSERT_EVENTS, {"rows": rows["events"]}),
            (UPSERT_CLAIMS, {"rows": rows["claims"]}),
            (LINK_REPORTED_IN, {"rows": rows["links"]}),
            (DATE_CLAIMS, {"claimIds": dated}),
            (UPSERT_RELATIONS, {"rows": rows["relations"]}),
        ]
    )
    summary = WriteSummary()
    for kind, records in zip(("actors", "reports", "events", "claims"), results[:4], strict=True):
        summary.tally[kind] = _tally(records)
    summary.tally["relations"] = _tally(results[6])
    return summary


async def write_document(db: Database, document: SeedDocument) -> WriteSummary:
    """Write one report and everything in it in a single transaction."""
    return await write_documents(db, [document])


async def write_actor(db: Database, actor: ActorIn) -> WriteSummary:
    """Upsert one actor with its names and affiliations, in one transaction."""
    row = _hashed(actor.model_dump(mode="json", by_alias=True))
    [records] = await db.write_transaction([(UPSERT_ACTORS, {"rows": [row]})])
    summary = WriteSummary()
    summary.tally["actors"] = _tally(records)
    return summary


def _tally(records: list[dict[str, Any]]) -> dict[str, int]:
    record = records[0] if records else {}
    return {outcome: int(record.get(outcome) or 0) for outcome in ("created", "updated", "unchanged")}
