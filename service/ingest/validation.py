"""Validating seed files of any size in constant memory, before anything is written.

Pass one reads every document once, checks it against the seed models, and
records the ids it defines (with a digest of what it says about each, and
where) and the ids it refers to in a temporary SQLite file, so memory does not
grow with the input. An id defined twice with other content is a problem
naming both places. That is everything the files alone can tell: no database
is needed for it. References to ids the files do not define are then what is
left; only a database can say whether it holds them, and ``resolve`` asks it,
in chunks. Pass two (loading) reads the files again.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel, ValidationError

from service.ingest.models import ActorIn, ClaimIn, EventIn, RelationIn, ReportIn, SeedDocument
from service.ingest.references import Ids, dangling_message, defined_by
from service.ingest.seed_files import Checked, Problem, check_files

KIND_NAMES = ("actors", "reports", "events", "claims")
DEFINED_KINDS = (*KIND_NAMES, "relations")  # relations have ids too, unique like the others
CHUNK = 5_000


@dataclass(frozen=True)
class Unresolved:
    """A reference to an id the files do not define: the database may hold it."""

    location: str
    field: str  # where in the document: claims.0.about.1
    kind: str  # actors, reports, events, claims
    id: str

    def __str__(self) -> str:
        return f"{self.location}: {self.field}: {self.kind[:-1]} '{self.id}' is not defined in the files"


@dataclass
class Validation:
    """What pass one found; ``unresolved`` counts references only a database can check."""

    documents: int = 0
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0  # past the number kept
    unresolved: int = 0
    resolved: bool = False  # the unresolved references were looked up in a database

    def problem(self, problem: Problem, keep: int) -> None:
        if len(self.problems) < keep:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.more_problems

    @property
    def ok(self) -> bool:
        return not self.problems and not self.more_problems


def iter_documents(paths: Sequence[Path]) -> Iterator[SeedDocument]:
    """The documents of already validated files, one at a time."""
    for checked in check_files(paths):
        if checked.document is None:
            raise ValueError(f"{checked.location} changed since it was validated: {checked.problems[0]}")
        yield checked.document


def _digest(entity: BaseModel) -> bytes:
    """What a document says about an entity, in 12 bytes: its fields in the model's order, as JSON."""
    return hashlib.blake2b(entity.model_dump_json(by_alias=True).encode(), digest_size=12).digest()


