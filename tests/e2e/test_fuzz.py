"""Hostile and random requests against the live server: never a 5xx, always a GraphQL response.

Queries and mutations are generated from our own schema (hypothesis-graphql,
valid and invalid), and mixed with raw random bytes, oversized documents,
deep nesting, alias floods, circular fragments and batched requests.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from graphql import build_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from service.config import PROJECT_ROOT
from service.graph.driver import Database
from tests.api.test_http import fragment_bomb
from tests.e2e.conftest import ADMIN_TOKEN

SCHEMA = build_schema((PROJECT_ROOT / "schema" / "schema.graphql").read_text())
SCALARS = {"DateTime": st.datetimes().map(lambda d: d.isoformat()).map(lambda s: {"kind": "StringValue", "value": s})}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
MEDIA = ("application/graphql-response+json", "application/json")


def check(response: httpx.Response) -> dict[str, Any]:
    """A response as the GraphQL over HTTP spec has it: below 500, JSON, with data and/or coded errors."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers["content-type"].split(";")[0] in MEDIA, response.headers
    body = response.json()
    assert isinstance(body, dict)
    assert set(body) <= {"data", "errors", "extensions"}
    assert "data" in body or body.get("errors")
    for error in body.get("errors") or []:
        assert isinstance(error["message"], str)
        assert error["extensions"]["code"] != "INTERNAL", error
        assert "Traceback" not in error["message"]
    return body


@pytest.fixture(scope="module")
def client(server: str) -> Any:
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


@pytest.fixture(autouse=True)
def _seeded(seeded: Database) -> None:
    """The fuzzing runs over the seed graph."""


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS))  # type: ignore[arg-type]
def test_generated_queries(client: httpx.Client, query: str) -> None:
    check(client.post("/graphql", json={"query": query}))


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE))  # type: ignore[arg-type]
def test_generated_invalid_queries(client: httpx.Client, query: str) -> None:
    check(client.post("/graphql", json={"query": query}))


@FUZZ
@given(mutation=mutations(SCHEMA, custom_scalars=SCALARS))  # type: ignore[arg-type]
def test_generated_mutations_without_a_token_are_refused(client: httpx.Client, mutation: str) -> None:
    body = check(client.post("/graphql", json={"query": mutation}))
    assert body.get("data") is None or all(v is None for v in body["data"].values())


@FUZZ
@given(mutation=mutations(SCHEMA, custom_scalars=SCALARS))  # type: ignore[arg-type]
def test_generated_mutations_with_an_admin_token(client: httpx.Client, mutation: str) -> None:
    check(client.post("/graphql", json={"query": mutation}, headers={"authorization": f"Bearer {ADMIN_TOKEN}"}))


@FUZZ
@given(body=st.binary(max_size=2_000), content_type=st.sampled_from(["application/json", "application/graphql", ""]))
def test_random_bytes(client: httpx.Client, body: bytes, content_type: str) -> None:
    check(client.post("/graphql", content=body, headers={"content-type": content_type}))


@FUZZ
@given(document=st.text(max_size=300), variables=st.dictionaries(st.text(max_size=5), st.integers() | st.text()))
def test_random_text_as_query_and_variables(client: httpx.Client, document: str, variables: dict[str, Any]) -> None:
    check(client.post("/graphql", json={"query": document, "variables": variables}))


# 100 claims x 10 reports x 100 claims: 100,000 by the cost estimate, over the 50,000 limit.
COSTLY = "{ claims(first: 100) { edges { node { reports { claims(first: 100) { edges { node { id } } } } } } } }"


def nested(depth: int) -> str:
    inner = "name"
    for _ in range(depth):
        inner = f"relations {{ other {{ {inner} }} }}"
    return '{ actor(name: "Israel") { ' + inner + " } }"


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ " + "__typename " * 200_000 + "}"},  # over the body limit
        {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(5_000)) + " }"},
        {"query": nested(60)},
        {"query": "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"},
        {"query": COSTLY},
        [{"query": "{ __typename }"}] * 50,
        {"query": "{ __typename }", "variables": "x" * 10},
        {"query": "{" * 10_000},
        {"query": "query($n: String!) { actor(name: $n) { name } }", "variables": {"n": "x" * 500_000}},
    ],
    ids=["huge", "aliases", "deep", "circular", "costly", "batch", "bad-variables", "open-braces", "huge-variable"],
)
def test_hostile_documents(client: httpx.Client, body: Any) -> None:
    response = client.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json"})
    answer = check(response)
    assert answer.get("errors"), answer


def named(index: int, query: str) -> str:
    """A generated query as operation Q<index>."""
    return re.sub(r"^\s*(query\b)?\s*", f"query Q{index} ", query, count=1)


@FUZZ
@given(
    operations=st.lists(queries(SCHEMA, custom_scalars=SCALARS), min_size=2, max_size=3),  # type: ignore[arg-type]
    pick=st.sampled_from([None, 0, 1, "Nope"]),
)
def test_several_operations_per_document(client: httpx.Client, operations: list[str], pick: int | str | None) -> None:
    """No operation is ever chosen silently: without operationName, or with one the document lacks, the
    request is refused; with a name, that operation (and only it) is measured and run."""
    document = "\n".join(named(i, text) for i, text in enumerate(operations))
    name = f"Q{pick}" if isinstance(pick, int) else pick
    body = check(client.post("/graphql", json={"query": document, "operationName": name}))
    if pick is None or pick == "Nope":
        assert body["errors"][0]["extensions"]["code"] == "OPERATION_RESOLUTION_FAILURE", body


@FUZZ
@given(levels=st.integers(1, 80), spreads=st.integers(1, 3))
def test_fragment_chains(client: httpx.Client, levels: int, spreads: int) -> None:
    """Fragments spreading the next one up to three times, at up to 80 levels: measured once each."""
    check(client.post("/graphql", json={"query": fragment_bomb(levels, spreads)}))


SURROGATE = st.integers(0xD800, 0xDFFF).map(lambda code: f"\\u{code:04x}")


@FUZZ
@given(
    before=st.text(alphabet="abc", max_size=5),
    surrogate=SURROGATE,
    where=st.sampled_from(["variable", "query", "operationName", "key"]),
)
def test_lone_surrogates(client: httpx.Client, before: str, surrogate: str, where: str) -> None:
    """A lone UTF-16 surrogate anywhere in the body is refused as malformed JSON, never echoed or sent on."""
    value = f'"{before}{surrogate}"'
    templates = {
        "variable": '{"query": "query($n: String!) { actor(name: $n) { id } }", "variables": {"n": VALUE}}',
        "query": '{"query": VALUE}',
        "operationName": '{"query": "{ __typename }", "operationName": VALUE}',
        "key": '{"query": "{ __typename }", "variables": {VALUE: 1}}',
    }
    content = templates[where].replace("VALUE", value)
    response = client.post("/graphql", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert check(response)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@FUZZ
@given(depth=st.integers(1, 3_000), opening=st.sampled_from(["[", '{"a":']))
def test_deep_json(client: httpx.Client, depth: int, opening: str) -> None:
    """Variables nested up to 3,000 levels: read up to orjson's 1,024, refused past it, never a 500."""
    closing = "]" if opening == "[" else "}"
    nested = opening * depth + ("1" if opening != "[" else "") + closing * depth
    content = '{"query": "{ __typename }", "variables": {"x": ' + nested + "}}"
    body = check(client.post("/graphql", content=content, headers={"content-type": "application/json"}))
    if depth < 1_000:
        assert body == {"data": {"__typename": "Query"}}
