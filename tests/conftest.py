"""One real Neo4j per test session, and a clean graph for every test that asks for one.

With NEO4J_URI set, the tests use that server; because they wipe the graph
between tests, they refuse a database that already holds data unless
KB_TEST_WIPE=1. Without it, the session starts its own throwaway Neo4j (the
same launcher as `kb neo4j start`) in a temporary directory on a free port.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from service.api.auth import Role
from service.config import PROJECT_ROOT, Settings
from service.graph.driver import Database
from service.graph.schema import apply_schema
from service.graph.search import search_caught_up
from service.ingest.loader import database_is_empty, load_documents
from service.ingest.seed_files import read_seed_files
from service.local_neo4j import LocalNeo4j

TEST_PASSWORD = "kb-test-password"
SEEDS = PROJECT_ROOT / "seeds"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at the session's Neo4j (started here unless NEO4J_URI is set)."""
    external = os.environ.get("NEO4J_URI")
    if external:
        yield Settings()
        return
    home: Path = tmp_path_factory.mktemp("neo4j")
    local = LocalNeo4j(
        home=home,
        bolt_port=free_port(),
        user="neo4j",
        password=TEST_PASSWORD,
        heap="768m",
        pagecache="128m",
    )
    uri = local.start()
    try:
        yield Settings(NEO4J_URI=uri, NEO4J_USER="neo4j", NEO4J_PASSWORD=TEST_PASSWORD)
    finally:
        local.stop()


@pytest_asyncio.fixture(scope="session")
async def session_db(neo4j_settings: Settings) -> AsyncIterator[Database]:
    db = Database.connect(neo4j_settings)
    external = neo4j_settings.neo4j_uri == os.environ.get("NEO4J_URI")
    if external and not os.environ.get("KB_TEST_WIPE") and not await database_is_empty(db):
        await db.close()
        pytest.exit("NEO4J_URI names a database with data in it; set KB_TEST_WIPE=1 to let the tests wipe it")
    await apply_schema(db, neo4j_settings.schema_dir)
    yield db
    await db.close()


@pytest_asyncio.fixture
async def graph(session_db: Database) -> Database:
    """The session database, emptied of every node and relationship (and of them, the full-text index)."""
    await session_db.write("MATCH (n) DETACH DELETE n", {})
    await search_caught_up(session_db)
    return session_db


@pytest_asyncio.fixture
async def seeded(graph: Database) -> Database:
    """A clean database holding exactly the seeds of seeds/."""
    await load_documents(graph, read_seed_files([SEEDS]))
    return graph


GraphQLResult = dict[str, Any]
Execute = Callable[..., Awaitable[GraphQLResult]]


def executor(neo4j_settings: Settings, session_db: Database, compiled: bool) -> Execute:
    """Run a GraphQL document through the real schema; return {"data", "errors"} as a client sees it."""
    from service.api.auth import Credentials
    from service.api.context import Context
    from service.api.schema import schema

    # Some tests ask for wide pages on purpose (a request's round trips, what its rows bring): the cost limit,
    # tested over HTTP in tests/api/test_http.py, is set out of their way.
    settings = neo4j_settings.model_copy(update={"max_cost": 10_000_000, "compiled_reads": compiled})

    async def run(query: str, _role: Role | None = None, **variables: Any) -> GraphQLResult:
        """``_role``: run as a holder of a token with that role (default: no token)."""
        credentials = Credentials(_role, presented=_role is not None)
        context = Context.create(session_db, settings, credentials=credentials)
        result = await schema.execute(query, variable_values=variables, context_value=context)
        errors = [{"message": e.message, "extensions": e.extensions, "path": e.path} for e in result.errors or []]
        return {"data": result.data, "errors": errors}

    return run


@pytest.fixture
def execute(neo4j_settings: Settings, session_db: Database) -> Execute:
    """A GraphQL document run as the service runs it (queries compiled where they can be)."""
    return executor(neo4j_settings, session_db, compiled=True)


@pytest.fixture
def resolve(neo4j_settings: Settings, session_db: Database) -> Execute:
    """A GraphQL document run by Strawberry's resolvers alone (KB_COMPILED_READS off)."""
    return executor(neo4j_settings, session_db, compiled=False)
