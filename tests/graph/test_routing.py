"""A `neo4j://` routing URI, against the local single server: reads in read transactions, writes in write ones.

A cluster sends read transactions to followers and write transactions to the
leader; Neo4j refuses a write inside a read transaction, on a single server as
in a cluster. So running every example query and every mutation through a
routing driver proves each goes through the right kind of transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from neo4j.exceptions import ClientError

from service.api.auth import Credentials, Role
from service.api.context import Context
from service.api.graphiql import EXAMPLES
from service.api.schema import schema
from service.config import Settings
from service.graph.driver import Database
from tests.api.test_mutations import INGEST, MUTATIONS, report_input


@pytest.fixture
def routing_settings(neo4j_settings: Settings) -> Settings:
    bolt = urlsplit(neo4j_settings.effective_neo4j_uri())
    return neo4j_settings.model_copy(update={"neo4j_uri": f"neo4j://{bolt.netloc}"})


@pytest_asyncio.fixture
async def routed(routing_settings: Settings) -> AsyncIterator[Database]:
    db = Database.connect(routing_settings)
    yield db
    await db.close()


async def test_a_read_transaction_refuses_a_write(graph: Database, routed: Database) -> None:
    with pytest.raises(ClientError, match="read access mode"):
        await routed.read("CREATE (:Probe) RETURN 1 AS ok", {})
    written = await routed.write("CREATE (p:Probe) RETURN count(p) AS n", {})

    assert written == [{"n": 1}]


async def test_every_example_and_mutation_works_through_a_routing_uri(
    seeded: Database, routed: Database, routing_settings: Settings
) -> None:
    async def run(query: str, role: Role | None = None, **variables: Any) -> dict[str, Any]:
        context = Context.create(routed, routing_settings, credentials=Credentials(role, presented=role is not None))
        result = await schema.execute(query, variable_values=variables, context_value=context)
        codes = [(e.extensions or {}).get("code") for e in result.errors or []]
        return {"data": result.data, "errors": codes}

    examples = [await run(e.query, None, **(e.variables or {})) for e in EXAMPLES]
    ingested = await run(INGEST, Role.WRITER, input=report_input("routed-1"))
    # The table's mutations name nothing stored: they fail, but as a write transaction would, not as a read one.
    others = {name: await run(query, Role.ADMIN) for name, (query, _) in MUTATIONS.items()}

    assert [e["errors"] for e in examples] == [[] for _ in EXAMPLES]
    assert ingested["errors"] == []
    assert {name: "INTERNAL" in answer["errors"] for name, answer in others.items()} == dict.fromkeys(MUTATIONS, False)
    [stored] = await routed.read("MATCH (r:Report {id: 'routed-1'}) RETURN count(r) AS n", {})
    assert stored == {"n": 1}
