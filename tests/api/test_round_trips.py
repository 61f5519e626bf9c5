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
# One per level: the actor; the claims page, which brings each claim's source
# and its reports with their publishers in the same statement; the cited
# reports; their publishers: 4, for 3 claims as for 60.
EXPECTED_ROUND_TRIPS = 4


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


WIDE = """
{ claims(first: 100) { edges { node {
    source { name relations { kind other { name } evidence { text } } affiliations { role } }
    about { name } aboutEvents { name }
    provenance { reports { title } source { name } }
    corroboration { independentSources }
    reports { title authors { name } citedBy { title } claims(first: 5) { totalCount } } } } }
  actors(first: 100) { edges { node { neighbors(depth: 2) { actor { name } }
                                        events { edges { node { participants { role } } } } } } } }
"""
# One each: claims page (bringing the claims' sources and reports), the sources'
# relations, affiliations, subjects (about and aboutEvents share one loader),
# provenance (its source is already loaded), corroboration, authors, citedBy,
# the reports' claim pages, actors page, neighbours, events pages. The synthetic
# graph has no relations and no events, so relation evidence and participants
# cost nothing: 12.
WIDE_ROUND_TRIPS = 12


@pytest.mark.parametrize("claims", [3, 60])
async def test_wide_request_costs_the_same_for_3_claims_as_for_60(
    graph: Database, resolve: Execute, claims: int
) -> None:
    await load_documents(graph, synthetic_graph(claims))
    before = graph.round_trips

    result = await resolve(WIDE)

    assert result["errors"] == []
    assert len(result["data"]["claims"]["edges"]) == claims
    assert graph.round_trips - before == WIDE_ROUND_TRIPS


@pytest.mark.parametrize("claims", [3, 60])
async def test_nested_request_costs_one_round_trip_per_level(graph: Database, resolve: Execute, claims: int) -> None:
    await load_documents(graph, synthetic_graph(claims))
    before = graph.round_trips

    result = await resolve(NESTED)

    assert result["errors"] == []
    assert len(result["data"]["actor"]["claims"]["edges"]) == claims
    assert graph.round_trips - before == EXPECTED_ROUND_TRIPS


@pytest.mark.parametrize("claims", [3, 60])
async def test_compiled_the_nested_request_is_one_round_trip(graph: Database, execute: Execute, claims: int) -> None:
    await load_documents(graph, synthetic_graph(claims))
    before = graph.round_trips

    result = await execute(NESTED)

    assert result["errors"] == []
    assert len(result["data"]["actor"]["claims"]["edges"]) == claims
    assert graph.round_trips - before == 1
