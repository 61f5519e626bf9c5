"""/graphql over HTTP as the GraphQL over HTTP specification has it, with limits and persisted queries.

The application runs in process (httpx's ASGI transport) against the session's real Neo4j.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import pytest_asyncio
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    get_introspection_query,
    parse,
    print_ast,
    visit,
)
from starlette.responses import JSONResponse
from starlette.types import Message
from strawberry.extensions import SchemaExtension

from service.api.gate import typed_schema
from service.api.graphiql import EXAMPLES
from service.api.http import JSONBody
from service.api.limits import Documents, Limits, measure, select_operation
from service.api.schema import schema
from service.app import create_app
from service.config import PROJECT_ROOT, UVICORN_FLAGS, Settings
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
    pages = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
    documented = [query for page in pages for query in re.findall(r"```graphql\n(.*?)```", page.read_text(), re.S)]
    return documented + [e.query for e in EXAMPLES]


def test_every_documented_query_is_within_the_default_limits() -> None:
    limits = Limits.from_settings(Settings.model_construct())
    queries = documented_queries()

    assert len(queries) > 15
    for query in queries:
        document = parse(query, max_tokens=limits.tokens)
        operation = select_operation(document, None)
        assert measure(typed_schema(schema), document, operation, {}, limits).exceeded is None, query


NESTED = "{ actors { edges { node { claims(first: 100) { edges { node { reports { cites { title } } } } } } } } }"


@pytest.mark.parametrize(
    ("query", "variables", "figure", "measured"),
    [
        # 15 levels deep: the walk stops at the first level past the limit.
        ('{ actor(name: "x") { ' + "affiliations { actor { " * 7 + "name" + " } }" * 7 + " } }", {}, "depth", 13),
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
    # An empty `query=` beside the hash is no query, as GET's empty parameters are.
    empty_query = await client.get(
        "/graphql", params={"query": "", "extensions": json.dumps(persisted(query)["extensions"])}
    )
    mismatched = await client.post("/graphql", json={**persisted(query), "query": "{ __typename }"})

    assert code_of(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    answer = {"data": {"actor": {"name": "United Arab Emirates"}}}
    assert registered.json() == by_hash.json() == by_get.json() == empty_query.json() == answer
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


class Probe(SchemaExtension):
    """Notes each hook that ran, for the request's query."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def note(self, hook: str) -> Iterator[None]:
        yield
        self.seen.append((hook, self.execution_context.query or ""))

    def on_operation(self) -> Iterator[None]:
        yield from self.note("operation")

    def on_parse(self) -> Iterator[None]:
        yield from self.note("parse")

    def on_validate(self) -> Iterator[None]:
        yield from self.note("validate")

    def on_execute(self) -> Iterator[None]:
        yield from self.note("execute")


