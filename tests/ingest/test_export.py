"""`kb export`: the graph back in the seed format, deterministically, and nothing lost without saying so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.config import Settings
from service.graph import writes
from service.graph.driver import Database
from service.ingest.loader import load_documents
from service.ingest.seed_files import read_seed_files
from tests.conftest import SEEDS
from tests.ingest.test_kb_seed import generated, kb

# The whole graph as data: every node with its labels and properties, every relationship with its ends and
# properties; only the writer's own change-detection hashes left out (they digest documents, not the graph).
WHOLE_GRAPH = """
CALL () {
  MATCH (n) RETURN collect([labels(n), [k IN keys(n) WHERE k <> 'hash' | [k, n[k]]]]) AS nodes
}
CALL () {
  MATCH (a)-[r]->(b)
  RETURN collect([type(r), coalesce(a.id, a.key), b.id, [k IN keys(r) WHERE k <> 'hash' | [k, r[k]]]]) AS relationships
}
RETURN nodes, relationships
"""


async def whole_graph(db: Database) -> dict[str, Any]:
    [record] = await db.read(WHOLE_GRAPH, {})
    nodes = sorted(([sorted(labels), sorted(map(tuple, props))] for labels, props in record["nodes"]), key=repr)
    relationships = sorted(
        ([kind, start, end, sorted(map(tuple, props))] for kind, start, end, props in record["relationships"]), key=repr
    )
    return {"nodes": nodes, "relationships": relationships}


@pytest.mark.parametrize("fmt", ["jsonl", "yaml"])
async def test_export_wipe_seed_export_gives_the_same_files_and_graph(
    graph: Database, neo4j_settings: Settings, tmp_path: Path, fmt: str
) -> None:
    await load_documents(graph, read_seed_files([SEEDS]))
    first = kb(neo4j_settings, "seed", generated(tmp_path, neo4j_settings, reports=40))
    before = await whole_graph(graph)

    exported = kb(neo4j_settings, "export", tmp_path / "one", "--format", fmt)
    await graph.write("MATCH (n) DETACH DELETE n", {})
    seeded = kb(neo4j_settings, "seed", tmp_path / "one" / f"graph.{fmt}")
    after = await whole_graph(graph)
    again = kb(neo4j_settings, "export", tmp_path / "two", "--format", fmt)

    assert (first.returncode, exported.returncode, seeded.returncode, again.returncode) == (0, 0, 0, 0), (
        exported.stderr + seeded.stderr
    )
    one, two = ((tmp_path / d / f"graph.{fmt}").read_bytes() for d in ("one", "two"))
    assert one == two
    assert after == before
    assert len(before["nodes"]) > 200
    assert f"wrote {tmp_path / 'one' / f'graph.{fmt}'}: 42 reports, " in exported.stdout


async def test_what_the_format_cannot_hold_is_named_and_nothing_written_unless_allowed(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    await load_documents(graph, read_seed_files([SEEDS]))
    await writes.retract_claim(graph, "claim-taliban-seized-afghanistan-august-2021", "a test")
    await writes.merge_actors(graph, "israel", "israeli-advocate")

    refused = kb(neo4j_settings, "export", tmp_path / "out")
    lossy = kb(neo4j_settings, "export", tmp_path / "out", "--allow-loss")
    check = kb(neo4j_settings, "seed", "--dry-run", tmp_path / "out" / "graph.jsonl")

    assert refused.returncode == 1
    assert "the seed format cannot hold all of the graph:" in refused.stderr
    assert "  1 retracted claims (the seed format has no retraction): claim-taliban-seized-afghanistan-august-2021" in (
        refused.stderr
    )
    assert "  1 Actor with a 'mergedFrom' property" in refused.stderr
    assert "  1 Claim with a 'retractedAt' property" in refused.stderr
    assert "nothing written; --allow-loss exports the rest" in refused.stderr
    assert lossy.returncode == 0, lossy.stderr
    assert "(what is listed above left out)" in lossy.stdout
    assert "claim-taliban-seized-afghanistan-august-2021" not in (tmp_path / "out" / "graph.jsonl").read_text()
    assert check.returncode == 0, check.stderr


async def test_an_earlier_export_is_replaced_only_when_asked(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    await load_documents(graph, read_seed_files([SEEDS]))
    (tmp_path / "graph.jsonl").write_text("keep me\n")

    refused = kb(neo4j_settings, "export", tmp_path)
    forced = kb(neo4j_settings, "export", tmp_path, "--force")

    assert refused.returncode == 1
    assert f"{tmp_path / 'graph.jsonl'} exists; --force replaces it" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "graph.jsonl").read_text().startswith('{"report":{"id":"i24-taliban-israel-report"')
    assert names(tmp_path) == ["graph.jsonl"]  # no temporary file left


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())
