"""Failures a client sees as codes, never as a stack trace: TIMEOUT, INTERNAL (masked, logged in full)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from pydantic import SecretStr

from neo4j import AsyncGraphDatabase
from service.api import compiler
from service.config import Settings
from service.graph import actors
from service.graph.driver import Database
from tests.api.test_http import make_client

TOKEN = "failures-writer-token-0123456789"
ADD_ALIAS = 'mutation { addAlias(actor: "QWN0b3I6aXNyYWVs", alias: "Zion") { aliases } }'


async def test_a_query_past_its_time_limit_is_timeout_and_frees_its_connection(
    seeded: Database, neo4j_settings: Settings
) -> None:
    settings = neo4j_settings.model_copy(update={"neo4j_query_timeout_s": 1.0, "tokens": SecretStr(f"{TOKEN}:writer")})
    headers = {"authorization": f"Bearer {TOKEN}"}
    auth = (neo4j_settings.neo4j_user, neo4j_settings.neo4j_password.get_secret_value())
    async with (
        AsyncGraphDatabase.driver(neo4j_settings.effective_neo4j_uri(), auth=auth) as blocker,
        blocker.session() as session,
        make_client(settings) as client,
    ):
        # Another writer holds Israel's lock: the mutation waits on it until its own limit stops it.
        held = await session.begin_transaction()
        await (await held.run("MATCH (a:Actor {id: 'israel'}) SET a.touched = true")).consume()
        started = time.monotonic()
        timed_out = await client.post("/graphql", json={"query": ADD_ALIAS}, headers=headers)
        waited = time.monotonic() - started
        await held.rollback()
        after = await asyncio.wait_for(client.post("/graphql", json={"query": ADD_ALIAS}, headers=headers), 5)

    [error] = timed_out.json()["errors"]
    assert error["extensions"] == {"code": "TIMEOUT", "limitSeconds": 1.0}
    assert 0.9 < waited < 5
    assert after.json()["data"]["addAlias"]["aliases"][-1] == "Zion"


async def test_an_unexpected_failure_is_masked_with_a_request_id_and_logged_in_full(
    neo4j_settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(actors, "actors_by_name", broken)
    async with make_client(neo4j_settings, compiled_reads=False) as client:  # a resolver's failure
        with caplog.at_level(logging.ERROR, logger="service.api"):
            response = await client.post(
                "/graphql", json={"query": '{ actor(name: "Israel") { name } }'}, headers={"x-request-id": "req-42"}
            )

    assert response.status_code == 200
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "req-42"}
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    [record] = [r for r in caplog.records if "req-42" in r.getMessage()]
    assert record.exc_info is not None
    assert "secret detail of the failure" in str(record.exc_info[1])


async def test_a_fault_of_the_compiler_leaves_the_answer_to_strawberry(
    seeded: Database, neo4j_settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in compiling or shaping costs a log line, not the answer: Strawberry's resolvers give it."""

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug of the compiler's")

    monkeypatch.setattr(compiler.Plan, "answer", broken)
    async with make_client(neo4j_settings) as client:
        with caplog.at_level(logging.ERROR, logger="service.api"):
            response = await client.post("/graphql", json={"query": '{ actor(name: "Israel") { name } }'})

    assert response.json() == {"data": {"actor": {"name": "Israel"}}}
    assert any("Strawberry answers it" in r.getMessage() for r in caplog.records)
