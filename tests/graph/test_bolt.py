"""The service's own Bolt reader answers as the driver does, fails as the driver does, and leaves to the
driver what it cannot do."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio
import uvloop
from neo4j.exceptions import AuthError, ClientError, CypherSyntaxError, ServiceUnavailable
from neo4j.time import Date
from pydantic import SecretStr

from service.api.graphiql import EXAMPLES
from service.config import Settings
from service.errors import DatabaseUnavailable, QueryTimeout
from service.graph import bolt, claims, reports
from service.graph.bolt import Address, BoltReader, Unanswerable
from service.graph.driver import Database, Record
from tests.api.test_round_trips import WIDE
from tests.conftest import Execute, free_port


@asynccontextmanager
async def connected(settings: Settings, **update: Any) -> AsyncIterator[Database]:
    """A Database of its own on ``settings`` with ``update`` applied, closed after."""
    database = Database.connect(settings.model_copy(update=update))
    try:
        yield database
    finally:
        await database.close()


@pytest_asyncio.fixture
async def db(neo4j_settings: Settings) -> AsyncIterator[Database]:
    async with connected(neo4j_settings) as database:
        yield database


@pytest_asyncio.fixture
async def driver_only(neo4j_settings: Settings) -> AsyncIterator[Database]:
    async with connected(neo4j_settings, direct_reads=False) as database:
        yield database


def reader_of(db: Database) -> BoltReader:
    assert db.reader is not None
    return db.reader


async def idle_connection(reader: BoltReader) -> bolt._Connection:
    """The reader's one connection, after a first read opened it and gave it back."""
    await reader.read("RETURN 1 AS one", {})
    [connection] = reader._idle
    return connection


async def assert_dropped(reader: BoltReader, connection: bolt._Connection) -> None:
    """``connection`` was closed and not kept, and the next read gets a new one."""
    assert connection.closed
    assert reader._idle == []
    assert await reader.read("RETURN 2 AS two", {}) == [{"two": 2}]


VALUES = """
RETURN 1 AS one, -9223372036854775808 AS smallest, 2.5 AS half, 'ünïcødé ✓' AS text, null AS nothing,
       true AS yes, false AS no, [1, 'two', [3.0, null], {four: 4}] AS mixed, {} AS empty, [] AS none,
       $echo AS echo
"""


async def test_it_answers_as_the_driver_does(db: Database, driver_only: Database, seeded: Database) -> None:
    echo = {"list": [1, 2.5, "x", None, True], "map": {"nested": [{"deep": "yes"}]}, "tuple": (1, 2)}
    assert await reader_of(db).read(VALUES, {"echo": echo}) == await driver_only.read(VALUES, {"echo": echo})
    assert (await reader_of(db).read(VALUES, {"echo": echo}))[0]["echo"]["tuple"] == [1, 2]
    ids = [r["id"] for r in await driver_only.read("MATCH (c:Claim) RETURN c.id AS id ORDER BY id", {})]
    assert ids  # the seeds have claims
    assert await claims.claims_by_ids(db, ids) == await claims.claims_by_ids(driver_only, ids)
    assert await reports.reports_of_claims(db, ids) == await reports.reports_of_claims(driver_only, ids)
    many = "UNWIND range(1, 5000) AS i RETURN i, toString(i) AS s"
    assert await reader_of(db).read(many, {}) == await driver_only.read(many, {})
    assert await reader_of(db).read("MATCH (n:Nothing) RETURN n.id AS id", {}) == []


async def test_every_read_of_the_api_is_the_readers(seeded: Database, execute: Execute) -> None:
    """No query of the API falls back to the driver (which would run it twice): the examples GraphiQL opens
    with, and a query touching every loader."""
    assert seeded.reader is not None
    before, answered = seeded.reads_left_to_driver, seeded.round_trips
    for example in EXAMPLES:
        assert (await execute(example.query, **(example.variables or {})))["errors"] == []
    assert (await execute(WIDE))["errors"] == []
    assert seeded.round_trips - answered > 20
    assert seeded.reads_left_to_driver == before
    assert await seeded.read("RETURN date('2026-11-26') AS day", {})  # and the count does count
    assert seeded.reads_left_to_driver == before + 1