class SeedCheck:
    """Validation of seed files: ``read`` them (no database needed), then ``resolve`` what the files leave open.

    Use as a context manager: it holds a temporary SQLite file of ids while open.
    """

    def __init__(self, keep: int = 1_000) -> None:
        self.keep = keep
        self.validation = Validation()
        self._scratch = tempfile.TemporaryDirectory(prefix="kb-seed-")
        self._db = sqlite3.connect(Path(self._scratch.name) / "ids.sqlite")
        # A scratch file thrown away at the end: no journal, no syncing, and a cache that holds a large input's
        # index pages (64 MB at most).
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -65536", "temp_store = MEMORY"):
            self._db.execute("PRAGMA " + pragma)
        # digest NULL: defined by a document that was invalid (so its references are not reported twice)
        self._db.execute(
            "CREATE TABLE defined (kind TEXT, id TEXT, digest BLOB, location TEXT, PRIMARY KEY (kind, id))"
            " WITHOUT ROWID"
        )
        self._db.execute("CREATE TABLE referenced (kind TEXT, id TEXT, location TEXT, field TEXT)")

    def __enter__(self) -> SeedCheck:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._db.close()
        self._scratch.cleanup()

    def read(self, paths: Sequence[Path], on_document: Callable[[], None] | None = None) -> Validation:
        """Check every document of the files and every id they define; count references they leave open."""
        result = self.validation
        for checked in check_files(paths):
            if not checked.whole_file:
                result.documents += 1
                if on_document is not None:
                    on_document()
            for problem in checked.problems:
                result.problem(problem, self.keep)
            if checked.document is not None:
                self._record(checked, checked.document)
            else:
                self._record_raw_definitions(checked)
        [(result.unresolved,)] = self._db.execute(_COUNT_UNRESOLVED)
        return result

    def unresolved(self, limit: int | None = None) -> Iterator[Unresolved]:
        """References to ids the files do not define, by kind and id."""
        rows = self._db.execute(_UNRESOLVED + " LIMIT ?", (-1 if limit is None else limit,))
        for kind, key, location, field_path, _ in rows:
            yield Unresolved(location, field_path, kind, key)

    async def resolve(self, stored: Callable[[Ids], Awaitable[Ids]]) -> Validation:
        """Look the unresolved references up (``stored`` tells which ids the database holds); the rest are problems."""
        rows = self._db.execute(_UNRESOLVED)
        while chunk := rows.fetchmany(CHUNK):
            wanted = Ids()
            for kind, key, *_ in chunk:
                getattr(wanted, kind).add(key)
            found = await stored(wanted)
            for kind, key, location, field_path, _ in chunk:
                if key not in getattr(found, kind):
                    self.validation.problem(Problem(location, field_path, dangling_message(kind, key)), self.keep)
        self.validation.resolved = True
        return self.validation

    def _define(self, checked: Checked, rows: list[tuple[str, str, bytes | None, tuple[str | int, ...]]]) -> None:
        """Record the (kind, id, digest, field path) a document defines; a redefinition with other content is a
        problem. The usual case, no id seen before, costs one statement."""
        before = self._db.total_changes
        self._db.executemany(
            "INSERT INTO defined VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(kind, key, digest, checked.at(*path)) for kind, key, digest, path in rows],
        )
        if self._db.total_changes - before == len(rows):
            return
        for kind, key, digest, path in rows:
            location = checked.at(*path)
            [(earlier, where)] = self._db.execute(
                "SELECT digest, location FROM defined WHERE kind = ? AND id = ?", (kind, key)
            )
            if digest is not None and earlier is not None and earlier != digest and where != location:
                message = f"{kind[:-1]} '{key}' is defined again with other content (first at {where})"
                self.validation.problem(Problem(location, ".".join(map(str, path)), message), self.keep)

    def _record(self, checked: Checked, document: SeedDocument) -> None:
        rows: list[tuple[str, str, bytes | None, tuple[str | int, ...]]] = [
            ("reports", document.report.id, _digest(document.report), ("report",))
        ]
        for kind in ("actors", "events", "claims", "relations"):
            rows.extend(
                (kind, item.id, _digest(item), (kind, index)) for index, item in enumerate(getattr(document, kind))
            )
        self._define(checked, rows)
        self._refer(checked, defined_by([document]), document_references(document))

    def _record_raw_definitions(self, checked: Checked) -> None:
        """What an invalid document meant to define and refer to, as far as it can be read.

        Its valid entities are compared with their other definitions, and its references looked up, so that a
        document with a missing field and an unknown actor gets both problems at once.
        """
        raw = checked.raw
        if not isinstance(raw, dict):
            return
        report = raw.get("report")
        entries: list[tuple[str, int | None, Any]] = [("reports", None, report)] if isinstance(report, dict) else []
        for kind in ("actors", "events", "claims", "relations"):
            items = raw.get(kind)
            if isinstance(items, list):
                entries.extend((kind, index, item) for index, item in enumerate(items) if isinstance(item, dict))
        defined = Ids()
        rows: list[tuple[str, str, bytes | None, tuple[str | int, ...]]] = []
        for kind, index, item in entries:
            if isinstance(key := item.get("id"), str):
                rows.append((kind, key, _raw_digest(kind, item), ("report",) if index is None else (kind, index)))
                if kind in KIND_NAMES:
                    getattr(defined, kind).add(key)
        self._define(checked, rows)
        self._refer(checked, defined, raw_references(checked.raw))

    def _refer(self, checked: Checked, defined: Ids, references: Iterable[tuple[str, str, Path_]]) -> None:
        """Record the document's references to ids it does not define itself, each with its line and field."""
        first: dict[tuple[str, str], tuple[str | int, ...]] = {}  # one row per id, at its first mention
        for kind, key, path in references:
            if (kind, key) not in first and key not in getattr(defined, kind):
                first[kind, key] = path
        rows = [(kind, key, checked.at(*path), ".".join(map(str, path))) for (kind, key), path in first.items()]
        self._db.executemany("INSERT INTO referenced VALUES (?, ?, ?, ?)", rows)


MODELS: dict[str, type[BaseModel]] = {
    "reports": ReportIn,
    "actors": ActorIn,
    "events": EventIn,
    "claims": ClaimIn,
    "relations": RelationIn,
}


def _raw_digest(kind: str, item: Any) -> bytes | None:
    """The digest of an entity of an invalid document, if the entity itself is valid."""
    try:
        return _digest(MODELS[kind].model_validate(item, by_alias=True, by_name=False))
    except ValidationError:
        return None


Path_ = tuple[str | int, ...]


