"""schema/seed.schema.json is the seed format the models define, and it judges documents as they do."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from service.config import PROJECT_ROOT
from service.ingest.models import SeedDocument, seed_json_schema
from tests.conftest import SEEDS

PUBLISHED = PROJECT_ROOT / "schema" / "seed.schema.json"


def as_json(document: Any) -> Any:
    # YAML reads dates as date objects; a JSON Lines record has them as strings.
    return json.loads(json.dumps(document, default=str))


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