async def test_every_extension_runs_for_every_operation(
    seeded: Database, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queries and mutations, over POST, GET and by persisted hash: Strawberry runs each with all its
    extensions (an extension added for tracing or masking sees every read)."""
    monkeypatch.setattr(schema, "extensions", [*schema.extensions, Probe])
    Probe.seen.clear()
    query = '{ actor(name: "UAE") { name } }'
    mutation = 'mutation { addAlias(actor: "x", alias: "y") { name } }'

    answers = [
        await client.post("/graphql", json={"query": query}),
        await client.get("/graphql", params={"query": query}),
        await client.post("/graphql", json=persisted(query)),
        await client.post("/graphql", json=persisted(query, with_query=False)),
        await client.post("/graphql", json={"query": mutation}),
    ]

    assert [a.status_code for a in answers] == [200] * 5
    assert Probe.seen == [(hook, text) for text in [query] * 4 + [mutation]
                          for hook in ("parse", "validate", "execute", "operation")]  # fmt: skip


OVER_COST = "query Costly { claims(first: 100) { edges { node { reports { claims(first: 100) { totalCount } } } } } }"


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    ("document", "operation", "code"),
    [
        (f"{OVER_COST} query B {{ __typename }}", None, "OPERATION_RESOLUTION_FAILURE"),
        (f"{OVER_COST} query B {{ __typename }}", "Costly", "QUERY_TOO_COMPLEX"),
        (f"{OVER_COST} query B {{ __typename }}", "C", "OPERATION_RESOLUTION_FAILURE"),
        ("query A { __typename } query B { __schema { queryType { name } } }", None, "OPERATION_RESOLUTION_FAILURE"),
        ("fragment F on Query { __typename }", None, "OPERATION_RESOLUTION_FAILURE"),
        ("subscription S { __typename }", None, "BAD_REQUEST"),
        ("query A { nosuch } query B { __typename }", "B", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_the_operation_is_chosen_as_the_spec_says_and_measured(
    graph: Database, client: httpx.AsyncClient, method: str, document: str, operation: str | None, code: str
) -> None:
    """One operation, or the one operationName names; anything else is a request error. Limits measure the
    operation chosen: an operation over them is refused beside any other, by name or not."""
    before = graph.round_trips
    params = {"query": document, **({"operationName": operation} if operation else {})}
    if method == "GET":
        response = await client.get("/graphql", params=params, headers={"accept": GQL})
    else:
        response = await client.post("/graphql", json=params, headers={"accept": GQL})

    assert (response.status_code, code_of(response)) == (400, code)
    assert "data" not in response.json()
    assert graph.round_trips == before


async def test_the_named_operation_runs_and_only_it(seeded: Database, client: httpx.AsyncClient) -> None:
    document = f'{OVER_COST} query B {{ actor(name: "UAE") {{ name }} }}'

    response = await client.post("/graphql", json={"query": document, "operationName": "B"})

    assert response.json() == {"data": {"actor": {"name": "United Arab Emirates"}}}


async def test_a_persisted_query_is_measured_too(graph: Database, client: httpx.AsyncClient) -> None:
    document = f"{OVER_COST} query B {{ __typename }}"
    learnt = await client.post("/graphql", json={**persisted(document), "operationName": "B"})
    by_hash = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(document)["extensions"]), "operationName": "Costly"},
        headers={"accept": GQL},
    )
    unnamed = await client.post("/graphql", json=persisted(document, with_query=False), headers={"accept": GQL})

    assert learnt.json() == {"data": {"__typename": "Query"}}
    assert (by_hash.status_code, code_of(by_hash)) == (400, "QUERY_TOO_COMPLEX")
    assert (unnamed.status_code, code_of(unnamed)) == (400, "OPERATION_RESOLUTION_FAILURE")


def fragment_bomb(levels: int, spreads: int) -> str:
    """Fragments that each spread the next ``spreads`` times under different fields: expanded, the operation
    would select ``spreads ** levels`` names."""
    fields = ["relations { other", "affiliations { actor", "claimsMade { edges { node { source"]
    closing = [" }", " }", " } } }"]
    definitions = []
    for level in range(levels):
        inner = " ".join(f"{fields[i]} {{ ...F{level + 1} }}{closing[i]}" for i in range(spreads))
        definitions.append(f"fragment F{level} on Actor {{ name {inner} }}")
    definitions.append(f"fragment F{levels} on Actor {{ name }}")
    return '{ actor(name: "Israel") { ...F0 } } ' + " ".join(definitions)


def test_measuring_is_linear_in_the_document() -> None:
    """Each fragment is measured once, however often it is spread: a document of 3 KB whose expansion
    selects 3**21 fields is measured in a few hundred steps, and refused."""
    limits = Limits.from_settings(Settings.model_construct())
    document = parse(fragment_bomb(21, 3))
    nodes = len(re.findall(r"[{]", print_ast(document)))

    measures = measure(typed_schema(schema), document, select_operation(document, None), {}, limits)

    assert measures.exceeded is not None
    assert measures.steps <= 4 * nodes


async def test_a_fragment_bomb_is_refused_at_once(graph: Database, client: httpx.AsyncClient) -> None:
    document = fragment_bomb(21, 3)
    response = await client.post("/graphql", json={"query": document}, headers={"accept": GQL})
    assert (response.status_code, code_of(response)) == (400, "QUERY_TOO_COMPLEX")


def overlap_of(text: str, operation: str | None = None) -> tuple[int, tuple[str, int, int] | None]:
    document = parse(text)
    limits = Limits.from_settings(Settings.model_construct())
    measures = measure(typed_schema(schema), document, select_operation(document, operation), {}, limits)
    return measures.overlap, measures.exceeded


COPY = "relations { other { name } }"


@pytest.mark.parametrize(
    ("text", "operation"),
    [
        (f'{{ actor(name: "x") {{ {" ".join([COPY] * 300)} }} }}', None),  # took graphql-core a second
        (f'{{ actor(name: "x") {{ {" ".join(f"... on Actor {{ {COPY} }}" for _ in range(60))} }} }}', None),
        (
            '{ actor(name: "x") { '
            + " ".join(f"...F{i}" for i in range(60))
            + " } } "
            + " ".join(f"fragment F{i} on Actor {{ {COPY} }}" for i in range(60)),
            None,
        ),
        # 25 fields of one name, each with 25 of another: what validation compares is what they merge into.
        ("{ " + " ".join(['actor(name: "x") { ' + " ".join(["claims { totalCount }"] * 25) + " }"] * 25) + " }", None),
        # An operation that does not run is validated all the same.
        (f'query A {{ __typename }} query B {{ actor(name: "x") {{ {" ".join([COPY] * 300)} }} }}', "A"),
    ],
    ids=["fields", "inline", "spreads", "merged", "other-operation"],
)
def test_what_validation_would_compare_in_pairs_is_bounded(text: str, operation: str | None) -> None:
    """graphql-core's OverlappingFieldsCanBeMerged compares the fields a selection set merges under one response
    name in pairs, through everything below them: work of the square of their size, refused past KB_MAX_OVERLAP
    before validation runs, in every operation and fragment of the document."""
    _, exceeded = overlap_of(text, operation)
    assert exceeded is not None
    assert exceeded[0] == "overlap"


def test_documents_as_people_write_them_overlap_little() -> None:
    for query in documented_queries():
        assert overlap_of(query)[0] == 0, query
    assert overlap_of(f'{{ actor(name: "x") {{ ...F ...F }} }} fragment F on Actor {{ {COPY} }}')[0] == 0
    assert overlap_of('{ actor(name: "x") { id ...F } } fragment F on Actor { id name }')[0] == 4


PAGED = "{ claims(first: $n) { edges { node { reports { claims(first: $n) { totalCount } } } } } }"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (f"query($n: Int! = 100) {PAGED}", {}),
        (f"query($n: Int!) {PAGED}", {"n": 100.0}),
        (f"query($n: Int) {PAGED}", {"n": "100"}),
    ],
    ids=["default", "float", "not-an-int"],
)
async def test_a_page_sized_by_a_variable_is_measured_as_it_will_run(
    graph: Database, client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> None:
    """The variable's default, a whole float (graphql-core coerces 100.0 to 100), or a value that cannot be told
    here (then the largest page): never the argument's default of 20."""
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers={"accept": GQL})
    assert (response.status_code, code_of(response)) == (400, "QUERY_TOO_COMPLEX")


