"""`kb seed` as a data engineer runs it: a real process against the real Neo4j."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from service.config import Settings
from service.graph.driver import Database

KB = str(Path(sys.executable).parent / "kb")
COUNTS = "RETURN COUNT { (n) } AS nodes, COUNT { ()-[]->() } AS relationships"


def kb(settings: Settings, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NEO4J_URI": settings.effective_neo4j_uri(),
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
    }
    return subprocess.run([KB, *map(str, args)], env=env, capture_output=True, text=True, timeout=300, check=False)


def tally(summary: str) -> dict[str, dict[str, int]]:
    """The created/updated/unchanged table `kb seed` prints, by kind."""
    found = re.findall(r"^\s+(\w+)\s+(\d+) created\s+(\d+) updated\s+(\d+) unchanged$", summary, re.MULTILINE)
    return {kind: dict(zip(("created", "updated", "unchanged"), map(int, n), strict=True)) for kind, *n in found}


def generated(tmp_path: Path, settings: Settings, reports: int = 60) -> Path:
    path = tmp_path / "graph.jsonl"
    result = kb(settings, "generate", "--reports", str(reports), "--actors", "40", "--out", path)
    assert result.returncode == 0, result.stderr
    return path


async def test_seeding_twice_changes_nothing_and_says_so(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    path = generated(tmp_path, neo4j_settings)

    first = kb(neo4j_settings, "seed", path, "--batch-size", "7")
    [loaded] = await graph.read(COUNTS, {})
    second = kb(neo4j_settings, "seed", path, "--batch-size", "13")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "loaded 60 report(s)" in first.stdout
    assert tally(first.stdout)["claims"] == {"created": 300, "updated": 0, "unchanged": 0}
    assert tally(first.stdout)["reports"] == {"created": 60, "updated": 0, "unchanged": 0}
    assert all(counts["created"] == counts["updated"] == 0 for counts in tally(second.stdout).values())
    assert tally(second.stdout)["claims"]["unchanged"] == 300
    assert await graph.read(COUNTS, {}) == [loaded]


async def test_an_invalid_file_loads_nothing_and_every_problem_is_named(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    good = generated(tmp_path, neo4j_settings, reports=5).read_text().splitlines()
    broken = json.loads(good[3])
    broken["claims"][1]["modality"] = "certain"
    del broken["report"]["title"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([*good[:3], json.dumps(broken), "{not json", good[4]]) + "\n")

    result = kb(neo4j_settings, "seed", bad)

    assert result.returncode == 1
    problems = result.stderr
    assert f"{bad}:line 4: claims.1.modality: Input should be 'asserted'" in problems
    assert f"{bad}:line 4: report.title: Field required" in problems
    assert f"{bad}:line 5: not JSON" in problems
    assert "3 problem(s) in 6 document(s); nothing was loaded" in " ".join(problems.split())
    assert await graph.read(COUNTS, {}) == [{"nodes": 0, "relationships": 0}]


async def test_a_reference_defined_nowhere_is_reported_with_its_line(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    lines = generated(tmp_path, neo4j_settings, reports=3).read_text().splitlines()
    dangling = json.loads(lines[2])
    dangling["claims"][0]["about"] = ["nobody-knows"]
    path = tmp_path / "dangling.jsonl"
    path.write_text("\n".join([*lines[:2], json.dumps(dangling)]) + "\n")

    result = kb(neo4j_settings, "seed", path)

    assert result.returncode == 1
    assert f"{path}:line 3: actors: actor 'nobody-knows' is referred to but defined nowhere" in result.stderr
    assert await graph.read(COUNTS, {}) == [{"nodes": 0, "relationships": 0}]


async def test_dry_run_validates_and_writes_nothing(graph: Database, neo4j_settings: Settings, tmp_path: Path) -> None:
    path = generated(tmp_path, neo4j_settings, reports=10)

    result = kb(neo4j_settings, "seed", "--dry-run", path)

    assert result.returncode == 0, result.stderr
    assert "10 report(s) valid; nothing written (--dry-run)" in result.stdout
    assert await graph.read(COUNTS, {}) == [{"nodes": 0, "relationships": 0}]


async def test_references_to_stored_ids_are_accepted(graph: Database, neo4j_settings: Settings, tmp_path: Path) -> None:
    lines = generated(tmp_path, neo4j_settings, reports=20).read_text().splitlines()
    (tmp_path / "first.jsonl").write_text("\n".join(lines[:10]) + "\n")
    (tmp_path / "rest.jsonl").write_text("\n".join(lines[10:]) + "\n")

    first = kb(neo4j_settings, "seed", tmp_path / "first.jsonl")
    rest = kb(neo4j_settings, "seed", tmp_path / "rest.jsonl")
    [split] = await graph.read(COUNTS, {})
    await graph.write("MATCH (n) DETACH DELETE n", {})
    whole = kb(neo4j_settings, "seed", tmp_path / "graph.jsonl")

    assert (first.returncode, rest.returncode, whole.returncode) == (0, 0, 0), rest.stderr
    assert await graph.read(COUNTS, {}) == [split]


async def test_a_file_that_is_not_yaml_is_a_problem_not_a_crash(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text('report: {id: a, title: "x"\n  bad: [\n')

    result = kb(neo4j_settings, "seed", path)

    assert result.returncode == 1
    assert f"{path}: cannot be read: " in result.stderr
    assert "Traceback" not in result.stderr
    assert await graph.read(COUNTS, {}) == [{"nodes": 0, "relationships": 0}]
