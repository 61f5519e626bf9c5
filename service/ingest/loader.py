"""Loading validated seed documents into Neo4j, one atomic transaction per report."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from service.graph.driver import Database
from service.ingest.models import SeedDocument
from service.ingest.writer import WriteSummary, write_documents

DEFAULT_BATCH = 200

COUNT_NODES = "MATCH (n) WHERE n:Actor OR n:Report OR n:Claim OR n:Event RETURN count(n) AS n"


@dataclass
class LoadSummary:
    """What a load wrote, summed over its transactions."""

    reports: int = 0
    written: WriteSummary = field(default_factory=WriteSummary)

    def add(self, reports: int, written: WriteSummary) -> None:
        self.reports += reports
        self.written.add(written)


async def database_is_empty(db: Database) -> bool:
    """True when the database holds no knowledge-base node at all."""
    records = await db.read(COUNT_NODES, {})
    return int(records[0]["n"]) == 0


async def load_documents(
    db: Database,
    documents: Iterable[SeedDocument],
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> LoadSummary:
    """Write the documents in batches of ``batch_size`` reports, one transaction per batch.

    A batch is stored whole or not at all, so a failure never leaves half a
    report. Documents are consumed as they come: memory holds one batch.
    """
    summary = LoadSummary()
    for batch in batched(documents, batch_size):
        summary.add(len(batch), await write_documents(db, batch))
        if on_batch is not None:
            on_batch(len(batch))
    return summary


def batched(items: Iterable[SeedDocument], size: int) -> Iterator[tuple[SeedDocument, ...]]:
    """Tuples of ``size`` items (the last may be shorter); itertools.batched arrives in 3.12."""
    iterator = iter(items)
    while batch := tuple(itertools.islice(iterator, size)):
        yield batch
