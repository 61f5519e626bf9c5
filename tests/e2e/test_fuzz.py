"""Hostile and random requests against the live server: never a 5xx, always a GraphQL response.

Queries and mutations are generated from our own schema (hypothesis-graphql,
valid and invalid), and mixed with raw random bytes, oversized documents,
deep nesting, alias floods, circular fragments and batched requests.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import build_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from service.config import PROJECT_ROOT
from service.graph.driver import Database
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