async def test_one_document_is_measured_for_each_page_size_it_is_sent_with(
    graph: Database, client: httpx.AsyncClient
) -> None:
    """Measures are kept per document, operation and whole-number variables: the same text sent again with a
    larger page is measured again (and refused), and a small page after it is served."""
    query = f"query($n: Int!) {PAGED}"
    sizes = [(1, 200), (100, 400), (100, 400), (1, 200)]
    for n, status in sizes:
        response = await client.post("/graphql", json={"query": query, "variables": {"n": n}}, headers={"accept": GQL})
        assert response.status_code == status, (n, response.text)


@pytest.mark.parametrize(
    "query",
    [
        "{ actors(first: " + "9" * 5_000 + ") { totalCount } }",
        'query A { __typename } query B { path(from: "a", to: "b", maxHops: ' + "9" * 5_000 + ") { length } }",
    ],
)
async def test_an_int_literal_too_long_to_read_is_a_validation_error(client: httpx.AsyncClient, query: str) -> None:
    response = await client.post("/graphql", json={"query": query, "operationName": None}, headers={"accept": GQL})
    if "query A" in query:
        response = await client.post("/graphql", json={"query": query, "operationName": "A"}, headers={"accept": GQL})
    assert (response.status_code, code_of(response)) == (400, "GRAPHQL_VALIDATION_FAILED")
    assert len(response.json()["errors"][0]["message"]) <= 300


