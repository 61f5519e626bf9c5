"""Writes validated seed documents to Neo4j: one transaction per report.

Every statement MERGEs on ids, so writing the same document twice leaves the
graph as it was. A document's own facts replace what an earlier version of it
said (a claim's source and subjects, an actor's names); links that other
documents contributed (a claim also carried by another report) are kept.
"""

from __future__ import annotations

from typing import Any, LiteralString

from service.graph.driver import Database
from service.ingest.models import ActorIn, SeedDocument

UPSERT_ACTORS: LiteralString = """
UNWIND $actors AS a
MERGE (n:Actor {id: a.id})
SET n.name = a.name, n.kind = a.kind, n.aliases = a.aliases,
    n.aliasText = reduce(s = '', x IN a.aliases | s + ' ' + x),
    n.description = a.description, n.anonymous = a.anonymous, n.descriptor = a.descriptor
WITH n, a
OPTIONAL MATCH (stale:Name)-[old:NAMES]->(n)
WHERE NOT stale.key IN [x IN [a.name] + a.aliases | toLower(x)]
DELETE old
WITH DISTINCT n, a
UNWIND [a.name] + a.aliases AS label
MERGE (k:Name {key: toLower(label)})
MERGE (k)-[:NAMES]->(n)
"""

# An actor's affiliations are those its latest definition lists.
UPSERT_AFFILIATIONS: LiteralString = """
UNWIND $actors AS a
MATCH (:Actor {id: a.id})-[stale:AFFILIATED_WITH]->(b:Actor)
WHERE NOT b.id IN a.affiliatedWith
DELETE stale
WITH count(*) AS removed
UNWIND $affiliations AS f
MATCH (a:Actor {id: f.from})
MERGE (b:Actor {id: f.actor})
MERGE (a)-[x:AFFILIATED_WITH]->(b)
SET x.role = f.role, x.since = f.since, x.until = f.until
"""

UPSERT_REPORT: LiteralString = """
MERGE (r:Report {id: $report.id})
SET r.title = $report.title, r.url = $report.url, r.publishedAt = $report.publishedAt,
    r.kind = $report.kind
WITH r
OPTIONAL MATCH (r)-[old:PUBLISHED_BY|AUTHORED_BY]->()
DELETE old
WITH DISTINCT r
CALL (r) {
  UNWIND CASE WHEN $report.publisher IS NULL THEN [] ELSE [$report.publisher] END AS pid
  MERGE (p:Actor {id: pid})
  MERGE (r)-[:PUBLISHED_BY]->(p)
}
CALL (r) {
  UNWIND range(0, size($report.authors) - 1) AS i
  MERGE (a:Actor {id: $report.authors[i]})
  MERGE (r)-[x:AUTHORED_BY]->(a)
  SET x.position = i
}
CALL (r) {
  UNWIND $report.cites AS cid
  MERGE (c:Report {id: cid})
  MERGE (r)-[:CITES]->(c)
}
"""

UPSERT_EVENTS: LiteralString = """
UNWIND $events AS e
MERGE (n:Event {id: e.id})
SET n.name = e.name, n.kind = e.kind, n.startDate = e.startDate, n.endDate = e.endDate,
    n.place = e.place, n.status = e.status, n.description = e.description
WITH n, e
OPTIONAL MATCH ()-[old:PARTICIPATED_IN]->(n)
DELETE old
WITH DISTINCT n, e
UNWIND e.participants AS p
MERGE (a:Actor {id: p.actor})
MERGE (a)-[:PARTICIPATED_IN {role: p.role}]->(n)
"""

UPSERT_CLAIMS: LiteralString = """
UNWIND $claims AS c
MERGE (n:Claim {id: c.id})
SET n.text = c.text, n.quote = c.quote, n.modality = c.modality, n.proposition = c.proposition,
    n.retracted = coalesce(n.retracted, false)
WITH n, c
OPTIONAL MATCH (n)-[old:ATTRIBUTED_TO|ABOUT]->()
DELETE old
WITH DISTINCT n, c
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
CALL (n, c) {
  UNWIND [$reportId] + c.reportedIn AS rid
  MERGE (r:Report {id: rid})
  MERGE (n)-[:REPORTED_IN]->(r)
}
"""

LINK_CARRIED_CLAIMS: LiteralString = """
MATCH (r:Report {id: $reportId})
UNWIND $claimIds AS cid
MERGE (c:Claim {id: cid})
MERGE (c)-[:REPORTED_IN]->(r)
"""

# A claim's date is when it was first reported: kept on the claim so that
# filtering and sorting by it can use an index.
DATE_CLAIMS_OF_REPORT: LiteralString = """
MATCH (:Report {id: $reportId})<-[:REPORTED_IN]-(c:Claim)
CALL (c) {
  MATCH (c)-[:REPORTED_IN]->(r:Report)
  RETURN min(r.publishedAt) AS first
}
SET c.firstReportedAt = first
"""

UPSERT_RELATIONS: LiteralString = """
UNWIND $relations AS x
MERGE (a:Actor {id: x.from})
MERGE (b:Actor {id: x.to})
MERGE (a)-[r:RELATED_TO {id: x.id}]->(b)
SET r.kind = x.kind, r.since = x.since, r.until = x.until, r.evidence = x.evidence
"""


def document_parameters(document: SeedDocument) -> dict[str, Any]:
    """The document as plain values for Cypher parameters (dates as ISO strings)."""
    data = document.model_dump(mode="json", by_alias=True)
    data["affiliations"] = [{**f, "from": actor["id"]} for actor in data["actors"] for f in actor.pop("affiliations")]
    return data


async def write_document(db: Database, document: SeedDocument) -> dict[str, int]:
    """Write one report and everything in it in a single transaction."""
    data = document_parameters(document)
    report = data["report"]
    return await db.write_transaction(
        [
            (UPSERT_ACTORS, {"actors": data["actors"]}),
            (UPSERT_AFFILIATIONS, {"affiliations": data["affiliations"], "actors": data["actors"]}),
            (UPSERT_REPORT, {"report": report}),
            (UPSERT_EVENTS, {"events": data["events"]}),
            (UPSERT_CLAIMS, {"claims": data["claims"], "reportId": report["id"]}),
            (LINK_CARRIED_CLAIMS, {"claimIds": data["carriedClaims"], "reportId": report["id"]}),
            (DATE_CLAIMS_OF_REPORT, {"reportId": report["id"]}),
            (UPSERT_RELATIONS, {"relations": data["relations"]}),
        ]
    )


async def write_actor(db: Database, actor: ActorIn) -> dict[str, int]:
    """Upsert one actor with its names and affiliations, in one transaction."""
    data = document_parameters(SeedDocument.model_validate({"report": {"id": "x", "title": "x"}, "actors": [actor]}))
    return await db.write_transaction(
        [
            (UPSERT_ACTORS, {"actors": data["actors"]}),
            (UPSERT_AFFILIATIONS, {"affiliations": data["affiliations"], "actors": data["actors"]}),
        ]
    )
