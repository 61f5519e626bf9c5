"""Seed files are validated whole before anything is written, with precise problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.ingest.seed_files import InvalidSeed, read_seed_files
from tests.conftest import SEEDS


def test_the_shipped_seed_is_valid() -> None:
    documents = read_seed_files([SEEDS])

    assert [d.report.id for d in documents] == [
        "i24-taliban-israel-report",
        "win-taliban-weighing-secret-talks-with-israel",
    ]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_problem_is_reported_with_location_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """
report: {id: r1, title: A report, publisher: nobody}
actors:
  - {id: Bad Id, name: X, kind: state}
  - {id: anon, name: Someone, kind: person, anonymous: true}
claims:
  - {id: c1, text: Something, source: anon, modality: shouted}
""",
    )

    with pytest.raises(InvalidSeed) as raised:
        read_seed_files([path])

    problems = [str(p) for p in raised.value.problems]
    assert any(f"{path}:line 4 (document 1): actors.0.id: " in p and "pattern" in p for p in problems)
    assert any(f"{path}:line 5 (document 1): actors.1: " in p and "descriptor" in p for p in problems)
    assert any(f"{path}:line 7 (document 1): claims.0.modality: " in p for p in problems)


def test_references_to_undefined_ids_are_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dangling.jsonl",
        '{"report": {"id": "r1", "title": "T", "publisher": "ghost", "cites": ["r0"]}}\n',
    )

    with pytest.raises(InvalidSeed) as raised:
        read_seed_files([path])

    problems = [str(p) for p in raised.value.problems]
    assert any("actor 'ghost'" in p for p in problems)
    assert any("report 'r0'" in p for p in problems)


def test_unreadable_yaml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "report: [unclosed")

    with pytest.raises(InvalidSeed) as raised:
        read_seed_files([path])

    assert "cannot be read" in str(raised.value.problems[0])
