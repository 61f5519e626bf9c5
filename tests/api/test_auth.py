"""Every mutation of the schema, over HTTP, refused to anyone without a valid token of the right role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from service.api.auth import Role, Token, parse_tokens
from service.config import Settings
from service.graph.driver import Database
from tests.api.test_http import make_client
from tests.api.test_mutations import MUTATIONS, counts

TOKENS = {
    Role.READER: "reader-token-0123456789",
    Role.WRITER: "writer-token-0123456789",
    Role.ADMIN: "admin-token-0123456789",
}
EXPIRED_ADMIN = "expired-admin-token-0123456789"
BAD_CREDENTIALS = {
    "no token": None,
    "forged token": "Bearer forged-admin-token-0123456789",
    "expired token": f"Bearer {EXPIRED_ADMIN}",
    "a known token with one character changed": f"Bearer {TOKENS[Role.ADMIN][:-1]}X",
    "not a bearer token": f"Basic {TOKENS[Role.ADMIN]}",
    "empty bearer": "Bearer ",
}
EMPTY = {"actors": 0, "reports": 0, "claims": 0, "events": 0, "relationships": 0}


@pytest_asyncio.fixture
async def client(neo4j_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    spec = ",".join(f"{token}:{role.name.lower()}" for role, token in TOKENS.items())
    spec += f",{EXPIRED_ADMIN}:admin:2020-01-01"
    async with make_client(neo4j_settings, tokens=SecretStr(spec)) as c:
        yield c


async def post(client: httpx.AsyncClient, query: str, authorization: str | None) -> list[str]:
    headers = {"authorization": authorization} if authorization is not None else {}
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return [e["extensions"]["code"] for e in response.json().get("errors") or []]


async def test_the_walk_covers_every_mutation_the_server_offers(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __schema { mutationType { fields { name } } } }"})

    offered = {f["name"] for f in response.json()["data"]["__schema"]["mutationType"]["fields"]}
    assert offered == set(MUTATIONS)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_every_mutation_refuses_bad_credentials_and_writes_nothing(
    graph: Database, client: httpx.AsyncClient, name: str
) -> None:
    query, needed = MUTATIONS[name]

    refused = {label: await post(client, query, header) for label, header in BAD_CREDENTIALS.items()}
    too_low = {role: await post(client, query, f"Bearer {TOKENS[role]}") for role in Role if role < needed}

    assert refused == {label: ["UNAUTHENTICATED"] for label in BAD_CREDENTIALS}
    assert too_low == {role: ["FORBIDDEN"] for role in Role if role < needed}
    assert await counts(graph) == EMPTY


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_the_right_role_gets_past_the_check(graph: Database, client: httpx.AsyncClient, name: str) -> None:
    query, needed = MUTATIONS[name]

    codes = await post(client, query, f"Bearer {TOKENS[needed]}")

    # The table's arguments name nothing stored, so most fail later, but never on credentials.
    assert not {"UNAUTHENTICATED", "FORBIDDEN"} & set(codes)


async def test_the_expired_token_is_told_so(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": MUTATIONS["deleteReport"][0]}, headers={"authorization": f"Bearer {EXPIRED_ADMIN}"}
    )

    [error] = response.json()["errors"]
    assert "expired" in error["message"]
    assert EXPIRED_ADMIN not in response.text


def test_token_expiry_is_a_utc_day() -> None:
    tokens = parse_tokens("long-enough-token-1:writer:2027-01-01,other:token:with:colons:admin")
    token = tokens["long-enough-token-1"]

    assert token == Token(Role.WRITER, datetime(2027, 1, 1, tzinfo=UTC))
    assert not token.expired(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert token.expired(datetime(2027, 1, 1, tzinfo=UTC))
    assert tokens["other:token:with:colons"] == Token(Role.ADMIN, None)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("long-enough-token-1:writer:2027-02-30", "no such date"),
        ("long-enough-token-1:owner", "token:reader|writer|admin"),
        ("short:admin", "16 characters"),
    ],
)
def test_bad_token_entries_stop_the_server(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_tokens(spec)
