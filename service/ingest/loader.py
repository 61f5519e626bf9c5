"""Loading validated seed documents into Neo4j, in batches of reports, each batch one transaction."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from service.graph.driver import Database
from service.graph.search import search_caught_up
from service.ingest.models import SeedDocument
from service.ingest.writer import Batch, WriteSummary, batch_of, write_batch

DEFAULT_BATCH = 1_000
BATCH_TIMEOUT_S = 600.0  # a batch of thousands of reports takes seconds; a stuck one is stopped

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
    report. Documents are consumed as they come: while one batch is being
    written, a worker thread reads and prepares the next, and memory holds
    those two batches whatever the size of the input. It returns once search sees all of it.
    """
    batches = batched(documents, batch_size)

    def prepare() -> tuple[int, Batch] | None:
        documents = next(batches, None)
        return None if documents is None else (len(documents), batch_of(documents))

    summary = LoadSummary()
    upcoming = asyncio.ensure_future(asyncio.to_thread(prepare))
    while (ready := await upcoming) is not None:
        count, batch = ready
        upcoming = asyncio.ensure_future(asyncio.to_thread(prepare))
        try:
            summary.add(count, await write_batch(db, batch, timeout_s=BATCH_TIMEOUT_S))
        except BaseException:
            await asyncio.gather(upcoming, return_exceptions=True)
            raise
        if on_batch is not None:
            on_batch(count)
    await search_caught_up(db)  # what was loaded can be searched for once this returns
    return summary


def batched(items: Iterable[SeedDocument], size: int) -> Iterator[tuple[SeedDocument, ...]]:
    """Tuples of ``size`` items (the last may be shorter); itertools.batched arrives in 3.12."""
    iterator = iter(items)
    while batch := tuple(itertools.islice(iterator, size)):
        yield batch
