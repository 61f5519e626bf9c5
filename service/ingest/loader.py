"""Loading validated seed documents into Neo4j, one atomic transaction per report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from service.graph.driver import WRITE_COUNTERS, Database
from service.ingest.models import SeedDocument
from service.ingest.writer import write_document

COUNT_NODES = "MATCH (n) WHERE n:Actor OR n:Report OR n:Claim OR n:Event RETURN count(n) AS n"


@dataclass
class LoadSummary:
    """What a load wrote, summed over its transactions."""

    reports: int = 0
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WRITE_COUNTERS, 0))

    def add(self, counters: dict[str, int]) -> None:
        self.reports += 1
        for key, value in counters.items():
            self.counters[key] = self.counters.get(key, 0) + value


async def database_is_empty(db: Database) -> bool:
    """True when the database holds no knowledge-base node at all."""
    records = await db.read(COUNT_NODES, {})
    return int(records[0]["n"]) == 0


async def load_documents(
    db: Database,
    documents: Sequence[SeedDocument],
    on_report: Callable[[SeedDocument], None] | None = None,
) -> LoadSummary:
    """Write each document in its own transaction, in order; a failure leaves no half report."""
    summary = LoadSummary()
    for document in documents:
        summary.add(await write_document(db, document))
        if on_report is not None:
            on_report(document)
    return summary