async def test_messages_over_one_chunk_go_and_come_in_several(db: Database, driver_only: Database) -> None:
    big = "x" * 200_000  # a RUN over three 64 kB chunks, and a record as big back
    query = "RETURN $big AS big, size($big) AS size, [i IN range(1, 3) | $big + toString(i)] AS more"
    answer = await reader_of(db).read(query, {"big": big})
    assert answer == await driver_only.read(query, {"big": big})
    assert answer[0]["size"] == 200_000


async def test_a_refused_query_raises_the_drivers_error_and_its_connection_is_not_reused(db: Database) -> None:
    reader = reader_of(db)
    connection = await idle_connection(reader)
    with pytest.raises(CypherSyntaxError):
        await reader.read("RETURN RETURN", {})
    await assert_dropped(reader, connection)


async def test_a_read_past_its_time_limit_is_a_timeout(neo4j_settings: Settings) -> None:
    async with connected(neo4j_settings, neo4j_query_timeout_s=1.0) as db:
        slow = "UNWIND range(1, 2000000000) AS x WITH x WHERE x < 0 RETURN count(x) AS n"
        with pytest.raises(ClientError, match="TransactionTimedOut"):
            await reader_of(db).read(slow, {})
        with pytest.raises(QueryTimeout):
            await db.read(slow, {})
        assert await db.read("RETURN 1 AS one", {}) == [{"one": 1}]


async def test_what_it_cannot_decode_or_encode_the_driver_answers(db: Database, driver_only: Database) -> None:
    reader = reader_of(db)
    with pytest.raises(Unanswerable):
        await reader.read("RETURN date('2026-11-26') AS day", {})
    assert await db.read("RETURN date('2026-11-26') AS day, 1 AS one", {}) == [{"day": Date(2026, 11, 26), "one": 1}]
    with pytest.raises(Unanswerable):
        await reader.read("RETURN $day AS day", {"day": datetime.date(2026, 11, 26)})
    assert await db.read("RETURN $day AS day", {"day": datetime.date(2026, 11, 26)}) == [{"day": Date(2026, 11, 26)}]
    assert len(reader._idle) == 1  # the decoded-but-foreign answer left its connection fit for use


async def test_a_reader_cancelled_mid_answer_closes_its_connection(db: Database) -> None:
    reader = reader_of(db)
    connection = await idle_connection(reader)
    task = asyncio.ensure_future(reader.read("UNWIND range(1, 300000000) AS x WITH x WHERE x < 0 RETURN 1", {}))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_dropped(reader, connection)


async def test_connections_are_pooled_and_bounded(neo4j_settings: Settings) -> None:
    async with connected(neo4j_settings, neo4j_max_pool_size=2) as db:
        reader = reader_of(db)
        answers = await asyncio.gather(*(reader.read("RETURN $x AS x", {"x": x}) for x in range(12)))
        assert answers == [[{"x": x}] for x in range(12)]
        assert len(reader._idle) == 2  # 12 reads at once, on 2 connections
        again = await asyncio.gather(*(reader.read("RETURN $x AS x", {"x": x}) for x in range(4)))
        assert again == [[{"x": x}] for x in range(4)]
        assert len(reader._idle) == 2  # reused, not more


async def test_a_connection_the_server_closed_is_left_for_a_new_one(db: Database) -> None:
    reader = reader_of(db)
    connection = await idle_connection(reader)
    assert connection.transport is not None
    connection.transport.abort()
    await asyncio.sleep(0.05)
    assert connection.closed
    assert await reader.read("RETURN 2 AS two", {}) == [{"two": 2}]
    assert reader._idle[0] is not connection