async def test_a_cursor_of_deeply_nested_json_is_bad_user_input(graph: Database, client: httpx.AsyncClient) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 5_000 + b"]" * 5_000).decode()
    response = await client.post("/graphql", json={"query": "query($c: String) { actors(after: $c) { totalCount } }",
                                                    "variables": {"c": cursor}})  # fmt: skip
    assert code_of(response) == "BAD_USER_INPUT"


def test_documents_are_kept_within_a_budget_of_text() -> None:
    documents = Documents(budget=100, largest=40)
    small, other, large = "{ __typename }", "{ a: __typename }", "# " + "x" * 50 + "\n{ __typename }"

    assert documents.parse(small, 100) is documents.parse(small, 100)
    assert documents.parse(large, 100) is not documents.parse(large, 100)  # too long to keep
    for n in range(10):
        documents.parse(f"{{ a{n}: __typename }}", 100)
    assert documents.size <= 100
    assert documents.parse(other, 100).document is not None


async def test_only_documents_that_pass_are_learnt_by_hash(graph: Database, client: httpx.AsyncClient) -> None:
    refused = "{ nosuchfield }"
    first = await client.post("/graphql", json=persisted(refused))
    again = await client.post("/graphql", json=persisted(refused, with_query=False))

    assert code_of(first) == "GRAPHQL_VALIDATION_FAILED"
    assert code_of(again) == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_standard_introspection_query_is_answered(client: httpx.AsyncClient) -> None:
    """As GraphiQL 3 and graphql-codegen send it, every option on, under the default limits."""
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    response = await client.post("/graphql", json={"query": query, "operationName": "IntrospectionQuery"})

    assert response.status_code == 200
    types = {t["name"] for t in response.json()["data"]["__schema"]["types"]}
    assert {"Query", "Mutation", "Actor", "Claim", "Report", "Event", "DateTime"} <= types


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # graphql-core's MaxIntrospectionDepthRule: lists of types nested three deep.
        (
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ __schema { " + " ".join(f"t{i}: types {{ name }}" for i in range(31)) + " } }", "QUERY_TOO_COMPLEX"),
    ],
)
async def test_introspection_is_bounded_by_its_own_rule(client: httpx.AsyncClient, query: str, code: str) -> None:
    response = await client.post("/graphql", json={"query": query}, headers={"accept": GQL})
    assert (response.status_code, code_of(response)) == (400, code)


