"""Pass one of `kb seed`: everything the files can tell, with no database, each problem where it is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.ingest.generate import GraphShape, generate
from service.ingest.models import SeedDocument
from service.ingest.seed_files import check_files
from service.ingest.validation import SeedCheck, Validation, document_references, raw_references
from tests.conftest import SEEDS


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def check(*paths: Path) -> tuple[Validation, list[str], list[str]]:
    """The validation of the files, its problems and its unresolved references, as `kb seed` prints them."""
    with SeedCheck() as seed_check:
        validation = seed_check.read(paths)
        return validation, [str(p) for p in validation.problems], [str(u) for u in seed_check.unresolved()]


def test_a_missing_field_and_an_unknown_actor_are_both_told_without_a_database(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "both.yaml",
        """report:
  id: r1
  publisher: ghost
""",
    )

    validation, problems, unresolved = check(path)

    assert problems == [f"{path}:line 1 (document 1): report.title: Field required"]
    assert unresolved == [f"{path}:line 3 (document 1): report.publisher: actor 'ghost' is not defined in the files"]
    assert validation.unresolved == 1


def test_an_id_defined_again_with_other_content_names_both_places(tmp_path: Path) -> None:
    first = write(
        tmp_path,
        "a.yaml",
        """report: {id: r1, title: One}
actors:
  - {id: israel, name: Israel, kind: state}
  - {id: sudan, name: Sudan, kind: state}
""",
    )
    second = write(
        tmp_path,
        "b.jsonl",
        '{"report": {"id": "r2", "title": "Two"}, "actors": [{"id": "sudan", "name": "Sudan", "kind": "state"}]}\n'
        '{"report": {"id": "r3", "title": "Three"}, "actors": [{"id": "israel", "name": "Israel", "kind": "other"}]}\n'
        '{"report": {"id": "r1", "title": "One again"}}\n',
    )

    validation, problems, _ = check(first, second)

    # Sudan, defined twice the same, is fine; Israel and report r1 are not.
    assert problems == [
        f"{second}:line 2: actors.0: actor 'israel' is defined again with other content "
        f"(first at {first}:line 3 (document 1))",
        f"{second}:line 3: report: report 'r1' is defined again with other content "
        f"(first at {first}:line 1 (document 1))",
    ]
    assert validation.unresolved == 0


def test_an_invalid_document_still_has_its_redefinitions_and_references_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mixed.yaml",
        """report: {id: r1, title: One}
actors:
  - {id: israel, name: Israel, kind: state}
---
report: {id: r2}
actors:
  - {id: israel, name: Israel, kind: government}
claims:
  - {id: c1, text: Something, source: nobody}
""",
    )

    _, problems, unresolved = check(path)

    assert problems == [
        f"{path}:line 5 (document 2): report.title: Field required",
        f"{path}:line 7 (document 2): actors.0: actor 'israel' is defined again with other content "
        f"(first at {path}:line 3 (document 1))",
    ]
    assert unresolved == [f"{path}:line 9 (document 2): claims.0.source: actor 'nobody' is not defined in the files"]


def test_a_key_given_twice_in_yaml_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "twice.yaml", "report:\n  id: r1\n  title: One\n  title: Two\n")

    _, problems, _ = check(path)

    assert problems == [f"{path}:line 4 (document 1): report.title: given twice in one mapping (first on line 3)"]


def test_yaml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "report: {id: r1, title: One}\n---\nreport:\n  id: r2\n   title: x\n")

    validation, problems, _ = check(path)

    assert validation.documents == 1
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:line 5: cannot be read: not YAML: ")


def test_unquoted_yaml_dates_are_the_iso_dates_they_are(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dates.yaml",
        """report: {id: r1, title: One, publishedAt: 2024-03-12}
events:
  - {id: e1, name: Talks, kind: negotiation, startDate: 2024-03-12, endDate: "2024-04"}
relations:
  - {id: rel1, kind: allied_with, from: a, to: b, since: 2021-08-15}
---
report: {id: r2, title: Two, publishedAt: 2024-03-12T10:00:00Z}
""",
    )

    validation, problems, _ = check(path)

    assert problems == []
    assert validation.documents == 2


@pytest.mark.parametrize(
    ("published", "stored"),
    [
        (dt.date(2024, 3, 12), "2024-03-12"),
        ("2024-03-12", "2024-03-12"),  # a date stays a date, not midnight
        ("2024-03-12T10:00:00Z", "2024-03-12T10:00:00Z"),
        ("2024-03-12T10:00:00+00:00", "2024-03-12T10:00:00Z"),
        ("2024-03-12T10:00:00.5+02:00", "2024-03-12T10:00:00.500000+02:00"),
        ("2024-02-29", "2024-02-29"),
    ],
)
def test_published_at_is_stored_as_iso_text(published: object, stored: str) -> None:
    document = SeedDocument.model_validate({"report": {"id": "r", "title": "T", "publishedAt": published}})

    assert document.model_dump(mode="json", by_alias=True)["report"]["publishedAt"] == stored


@pytest.mark.parametrize("published", [1710201600, "2024-03", "2024", "2023-02-29", "2024-03-12 10:00", "yesterday"])
def test_published_at_that_is_not_iso_is_one_problem_on_the_field(tmp_path: Path, published: object) -> None:
    path = write(
        tmp_path,
        "bad.jsonl",
        f'{{"report": {{"id": "r", "title": "T", "publishedAt": {published!r}}}}}\n'.replace("'", '"'),
    )

    _, problems, _ = check(path)

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:line 1: report.publishedAt: should be an ISO date (2024-03-12) or date-time")


def test_a_bare_year_gets_a_hint(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "year.yaml",
        "report: {id: r, title: T}\nevents:\n  - id: e\n    name: E\n    kind: k\n    startDate: 2021\n",
    )

    _, problems, _ = check(path)

    assert problems == [
        f'{path}:line 6 (document 1): events.0.startDate: a year alone must be quoted, as text: "2021" '
        "(YAML reads it as a number)"
    ]


def test_references_read_off_the_models_are_those_read_off_the_raw_document(tmp_path: Path) -> None:
    """Valid documents take the fast path (document_references); invalid ones the raw one: they must agree."""
    raws = [*generate(GraphShape(actors=30, reports=40, seed=3))]
    checked = [c for c in check_files([SEEDS])]
    pairs = [(SeedDocument.model_validate(raw), raw) for raw in raws] + [(c.document, c.raw) for c in checked]

    assert sum(len(list(raw_references(raw))) for _, raw in pairs) > 200
    for document, raw in pairs:
        assert document is not None
        assert sorted(document_references(document)) == sorted(raw_references(raw))
