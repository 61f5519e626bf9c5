"""Reading and validating seed files: YAML (one document per report) and JSON Lines.

Every problem in every file is collected before anything is written, with the
file, the document or line, the field and what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from service.ingest.models import SeedDocument
from service.ingest.references import Ids, dangling_messages, defined_by

SEED_SUFFIXES = (".yaml", ".yml", ".jsonl")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a seed file."""

    location: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: {self.field}" if self.field else self.location
        return f"{where}: {self.message}"


class InvalidSeed(Exception):
    """Raised with every problem found; nothing has been written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the seed files")
        self.problems = list(problems)


def seed_paths(paths: Sequence[Path]) -> list[Path]:
    """The seed files named, with directories expanded to their seed files in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SEED_SUFFIXES))
        else:
            found.append(path)
    return found


class UnreadableLine(ValueError):
    """A JSON Lines record that is not JSON; reported, and the next line read."""


def raw_documents(path: Path) -> Iterator[tuple[str, Any]]:
    """(location, parsed document) for each document of a file; a bad JSON line yields UnreadableLine."""
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        yield f"{path}:line {number}", json.loads(line)
                    except json.JSONDecodeError as error:
                        yield f"{path}:line {number}", UnreadableLine(f"not JSON: {error}")
    else:
        with path.open(encoding="utf-8") as text:
            for index, document in enumerate(yaml.safe_load_all(text), start=1):
                if document is not None:
                    yield f"{path}:document {index}", document


@dataclass(frozen=True)
class Checked:
    """One document of a seed file checked against the models, or (``whole_file``) a file that could not be read."""

    location: str
    raw: Any = None
    document: SeedDocument | None = None
    problems: tuple[Problem, ...] = ()
    whole_file: bool = False


def check_files(paths: Sequence[Path]) -> Iterator[Checked]:
    """Every document of the files, in order, each with the problems the models find in it."""
    for path in seed_paths(paths):
        if path.suffix not in SEED_SUFFIXES:
            expected = f"not a seed file (expected {', '.join(SEED_SUFFIXES)})"
            yield Checked(str(path), problems=(Problem(str(path), "", expected),), whole_file=True)
            continue
        try:
            for location, raw in raw_documents(path):
                yield _check(location, raw)
        except (OSError, yaml.YAMLError, ValueError) as error:  # UnicodeDecodeError is a ValueError
            yield Checked(str(path), problems=(Problem(str(path), "", f"cannot be read: {error}"),), whole_file=True)


def _check(location: str, raw: Any) -> Checked:
    if isinstance(raw, UnreadableLine):
        return Checked(location, raw, problems=(Problem(location, "", str(raw)),))
    try:
        return Checked(location, raw, document=SeedDocument.model_validate(raw))
    except ValidationError as error:
        problems = tuple(Problem(location, ".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors())
        return Checked(location, raw, problems=problems)


def parse_seed_files(paths: Sequence[Path]) -> tuple[list[SeedDocument], list[Problem]]:
    """Every valid document of the files, and every problem with the others."""
    documents: list[SeedDocument] = []
    problems: list[Problem] = []
    for checked in check_files(paths):
        problems.extend(checked.problems)
        if checked.document is not None:
            documents.append(checked.document)
    return documents, problems


def reference_problems(documents: Sequence[SeedDocument], known: Ids | None = None) -> list[Problem]:
    """Ids referred to but defined neither by the documents nor in ``known`` (ids already stored)."""
    defined = defined_by(documents)
    if known is not None:
        defined.add(known)
    return [
        Problem(f"report {document.report.id}", f, m)
        for document in documents
        for f, m in dangling_messages(document, defined)
    ]


def read_seed_files(paths: Sequence[Path], known: Ids | None = None) -> list[SeedDocument]:
    """Parse and validate every document, or raise InvalidSeed listing every problem."""
    documents, problems = parse_seed_files(paths)
    problems.extend(reference_problems(documents, known))
    if problems:
        raise InvalidSeed(problems)
    return documents
