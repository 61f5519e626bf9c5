"""The Cypher behind the headline query starts from indexes, never from a scan of a whole label."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncGraphDatabase
from service.api.auth import Credentials
from service.api.context import Context
from service.api.graphiql import EXAMPLES
from service.api.schema import schema
from service.config import Settings
from service.graph.driver import Database, recorded_statements

SCANS = {"NodeByLabelScan", "AllNodesScan", "DirectedAllRelationshipsScan", "UndirectedAllRelationshipsScan"}


def operators(plan: Any) -> set[str]:
    return {operation.split(" ")[0] for operation in details(plan)}


def details(plan: Any) -> list[str]:
    """Every operator of the plan, as its type and details."""
    found = [plan["operatorType"].split("@")[0] + " " + plan["args"].get("Details", "")]
    for child in plan.get("children", []):
        found += details(child)
    return found


async def test_the_headline_query_scans_no_label(seeded: Database, neo4j_settings: Settings) -> None:
    [headline, *others] = EXAMPLES
    with recorded_statements() as recorded:
        for example in [headline, *others[:3]]:
            context = Context.create(seeded, neo4j_settings, credentials=Credentials.anonymous())
            result = await schema.execute(example.query, variable_values=example.variables, context_value=context)
            assert not result.errors

    auth = (neo4j_settings.neo4j_user, neo4j_settings.neo4j_password.get_secret_value())
    async with AsyncGraphDatabase.driver(neo4j_settings.effective_neo4j_uri(), auth=auth) as driver:
        scanning = []
        for cypher, params in recorded:
            explained = await driver.execute_query("EXPLAIN " + cypher, params)
            if operators(explained.summary.plan) & SCANS:
                scanning.append(cypher)

    assert len(recorded) >= 10
    assert scanning == []


async def test_the_headline_page_seeks_the_index_and_counts_by_degree(
    seeded: Database, neo4j_settings: Settings
) -> None:
    headline = EXAMPLES[0]
    with recorded_statements() as recorded:
        context = Context.create(seeded, neo4j_settings, credentials=Credentials.anonymous())
        result = await schema.execute(headline.query, variable_values=headline.variables, context_value=context)
        assert not result.errors
    [(cypher, params)] = [(c, p) for c, p in recorded if "liveClaimId" in c]

    auth = (neo4j_settings.neo4j_user, neo4j_settings.neo4j_password.get_secret_value())
    async with AsyncGraphDatabase.driver(neo4j_settings.effective_neo4j_uri(), auth=auth) as driver:
        explained = await driver.execute_query("EXPLAIN " + cypher, params)
    operations = details(explained.summary.plan)

    # The page seeks the index, the count reads the actor's degree; no step walks the actor's ABOUT links.
    seeks = [d for d in operations if d.startswith("DirectedRelationshipIndexSeek")]
    assert len(seeks) == 1, "\n".join(operations)
    assert all("ABOUT(actorId, sourceAnonymous, liveClaimId)" in seek for seek in seeks)
    assert [d for d in operations if "getDegree" in d and "ANONYMOUS_CLAIM_ABOUT" in d], "\n".join(operations)
    assert not [d for d in operations if d.startswith("Expand") and "CLAIM_ABOUT" in d]
    assert not [d for d in operations if d.startswith("Expand") and ":ABOUT" in d]
