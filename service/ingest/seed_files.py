"""Reading and validating seed files: YAML (one document per report) and JSON Lines.

Every problem in every file is collected before anything is written, with the
file, the document or line, the field and what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
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


# -- YAML, with the line of every value -------------------------------------------------------------------------


class _Mapping(dict[Any, Any]):
    """A YAML mapping as a dict, with the line each key is on (``lines``) and keys given twice (``repeated``)."""

    line: int
    lines: dict[Any, int]
    repeated: list[tuple[Any, int, int]]


class _Sequence(list[Any]):
    """A YAML sequence as a list, with the line each item starts on."""

    lines: list[int]


class _MarkedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, whose mappings and sequences remember where they are in the file."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    mapping.repeated = []
    for key_node, _ in node.value:  # merge keys (<<) already flattened by construct_mapping
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key, line = loader.construct_scalar(key_node), key_node.start_mark.line + 1
        if key in mapping.lines:
            mapping.repeated.append((key, mapping.lines[key], line))
        mapping.lines[key] = line
    return mapping


def _construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> _Sequence:
    sequence = _Sequence(loader.construct_sequence(node, deep=True))
    sequence.lines = [item.start_mark.line + 1 for item in node.value]
    return sequence


_MarkedLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def line_of(raw: Any, loc: Sequence[str | int], default: int) -> int:
    """The line of the value at ``loc`` in a YAML document (or the nearest enclosing value that has one)."""
    line, node = getattr(raw, "line", default), raw
    for part in loc:
        found: int | None = None
        if isinstance(node, _Mapping) and part in node:
            found = node.lines.get(part)
        elif isinstance(node, _Sequence) and isinstance(part, int) and 0 <= part < len(node):
            found = node.lines[part]
        if found is None:
            break
        line, node = found, node[part]
    return line


# -- documents ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a document is: its file, the line it starts on and, in YAML, its number in the file."""

    path: Path
    line: int
    number: int | None = None  # YAML documents are numbered from 1; a JSON Lines record is its line

    def at(self, line: int | None = None) -> str:
        """``file:line N`` (with the document's number in YAML), for a problem on that line of the document."""
        where = f"{self.path}:line {line or self.line}"
        return where if self.number is None else f"{where} (document {self.number})"


class UnreadableFile(Exception):
    """A file that is not YAML (or not text): where the reader stopped, and why."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class JsonLine(str):
    """A JSON Lines record as read, not parsed yet: the models parse it themselves (see ``_check``)."""


def _parsed(line: JsonLine) -> Any:
    """A JSON Lines record as Python values, or UnreadableLine."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        return UnreadableLine(f"not JSON: {error}")


def raw_documents(path: Path) -> Iterator[tuple[Source, Any]]:
    """(where, document) for each document of a file: parsed YAML, or a JSON Lines record's text (JsonLine).

    Raises UnreadableFile where a YAML file stops being YAML (the documents before it have been yielded).
    """
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield Source(path, number), JsonLine(line)
    else:
        with path.open(encoding="utf-8") as text:
            try:
                for index, document in enumerate(yaml.load_all(text, Loader=_MarkedLoader), start=1):
                    if document is not None:
                        yield Source(path, getattr(document, "line", 1), index), document
            except yaml.MarkedYAMLError as error:
                mark = error.problem_mark or error.context_mark
                reason = ", ".join(str(part) for part in (error.context, error.problem) if part)
                raise UnreadableFile(None if mark is None else mark.line + 1, f"not YAML: {reason}") from error
            except yaml.YAMLError as error:
                raise UnreadableFile(None, f"not YAML: {error}") from error


@dataclass(frozen=True)
class Checked:
    """One document of a seed file checked against the models, or (``whole_file``) a file that could not be read."""

    source: Source
    raw: Any = None
    document: SeedDocument | None = None
    problems: tuple[Problem, ...] = ()
    whole_file: bool = False

    @cached_property
    def location(self) -> str:
        return self.source.at()

    def at(self, *loc: str | int) -> str:
        """Where the value at ``loc`` (a field path: "claims", 0) is."""
        if not isinstance(self.raw, _Mapping):  # a JSON Lines record: the line is the record's
            return self.location
        return self.source.at(line_of(self.raw, loc, self.source.line))


def _unreadable(path: Path, line: int | None, message: str) -> Checked:
    source = Source(path, line or 0)
    location = str(path) if line is None else source.at()
    return Checked(source, problems=(Problem(location, "", message),), whole_file=True)


def check_files(paths: Sequence[Path]) -> Iterator[Checked]:
    """Every document of the files, in order, each with the problems the models find in it."""
    for path in seed_paths(paths):
        if path.suffix not in SEED_SUFFIXES:
            yield _unreadable(path, None, f"not a seed file (expected {', '.join(SEED_SUFFIXES)})")
            continue
        try:
            for source, raw in raw_documents(path):
                yield _check(source, raw)
        except UnreadableFile as error:
            yield _unreadable(path, error.line, f"cannot be read: {error.message}")
        except (OSError, ValueError) as error:  # UnicodeDecodeError is a ValueError
            yield _unreadable(path, None, f"cannot be read: {error}")


def _repeated_keys(raw: Any, source: Source, path: tuple[str | int, ...] = ()) -> Iterator[Problem]:
    """Keys given twice in one YAML mapping: YAML keeps the last, which is seldom what was meant."""
    if isinstance(raw, _Mapping):
        for key, first, again in raw.repeated:
            field = ".".join(map(str, (*path, key)))
            yield Problem(source.at(again), field, f"given twice in one mapping (first on line {first})")
        for key, value in raw.items():
            yield from _repeated_keys(value, source, (*path, key))
    elif isinstance(raw, _Sequence):
        for index, value in enumerate(raw):
            yield from _repeated_keys(value, source, (*path, index))


def _check(source: Source, raw: Any) -> Checked:
    if isinstance(raw, JsonLine):
        # The usual case, a valid record, takes one parse: the models' own, of the text. Anything else is read
        # again the general way, so a problem is reported exactly as for a parsed document.
        try:
            return Checked(source, raw, document=SeedDocument.model_validate_json(raw, by_alias=True, by_name=False))
        except ValidationError:
            raw = _parsed(raw)
    location = source.at()
    if isinstance(raw, UnreadableLine):
        return Checked(source, raw, problems=(Problem(location, "", str(raw)),))
    repeated = tuple(_repeated_keys(raw, source))
    try:
        # By the names the format spells (publishedAt, not published_at), as the JSON Schema says.
        document = SeedDocument.model_validate(raw, by_alias=True, by_name=False)
    except ValidationError as error:
        problems = tuple(
            Problem(source.at(line_of(raw, e["loc"], source.line)), ".".join(str(p) for p in e["loc"]), e["msg"])
            for e in error.errors()
        )
        return Checked(source, raw, problems=repeated + problems)
    return Checked(source, raw, document=document if not repeated else None, problems=repeated)


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
