"""The real server: uvicorn in its own process, spoken to over HTTP."""

from __future__ import annotations

import hashlib
import json

import httpx

from service.graph.driver import Database
from tests.api.test_headline import ANONYMOUS_CLAIMS_ABOUT_ISRAEL, HEADLINE


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


async def test_http_semantics_over_the_real_server(seeded: Database, server: str) -> None:
    query = '{ actor(name: "UAE") { name } }'
    digest = hashlib.sha256(query.encode()).hexdigest()
    apq = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    async with httpx.AsyncClient(base_url=server) as client:
        invalid = await client.post(
            "/graphql", json={"query": "{ nosuchfield }"}, headers={"accept": "application/graphql-response+json"}
        )
        mutation_by_get = await client.get("/graphql", params={"query": 'mutation { retractClaim(id: "x") { id } }'})
        unknown_hash = await client.get("/graphql", params={"extensions": apq})
        registered = await client.post("/graphql", json={"query": query, "extensions": json.loads(apq)})
        by_hash = await client.get("/graphql", params={"extensions": apq})
        deep = '{ actor(name: "x") { ' + "affiliations { actor { " * 7 + "name" + " } }" * 7 + " } }"
        too_deep = await client.post("/graphql", json={"query": deep})

    assert (invalid.status_code, invalid.headers["content-type"]) == (400, "application/graphql-response+json")
    assert "data" not in invalid.json()
    assert (mutation_by_get.status_code, mutation_by_get.headers["allow"]) == (405, "POST")
    assert unknown_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.json() == by_hash.json() == {"data": {"actor": {"name": "United Arab Emirates"}}}
    assert too_deep.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
