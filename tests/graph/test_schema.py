"""schema/*.cypher is applied idempotently and its constraints hold."""

from __future__ import annotations

import os

import pytest
from neo4j.exceptions import ConstraintError

from service.config import PROJECT_ROOT
from service.graph.driver import Database
from service.graph.schema import apply_schema, schema_statements, wait_for_indexes
from tests.graphs import actor, claim, document, load


async def test_applying_twice_changes_nothing(graph: Database) -> None:
    before = await graph.read("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names", {})

    await apply_schema(graph, PROJECT_ROOT / "schema")

    after = await graph.read("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names", {})
    assert sorted(before[0]["names"]) == sorted(after[0]["names"])
    assert {"actor_id", "report_id", "claim_id", "event_id", "name_key", "relation_id"} <= set(after[0]["names"])


async def test_every_index_is_online(graph: Database) -> None:
    records = await graph.read("SHOW INDEXES YIELD name, state RETURN name, state", {})

    states = {r["name"]: r["state"] for r in records}
    assert states["kb_search"] == "ONLINE"
    assert set(states.values()) == {"ONLINE"}


async def test_actor_ids_are_unique(graph: Database) -> None:
    await graph.write("CREATE (:Actor {id: 'dup'})", {})

    with pytest.raises(ConstraintError):
        await graph.write("CREATE (:Actor {id: 'dup'})", {})


def test_every_statement_is_idempotent() -> None:
    statements = schema_statements(PROJECT_ROOT / "schema")

    assert statements
    assert all("IF NOT EXISTS" in s for s in statements)


@pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="only the session's own local server is known")
async def test_the_local_server_is_real_neo4j_5_26_community(graph: Database) -> None:
    records = await graph.read("CALL dbms.components() YIELD name, versions, edition RETURN *", {})

    assert records[0]["name"] == "Neo4j Kernel"
    assert records[0]["versions"][0].startswith("5.26.")
    assert records[0]["edition"] == "community"


async def test_a_strict_full_text_index_is_rebuilt_eventually_consistent(graph: Database) -> None:
    """A database from before the change keeps its index under IF NOT EXISTS; applying the schema rebuilds it."""
    await load(graph, document("r", actors=[actor("x")], claims=[claim("c", "outlet", ["x"])]))
    await graph.write("DROP INDEX kb_search", {})
    await graph.write(
        "CREATE FULLTEXT INDEX kb_search FOR (n:Actor|Claim|Report) ON EACH [n.name, n.aliasText, n.text, n.quote,"
        " n.title] OPTIONS {indexConfig: {`fulltext.eventually_consistent`: false}}",
        {},
    )
    await wait_for_indexes(graph, 60)
    assert await _search_index_options(graph) == (False, "ONLINE")

    await apply_schema(graph, PROJECT_ROOT / "schema")

    assert await _search_index_options(graph) == (True, "ONLINE")
    hits = "CALL db.index.fulltext.queryNodes('kb_search', 'Text') YIELD node RETURN node.id AS id"
    [hit] = await graph.read(hits, {})
    assert hit == {"id": "c"}  # rebuilt from what was stored


async def _search_index_options(graph: Database) -> tuple[bool, str]:
    [row] = await graph.read(
        "SHOW FULLTEXT INDEXES YIELD name, state, options WHERE name = 'kb_search'"
        " RETURN options.indexConfig.`fulltext.eventually_consistent` AS ec, state",
        {},
    )
    return row["ec"], row["state"]
