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
import json
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel, ValidationError

from service.ingest.models import ActorIn, ClaimIn, EventIn, RelationIn, ReportIn, SeedDocument
from service.ingest.references import Ids, dangling_message, defined_by, referenced_by
from service.ingest.seed_files import Checked, Problem, check_files

KIND_NAMES = ("actors", "reports", "events", "claims")
DEFINED_KINDS = (*KIND_NAMES, "relations")  # relations have ids too, unique like the others
CHUNK = 5_000


@dataclass(frozen=True)
class Unresolved:
    """A reference to an id the files do not define: the database may hold it."""

    location: str
    kind: str  # actors, reports, events, claims
    id: str

    def __str__(self) -> str:
        return f"{self.location}: {self.kind}: {self.kind[:-1]} '{self.id}' is not defined in the files"


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


def _digest(value: Any) -> bytes:
    return hashlib.blake2b(json.dumps(value, sort_keys=True).encode(), digest_size=12).digest()


class SeedCheck:
    """Validation of seed files: ``read`` them (no database needed), then ``resolve`` what the files leave open.

    Use as a context manager: it holds a temporary SQLite file of ids while open.
    """

    def __init__(self, keep: int = 1_000) -> None:
        self.keep = keep
        self.validation = Validation()
        self._scratch = tempfile.TemporaryDirectory(prefix="kb-seed-")
        self._db = sqlite3.connect(Path(self._scratch.name) / "ids.sqlite")
        # digest NULL: defined by a document that was invalid (so its references are not reported twice)
        self._db.execute(
            "CREATE TABLE defined (kind TEXT, id TEXT, digest BLOB, location TEXT, PRIMARY KEY (kind, id))"
            " WITHOUT ROWID"
        )
        self._db.execute("CREATE TABLE referenced (kind TEXT, id TEXT, location TEXT)")

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
        for kind, key, location, _ in rows:
            yield Unresolved(location, kind, key)

    async def resolve(self, stored: Callable[[Ids], Awaitable[Ids]]) -> Validation:
        """Look the unresolved references up (``stored`` tells which ids the database holds); the rest are problems."""
        rows = self._db.execute(_UNRESOLVED)
        while chunk := rows.fetchmany(CHUNK):
            wanted = Ids()
            for kind, key, _, _ in chunk:
                getattr(wanted, kind).add(key)
            found = await stored(wanted)
            for kind, key, location, _ in chunk:
                if key not in getattr(found, kind):
                    self.validation.problem(Problem(location, kind, dangling_message(kind, key)), self.keep)
        self.validation.resolved = True
        return self.validation

    def _define(self, kind: str, key: str, digest: bytes | None, location: str) -> None:
        inserted = self._db.execute(
            "INSERT INTO defined VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", (kind, key, digest, location)
        )
        if inserted.rowcount or digest is None:
            return
        [(earlier, where)] = self._db.execute(
            "SELECT digest, location FROM defined WHERE kind = ? AND id = ?", (kind, key)
        )
        if earlier is not None and earlier != digest:
            message = f"{kind[:-1]} '{key}' is defined again with other content (first at {where})"
            self.validation.problem(Problem(location, kind, message), self.keep)

    def _record(self, checked: Checked, document: SeedDocument) -> None:
        data = document.model_dump(mode="json", by_alias=True)
        self._define("reports", document.report.id, _digest(data["report"]), checked.at("report"))
        for kind in ("actors", "events", "claims", "relations"):
            for index, item in enumerate(data[kind]):
                self._define(kind, item["id"], _digest(item), checked.at(kind, index))
        referenced = referenced_by(document).minus(defined_by([document]))
        for kind in KIND_NAMES:
            self._db.executemany(
                "INSERT INTO referenced VALUES (?, ?, ?)",
                ((kind, i, checked.location) for i in getattr(referenced, kind)),
            )

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
        defined = {kind: set[str]() for kind in KIND_NAMES}
        for kind, index, item in entries:
            if isinstance(key := item.get("id"), str):
                where = checked.at("report") if index is None else checked.at(kind, index)
                self._define(kind, key, _raw_digest(kind, item), where)
                if kind in defined:
                    defined[kind].add(key)
        for kind, keys in raw_references(raw).items():
            self._db.executemany(
                "INSERT INTO referenced VALUES (?, ?, ?)", ((kind, i, checked.location) for i in keys - defined[kind])
            )


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
        valid = MODELS[kind].model_validate(item, by_alias=True, by_name=False)
    except ValidationError:
        return None
    return _digest(valid.model_dump(mode="json", by_alias=True))


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _items(raw: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    items = raw.get(kind)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def raw_references(raw: dict[str, Any]) -> dict[str, set[str]]:
    """The ids a document that failed validation refers to, by kind, from whatever of it is well formed."""
    refs: dict[str, set[str]] = {kind: set() for kind in KIND_NAMES}
    report = raw.get("report")
    report = report if isinstance(report, dict) else {}
    refs["actors"] |= _strings(report.get("publisher")) | _strings(report.get("authors"))
    refs["reports"] |= _strings(report.get("cites"))
    for actor in _items(raw, "actors"):
        refs["actors"] |= {a for f in _items(actor, "affiliations") for a in _strings(f.get("actor"))}
    for event in _items(raw, "events"):
        refs["actors"] |= {a for p in _items(event, "participants") for a in _strings(p.get("actor"))}
    for claim in _items(raw, "claims"):
        refs["actors"] |= _strings(claim.get("source")) | _strings(claim.get("about"))
        refs["events"] |= _strings(claim.get("aboutEvents"))
        refs["reports"] |= _strings(claim.get("reportedIn"))
    for relation in _items(raw, "relations"):
        refs["actors"] |= _strings(relation.get("from")) | _strings(relation.get("to"))
        refs["claims"] |= _strings(relation.get("evidence"))
    refs["claims"] |= _strings(raw.get("carriedClaims"))
    return refs


# References no document defines, each with the first place that makes it (SQLite reads the bare column from the
# row min() picks).
_UNRESOLVED = """
SELECT r.kind, r.id, r.location, min(r.rowid) FROM referenced r
LEFT JOIN defined d ON d.kind = r.kind AND d.id = r.id
WHERE d.id IS NULL GROUP BY r.kind, r.id ORDER BY r.kind, r.id
"""
_COUNT_UNRESOLVED = """
SELECT count(*) FROM (SELECT DISTINCT r.kind, r.id FROM referenced r
LEFT JOIN defined d ON d.kind = r.kind AND d.id = r.id WHERE d.id IS NULL)
"""
