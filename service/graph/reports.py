"""Repository functions for reports. Each is one Cypher round trip, whatever the row count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import LiteralString

from service.graph.driver import Database, Record

REPORTS_BY_IDS: LiteralString = """
UNWIND $ids AS id
MATCH (r:Report {id: id})
RETURN r {.*} AS report
"""

# Oldest first, so the list reads in the order the claim travelled; reports
# with no known date come last.
REPORTS_OF_CLAIMS: LiteralString = """
UNWIND $claimIds AS claimId
MATCH (:Claim {id: claimId})-[:REPORTED_IN]->(r:Report)
WITH claimId, r ORDER BY r.publishedAt IS NULL, r.publishedAt, r.id
RETURN claimId, collect(r {.*}) AS reports
"""

PUBLISHERS_OF_REPORTS: LiteralString = """
UNWIND $reportIds AS reportId
MATCH (:Report {id: reportId})-[:PUBLISHED_BY]->(p:Actor)
RETURN reportId, p {.*} AS publisher
"""

REPORTS_CITED_BY: LiteralString = """
UNWIND $reportIds AS reportId
MATCH (:Report {id: reportId})-[:CITES]->(r:Report)
WITH reportId, r ORDER BY r.publishedAt IS NULL, r.publishedAt, r.id
RETURN reportId, collect(r {.*}) AS cited
"""


async def reports_by_ids(db: Database, ids: Sequence[str]) -> dict[str, Record]:
    records = await db.read(REPORTS_BY_IDS, {"ids": list(ids)})
    return {r["report"]["id"]: r["report"] for r in records}


async def reports_of_claims(db: Database, claim_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The reports that carried each claim, oldest first, keyed by claim id."""
    records = await db.read(REPORTS_OF_CLAIMS, {"claimIds": list(claim_ids)})
    return {r["claimId"]: r["reports"] for r in records}


async def publishers_of_reports(db: Database, report_ids: Sequence[str]) -> dict[str, Record]:
    records = await db.read(PUBLISHERS_OF_REPORTS, {"reportIds": list(report_ids)})
    return {r["reportId"]: r["publisher"] for r in records}


async def reports_cited_by(db: Database, report_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The reports each report cites, keyed by the citing report's id."""
    records = await db.read(REPORTS_CITED_BY, {"reportIds": list(report_ids)})
    return {r["reportId"]: r["cited"] for r in records}
