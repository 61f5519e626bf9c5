"""Loading is idempotent and atomic per report, against the real Neo4j."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, LiteralString

import pytest
from neo4j.exceptions import ClientError

from service.graph.driver import Database
from service.ingest import writer
from service.ingest.generate import GraphShape, generate
from service.ingest.loader import database_is_empty, load_documents
from service.ingest.models import SeedDocument
from service.ingest.seed_files import read_seed_files
from tests.conftest import SEEDS

COUNTS = """
MATCH (n) WITH labels(n)[0] AS label, count(*) AS nodes ORDER BY label
RETURN collect([label, nodes]) AS nodes, COUNT { ()-[]->() } AS relationships
"""


async def test_loading_the_seed_twice_changes_nothing(graph: Database) -> None:
    documents = read_seed_files([SEEDS])
    await load_documents(graph, documents)
    first = await graph.read(COUNTS, {})

    again = await load_documents(graph, documents)

    assert await graph.read(COUNTS, {}) == first
    assert again.written.total("created") == again.written.total("updated") == 0
    assert again.written.tally["claims"]["unchanged"] == 18
    assert not await database_is_empty(graph)


@pytest.mark.parametrize("batch_size", [1, 2])
async def test_batches_give_the_same_graph(graph: Database, batch_size: int) -> None:
    documents = read_seed_files([SEEDS])

    await load_documents(graph, documents)
    whole = await graph.read(COUNTS, {})
    await graph.write("MATCH (n) DETACH DELETE n", {})

    summary = await load_documents(graph, documents, batch_size=batch_size)

    assert summary.reports == 2
    assert summary.written.tally["claims"] == {"created": 18, "updated": 0, "unchanged": 0}
    assert await graph.read(COUNTS, {}) == whole


async def test_a_changed_claim_is_updated_and_relinked(graph: Database) -> None:
    documents = read_seed_files([SEEDS])
    await load_documents(graph, documents)
    win = documents[1]
    changed_claim = win.claims[0].model_copy(update={"about": ["israel"], "text": "Changed text"})
    changed = win.model_copy(update={"claims": [changed_claim, *win.claims[1:]]})

    summary = await load_documents(graph, [documents[0], changed])

    assert summary.written.tally["claims"] == {"created": 0, "updated": 1, "unchanged": 17}
    [record] = await graph.read(
        "MATCH (c:Claim {id: $id}) RETURN c.text AS text, [(c)-[:ABOUT]->(a) | a.id] AS about",
        {"id": changed_claim.id},
    )
    assert record == {"text": "Changed text", "about": ["israel"]}


async def test_the_seed_holds_the_whole_article(seeded: Database) -> None:
    [counts] = await seeded.read(
        """RETURN COUNT { (:Claim) } AS claims, COUNT { (:Report) } AS reports,
                  COUNT { (:Event) } AS events, COUNT { ()-[:RELATED_TO]->() } AS relations,
                  COUNT { (:Actor {anonymous: true}) } AS anonymous""",
        {},
    )

    assert counts == {"claims": 18, "reports": 2, "events": 7, "relations": 9, "anonymous": 2}


async def test_a_failing_report_leaves_nothing_behind(graph: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # The write fails in Neo4j at its very end, after every step ran (1 / 0, with one relation).
    statement = writer.write_statement

    def failing(params: dict[str, Any]) -> tuple[LiteralString, dict[str, Any]]:
        cypher, read = statement(params)
        return cypher + "\nRETURN 1 / (size($relations) - 1) AS boom", {**read, "relations": params["relations"]}

    monkeypatch.setattr(writer, "write_statement", failing)
    doomed = SeedDocument.model_validate(
        {
            "report": {"id": "doomed", "title": "Doomed", "publisher": "outlet"},
            "actors": [
                {"id": "outlet", "name": "Outlet", "kind": "media_outlet"},
                {"id": "x", "name": "X", "kind": "state"},
                {"id": "y", "name": "Y", "kind": "state"},
            ],
            "claims": [{"id": "doomed-claim", "text": "T", "source": "outlet", "about": ["x"]}],
            "relations": [{"id": "r", "kind": "allied_with", "from": "x", "to": "y"}],
        }
    )

    with pytest.raises(ClientError, match="zero"):
        await load_documents(graph, [doomed])

    [left] = await graph.read("RETURN COUNT { (n) } AS nodes, COUNT { ()-[]->() } AS relationships", {})
    assert left == {"nodes": 0, "relationships": 0}


async def test_loading_streams_with_at_most_two_batches_in_memory(graph: Database) -> None:
    # Memory flat in the size of the input: the loader pulls documents only as
    # batches are written, one batch in the writer and one being prepared.
    lines = [json.dumps(d) for d in generate(GraphShape(actors=30, reports=200, seed=3))]
    pulled = written_so_far = 0
    ahead: list[int] = []  # documents read but not yet written, each time a batch commits

    def documents() -> Iterator[SeedDocument]:
        nonlocal pulled
        for line in lines:
            pulled += 1
            yield SeedDocument.model_validate_json(line)

    def written(count: int) -> None:
        nonlocal written_so_far
        written_so_far += count
        ahead.append(pulled - written_so_far)

    summary = await load_documents(graph, documents(), batch_size=20, on_batch=written)

    assert summary.reports == 200
    assert len(ahead) == 10
    assert max(ahead) <= 20  # the batch being prepared, never more


EMPTY_LISTS_STORED = """
RETURN COUNT { MATCH (n:Actor) WHERE n.aliases = [] } + COUNT { MATCH (n:Claim) WHERE n.evidence = [] }
     + COUNT { MATCH ()-[r:RELATED_TO]->() WHERE r.evidence = [] } AS stored