FIRST_IS = b'{"query": "query($n: Int!) { claims(first: $n) { totalCount } }", "variables": {"n": %s}}'


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"query": "{ __typename }", "variables": {"x": "\\ud800"}}', "BAD_REQUEST"),  # a lone surrogate
        (b'{"query": "{ __typename }", "variables": {"x": "\xed\xa0\x80"}}', "BAD_REQUEST"),  # its UTF-8 bytes
        (b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * 5_000 + b"]" * 5_000 + b"}}", "BAD_REQUEST"),
        (b'{"query": "{ __typename }", "variables": {"x": 1e400}}', "BAD_REQUEST"),
        (FIRST_IS % b"2147483648", "BAD_USER_INPUT"),
        (FIRST_IS % b"1180591620717411303424", "BAD_USER_INPUT"),
    ],
    ids=["surrogate-escape", "surrogate-bytes", "deep-json", "infinite", "int32", "int70"],
)
async def test_hostile_json_gets_a_coded_4xx(
    graph: Database, client: httpx.AsyncClient, content: bytes, code: str
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": "application/json", "accept": GQL}
    )

    assert 400 <= response.status_code < 500
    assert code_of(response) == code


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($c: String) { actors(after: $c) { totalCount } }", {"c": "A" * 900_000}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "Q" * 900_000}),
        ('{ actor(name: "' + "x" * 900_000 + '") { id } }', {}),
        ('{ actor(name: "' + "x" * 900_000 + '" { id } }', {}),  # a syntax error at a long string
    ],
    ids=["cursor", "id", "name", "syntax"],
)
async def test_errors_quote_a_short_prefix_of_the_input(
    seeded: Database, neo4j_settings: Settings, query: str, variables: dict[str, Any]
) -> None:
    async with make_client(neo4j_settings, max_body_bytes=2_000_000, max_tokens=100_000) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})

    assert response.status_code == 200
    assert len(response.content) < 1_000, response.content[:300]


async def test_a_first_past_the_largest_page_is_bad_user_input(graph: Database, client: httpx.AsyncClient) -> None:
    """Not QUERY_TOO_COMPLEX: the cost counts a page as at most the largest one, and the field refuses it."""
    response = await client.post("/graphql", json={"query": "{ claims(first: 100000) { totalCount } }"})
    assert code_of(response) == "BAD_USER_INPUT"


async def test_oversized_headers_and_query_strings_are_refused(neo4j_settings: Settings) -> None:
    async with make_client(neo4j_settings, max_body_bytes=1_024) as client:
        headers = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"x-big": "x" * 20_000})
        url = await client.get(
            "/graphql", params={"query": "{ __typename }", "variables": json.dumps({"x": "y" * 2_000})}
        )

    assert (headers.status_code, code_of(headers)) == (431, "REQUEST_HEADER_FIELDS_TOO_LARGE")
    assert (url.status_code, code_of(url)) == (414, "URI_TOO_LONG")


async def test_a_body_that_stalls_gets_408(neo4j_settings: Settings) -> None:
    """The body must arrive within KB_BODY_TIMEOUT; a client that stops sending gets 408, not a held task."""
    app = create_app(neo4j_settings.model_copy(update={"body_timeout_s": 0.2}))
    sent: list[Message] = []
    arrived = asyncio.Event()

    async def receive() -> Message:
        if not arrived.is_set():
            arrived.set()
            return {"type": "http.request", "body": b'{"query": "{ __ty', "more_body": True}
        await asyncio.Event().wait()  # the rest never comes
        raise AssertionError

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"kb")],
        "client": ("127.0.0.1", 1), "server": ("kb", 80),
    }  # fmt: skip
    try:
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
    finally:
        await app.state.kb.db.close()

    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"


def test_every_way_of_serving_bounds_the_headers() -> None:
    """kb serve, the Dockerfile, the benchmarks and the end-to-end tests all run uvicorn on h11 with its bound."""
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert " ".join(UVICORN_FLAGS) in dockerfile
    for path in ("service/cli.py", "bench/perf.py", "tests/e2e/conftest.py"):
        text = (PROJECT_ROOT / path).read_text()
        assert "UVICORN_FLAGS" in text or "SERVER_HEADER_LIMIT" in text, path


async def test_requests_the_view_would_read_otherwise_are_read_as_the_endpoint_reads_them(
    client: httpx.AsyncClient,
) -> None:
    """Empty GET parameters, an upper-case media type, several Accept lines: answered, never a plain-text 400."""
    empty = await client.get("/graphql", params={"query": "{ __typename }", "variables": "", "extensions": ""})
    upper = await client.post("/graphql", content=b'{"query": "{ __typename }"}',
                              headers={"content-type": "APPLICATION/JSON; charset=UTF-8"})  # fmt: skip
    accepts = await client.post("/graphql", json={"query": "{ __typename }"},
                                headers=[("accept", "text/plain"), ("accept", GQL)])  # fmt: skip

    for response in (empty, upper, accepts):
        assert response.json() == {"data": {"__typename": "Query"}}
    assert accepts.headers["content-type"] == GQL


