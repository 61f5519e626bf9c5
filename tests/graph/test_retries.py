"""NEO4J_RETRY_TIME bounds how long a call Neo4j cannot answer keeps trying: reads and writes, against
nothing listening and against a server that accepts
connections and never answers (a black hole). The README's bound: DATABASE_UNAVAILABLE no later than
NEO4J_RETRY_TIME plus one last connection attempt (CONNECT_FLOOR_S); with NEO4J_RETRY_TIME=0, one attempt.

These need no Neo4j (but the last, which holds a lock in the session's)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from service.app import create_app
from service.config import Settings
from service.errors import DatabaseUnavailable
from service.graph.driver import CONNECT_FLOOR_S, Database, Record
from tests.conftest import free_port

RETRY_S = 1.5
# What the event loop and a busy 2-core machine may add to the bound; the calls below end well within it.
SLACK_S = 0.25


class BlackHole:
    """A TCP server that accepts every connection, reads what comes and never answers; it counts connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        while await reader.read(65536):
            pass

    @property
    def uri(self) -> str:
        assert self.server is not None
        return f"bolt://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


@asynccontextmanager
async def black_hole() -> AsyncIterator[BlackHole]:
    hole = BlackHole()
    hole.server = await asyncio.start_server(hole.swallow, "127.0.0.1", 0)
    try:
        yield hole
    finally:
        hole.server.close()
        for writer in hole.writers:
            writer.close()


@asynccontextmanager
async def target(kind: str) -> AsyncIterator[tuple[str, BlackHole | None]]:
    """The URI of nothing listening ("refused") or of a black hole, and the black hole."""
    if kind == "refused":
        yield f"bolt://127.0.0.1:{free_port()}", None
    else:
        async with black_hole() as hole:
            yield hole.uri, hole


async def read(db: Database) -> list[Record]:
    return await db.read("RETURN 1 AS one", {})


async def write(db: Database) -> list[Record]:
    return await db.write("CREATE (p:Probe) RETURN 1 AS one", {})


async def write_unit(db: Database) -> list[Record]:
    return await db.write_unit(lambda run: run("CREATE (p:Probe) RETURN 1 AS one", {}))


CALLS: dict[str, tuple[Callable[[Database], Awaitable[list[Record]]], dict[str, Any]]] = {
    "read": (read, {}),
    "write": (write, {}),
    "write_unit": (write_unit, {}),
}


async def timed_failure(kind: str, call: str, retry_s: float) -> tuple[float, Database, BlackHole | None]:
    """Run ``call`` against ``kind`` with NEO4J_RETRY_TIME=``retry_s``; how long it took to be unavailable."""
    work, options = CALLS[call]
    async with target(kind) as (uri, hole):
        # NEO4J_QUERY_TIMEOUT is the default's, longer than the retry time: it must not be what ends the call.
        settings = Settings(NEO4J_URI=uri, NEO4J_RETRY_TIME=retry_s, NEO4J_QUERY_TIMEOUT=10, **options)
        db = Database.connect(settings)
        try:
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable):
                await work(db)
            return time.monotonic() - started, db, hole
        finally:
            await db.close()


@pytest.mark.parametrize("kind", ["refused", "black hole"])
@pytest.mark.parametrize("call", list(CALLS))
async def test_a_call_neo4j_cannot_answer_retries_for_the_retry_time_and_no_longer(kind: str, call: str) -> None:
    elapsed, db, hole = await timed_failure(kind, call, RETRY_S)

    assert elapsed <= RETRY_S + CONNECT_FLOOR_S + SLACK_S, f"{elapsed:.2f} s"
    assert elapsed >= RETRY_S - 0.05, f"gave up after {elapsed:.2f} s"  # it kept trying for all of it
    if hole is None:
        assert db.retries >= 3  # tried again and again while nothing listened
    else:
        assert hole.connections >= 1  # a connection was made, and waited for


@pytest.mark.parametrize("kind", ["refused", "black hole"])
@pytest.mark.parametrize("call", list(CALLS))
async def test_no_retry_time_is_one_attempt(kind: str, call: str) -> None:
    elapsed, db, hole = await timed_failure(kind, call, 0)

    assert elapsed <= CONNECT_FLOOR_S + SLACK_S, f"{elapsed:.2f} s"
    assert db.retries == 0
    if hole is not None:
        assert hole.connections == 1


