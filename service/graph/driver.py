"""The Neo4j driver's lifecycle and the one door every Cypher query goes through.

``Database`` wraps one ``neo4j.AsyncDriver`` per process. ``write`` runs a
query in a managed write transaction (retried on transient errors, routed to
the leader in a cluster); ``read`` runs one in an auto-commit read transaction
(routed to a reader; retried here on the same errors), which spares the
explicit transaction's extra exchange with the server. Both have a
server-side timeout and translate driver failures into the service's own
errors. Each call is one round trip; ``round_trips`` counts them so tests can
prove a request's cost is bounded.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, LiteralString, TypeVar

from neo4j.exceptions import AuthError, ClientError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired
from neo4j.exceptions import DatabaseUnavailable as Neo4jDatabaseUnavailable
from opentelemetry.trace import SpanKind

from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncSession,
    Query,
    RoutingControl,
    unit_of_work,
)
from service.config import Settings
from service.errors import DatabaseUnavailable, QueryTimeout
from service.graph.bolt import BoltReader, Unanswerable
from service.graph.shared import SharedLookups
from service.observability import NEO4J_IN_USE, NEO4J_POOL_SIZE, NEO4J_UNAVAILABLE, tracer

log = logging.getLogger(__name__)

Record = dict[str, Any]
# Runs one statement inside a transaction and returns its records.
Run = Callable[[LiteralString, Mapping[str, Any]], Awaitable[list[Record]]]
T = TypeVar("T")
USER_AGENT = "kb/1"


# Round trips made on behalf of the current request (set by the API per request).
request_round_trips: ContextVar[list[int] | None] = ContextVar("request_round_trips", default=None)
# When set, every statement run outside a write unit is appended to it: how bench/ and the tests learn
# the Cypher a request sends.
statement_log: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar("statement_log", default=None)


@contextmanager
def recorded_statements() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The statements run inside the block (in this context), with their parameters, as they are run."""
    sent: list[tuple[str, dict[str, Any]]] = []
    token = statement_log.set(sent)
    try:
        yield sent
    finally:
        statement_log.reset(token)


