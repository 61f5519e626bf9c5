"""The real server: uvicorn in its own process, spoken to over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from service.config import PROJECT_ROOT, Settings
from service.graph.driver import Database
from tests.api.test_headline import ANONYMOUS_CLAIMS_ABOUT_ISRAEL, HEADLINE
from tests.conftest import free_port


@pytest.fixture(scope="module")
def server(neo4j_settings: Settings) -> Iterator[str]:
    """`uvicorn service.app:create_app` against the session's Neo4j; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "NEO4J_URI": neo4j_settings.effective_neo4j_uri(),
        "NEO4J_USER": neo4j_settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_settings.neo4j_password.get_secret_value(),
        "NEO4J_DATABASE": neo4j_settings.neo4j_database,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {process.stdout.read().decode() if process.stdout else ''}")
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("uvicorn did not become ready within 30s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


async def test_health_and_ready(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "neo4j": "ok", "schema": "applied"}


async def test_headline_query_over_http_post(seeded: Database, server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        response = await client.post("/graphql", json={"query": HEADLINE, "variables": {"name": "the Jewish State"}})

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    actor = body["data"]["actor"]
    assert actor["name"] == "Israel"
    assert actor["claims"]["totalCount"] == len(ANONYMOUS_CLAIMS_ABOUT_ISRAEL)
    for edge in actor["claims"]["edges"]:
        node = edge["node"]
        assert node["source"]["anonymous"] is True
        win = next(r for r in node["reports"] if r["publisher"]["name"] == "World Israel News")
        assert [c["publisher"]["name"] for c in win["cites"]] == ["i24 News"]


async def test_queries_work_over_get(seeded: Database, server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        response = await client.get("/graphql", params={"query": '{ actor(name: "Jerusalem") { name } }'})

    assert response.json() == {"data": {"actor": {"name": "Israel"}}}


async def test_browsers_get_graphiql(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_errors_carry_codes_over_http(seeded: Database, server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        response = await client.post("/graphql", json={"query": '{ actor(name: "Atlantis") { name } }'})

    body = response.json()
    assert body["data"] == {"actor": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