async def test_a_wrong_password_is_the_drivers_auth_error(neo4j_settings: Settings) -> None:
    async with connected(neo4j_settings, neo4j_password=SecretStr("not-the-password"), neo4j_retry_s=0) as db:
        with pytest.raises(AuthError):
            await reader_of(db).read("RETURN 1 AS one", {})
        with pytest.raises(DatabaseUnavailable):
            await db.read("RETURN 1 AS one", {})


async def test_no_server_is_service_unavailable(neo4j_settings: Settings) -> None:
    async with connected(neo4j_settings, neo4j_uri=f"bolt://127.0.0.1:{free_port()}", neo4j_retry_s=0) as db:
        with pytest.raises(ServiceUnavailable):
            await reader_of(db).read("RETURN 1 AS one", {})
        with pytest.raises(DatabaseUnavailable):
            await db.read("RETURN 1 AS one", {})


async def test_a_server_speaking_an_older_bolt_is_left_to_the_driver() -> None:
    async def bolt_4_4(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(20)
        writer.write(b"\x00\x00\x04\x04")  # "let us speak 4.4"
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(bolt_4_4, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader = BoltReader(Address("127.0.0.1", port), user="neo4j", password="x", database="neo4j",
                        timeout_s=5, max_connections=2, user_agent="kb-test")  # fmt: skip
    try:
        with pytest.raises(Unanswerable):
            await reader.read("RETURN 1 AS one", {})
        assert not reader.usable
    finally:
        await reader.close()
        server.close()
        await server.wait_closed()


def test_keep_alive_noops_between_messages_are_skipped() -> None:
    connection = bolt._Connection()
    loop = asyncio.new_event_loop()
    try:
        connection._answer = loop.create_future()
        connection._summaries_due = 2
        success = bolt._message(bolt.SUCCESS, {"fields": ["x"]})
        record = bolt._message(bolt.RECORD, [7])
        done = bolt._message(bolt.SUCCESS, {})
        stream = b"\x00\x00" + success + b"\x00\x00\x00\x00" + record + b"\x00\x00" + done
        for i in range(len(stream)):  # a byte at a time: every message split at every point
            connection.data_received(stream[i : i + 1])
        assert connection._answer is None
        assert connection.records == [[7]]
        assert [tag for tag, _ in connection.summaries] == [bolt.SUCCESS, bolt.SUCCESS]
    finally:
        loop.close()


def test_it_reads_under_uvloop_the_servers_loop(neo4j_settings: Settings) -> None:
    """uvicorn runs on uvloop, whose transports are not asyncio's classes; the other tests run on asyncio's."""

    async def reads() -> list[list[Record]]:
        async with connected(neo4j_settings) as db:
            answers = [await reader_of(db).read("RETURN $x AS x", {"x": x}) for x in range(3)]
            answers.append(await db.read("UNWIND range(1, 3) AS i RETURN i", {}))
            return answers

    assert uvloop.run(reads()) == [[{"x": 0}], [{"x": 1}], [{"x": 2}], [{"i": 1}, {"i": 2}, {"i": 3}]]


@pytest.mark.parametrize(
    ("uri", "address"),
    [
        ("bolt://db.example:7688", Address("db.example", 7688)),
        ("bolt://127.0.0.1", Address("127.0.0.1", 7687)),
        ("neo4j://db.example:7687", None),  # routing: the driver's
        ("bolt+s://db.example:7687", None),  # TLS: the driver's
        ("neo4j+s://db.example", None),
    ],
)
async def test_only_a_plain_bolt_uri_gets_a_reader(uri: str, address: Any, neo4j_settings: Settings) -> None:
    assert Address.of(uri) == address
    for direct_reads, expected in ((True, address is not None), (False, False)):
        async with connected(neo4j_settings, neo4j_uri=uri, direct_reads=direct_reads) as db:
            assert (db.reader is not None) == expected
