"""/graphql over HTTP as the GraphQL over HTTP specification has it, with limits and persisted queries.

The application runs in process (httpx's ASGI transport) against the session's real Neo4j.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import parse
from starlette.responses import JSONResponse

from service.api.graphiql import EXAMPLES
from service.api.http import JSONBody
from service.api.limits import Limits, measure, operation_of
from service.api.schema import schema
from service.app import create_app
from service.config import PROJECT_ROOT, Settings
from service.graph.driver import Database

GQL = "application/graphql-response+json"
HEADLINE = EXAMPLES[0]
Client = Callable[..., AsyncIterator[httpx.AsyncClient]]


@pytest_asyncio.fixture
async def client(neo4j_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(neo4j_settings) as c:
        yield c


class make_client:
    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.app = create_app(settings.model_copy(update=overrides))

    async def __aenter__(self) -> httpx.AsyncClient:
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://kb")
        return self.client

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()
        await self.app.state.kb.db.close()


def code_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        ({"method": "POST", "content": b"{bad", "headers": {"content-type": "application/json"}}, 400, "BAD_REQUEST"),
        ({"method": "POST", "json": {"variables": {}}}, 400, "BAD_REQUEST"),
        ({"method": "POST", "json": {"query": 3}}, 400, "BAD_REQUEST"),
        ({"method": "POST", "json": {"query": "{ __typename }", "variables": [1]}}, 400, "BAD_REQUEST"),
        ({"method": "POST", "json": [{"query": "{ __typename }"}]}, 400, "BAD_REQUEST"),
        ({"method": "POST", "json": "{ __typename }"}, 400, "BAD_REQUEST"),
        (
            {"method": "POST", "content": b"{ __typename }", "headers": {"content-type": "text/plain"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            {"method": "POST", "json": {"query": "{ __typename }"}, "headers": {"accept": "application/xml"}},
            406,
            "NOT_ACCEPTABLE",
        ),
        ({"method": "GET", "params": {"query": 'mutation { addAlias(actor: "x", alias: "y") { name } }'}}, 405, None),
        ({"method": "GET"}, 400, "BAD_REQUEST"),
        ({"method": "GET", "params": {"query": "{ __typename }", "variables": "{nope"}}, 400, "BAD_REQUEST"),
        ({"method": "PUT", "json": {"query": "{ __typename }"}}, 405, "METHOD_NOT_ALLOWED"),
    ],
)
async def test_malformed_requests_get_the_status_and_a_coded_error(
    client: httpx.AsyncClient, request_: dict[str, Any], status: int, code: str | None
) -> None:
    method = request_.pop("method")

    response = await client.request(method, "/graphql", **request_)

    assert response.status_code == status
    assert code_of(response) == (code or "METHOD_NOT_ALLOWED")
    if status == 405:
        assert "POST" in response.headers["allow"]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ actor(", {}, "GRAPHQL_PARSE_FAILED"),
        ("{ nosuchfield }", {}, "GRAPHQL_VALIDATION_FAILED"),
        (HEADLINE.query, {}, "BAD_USER_INPUT"),
        (HEADLINE.query, {"name": 3}, "BAD_USER_INPUT"),
    ],
)
async def test_request_errors_have_no_data_and_400_under_the_new_media_type(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], code: str
) -> None:
    body = {"query": query, "variables": variables}

    new = await client.post("/graphql", json=body, headers={"accept": f"{GQL}, application/json;q=0.9"})
    legacy = await client.post("/graphql", json=body, headers={"accept": "application/json"})

    assert (new.status_code, new.headers["content-type"]) == (400, GQL)
    assert (legacy.status_code, legacy.headers["content-type"]) == (200, "application/json")
    for response in (new, legacy):
        assert "data" not in response.json()
        assert code_of(response) == code


async def test_a_query_runs_over_get_and_post_in_either_media_type(seeded: Database, client: httpx.AsyncClient) -> None:
    variables = json.dumps(HEADLINE.variables)
    by_get = await client.get("/graphql", params={"query": HEADLINE.query, "variables": variables})
    by_post = await client.post("/graphql", json={"query": HEADLINE.query, "variables": HEADLINE.variables},
                                headers={"accept": GQL})  # fmt: skip

    assert by_get.status_code == by_post.status_code == 200
    assert by_post.headers["content-type"] == GQL
    assert by_get.json() == by_post.json()
    assert by_get.json()["data"]["actor"]["claims"]["totalCount"] == 6


async def test_field_errors_keep_data_and_status_200(seeded: Database, client: httpx.AsyncClient) -> None:
    query = '{ a: actor(name: "Israel") { name } b: node(id: "nonsense") { id } }'

    response = await client.post("/graphql", json={"query": query}, headers={"accept": GQL})

    assert response.status_code == 200
    body = response.json()
    assert body["data"]["a"] == {"name": "Israel"}
    assert code_of(response) == "BAD_USER_INPUT"


def documented_queries() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    return re.findall(r"```graphql\n(.*?)```", readme, re.S) + [e.query for e in EXAMPLES]


def test_every_documented_query_is_within_the_default_limits() -> None:
    limits = Limits.from_settings(Settings.model_construct())
    queries = documented_queries()

    assert len(queries) > 15
    for query in queries:
        document = parse(query, max_tokens=limits.tokens)
        operation = operation_of(document, None)
        assert operation is not None
        assert measure(schema._schema, document, operation, {}).exceeded(limits) is None, query


NESTED = "{ actors { edges { node { claims(first: 100) { edges { node { reports { cites { title } } } } } } } } }"


@pytest.mark.parametrize(
    ("query", "variables", "figure", "measured"),
    [
        ('{ actor(name: "x") { ' + "affiliations { actor { " * 7 + "name" + " } }" * 7 + " } }", {}, "depth", 15),
        ("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }", {}, "aliases", 31),
        # 20 actors x 100 claims x 10 reports x 10 cited: 1 + 20 x (3 + 100 x (3 + 10 x (1 + 10)))
        (NESTED, {}, "cost", 226_061),
        (
            "query($n: Int!) { claims(first: $n) { edges { node { reports { cites { citedBy { title } } } } } } }",
            {"n": 100},
            "cost",
            111_301,
        ),
        ("{ " + "__typename " * 3_000 + "}", {}, "tokens", None),
    ],
)
async def test_a_query_over_a_limit_is_refused_before_neo4j(
    graph: Database,
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    figure: str,
    measured: int | None,
) -> None:
    before = graph.round_trips
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers={"accept": GQL})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == figure
    assert error["extensions"].get("measured") == measured
    assert error["extensions"]["maximum"] == getattr(Limits.from_settings(Settings.model_construct()), figure)
    assert graph.round_trips == before


async def test_limits_are_configuration(neo4j_settings: Settings) -> None:
    async with make_client(neo4j_settings, max_depth=1) as client:
        response = await client.post("/graphql", json={"query": '{ actor(name: "x") { claims { totalCount } } }'})

    assert response.json()["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "depth",
        "measured": 2,
        "maximum": 1,
    }


def persisted(query: str, with_query: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}
    }
    if with_query:
        body["query"] = query
    return body


async def test_automatic_persisted_queries(seeded: Database, client: httpx.AsyncClient) -> None:
    query = '{ actor(name: "UAE") { name } }'

    unknown = await client.post("/graphql", json=persisted(query, with_query=False))
    registered = await client.post("/graphql", json=persisted(query))
    by_hash = await client.post("/graphql", json=persisted(query, with_query=False))
    by_get = await client.get("/graphql", params={"extensions": json.dumps(persisted(query)["extensions"])})
    mismatched = await client.post("/graphql", json={**persisted(query), "query": "{ __typename }"})

    assert code_of(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.json() == by_hash.json() == by_get.json() == {"data": {"actor": {"name": "United Arab Emirates"}}}
    assert (mismatched.status_code, code_of(mismatched)) == (400, "BAD_REQUEST")


async def test_allow_list_mode_runs_only_registered_operations(
    seeded: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    allowed = '{ actor(name: "UAE") { name } }'
    digest = hashlib.sha256(allowed.encode()).hexdigest()
    manifest = tmp_path / "persisted-queries.json"
    operation = {"id": digest, "name": "Uae", "type": "query", "body": allowed}
    manifest.write_text(
        json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]})
    )

    async with make_client(neo4j_settings, persisted_queries=manifest, allow_list_only=True) as client:
        by_hash = await client.post("/graphql", json=persisted(allowed, with_query=False))
        by_text = await client.post("/graphql", json={"query": allowed})
        other = await client.post("/graphql", json={"query": "{ __typename }"})
        learnt = await client.post("/graphql", json=persisted("{ __typename }"))

    assert by_hash.json() == by_text.json() == {"data": {"actor": {"name": "United Arab Emirates"}}}
    assert (other.status_code, code_of(other)) == (403, "FORBIDDEN")
    assert (learnt.status_code, code_of(learnt)) == (403, "FORBIDDEN")


async def test_introspection_can_be_turned_off(neo4j_settings: Settings) -> None:
    query = "{ __schema { queryType { name } } }"
    async with make_client(neo4j_settings, introspection=False) as closed:
        refused = await closed.post("/graphql", json={"query": query})
        typename = await closed.post("/graphql", json={"query": "{ __typename }"})
    async with make_client(neo4j_settings) as open_:
        answered = await open_.post("/graphql", json={"query": query})

    assert code_of(refused) == "FORBIDDEN"
    assert typename.json() == {"data": {"__typename": "Query"}}
    assert answered.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_body_size_and_cors_are_configuration(neo4j_settings: Settings) -> None:
    async with make_client(neo4j_settings, max_body_bytes=1_024, cors_origins="https://app.example") as client:
        large = await client.post("/graphql", json={"query": "{ __typename }" + " " * 2_000})
        allowed = await client.options(
            "/graphql",
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
        other = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://evil.example"}
        )

    assert (large.status_code, code_of(large)) == (413, "PAYLOAD_TOO_LARGE")
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


DIRECT_CASES: list[tuple[str, dict[str, Any] | None, str | None]] = [
    *((example.query, example.variables, None) for example in EXAMPLES),
    ("{ node(id: 1) { id } }", {}, None),  # a literal the schema refuses: a validation error
    ("query($id: ID!) { node(id: $id) { id } }", {"id": ["not", "an", "id"]}, None),  # a variable it refuses
    ("query($id: ID!) { node(id: $id) { id } }", {}, None),  # a variable missing
    ("query($id: ID!) { node(id: $id) { id } }", {"id": "bm90IGFuIGlk"}, None),  # an id that decodes to no node
    ('{ actor(name: "Israel") { claims(first: -1) { totalCount } } }', {}, None),  # BAD_USER_INPUT in a field
    ("query A { __typename } query B { nosuch }", {}, "A"),  # runs A: B is invalid, so the document is
    ("query A { __typename } query B { __schema { queryType { name } } }", {}, "B"),
    ('{ a: actor(name: "Israel") { name } b: actor(name: "no such actor") { name } }', {}, None),
]


@pytest.mark.parametrize(("query", "variables", "operation"), DIRECT_CASES)
async def test_queries_answer_the_same_straight_from_graphql_core(
    seeded: Database,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any] | None,
    operation: str | None,
) -> None:
    """The endpoint runs valid queries through Schema.execute_valid, not Strawberry's execute: the same status,
    body and errors either way, whatever the request ends in."""
    body = {"query": query, "variables": variables, "operationName": operation}
    headers = {"accept": "application/graphql-response+json"}
    direct = await client.post("/graphql", json=body, headers=headers)

    async def not_valid(*_: Any) -> None:
        return None  # every request then goes through Strawberry's execute

    monkeypatch.setattr(schema, "execute_valid", not_valid)
    through_strawberry = await client.post("/graphql", json=body, headers=headers)

    assert (direct.status_code, direct.json()) == (through_strawberry.status_code, through_strawberry.json())


async def test_a_valid_query_skips_strawberrys_execute(
    seeded: Database, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[str] = []
    stock = type(schema).execute

    async def spy(self: Any, query: str | None, *args: Any, **kwargs: Any) -> Any:
        called.append(query or "")
        return await stock(self, query, *args, **kwargs)

    monkeypatch.setattr(type(schema), "execute", spy)
    assert (await client.post("/graphql", json={"query": "{ __typename }"})).json() == {"data": {"__typename": "Query"}}
    assert called == []
    assert code_of(await client.post("/graphql", json={"query": "{ nosuch }"})) == "GRAPHQL_VALIDATION_FAILED"
    assert called == ["{ nosuch }"]  # an invalid document: Strawberry's execute says why


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"actor": {"name": "Émile Zola \u2014 \u201cJ\u2019accuse\u201d", "aliases": ["左拉"], "x": 0.1}}},
        {"data": None, "errors": [{"message": "m", "path": ["a", 0], "extensions": {"code": "C", "big": 2**70}}]},
    ],
)
def test_response_bodies_are_the_bytes_starlette_would_write(body: dict[str, Any]) -> None:
    """orjson writes them (JSONBody); an integer orjson refuses goes the json module's way."""
    assert JSONBody(body).body == JSONResponse(body).body
