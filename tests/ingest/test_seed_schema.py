"""schema/seed.schema.json is the seed format the models define, and it judges documents as they do."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from service.config import PROJECT_ROOT
from service.ingest.models import SeedDocument, seed_json_schema
from service.ingest.validation import SeedCheck
from tests.conftest import SEEDS

PUBLISHED = PROJECT_ROOT / "schema" / "seed.schema.json"


def as_json(document: Any) -> Any:
    """A YAML document as JSON: dates and date-times YAML read become the ISO text they were written as."""
    return json.loads(json.dumps(document, default=lambda d: d.isoformat().replace("+00:00", "Z")))


def test_published_schema_matches_the_models() -> None:
    published = json.loads(PUBLISHED.read_text())

    assert published == seed_json_schema(), "run `.venv/bin/kb schema export` and commit schema/seed.schema.json"
    Draft202012Validator.check_schema(published)


def test_every_seed_document_is_valid_against_the_published_schema() -> None:
    validator = Draft202012Validator(
        json.loads(PUBLISHED.read_text()), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    documents = [d for path in sorted(SEEDS.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]

    assert len(documents) >= 2
    for document in documents:
        assert list(validator.iter_errors(as_json(document))) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["claims"][0].pop("source"), ["claims", 0]),
        (lambda d: d["claims"][0].update(modality="certain"), ["claims", 0, "modality"]),
        (lambda d: d["actors"][0].update(kind="alien"), ["actors", 0, "kind"]),
        (lambda d: d["report"].update(publishedAt="yesterday"), ["report", "publishedAt"]),
        (lambda d: d["report"].update(colour="red"), ["report"]),
        (lambda d: d["events"][0].update(startDate="2021-13"), ["events", 0, "startDate"]),
    ],
)
def test_schema_and_models_refuse_the_same_mistakes(change: Any, path: list[Any]) -> None:
    document = as_json(next(yaml.safe_load_all((SEEDS / "001-taliban-israel.yaml").read_text())))
    change(document)
    validator = Draft202012Validator(
        json.loads(PUBLISHED.read_text()), format_checker=Draft202012Validator.FORMAT_CHECKER
    )

    errors = list(validator.iter_errors(document))
    with pytest.raises(ValidationError):
        SeedDocument.model_validate(document)
    assert errors, "the published schema accepted what the models refuse"
    assert any(list(e.absolute_path)[: len(path)] == path for e in errors), [list(e.absolute_path) for e in errors]


# -- the same files, judged by the schema and by `kb seed` ---------------------------------------------------------

Change = Callable[[dict[str, Any]], Any]


def base() -> dict[str, Any]:
    return {
        "report": {"id": "r1", "title": "A report", "publishedAt": "2021-11-03", "publisher": "outlet"},
        "actors": [
            {"id": "outlet", "name": "Outlet", "kind": "media_outlet", "aliases": ["The Outlet"]},
            {"id": "anon", "name": "A source", "kind": "person", "anonymous": True, "descriptor": "an official"},
        ],
        "events": [{"id": "e1", "name": "Talks", "kind": "negotiation", "startDate": "2021-08", "status": "rumoured"}],
        "claims": [
            {"id": "c1", "text": "Talks are planned", "source": "anon", "about": ["outlet"], "aboutEvents": ["e1"]}
        ],
        "relations": [{"id": "rel1", "kind": "allied_with", "from": "outlet", "to": "anon", "evidence": ["c1"]}],
    }


def setting(*path: str | int, value: Any) -> Change:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def removing(*path: str | int) -> Change:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


GOOD: dict[str, Change] = {
    "as is": lambda d: None,
    "date-time, UTC": setting("report", "publishedAt", value="2021-11-03T10:15:00Z"),
    "date-time, offset and fraction": setting("report", "publishedAt", value="2021-11-03T10:15:30.25+02:00"),
    "date-time without seconds or zone": setting("report", "publishedAt", value="2021-11-03T10:15"),
    "a leap day": setting("report", "publishedAt", value="2024-02-29"),
    "no publishedAt": setting("report", "publishedAt", value=None),
    "a year": setting("events", 0, "startDate", value="2021"),
    "a day": setting("events", 0, "endDate", value="2021-08-31"),
    "only the report": lambda d: [d.pop(k) for k in ("actors", "events", "claims", "relations")],
    "spaces around a name": setting("actors", 0, "name", value="  Outlet  "),
    "anonymous false, no descriptor": setting("actors", 1, "anonymous", value=False),
    "an id at its longest": setting("claims", 0, "id", value="c" * 128),
}

BAD: dict[str, Change] = {
    "no report": removing("report"),
    "no title": removing("report", "title"),
    "no claim source": removing("claims", 0, "source"),
    "a field the format lacks": setting("report", "colour", value="red"),
    "the Python name of a field": lambda d: d["report"].update(published_at=d["report"].pop("publishedAt")),
    "a relation's end by its Python name": lambda d: d["relations"][0].update(source=d["relations"][0].pop("from")),
    "an unknown modality": setting("claims", 0, "modality", value="certain"),
    "an unknown actor kind": setting("actors", 0, "kind", value="alien"),
    "an unknown status": setting("events", 0, "status", value="imagined"),
    "an unknown report kind": setting("report", "kind", value="tweet"),
    "an id with a space": setting("actors", 0, "id", value="the outlet"),
    "an id in capitals": setting("report", "id", value="R1"),
    "an id too long": setting("claims", 0, "id", value="c" * 129),
    "publishedAt as seconds": setting("report", "publishedAt", value=1635897600),
    "publishedAt as a month": setting("report", "publishedAt", value="2021-11"),
    "publishedAt on a day that never was": setting("report", "publishedAt", value="2023-02-29"),
    "publishedAt in month 13": setting("report", "publishedAt", value="2021-13-01"),
    "publishedAt at hour 25": setting("report", "publishedAt", value="2021-11-03T25:00:00Z"),
    "publishedAt with a space": setting("report", "publishedAt", value="2021-11-03 10:00:00"),
    "publishedAt in words": setting("report", "publishedAt", value="yesterday"),
    "startDate in month 13": setting("events", 0, "startDate", value="2021-13"),
    "startDate of two digits": setting("events", 0, "startDate", value="21"),
    "startDate as a number": setting("events", 0, "startDate", value=2021),
    "anonymous as text": setting("actors", 1, "anonymous", value="yes"),
    "anonymous as a number": setting("actors", 1, "anonymous", value=1),
    "anonymous without descriptor": removing("actors", 1, "descriptor"),
    "anonymous with a null descriptor": setting("actors", 1, "descriptor", value=None),
    "an empty text": setting("claims", 0, "text", value=""),
    "a blank text": setting("claims", 0, "text", value="   "),
    "a name too long": setting("actors", 0, "name", value="x" * 301),
    "a url that is not http": setting("report", "url", value="ftp://example.org/x"),
    "aliases as one string": setting("actors", 0, "aliases", value="The Outlet"),
    "a relation kind with a dash": setting("relations", 0, "kind", value="allied-with"),
    "a number for a name": setting("actors", 0, "name", value=7),
    "a list for the report": setting("report", value=[]),
}


def schema_verdict(document: Any) -> bool:
    validator = Draft202012Validator(
        json.loads(PUBLISHED.read_text()), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return validator.is_valid(as_json(document))


def kb_seed_verdict(path: Path) -> bool:
    with SeedCheck() as check:
        validation = check.read([path])
        return validation.documents == 1 and validation.ok


def files(tmp_path: Path, document: dict[str, Any]) -> list[Path]:
    """The document as a JSON Lines file and as a YAML file."""
    jsonl, yml = tmp_path / "case.jsonl", tmp_path / "case.yaml"
    jsonl.write_text(json.dumps(document) + "\n")
    yml.write_text(yaml.safe_dump(document, sort_keys=False))
    return [jsonl, yml]


@pytest.mark.parametrize(("name", "good"), [(n, True) for n in GOOD] + [(n, False) for n in BAD])
def test_the_schema_and_kb_seed_judge_the_same_files_alike(tmp_path: Path, name: str, good: bool) -> None:
    document = base()
    (GOOD if good else BAD)[name](document)

    for path in files(tmp_path, document):
        parsed = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert len(parsed) == 1
        assert (schema_verdict(parsed[0]), kb_seed_verdict(path)) == (good, good), path.name


def test_yaml_dates_are_iso_dates_to_both() -> None:
    text = "report: {id: r1, title: T, publishedAt: 2021-11-03T10:15:00Z}\n" + (
        "events: [{id: e1, name: E, kind: k, startDate: 2021-08-15}]\n"
    )
    document = yaml.safe_load(text)

    assert isinstance(document["events"][0]["startDate"], dt.date)
    assert schema_verdict(document)
    SeedDocument.model_validate(document)


def test_ids_repeated_in_a_document_are_beyond_a_schema(tmp_path: Path) -> None:
    """The one per-document rule JSON Schema cannot state (uniqueness of a field across a list's items)."""
    document = base()
    document["actors"].append({"id": "outlet", "name": "Other", "kind": "state"})

    [path, _] = files(tmp_path, document)

    assert schema_verdict(document)
    assert not kb_seed_verdict(path)