def _ids(value: Any, path: Path_) -> Iterator[tuple[str, Path_]]:
    """The ids at ``path``: one string, or a list of them."""
    if isinstance(value, str):
        yield value, path
    elif isinstance(value, list):
        yield from ((v, (*path, i)) for i, v in enumerate(value) if isinstance(v, str))


def _items(raw: dict[str, Any], kind: str, path: Path_ = ()) -> Iterator[tuple[dict[str, Any], Path_]]:
    items = raw.get(kind)
    if isinstance(items, list):
        yield from ((item, (*path, kind, i)) for i, item in enumerate(items) if isinstance(item, dict))


# Where a document names other entities: (kind of what is named, field), under the document or one of its lists.
_REFERENCES: dict[str, list[tuple[str, str]]] = {
    "report": [("actors", "publisher"), ("actors", "authors"), ("reports", "cites")],
    "claims": [("actors", "source"), ("actors", "about"), ("events", "aboutEvents"), ("reports", "reportedIn")],
    "relations": [("actors", "from"), ("actors", "to"), ("claims", "evidence")],
}
_NESTED_REFERENCES = [("actors", "affiliations"), ("events", "participants")]  # items whose ``actor`` is an actor


def document_references(document: SeedDocument) -> Iterator[tuple[str, str, Path_]]:
    """(kind, id, field path) for every id a valid document refers to (raw_references, read off the models)."""
    report = document.report
    if report.publisher is not None:
        yield "actors", report.publisher, ("report", "publisher")
    yield from (("actors", key, ("report", "authors", i)) for i, key in enumerate(report.authors))
    yield from (("reports", key, ("report", "cites", i)) for i, key in enumerate(report.cites))
    for index, claim in enumerate(document.claims):
        yield "actors", claim.source, ("claims", index, "source")
        yield from (("actors", key, ("claims", index, "about", i)) for i, key in enumerate(claim.about))
        yield from (("events", key, ("claims", index, "aboutEvents", i)) for i, key in enumerate(claim.about_events))
        yield from (("reports", key, ("claims", index, "reportedIn", i)) for i, key in enumerate(claim.reported_in))
    for index, relation in enumerate(document.relations):
        yield "actors", relation.source, ("relations", index, "from")
        yield "actors", relation.target, ("relations", index, "to")
        yield from (("claims", key, ("relations", index, "evidence", i)) for i, key in enumerate(relation.evidence))
    for index, actor in enumerate(document.actors):
        for i, affiliation in enumerate(actor.affiliations):
            yield "actors", affiliation.actor, ("actors", index, "affiliations", i, "actor")
    for index, event in enumerate(document.events):
        for i, participant in enumerate(event.participants):
            yield "actors", participant.actor, ("events", index, "participants", i, "actor")
    yield from (("claims", key, ("carriedClaims", i)) for i, key in enumerate(document.carried_claims))


def raw_references(raw: Any) -> Iterator[tuple[str, str, Path_]]:
    """(kind, id, field path) for every id a document refers to, from whatever of it is well formed."""
    if not isinstance(raw, dict):
        return
    report = raw.get("report")
    entries: list[tuple[str, dict[str, Any], Path_]] = (
        [("report", report, ("report",))] if isinstance(report, dict) else []
    )
    for kind in ("claims", "relations"):
        entries.extend((kind, item, path) for item, path in _items(raw, kind))
    for section, item, path in entries:
        for kind, name in _REFERENCES[section]:
            for key, at in _ids(item.get(name), (*path, name)):
                yield kind, key, at
    for kind, nested in _NESTED_REFERENCES:
        for item, path in _items(raw, kind):
            for link, at in _items(item, nested, path):
                for key, where in _ids(link.get("actor"), (*at, "actor")):
                    yield "actors", key, where
    for key, at in _ids(raw.get("carriedClaims"), ("carriedClaims",)):
        yield "claims", key, at


# References no document defines, each with the first place that makes it (SQLite reads the bare column from the
# row min() picks).
_UNRESOLVED = """
SELECT r.kind, r.id, r.location, r.field, min(r.rowid) FROM referenced r
LEFT JOIN defined d ON d.kind = r.kind AND d.id = r.id
WHERE d.id IS NULL GROUP BY r.kind, r.id ORDER BY r.kind, r.id
"""
_COUNT_UNRESOLVED = """
SELECT count(*) FROM (SELECT DISTINCT r.kind, r.id FROM referenced r
LEFT JOIN defined d ON d.kind = r.kind AND d.id = r.id WHERE d.id IS NULL)
"""
