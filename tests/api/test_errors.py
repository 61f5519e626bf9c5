"""Bad arguments get a clear message and a stable extensions.code, never a crash."""

from __future__ import annotations

import base64

import pytest

from service.graph.driver import Database
from tests.conftest import Execute

CLAIMS = """query($first: Int!, $after: String) {
  actor(name: "Israel") { claims(first: $first, after: $after) { totalCount } } }"""


@pytest.mark.parametrize(
    ("variables", "code", "words"),
    [
        ({"first": -1}, "BAD_USER_INPUT", "first must be between 0 and 100, got -1"),
        ({"first": 101}, "BAD_USER_INPUT", "first must be between 0 and 100, got 101"),
        ({"first": 5, "after": "not a cursor!"}, "BAD_USER_INPUT", "not a valid after"),
        ({"first": 5, "after": base64.urlsafe_b64encode(b"Actor:israel").decode()}, "BAD_USER_INPUT", "not a cursor"),
    ],
)
async def test_bad_page_arguments(
    seeded: Database, execute: Execute, variables: dict[str, object], code: str, words: str
) -> None:
    result = await execute(CLAIMS, **variables)

    [error] = result["errors"]
    assert error["extensions"]["code"] == code
    assert words in error["message"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ actor(name: "Atlantis") { name } }', "NOT_FOUND"),
        ('{ actor(id: "QWN0b3I6bm8tc3VjaA==") { name } }', "NOT_FOUND"),
        ('{ actor(id: "garbage") { name } }', "BAD_USER_INPUT"),
        ('{ actor(name: "Israel", id: "QWN0b3I6aXNyYWVs") { name } }', "BAD_USER_INPUT"),
        ("{ actor { name } }", "BAD_USER_INPUT"),
        ('{ node(id: "Q2xhaW06bm8tc3VjaA==") { id } }', "NOT_FOUND"),
        ("{ actor(name: 3) { name } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ nosuchfield }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_bad_lookups(seeded: Database, execute: Execute, query: str, code: str) -> None:
    result = await execute(query)

    assert [e["extensions"]["code"] for e in result["errors"]] == [code]


async def test_a_name_crafted_as_cypher_is_only_a_name(seeded: Database, execute: Execute) -> None:
    crafted = "x'}) MATCH (n) DETACH DELETE n //"

    result = await execute("query($n: String!) { actor(name: $n) { name } }", n=crafted)

    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    still_there = await execute('{ actor(name: "Israel") { name } }')
    assert still_there["data"]["actor"]["name"] == "Israel"