"""


async def test_an_empty_list_is_no_property_and_reads_back_empty(graph: Database, execute: Any) -> None:
    """What the importer cannot write (an empty list), kb seed does not write either: the two loads build the
    same graph, and a list that becomes empty loses its property."""
    actors: list[dict[str, Any]] = [
        {"id": "e-a", "name": "Empty A", "kind": "person"},
        {"id": "e-b", "name": "Empty B", "kind": "person", "aliases": ["B"]},
    ]
    document: dict[str, Any] = {
        "report": {"id": "e-r", "title": "Empty lists", "kind": "article"},
        "actors": actors,
        "claims": [{"id": "e-c", "text": "Said", "source": "e-a", "about": ["e-b"]}],
        "relations": [{"id": "e-rel", "from": "e-a", "to": "e-b", "kind": "ally", "evidence": []}],
    }
    await load_documents(graph, [SeedDocument.model_validate(document)])
    assert (await graph.read(EMPTY_LISTS_STORED, {}))[0]["stored"] == 0

    # B's aliases emptied: its property goes.
    document["actors"] = [actors[0], {**actors[1], "aliases": []}]
    summary = await load_documents(graph, [SeedDocument.model_validate(document)])
    assert summary.written.tally["actors"]["updated"] == 1
    [record] = await graph.read("MATCH (n:Actor {id: 'e-b'}) RETURN n.aliases AS aliases, n.aliasText AS text", {})
    assert record == {"aliases": None, "text": ""}
    assert (await graph.read(EMPTY_LISTS_STORED, {}))[0]["stored"] == 0

    query = """query($name: String!) {
      actor(name: $name) { aliases relations { evidence { id } } claims(first: 1) { edges { node { evidence } } } }
    }"""
    result = await execute(query, name="Empty B")
    assert result["errors"] == []
    actor = result["data"]["actor"]
    assert actor["aliases"] == []
    assert [r["evidence"] for r in actor["relations"]] == [[]]
    assert [e["node"]["evidence"] for e in actor["claims"]["edges"]] == [[]]
