"""A request costs a number of Cypher round trips bounded by its depth, not its rows."""

from __future__ import annotations

import pytest

from service.graph.driver import Database
from service.ingest.loader import load_documents
from service.ingest.models import SeedDocument
from tests.conftest import Execute

NESTED = """
{ actor(name: "Target") {
    claims(first: 100) { totalCount edges { node {
      text source { name }
      reports { title publisher { name } cites { title publisher { name } } } } } } } }
"""
# One per level: actor, claims page, claim sources, claim reports, report
# publishers, cited reports, publishers of cited reports (7). Here every cited
# report is also some claim's report, so the last level is answered from the
# request's loader cache: 6, for 3 claims as for 60.
EXPECTED_ROUND_TRIPS = 6


def synthetic_graph(claims: int) -> list[SeedDocument]:
    """One report per claim, each citing the previous, all claims about one actor."""
    documents = []
    for i in range(claims):
        documents.append(
            SeedDocument.model_validate(
                {
                    "report": {
                        "id": f"report-{i}",
                        "title": f"Report {i}",
                        "publisher": f"outlet-{i % 7}",
                        "cites": [f"report-{i - 1}"] if i else [],
                    },
                    "actors": [
                        {"id": "target", "name": "Target", "kind": "state"},
                        {"id": f"outlet-{i % 7}", "name": f"Outlet {i % 7}", "kind": "media_outlet"},
                        {"id": f"source-{i}", "name": f"Source {i}", "kind": "person"},
                    ],
                    "claims": [
                        {"id": f"claim-{i:04d}", "text": f"Claim {i}", "source": f"source-{i}", "about": ["target"]}
                    ],
                }
            )
        )
    return documents


@pytest.mark.parametrize("claims", [3, 60])
async def test_nested_request_costs_one_round_trip_per_level(graph: Database, execute: Execute, claims: int) -> None:
    await load_documents(graph, synthetic_graph(claims))
    before = graph.round_trips

    result = await execute(NESTED)

    assert result["errors"] == []
    assert len(result["data"]["actor"]["claims"]["edges"]) == claims
    assert graph.round_trips - before == EXPECTED_ROUND_TRIPS
