"""A compiled read's objects go when it ends: nothing of the service's, Strawberry's, graphql-core's or
Starlette's is left in a reference cycle. (The Neo4j driver leaves some 170 objects of its own per query in
cycles: its result, summary and hydration scopes.)

Whatever sits in a cycle waits for the garbage collector, and a request's context reaches its loaders, whose
caches hold every page and record it read. When the executor and its async helpers referred to each other,
a page of 100 claims left some 500 objects behind per request, and the collections to free them cost
0.35 ms of its 2.4 ms of CPU. Each document here runs once to fill the per-process caches, then once with
the collector stopped and told to keep what it finds; it must find nothing.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from service.api.context import Context
from service.api.graphiql import EXAMPLES
from service.api.schema import schema
from service.config import Settings
from service.graph.driver import Database
from tests.api.test_http import make_client

PAGE = "{ claims(first: 100) { edges { node { text source { name } reports { title publisher { name } } } } } }"
# The examples the compiler answers (one statement each). Queries and mutations Strawberry resolves go through
# graphql-core's executor as it ships, whose async helpers and the executor refer to each other: what such a
# request makes waits for the garbage collector.
UNCOMPILED = {"Provenance and corroboration of what is said about the Taliban", "Relations as of a date",
              "How two actors are connected"}  # fmt: skip
QUERIES = [(e.title, e.query, e.variables or {}) for e in EXAMPLES if e.title not in UNCOMPILED] + [
    ("a page of claims, as the benchmark asks it", PAGE, {})
]
INGEST = """mutation($input: IngestReportInput!) { ingestReport(input: $input) { created } }"""


@contextmanager
def cycles_kept() -> Iterator[list[Any]]:
    """What the collector finds unreachable while the block runs (the block's own cyclic garbage)."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    found: list[Any] = []
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def kinds(objects: list[Any]) -> Counter[str]:
    return Counter(type(item).__qualname__ for item in objects)


async def twice(run: Callable[[], Awaitable[None]]) -> Counter[str]:
    await run()
    with cycles_kept() as found:
        await run()
    return kinds([item for item in found if _from_here(item)])


@pytest.fixture
def context(seeded: Database, neo4j_settings: Settings) -> Callable[[], Context]:
    return lambda: Context.create(seeded, neo4j_settings)


@pytest.mark.parametrize(("title", "query", "variables"), QUERIES, ids=[title for title, _, _ in QUERIES])
async def test_a_query_leaves_no_cycles(
    context: Callable[[], Context], title: str, query: str, variables: dict[str, Any]
) -> None:
    """Through Strawberry's ``execute``, with every extension of the schema."""

    async def run() -> None:
        result = await schema.execute(query, variable_values=variables, context_value=context())
        assert not result.errors, result.errors

    assert await twice(run) == Counter(), title


async def test_a_request_over_http_leaves_none_of_its_own(seeded: Database, neo4j_settings: Settings) -> None:
    """The whole application, in process: Starlette, the endpoint, Strawberry's view (httpx may keep its own)."""
    async with make_client(neo4j_settings) as client:

        async def run() -> None:
            response = await client.post("/graphql", json={"query": PAGE})
            assert response.status_code == 200
            assert "errors" not in response.json()

        await run()
        with cycles_kept() as found:
            await run()
    assert [item for item in found if _from_here(item)] == []


def _from_here(item: Any) -> bool:
    """Whether an object is one of this service's, or of the GraphQL layers it runs on."""
    return type(item).__module__.partition(".")[0] in {"service", "strawberry", "graphql", "starlette"}