@pytest.mark.parametrize("accept", ["application/json;q=nan", "application/json;q=-1", "application/json;q=2"])
async def test_an_accept_with_no_valid_quality_is_not_acceptable(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"accept": accept})
    assert (response.status_code, code_of(response)) == (406, "NOT_ACCEPTABLE")


async def test_every_method_gets_a_coded_answer(client: httpx.AsyncClient) -> None:
    for method in ("OPTIONS", "DELETE", "PATCH"):
        response = await client.request(method, "/graphql")
        assert (response.status_code, code_of(response)) == (405, "METHOD_NOT_ALLOWED"), method


async def test_a_body_refused_unread_closes_the_connection(neo4j_settings: Settings) -> None:
    async with make_client(neo4j_settings, max_body_bytes=1_024) as client:
        response = await client.post("/graphql", content=b"{}", headers={"content-type": "application/json",
                                                                         "content-length": "5000000"})  # fmt: skip
    assert (response.status_code, response.headers["connection"]) == (413, "close")


async def test_suggestions_are_left_out_while_introspection_is_off(neo4j_settings: Settings) -> None:
    async with make_client(neo4j_settings, introspection=False) as closed:
        closed_answer = await closed.post("/graphql", json={"query": '{ actr(name: "x") { name } }'})
    async with make_client(neo4j_settings) as open_:
        open_answer = await open_.post("/graphql", json={"query": '{ actr(name: "x") { name } }'})

    assert "Did you mean" in open_answer.json()["errors"][0]["message"]
    assert closed_answer.json()["errors"][0]["message"] == "Cannot query field 'actr' on type 'Query'."


async def test_introspection_costs_what_it_answers(client: httpx.AsyncClient) -> None:
    """Its lists count as many times as this schema's types, fields and arguments: the standard query, written
    with or without its fragments, is answered; thirty copies of most of it under aliases are not."""
    standard = get_introspection_query(descriptions=True)
    document = parse(standard)
    inline = print_ast(inline_fragments(document))
    fields = "fields { name description args { name type { name } } type { name } }"
    copy = f"__schema {{ types {{ name description {fields} }} }}"
    copies = "{ " + " ".join(f"s{i}: {copy}" for i in range(30)) + " }"

    assert (await client.post("/graphql", json={"query": inline})).status_code == 200
    refused = await client.post("/graphql", json={"query": copies}, headers={"accept": GQL})
    assert (refused.status_code, code_of(refused)) == (400, "QUERY_TOO_COMPLEX")
    assert refused.json()["errors"][0]["extensions"]["limit"] == "cost"


def inline_fragments(document: DocumentNode) -> DocumentNode:
    """The document with each fragment spread replaced by the fragment's selections (no cycles here)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    class Inliner(Visitor):
        def leave_selection_set(self, node: SelectionSetNode, *_: Any) -> SelectionSetNode:
            selections: list[Any] = []
            for selection in node.selections:
                if isinstance(selection, FragmentSpreadNode):
                    selections.extend(visit(fragments[selection.name.value].selection_set, self).selections)
                else:
                    selections.append(selection)
            return SelectionSetNode(selections=tuple(selections))

    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return DocumentNode(definitions=tuple(visit(operation, Inliner()) for operation in operations))


async def test_a_made_up_method_makes_no_metric_series_of_its_own(graph: Database, client: httpx.AsyncClient) -> None:
    """Metric labels are bounded: any method outside HTTP's own is counted as _OTHER."""
    for method in ("FROBNICATE", "X1", "X2"):
        response = await client.request(method, "/graphql")
        assert response.status_code == 405
    metrics = (await client.get("/metrics")).text
    assert 'method="_OTHER"' in metrics
    assert "FROBNICATE" not in metrics
