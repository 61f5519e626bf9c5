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
from tests.conftest import free_port

KB = str(Path(sys.executable).parent / "kb")
COUNTS = "RETURN COUNT { (n) } AS nodes, COUNT { ()-[]->() } AS relationships"


def kb(settings: Settings, *args: str | Path, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NEO4J_URI": settings.effective_neo4j_uri(),
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        **env_vars,
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
    assert f"{path}:line 3: claims.0.about.0: actor 'nobody-knows' is referred to but defined nowhere" in result.stderr
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
    assert f"{path}:line 2: cannot be read: not YAML: while parsing a flow mapping" in result.stderr
    assert "Traceback" not in result.stderr
    assert await graph.read(COUNTS, {}) == [{"nodes": 0, "relationships": 0}]


UNKNOWN_ACTOR_AND_MISSING_FIELD = """report:
  id: r1
  title: A report
  publisher: ghost
claims:
  - id: c1
    source: ghost
"""


def test_dry_run_with_no_database_tells_everything_the_files_can(neo4j_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(UNKNOWN_ACTOR_AND_MISSING_FIELD)
    nowhere = f"bolt://127.0.0.1:{free_port()}"

    result = kb(neo4j_settings, "seed", "--dry-run", path, NEO4J_URI=nowhere, NEO4J_RETRY_TIME="0")

    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"{path}:line 6 (document 1): claims.0.text: Field required" in lines
    assert (
        "1 id(s) referred to but not defined in the files, not checked against a database "
        f"(no Neo4j answers at {nowhere} (connection refused); check NEO4J_URI and that the server is up):"
    ) in lines
    assert f"  {path}:line 4 (document 1): report.publisher: actor 'ghost' is not defined in the files" in lines
    assert lines[-1] == "error: 1 problem(s) in 1 document(s); nothing was loaded"
    assert "Traceback" not in result.stderr


def test_dry_run_checks_the_references_when_a_database_answers(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(UNKNOWN_ACTOR_AND_MISSING_FIELD)

    result = kb(neo4j_settings, "seed", "--dry-run", path)

    assert result.returncode == 1
    assert f"{path}:line 6 (document 1): claims.0.text: Field required" in result.stderr
    assert f"{path}:line 4 (document 1): report.publisher: actor 'ghost' is referred to but defined nowhere" in (
        result.stderr
    )
    assert f"{path}:line 7 (document 1): claims.0.source: actor 'ghost' is referred" not in result.stderr  # once
    assert "2 problem(s) in 1 document(s)" in result.stderr


def test_offline_dry_run_lists_what_only_a_database_can_tell(neo4j_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "refers.jsonl"
    path.write_text('{"report": {"id": "r2", "title": "T", "cites": ["r1"]}}\n')

    result = kb(neo4j_settings, "seed", "--dry-run", "--offline", path, NEO4J_URI=f"bolt://127.0.0.1:{free_port()}")
    refused = kb(neo4j_settings, "seed", "--offline", path)

    assert result.returncode == 0, result.stderr
    assert "1 report(s) valid; nothing written (--dry-run)" in result.stdout
    assert "1 id(s) referred to but not defined in the files, not checked against a database (--offline):" in (
        result.stderr
    )
    assert f"  {path}:line 1: report.cites.0: report 'r1' is not defined in the files" in result.stderr
    assert refused.returncode == 1
    assert "--offline needs --dry-run" in refused.stderr


async def test_off_a_terminal_progress_is_a_line_every_few_seconds(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    path = generated(tmp_path, neo4j_settings, reports=400)

    result = kb(neo4j_settings, "seed", path, "--batch-size", "20", "--progress-every", "0.1")

    assert result.returncode == 0, result.stderr
    loading = [line for line in result.stderr.splitlines() if line.startswith("loading: ")]
    assert len(loading) >= 2, result.stderr
    assert all(re.fullmatch(r"loading: [\d,]+/400 reports \(\d+%\), [\d,]+/s, \d+ s", line) for line in loading)
    assert loading[-1].startswith("loading: 400/400 reports (100%)")
