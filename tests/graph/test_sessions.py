"""Reads through the driver share their sessions: one a read used goes back for the next, one that failed
never does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from neo4j.exceptions import CypherSyntaxError

from service.config import Settings
from service.graph.driver import Database


@pytest_asyncio.fixture
async def db(neo4j_settings: Settings) -> AsyncIterator[Database]:
    database = Database.connect(neo4j_settings)
    yield database
    await database.close()
    assert database.idle_sessions == []  # closed with the driver


async def test_a_session_serves_one_read_after_another(db: Database) -> None:
    assert await db.read("RETURN 1 AS one", {}) == [{"one": 1}]
    [session] = db.idle_sessions
    assert await db.read("RETURN $x AS x", {"x": 2}) == [{"x": 2}]
    assert db.idle_sessions == [session]


async def test_reads_at_once_each_have_their_own(db: Database) -> None:
    answers = await asyncio.gather(*(db.read("RETURN $x AS x", {"x": x}) for x in range(5)))
    assert answers == [[{"x": x}] for x in range(5)]
    assert len({id(s) for s in db.idle_sessions}) == len(db.idle_sessions) == 5


async def test_a_session_whose_read_failed_is_closed_not_kept(db: Database) -> None:
    await db.read("RETURN 1 AS one", {})
    [session] = db.idle_sessions
    with pytest.raises(CypherSyntaxError):
        await db.read("RETURN RETURN", {})
    assert db.idle_sessions == []
    assert session.closed()
    assert await db.read("RETURN 3 AS three", {}) == [{"three": 3}]  # a new one
