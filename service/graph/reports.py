"""Repository functions for reports. Each is one Cypher round trip, whatever the row count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, LiteralString

from service.graph.driver import Database, Record
from service.graph.paging import Direction, Page, fetch_root_page, page_query

REPORTS_BY_IDS: LiteralString = """
UNWIND $ids AS id
MATCH (r:Report {id: id})
RETURN collect(r {.*}) AS rows
"""

# Oldest first, so the list reads in the order the claim travelled; reports
# with no known date come last.
REPORTS_OF_CLAIMS: LiteralString = """
UNWIND $claimIds AS claimId
MATCH (:Claim {id: claimId})-[:REPORTED_IN]->(r:Report)
WITH claimId, r ORDER BY r.publishedAt IS NULL, r.publishedAt, r.id
WITH claimId, collect(r {.*}) AS reports
RETURN collect({claimId: claimId, reports: reports}) AS rows
"""

PUBLISHERS_OF_REPORTS: LiteralString = """
UNWIND $reportIds AS reportId
MATCH (:Report {id: reportId})-[:PUBLISHED_BY]->(p:Actor)
RETURN collect({reportId: reportId, publisher: p {.*}}) AS rows
"""

REPORTS_CITED_BY: LiteralString = """
UNWIND $reportIds AS reportId
MATCH (:Report {id: reportId})-[:CITES]->(r:Report)
WITH reportId, r ORDER BY r.publishedAt IS NULL, r.publishedAt, r.id
WITH reportId, collect(r {.*}) AS cited
RETURN collect({reportId: reportId, cited: cited}) AS rows
"""


REPORTS_CITING: LiteralString = """
UNWIND $reportIds AS reportId
MATCH (:Report {id: reportId})<-[:CITES]-(r:Report)
WITH reportId, r ORDER BY r.publishedAt IS NULL, r.publishedAt, r.id
WITH reportId, collect(r {.*}) AS citing
RETURN collect({reportId: reportId, citing: citing}) AS rows
"""

AUTHORS_OF_REPORTS: LiteralString = """
UNWIND $reportIds AS reportId
MATCH (:Report {id: reportId})-[x:AUTHORED_BY]->(a:Actor)
WITH reportId, a ORDER BY x.position
WITH reportId, collect(a {.*}) AS authors
RETURN collect({reportId: reportId, authors: authors}) AS rows
"""


@dataclass(frozen=True)
class ReportFilter:
    publisher: str | None = None
    since: str | None = None
    until: str | None = None

    def params(self) -> dict[str, Any]:
        return {"publisher": self.publisher, "since": self.since, "until": self.until}


class ReportOrder(Enum):
    PUBLISHED_DESC = ("n.publishedAt", Direction.DESC)
    PUBLISHED_ASC = ("n.publishedAt", Direction.ASC)


REPORT_FILTER: LiteralString = """
($publisher IS NULL OR EXISTS { (n)-[:PUBLISHED_BY]->(:Actor {id: $publisher}) })
AND ($since IS NULL OR substring(n.publishedAt, 0, size($since)) >= $since)
AND ($until IS NULL OR substring(n.publishedAt, 0, size($until)) <= $until)
"""

REPORT_PAGES: dict[ReportOrder, LiteralString] = {
    order: page_query(
        parent="", pattern="(n:Report)", filter=REPORT_FILTER, sort_key=order.value[0], direction=order.value[1]
    )
    for order in ReportOrder
}


async def report_page(
    db: Database,
    *,
    where: ReportFilter,
    order: ReportOrder,
    first: int,
    after: list[str] | None,
    with_total: bool = True,
) -> Page:
    return await fetch_root_page(
        db,
        REPORT_PAGES[order],
        first=first,
        after=after,
        direction=order.value[1],
        params=where.params(),
        with_total=with_total,
    )


async def reports_citing(db: Database, report_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The reports that cite each report, oldest first."""
    records = await db.read_rows(REPORTS_CITING, {"reportIds": list(report_ids)})
    return {r["reportId"]: r["citing"] for r in records}


async def authors_of_reports(db: Database, report_ids: Sequence[str]) -> dict[str, list[Record]]:
    records = await db.read_rows(AUTHORS_OF_REPORTS, {"reportIds": list(report_ids)})
    return {r["reportId"]: r["authors"] for r in records}


async def reports_by_ids(db: Database, ids: Sequence[str]) -> dict[str, Record]:
    rows = await db.read_rows(REPORTS_BY_IDS, {"ids": list(ids)})
    return {r["id"]: r for r in rows}


async def reports_of_claims(db: Database, claim_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The reports that carried each claim, oldest first, keyed by claim id."""
    records = await db.read_rows(REPORTS_OF_CLAIMS, {"claimIds": list(claim_ids)})
    return {r["claimId"]: r["reports"] for r in records}


async def publishers_of_reports(db: Database, report_ids: Sequence[str]) -> dict[str, Record]:
    records = await db.read_rows(PUBLISHERS_OF_REPORTS, {"reportIds": list(report_ids)})
    return {r["reportId"]: r["publisher"] for r in records}


async def reports_cited_by(db: Database, report_ids: Sequence[str]) -> dict[str, list[Record]]:
    """The reports each report cites, keyed by the citing report's id."""
    records = await db.read_rows(REPORTS_CITED_BY, {"reportIds": list(report_ids)})
    return {r["reportId"]: r["cited"] for r in records}
