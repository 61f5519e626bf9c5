"""The Neo4j driver's lifecycle and the one door every Cypher query goes through.

``Database`` wraps one ``neo4j.AsyncDriver`` per process. ``write`` runs a
query in a write transaction (routed to the leader in a cluster); ``read``
runs one in an auto-commit read transaction (routed to a reader), which
spares a transaction's extra exchange with the server. Both are retried here
on transient errors for up to NEO4J_RETRY_TIME (``Database._retried``: the
retry time bounds the whole call, getting connections included), have a
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

from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConnectionAcquisitionTimeoutError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from neo4j.exceptions import DatabaseUnavailable as Neo4jDatabaseUnavailable
from opentelemetry.trace import SpanKind

from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncSession,
    AsyncTransaction,
    Query,
    RoutingControl,
)
from service.config import Settings
from service.errors import DatabaseUnavailable, QueryTimeout
from service.observability import NEO4J_IN_USE, NEO4J_POOL_SIZE, NEO4J_RETRIES, NEO4J_UNAVAILABLE, tracer

log = logging.getLogger(__name__)

Record = dict[str, Any]
# Runs one statement inside a transaction and returns its records.
Run = Callable[[LiteralString, Mapping[str, Any]], Awaitable[list[Record]]]
T = TypeVar("T")
USER_AGENT = "kb/1"
# The least time one attempt gets to have a connection (a free one, or a new one: TCP, Bolt handshake, HELLO),
# even with no retry time left. A call Neo4j cannot answer is over within NEO4J_RETRY_TIME plus this.
CONNECT_FLOOR_S = 1.0
# Back-off between attempts: doubling from the first to the most, each ±20 % at random.
FIRST_DELAY_S, MOST_DELAY_S = 0.1, 2.0


def connect_timeout(query_timeout_s: float, left_s: float) -> float:
    """How long an attempt may take to have a connection: the retry time left, at least CONNECT_FLOOR_S,
    at most NEO4J_QUERY_TIMEOUT."""
    return min(query_timeout_s, max(left_s, CONNECT_FLOOR_S))


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
    # How long a first attempt may take to have a connection (connect_timeout of the whole retry time).
    connect_s: float = CONNECT_FLOOR_S
    round_trips: int = field(default=0)
    retries: int = 0  # attempts made again after a transient failure
    # Read sessions between reads: making one (its config merged from the driver's) cost 35 µs of a 0.52 ms
    # point read. A session holds a connection only while a result is open, and one task uses it at a time.
    idle_sessions: list[AsyncSession] = field(default_factory=list)

    @classmethod
    def connect(cls, settings: Settings) -> Database:
        # A first attempt may take the whole retry time to have its connection (not less than CONNECT_FLOOR_S,
        # not more than the query timeout); a later one gets what is left (_retried).
        connect_s = connect_timeout(settings.neo4j_query_timeout_s, settings.neo4j_retry_s)
        driver = AsyncGraphDatabase.driver(
            settings.effective_neo4j_uri(),
            auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
            max_connection_pool_size=settings.neo4j_max_pool_size,
            connection_timeout=connect_s,
            connection_acquisition_timeout=connect_s,
            max_transaction_retry_time=0,  # the service retries (_retried), within NEO4J_RETRY_TIME
            notifications_min_severity="OFF",
        )
        NEO4J_POOL_SIZE.set(settings.neo4j_max_pool_size)
        return cls(
            driver=driver,
            name=settings.neo4j_database,
            timeout_s=settings.neo4j_query_timeout_s,
            retry_s=settings.neo4j_retry_s,
            connect_s=connect_s,
        )

    async def close(self) -> None:
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
        """Run ``work`` in one write transaction: all it writes commits, or none of it.

        ``work`` gets a function that runs one statement in the transaction and
        returns its records; it may read, decide, then write. The whole of it is
        retried on transient errors (deadlocks, leader changes) in a new
        transaction, so it must not have effects outside the transaction. One
        round trip is counted per transaction.
        """
        self._count_round_trip()
        timeout = timeout_s or self.timeout_s
        with (
            tracer.start_as_current_span(
                "neo4j write transaction",
                kind=SpanKind.CLIENT,
                attributes={"db.system": "neo4j", "db.namespace": self.name},
            ),
            _translated(timeout),
            NEO4J_IN_USE.track_inprogress(),
        ):
            async with asyncio.timeout(self.bound_s(timeout)):
                return await self._retried(lambda connect_s: self._transaction(work, timeout, connect_s))

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
            async with asyncio.timeout(self.bound_s(self.timeout_s)):
                if routing is RoutingControl.READ:
                    arguments = dict(params)
                    return await self._retried(lambda connect_s: self._read_auto_commit(cypher, arguments, connect_s))

                async def statement(run: Run) -> list[Record]:
                    return await run(cypher, params)

                return await self._retried(lambda connect_s: self._transaction(statement, self.timeout_s, connect_s))

    def bound_s(self, timeout_s: float) -> float:
        """The most a call may take on this side: its retries, then a last attempt's server-side timeout and
        connection. Neo4j ends a query at its timeout; this ends a call to a server that keeps its socket open
        but answers nothing (stopped, frozen, stalled), which otherwise waits until TCP gives up: one timer
        per call, where the driver would time each socket read (the local server does not ask it to)."""
        return self.retry_s + timeout_s + 2 * CONNECT_FLOOR_S

    async def _retried(self, attempt: Callable[[float | None], Awaitable[T]]) -> T:
        """``attempt`` until it succeeds, fails for good, or NEO4J_RETRY_TIME has gone by since the first began.

        Transient failures (the ones the driver itself would retry: no connection, a server stopping or
        starting, a deadlock, a leader change) are tried again after a growing pause, none starting after the
        retry time; ``attempt`` gets how long it may take to have a connection (None: the first attempt, the
        driver's own, ``connect_timeout`` of the whole retry time), so the last one's ends no
        later than CONNECT_FLOOR_S past it. A query Neo4j has started is bounded by NEO4J_QUERY_TIMEOUT, not
        by this. With no retry time, one attempt.
        """
        deadline = time.monotonic() + self.retry_s
        delay, connect_s = FIRST_DELAY_S, None
        while True:
            try:
                return await attempt(connect_s)
            except (Neo4jError, DriverError) as error:
                left = deadline - time.monotonic()
                if not error.is_retryable() or left <= 0:
                    raise
            await asyncio.sleep(min(delay * random.uniform(0.8, 1.2), left))
            delay = min(delay * 2, MOST_DELAY_S)
            connect_s = connect_timeout(self.timeout_s, deadline - time.monotonic())
            self.retries += 1
            NEO4J_RETRIES.inc()

    async def _transaction(self, work: Callable[[Run], Awaitable[T]], timeout_s: float, connect_s: float | None) -> T:
        """One attempt at ``work`` in a write transaction: committed if it returns, rolled back if it raises."""
        async with (
            self.driver.session(
                database=self.name,
                bookmark_manager=self.driver.execute_query_bookmark_manager,
                connection_acquisition_timeout=self.connect_s if connect_s is None else connect_s,
            ) as session,
            await session.begin_transaction(timeout=timeout_s) as tx,
        ):
            return await work(_runner(tx))

    async def _read_auto_commit(
        self, cypher: LiteralString, params: dict[str, Any], connect_s: float | None
    ) -> list[Record]:
        """One attempt at a read in an auto-commit transaction (``_retried`` tries again).

        An auto-commit read is one exchange with the server (RUN and PULL), where a
        transaction adds its COMMIT: a third less time per query here. The driver
        retries managed transactions, not these; a read has no effects, so the
        service retries it, as it does writes.
        Every session shares the driver's bookmark manager: in a cluster a read
        waits for the writes this process made before it (causal consistency).
        """
        # A retry's session has its own time to have a connection: it is not kept for the next read.
        keep = connect_s is None
        session = self.idle_sessions.pop() if keep and self.idle_sessions else self._read_session(connect_s)
        try:
            result = await session.run(Query(cypher, timeout=self.timeout_s), params)
            records = (await result.to_eager_result()).records  # buffered: no await per record
        except BaseException:
            await session.close()  # as `async with` would; a session that failed is not used again
            raise
        if keep:
            self.idle_sessions.append(session)
        else:
            await session.close()
        return [dict(zip(record.keys(), record.values(), strict=True)) for record in records]

    def _read_session(self, connect_s: float | None) -> AsyncSession:
        return self.driver.session(
            database=self.name,
            default_access_mode=READ_ACCESS,
            bookmark_manager=self.driver.execute_query_bookmark_manager,
            connection_acquisition_timeout=self.connect_s if connect_s is None else connect_s,
        )

    def _count_round_trip(self) -> None:
        self.round_trips += 1
        per_request = request_round_trips.get()
        if per_request is not None:
            per_request[0] += 1


def _runner(tx: AsyncTransaction) -> Run:
    """Runs one statement in ``tx``; returns its records as dicts."""

    async def run(cypher: LiteralString, params: Mapping[str, Any]) -> list[Record]:
        result = await tx.run(cypher, dict(params))
        return [dict(zip(record.keys(), record.values(), strict=True)) async for record in result]

    return run


@contextmanager
def _translated(timeout_s: float) -> Iterator[None]:
    """Driver failures as the service's own errors: unavailable, timed out; the rest unchanged."""
    try:
        yield
    except (
        ServiceUnavailable,
        SessionExpired,
        Neo4jDatabaseUnavailable,
        ConnectionAcquisitionTimeoutError,
        OSError,  # TimeoutError among them: the call's own bound (Database.bound_s)
    ) as error:
        # Neo4jDatabaseUnavailable: the server is up but its database is stopping or starting, still so when
        # the retries ran out. ConnectionAcquisitionTimeoutError: no connection free, nor made, in the time.
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