@dataclass
class Database:
    """One driver per process, bound to one database name."""

    driver: AsyncDriver
    name: str
    timeout_s: float
    retry_s: float = 5.0
    round_trips: int = field(default=0)
    # Read sessions between reads: making one (its config merged from the driver's) cost 35 µs of a 0.52 ms
    # point read. A session holds a connection only while a result is open, and one task uses it at a time.
    idle_sessions: list[AsyncSession] = field(default_factory=list)
    # Lookups by key from concurrent requests, as one query (the API's loaders use it).
    shared: SharedLookups = field(default_factory=SharedLookups)
    # Auto-commit reads on connections of the service's own, where it can (service/graph/bolt.py).
    reader: BoltReader | None = None
    reads_left_to_driver: int = 0  # reads the reader handed back (a value it cannot encode or decode)

    @classmethod
    def connect(cls, settings: Settings) -> Database:
        driver = AsyncGraphDatabase.driver(
            settings.effective_neo4j_uri(),
            auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
            max_connection_pool_size=settings.neo4j_max_pool_size,
            connection_acquisition_timeout=settings.neo4j_query_timeout_s,
            max_transaction_retry_time=settings.neo4j_retry_s,
            notifications_min_severity="OFF",
        )
        NEO4J_POOL_SIZE.set(settings.neo4j_max_pool_size)
        return cls(
            driver=driver,
            name=settings.neo4j_database,
            timeout_s=settings.neo4j_query_timeout_s,
            retry_s=settings.neo4j_retry_s,
            shared=SharedLookups(enabled=settings.shared_lookups),
            reader=BoltReader.for_uri(
                settings.effective_neo4j_uri(),
                user=settings.neo4j_user,
                password=settings.neo4j_password.get_secret_value(),
                database=settings.neo4j_database,
                timeout_s=settings.neo4j_query_timeout_s,
                max_connections=settings.neo4j_max_pool_size,
                user_agent=USER_AGENT,
            )
            if settings.direct_reads
            else None,
        )

    async def close(self) -> None:
        if self.reader is not None:
            await self.reader.close()
        while self.idle_sessions:
            await self.idle_sessions.pop().close()
        await self.driver.close()

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless the server answers a trivial query."""
        await self.read("RETURN 1 AS ok", {})

    async def read(self, cypher: LiteralString, params: Mapping[str, Any]) -> list[Record]:
        """Run a read query; return its records as dicts."""
        return await self._run(cypher, params, RoutingControl.READ)

    async def read_rows(self, cypher: LiteralString, params: Mapping[str, Any]) -> list[Record]:
        """Run a read query returning one record whose ``rows`` column is a list of maps; return the list.

        The driver spends some 40 microseconds on each record it receives, more
        than Neo4j spends finding it: a query that collects its rows into one
        record costs half as much for a hundred rows.
        """
        [record] = await self._run(cypher, params, RoutingControl.READ)
        rows: list[Record] = record["rows"]
        return rows

    async def write(self, cypher: LiteralString, params: Mapping[str, Any]) -> list[Record]:
        """Run a write query in one transaction; all of it commits or none of it."""
        return await self._run(cypher, params, RoutingControl.WRITE)

    async def write_unit(self, work: Callable[[Run], Awaitable[T]], timeout_s: float | None = None) -> T:
        """Run ``work`` in one managed write transaction: all it writes commits, or none of it.

        ``work`` gets a function that runs one statement in the transaction and
        returns its records; it may read, decide, then write. The driver retries
        the whole of it on transient errors (deadlocks, leader changes), so it
        must not have effects outside the transaction. One round trip is
        counted per transaction.
        """
        self._count_round_trip()
        timeout = timeout_s or self.timeout_s

        @unit_of_work(timeout=timeout)
        async def transaction(tx: AsyncManagedTransaction) -> T:
            async def run(cypher: LiteralString, params: Mapping[str, Any]) -> list[Record]:
                result = await tx.run(cypher, dict(params))
                return [dict(zip(record.keys(), record.values(), strict=True)) async for record in result]

            return await work(run)

        with (
            tracer.start_as_current_span(
                "neo4j write transaction",
                kind=SpanKind.CLIENT,
                attributes={"db.system": "neo4j", "db.namespace": self.name},
            ),
            _translated(timeout),
            NEO4J_IN_USE.track_inprogress(),
        ):
            async with self.driver.session(
                database=self.name, bookmark_manager=self.driver.execute_query_bookmark_manager
            ) as session:
                return await session.execute_write(transaction)

    async def _run(self, cypher: LiteralString, params: Mapping[str, Any], routing: RoutingControl) -> list[Record]:
        self._count_round_trip()
        log_to = statement_log.get()
        if log_to is not None:
            log_to.append((cypher, dict(params)))
        with (
            tracer.start_as_current_span(
                "neo4j read" if routing is RoutingControl.READ else "neo4j write",
                kind=SpanKind.CLIENT,
                attributes={"db.system": "neo4j", "db.namespace": self.name, "db.query.text": cypher},
            ),
            _translated(self.timeout_s),
            NEO4J_IN_USE.track_inprogress(),
        ):
            if routing is RoutingControl.READ:
                return await self._read_auto_commit(cypher, dict(params))
            result = await self.driver.execute_query(
                Query(cypher, timeout=self.timeout_s),
                dict(params),
                routing_=routing,
                database_=self.name,
            )
        # Every query returns maps and lists, never nodes: the values need no conversion (data() walks them all).
        return [dict(zip(record.keys(), record.values(), strict=True)) for record in result.records]

    async def _read_auto_commit(self, cypher: LiteralString, params: dict[str, Any]) -> list[Record]:
        """One read in an auto-commit transaction, retried as the driver retries managed ones.

        An auto-commit read is one exchange with the server (RUN and PULL), where a
        managed transaction adds its COMMIT: a third less time per query here. The
        driver does not retry auto-commit transactions; a read has no effects, so
        this does, on the errors the driver would retry, for up to NEO4J_RETRY_TIME.
        Every session shares the driver's bookmark manager: in a cluster a read
        waits for the writes this process made before it (causal consistency).
        On a ``bolt://`` URI (one server, where a committed write is seen by every
        later transaction) the service's own ``BoltReader`` runs the read when it
        can, at a third of the driver's CPU per read.
        """
        delay, deadline = 0.1, time.monotonic() + self.retry_s
        while True:
            try:
                if self.reader is not None and self.reader.usable:
                    try:
                        return await self.reader.read(cypher, params)
                    except Unanswerable:
                        self.reads_left_to_driver += 1  # the driver's turn
                session = self.idle_sessions.pop() if self.idle_sessions else self._read_session()
                try:
                    result = await session.run(Query(cypher, timeout=self.timeout_s), params)
                    records = (await result.to_eager_result()).records  # buffered: no await per record
                except BaseException:
                    await session.close()  # as `async with` would; a session that failed is not used again
                    raise
                self.idle_sessions.append(session)
                return [dict(zip(record.keys(), record.values(), strict=True)) for record in records]
            except (Neo4jError, DriverError) as error:
                if not error.is_retryable() or time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 2.0)

    def _read_session(self) -> AsyncSession:
        return self.driver.session(
            database=self.name,
            default_access_mode=READ_ACCESS,
            bookmark_manager=self.driver.execute_query_bookmark_manager,
        )

    def _count_round_trip(self) -> None:
        self.round_trips += 1
        per_request = request_round_trips.get()
        if per_request is not None:
            per_request[0] += 1


@contextmanager
def _translated(timeout_s: float) -> Iterator[None]:
    """Driver failures as the service's own errors: unavailable, timed out; the rest unchanged."""
    try:
        yield
    except (ServiceUnavailable, SessionExpired, Neo4jDatabaseUnavailable, OSError) as error:
        # Neo4jDatabaseUnavailable: the server is up but its database is stopping or starting, still so when
        # the managed transaction's retries ran out.
        NEO4J_UNAVAILABLE.inc()
        raise DatabaseUnavailable() from error
    except AuthError as error:
        log.error("Neo4j refused the service's credentials: %s", error)
        raise DatabaseUnavailable() from error
    except ClientError as error:
        # A lock wait cut short by the transaction's time limit says LockClientStopped.
        if error.code and any(reason in error.code for reason in ("TransactionTimedOut", "LockClientStopped")):
            raise QueryTimeout(timeout_s) from error
        raise