async def test_a_request_through_the_api_is_answered_unavailable_within_the_bound() -> None:
    async with black_hole() as hole:
        app = create_app(Settings(NEO4J_URI=hole.uri, NEO4J_RETRY_TIME=RETRY_S, NEO4J_QUERY_TIMEOUT=10))
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://kb") as client:
                started = time.monotonic()
                response = await client.post("/graphql", json={"query": '{ actor(name: "Israel") { name } }'})
                elapsed = time.monotonic() - started
        finally:
            await app.state.kb.db.close()

    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["DATABASE_UNAVAILABLE"]
    assert RETRY_S - 0.05 <= elapsed <= RETRY_S + CONNECT_FLOOR_S + SLACK_S, f"{elapsed:.2f} s"


async def test_the_retry_time_does_not_cut_short_a_transaction_that_is_running(
    graph: Database, neo4j_settings: Settings
) -> None:
    # With no retry time at all, a write waiting 2 s on a lock another transaction holds still commits: the
    # retry time bounds getting a connection and trying again, not a query Neo4j is working on.
    await graph.write("CREATE (:Probe {id: 1, n: 0})", {})
    db = Database.connect(neo4j_settings.model_copy(update={"neo4j_retry_s": 0.0}))
    holding = asyncio.Event()

    async def hold_lock(run: Callable[..., Awaitable[list[Record]]]) -> None:
        await run("MATCH (p:Probe {id: 1}) SET p.n = p.n + 1", {})
        holding.set()
        await asyncio.sleep(2)

    try:
        holder = asyncio.create_task(graph.write_unit(hold_lock))
        await holding.wait()
        started = time.monotonic()
        [row] = await db.write("MATCH (p:Probe {id: 1}) SET p.n = p.n + 1 RETURN p.n AS n", {})
        elapsed = time.monotonic() - started
        await holder
    finally:
        await db.close()

    assert row == {"n": 2}
    assert elapsed >= 1.5, f"{elapsed:.2f} s"


class Freezer:
    """A TCP proxy to Neo4j that can freeze: it then forwards nothing either way and keeps every socket open,
    as a server that is stopped (SIGSTOP), frozen or stalled looks from the driver's side."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            await self.flowing.wait()
            writer.write(data)
            await writer.drain()

    async def connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        self.writers += [writer, upstream_writer]
        await asyncio.gather(self.pipe(reader, upstream_writer), self.pipe(upstream_reader, writer),
                             return_exceptions=True)  # fmt: skip


async def test_a_server_that_stops_answering_mid_call_is_unavailable_within_the_bound(
    graph: Database, neo4j_settings: Settings
) -> None:
    # The local server does not ask drivers to time each read (keep-alive only while streaming), so the call's
    # own bound ends it: retries, then a last attempt's server-side timeout and connection.
    target = urlsplit(neo4j_settings.effective_neo4j_uri())
    if target.scheme != "bolt" or target.hostname is None:  # neo4j:// would route past the proxy
        pytest.skip("the proxy forwards plain Bolt to one server only")
    proxy = Freezer(target.hostname, target.port or 7687)
    proxy.server = await asyncio.start_server(proxy.connect, "127.0.0.1", 0)
    uri = f"bolt://127.0.0.1:{proxy.server.sockets[0].getsockname()[1]}"
    db = Database.connect(neo4j_settings.model_copy(update={"neo4j_uri": uri, "neo4j_retry_s": 0.5,
                                                            "neo4j_query_timeout_s": 1.0}))  # fmt: skip
    try:
        assert await read(db) == [{"one": 1}]  # a connection made and pooled, answering
        proxy.flowing.clear()
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable):
            await read(db)
        elapsed = time.monotonic() - started
    finally:
        proxy.flowing.set()
        proxy.server.close()
        for writer in proxy.writers:
            writer.close()
        await db.close()

    assert elapsed <= db.bound_s(1.0) + SLACK_S, f"{elapsed:.2f} s"
