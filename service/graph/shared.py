"""Lookups by key from concurrent requests, sent to Neo4j as one query.

Each request batches its own lookups (the DataLoaders in ``service.api.loaders``).
Across requests, ``SharedLookups`` batches again: while one query of a kind (say,
claims by id) is running, the lookups of that kind asked for by other requests
wait and then go together, as one query for all their keys. One request alone
never waits: with nothing running, its query goes at once. Under load a query
and its round trip serve several requests: at 8 concurrent point lookups, 2 to
4 of them per query.

Only lookups whose answer for a key depends on the key alone are shared (a
claim by its id, the reports carrying a claim): a joined query answers each key
as its own query would. Pages, whose answer depends on their arguments, are
not. A query that fails fails for every request that joined it, with its error;
a request cancelled while waiting leaves the others' query running.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from service.observability import NEO4J_LOOKUPS_SHARED

V = TypeVar("V")
Fetch = Callable[[Sequence[str]], Awaitable[dict[str, V]]]

MAX_KEYS = 1_000  # a waiting batch this big takes no more keys: the next request runs its own query


@dataclass
class _Batch:
    """Keys waiting for the running query of their kind to end, and the answer they will share."""

    fetch: Fetch[Any]
    context: contextvars.Context  # the first request's: its trace and its round-trip count get the query
    answer: asyncio.Future[dict[str, Any]]
    keys: dict[str, None] = field(default_factory=dict)  # insertion-ordered set


@dataclass
class _Lane:
    """One kind of lookup: whether a query of it is running, and the batch waiting for it to end."""

    running: bool = False
    waiting: _Batch | None = None


class SharedLookups:
    """The lanes of one process, one per kind of lookup; see the module's docstring."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._lanes: dict[Hashable, _Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # held here: the loop keeps only weak references
        self.joined = 0  # lookups answered by a query another request's lookup started (also in /metrics)

    async def fetch(self, kind: Hashable, keys: Sequence[str], fetch: Fetch[V]) -> dict[str, V]:
        """``fetch(keys)``, or the part for ``keys`` of a query shared with concurrent lookups of ``kind``.

        ``kind`` names what ``fetch`` looks up (the repository function, and anything else its answer
        depends on besides the keys); every ``fetch`` given with one ``kind`` must be interchangeable."""
        if not self.enabled:
            return await fetch(keys)
        lane = self._lanes.get(kind)
        if lane is None:
            lane = self._lanes[kind] = _Lane()
        if not lane.running:
            lane.running = True
            try:
                return await fetch(keys)
            finally:
                self._next(lane)
        batch = lane.waiting
        if batch is None:
            answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            batch = lane.waiting = _Batch(fetch, contextvars.copy_context(), answer)
        elif len(batch.keys) >= MAX_KEYS:
            return await fetch(keys)
        else:
            self.joined += 1
            NEO4J_LOOKUPS_SHARED.inc()
        batch.keys.update(dict.fromkeys(keys))
        # Shielded: a request cancelled while it waits must not cancel the answer the others wait for.
        return await asyncio.shield(batch.answer)

    def _next(self, lane: _Lane) -> None:
        """The running query ended: start the waiting batch's, or leave the lane idle."""
        batch, lane.waiting = lane.waiting, None
        if batch is None:
            lane.running = False
            return
        task = asyncio.get_running_loop().create_task(self._run(lane, batch), context=batch.context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, lane: _Lane, batch: _Batch) -> None:
        try:
            answer = await batch.fetch(list(batch.keys))
        except asyncio.CancelledError:  # the loop is closing
            batch.answer.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - every request that joined gets the error
            batch.answer.set_exception(error)
        else:
            batch.answer.set_result(answer)
        finally:
            self._next(lane)
