"""Validating seed files of any size in constant memory, before anything is written.

Pass one reads every document once, checks it against the seed models, and
records the ids it defines and the ids it refers to in a temporary SQLite
file (so memory does not grow with the input). References defined nowhere in
the input are then looked up in the database, in chunks. Pass two (loading)
reads the files again.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.ingest.models import SeedDocument
from service.ingest.references import Ids, dangling_message, defined_by, referenced_by
from service.ingest.seed_files import Problem, check_files

KIND_NAMES = ("actors", "reports", "events", "claims")
CHUNK = 5_000


@dataclass
class Validation:
    documents: int = 0
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0  # past the number kept

    def problem(self, problem: Problem, keep: int) -> None:
        if len(self.problems) < keep:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    @property
    def ok(self) -> bool:
        return not self.problems


def iter_documents(paths: Sequence[Path]) -> Iterator[SeedDocument]:
    """The documents of already validated files, one at a time."""
    for checked in check_files(paths):
        if checked.document is None:
            raise ValueError(f"{checked.location} changed since it was validated: {checked.problems[0]}")
        yield checked.document


async def validate_files(
    paths: Sequence[Path],
    stored: Callable[[Ids], Awaitable[Ids]],
    keep: int = 1_000,
    on_document: Callable[[], None] | None = None,
    on_valid: Callable[[SeedDocument], None] | None = None,
) -> Validation:
    """Check every document and every reference; ``stored`` tells which ids the database holds.

    ``on_valid`` is given each document that passes the models, in order, as it is read (a bulk load
    converts them in the same pass); whether the whole input is valid is known only at the end.
    """
    result = Validation()
    with tempfile.TemporaryDirectory(prefix="kb-seed-") as scratch:
        db = sqlite3.connect(Path(scratch) / "ids.sqlite")
        db.execute("CREATE TABLE defined (kind TEXT, id TEXT, PRIMARY KEY (kind, id)) WITHOUT ROWID")
        db.execute("CREATE TABLE referenced (kind TEXT, id TEXT, location TEXT)")
        for checked in check_files(paths):
            if not checked.whole_file:
                result.documents += 1
                if on_document is not None:
                    on_document()
            for problem in checked.problems:
                result.problem(problem, keep)
            if checked.document is not None:
                _record(db, checked.document, checked.location)
                if on_valid is not None:
                    on_valid(checked.document)
            else:
                # What an invalid document meant to define still counts, so its mistakes are not reported twice.
                _record_raw_definitions(db, checked.raw)
        await _check_dangling(db, stored, result, keep)
        db.close()
    return result


def _record(db: sqlite3.Connection, document: SeedDocument, location: str) -> None:
    defined, referenced = defined_by([document]), referenced_by(document)
    for kind in KIND_NAMES:
        db.executemany("INSERT OR IGNORE INTO defined VALUES (?, ?)", ((kind, i) for i in getattr(defined, kind)))
        db.executemany(
            "INSERT INTO referenced VALUES (?, ?, ?)",
            ((kind, i, location) for i in getattr(referenced, kind) - getattr(defined, kind)),
        )


def _record_raw_definitions(db: sqlite3.Connection, raw: Any) -> None:
    if not isinstance(raw, dict):
        return
    report = raw.get("report")
    entries = [("reports", report)] if isinstance(report, dict) else []
    for kind in ("actors", "events", "claims"):
        items = raw.get(kind)
        if isinstance(items, list):
            entries.extend((kind, item) for item in items if isinstance(item, dict))
    db.executemany(
        "INSERT OR IGNORE INTO defined VALUES (?, ?)",
        ((kind, item["id"]) for kind, item in entries if isinstance(item.get("id"), str)),
    )


async def _check_dangling(
    db: sqlite3.Connection, stored: Callable[[Ids], Awaitable[Ids]], result: Validation, keep: int
) -> None:
    rows = db.execute(
        """SELECT r.kind, r.id, r.location FROM referenced r
           LEFT JOIN defined d ON d.kind = r.kind AND d.id = r.id
           WHERE d.id IS NULL ORDER BY r.kind, r.id"""
    )
    while chunk := rows.fetchmany(CHUNK):
        wanted = Ids()
        for kind, key, _ in chunk:
            getattr(wanted, kind).add(key)
        found = await stored(wanted)
        for kind, key, location in chunk:
            if key not in getattr(found, kind):
                result.problem(Problem(location, kind, dangling_message(kind, key)), keep)
