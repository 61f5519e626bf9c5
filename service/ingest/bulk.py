"""A first load with Neo4j's own offline importer: ``kb seed --bulk``.

Validation is the same as ``kb seed``'s (every document against the models,
every reference against the input and the database), and the documents are
converted into an import set (service/ingest/import_set.py) by a process of
its own that reads the files beside the validation. Only when everything is
valid and the database holds no knowledge-base node does anything happen to
the database:

- on the local server (NEO4J_URI unset) the server is stopped (while the
  files are read, when the database is empty at the start), the importer
  replaces its database with the import set, the server is started again,
  the constraints and indexes of schema/ are created, and the command waits
  until every index is online;
- against any other server it refuses: the importer must run on the
  database's own host, so the import set is left in a directory with
  ``import.sh``, the exact command to run there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import resource
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import LiteralString

from service.config import Settings
from service.graph.driver import Database, Run
from service.graph.schema import migrate, schema_statements, wait_for_indexes
from service.ingest.import_set import Converted, ImportSet, convert_files
from service.ingest.loader import database_is_empty
from service.ingest.references import Ids, existing
from service.ingest.validation import SeedCheck, Validation
from service.local_neo4j import LocalNeo4j, LocalNeo4jError

INDEX_TIMEOUT_S = 1_800.0
FIRST_QUERY_TIMEOUT_S = 120.0


@dataclass
class BulkResult:
    """What ``kb seed --bulk`` did: ``outcome`` is one of invalid, not-empty, loaded, import-set-written."""

    outcome: str
    validation: Validation
    import_set: ImportSet | None = None
    script: Path | None = None
    phases: dict[str, float] = field(default_factory=dict)
    conversion_rss_mb: float = 0.0  # the conversion process's own peak

    @property
    def peak_rss_mb(self) -> dict[str, float]:
        """Peak resident memory of this process, of the conversion process that ran beside it, and of the
        largest program it ran and waited for (the importer, or the conversion process if that was larger).

        The conversion and the importer never run at the same time, so kb's peak plus the largest child's is
        an upper bound on the memory of everything the command runs at any moment."""
        return {
            "kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "conversion": self.conversion_rss_mb,
            "importer": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        }


class _Clock:
    def __init__(self, phases: dict[str, float], on_lap: Callable[[str, float], None] | None) -> None:
        self.phases = phases
        self.on_lap = on_lap
        self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(now - self.last, 2)
        self.last = now
        if self.on_lap is not None:
            self.on_lap(phase, self.phases[phase])


def _statement(cypher: LiteralString) -> Callable[[Run], Awaitable[object]]:
    async def work(run: Run) -> object:
        return await run(cypher, {})

    return work


async def finish_graph(db: Database, schema_dir: Path) -> None:
    """After an import: every constraint and index of ``schema_dir``, online.

    The indexes are created first: the server builds them in the background (CREATE INDEX returns at once)
    while each constraint is built (CREATE CONSTRAINT returns once it has checked every node it covers), so
    the two cores have work throughout. The importer writes no empty list, and neither does ``kb seed`` (an
    empty list is no property), so nothing else is left to write."""
    statements = schema_statements(schema_dir)
    constraints = [s for s in statements if s.upper().startswith("CREATE CONSTRAINT")]
    # DDL from the repository's own files; a constraint checks every node it covers, past the usual timeout
    for statement in [*(s for s in statements if s not in constraints), *constraints]:
        await db.write_unit(_statement(statement), INDEX_TIMEOUT_S)
    await wait_for_indexes(db, INDEX_TIMEOUT_S)


async def _validate_and_convert(
    paths: Sequence[Path],
    directory: Path,
    on_document: Callable[[], None] | None,
    stored: Callable[[Ids], Awaitable[Ids]],
    still_empty: Callable[[], Awaitable[bool]],
) -> tuple[Validation, ImportSet | None, float]:
    """(validation, import set if valid and ``still_empty``, the converting process's peak RSS in MB).

    ``stored`` says which ids the database holds (for references the files leave open). The conversion runs
    in a process of its own, beside the validation: each reads the files, so the two passes take the time of
    the longer one on two cores. Its import set is used only if the validation finds nothing wrong;
    otherwise the process is stopped and its files removed."""
    applied_at = dt.datetime.now(dt.UTC).isoformat()
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: this one holds a driver and a loop
    receive, send = context.Pipe(duplex=False)
    converter = context.Process(
        target=convert_files, args=(list(paths), directory, applied_at, send), name="kb-bulk-convert", daemon=True
    )
    converter.start()
    send.close()
    converted: Converted | None = None
    try:
        with SeedCheck() as check:
            validation = check.read(paths, on_document=on_document)
            if validation.unresolved:
                validation = await check.resolve(stored)
        if not validation.ok or not await still_empty():
            return validation, None, 0.0
        converted = await asyncio.to_thread(_received, receive, converter)
        if converted.error is not None:
            raise converted.error
        if converted.import_set is None:
            raise RuntimeError("the conversion found an invalid document the validation did not")
        return validation, converted.import_set, converted.peak_rss_mb
    finally:
        if converter.is_alive():
            converter.terminate()
        converter.join()
        receive.close()
        if converted is None or converted.import_set is None or converted.error is not None:
            shutil.rmtree(directory, ignore_errors=True)


async def _nothing_stored(wanted: Ids) -> Ids:
    """What a database without a knowledge-base node holds of ``wanted``: nothing."""
    return Ids()


async def _empty() -> bool:
    return True


def _received(receive: Connection, converter: BaseProcess) -> Converted:
    """The conversion process's answer; an error if it ended without one."""
    try:
        answer = receive.recv()
    except EOFError:
        converter.join()
        raise RuntimeError(f"the conversion process ended without a result (exit code {converter.exitcode})") from None
    if not isinstance(answer, Converted):
        raise RuntimeError(f"the conversion process sent {type(answer).__name__}, not its result")
    return answer


async def bulk_seed(
    settings: Settings,
    paths: Sequence[Path],
    import_dir: Path | None = None,
    on_document: Callable[[], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
    on_lap: Callable[[str, float], None] | None = None,
) -> BulkResult:
    """Validate, convert, and (on the local server) import, restart and index; see the module's docstring.

    ``on_phase`` is told when a phase starts, ``on_lap`` when one ends and how long it took (seconds).
    ``import_dir`` keeps the import set there; by default a local load removes it once loaded, and a remote
    one writes it to ``kb-import`` in the working directory.
    """
    phases: dict[str, float] = {}
    clock = _Clock(phases, on_lap)
    local = LocalNeo4j.from_settings(settings) if settings.neo4j_uri is None else None
    if local is not None:
        local.start()
        clock.lap("start_server")
        directory = import_dir or local.home / "import" / "kb-bulk"
        if import_dir is None:
            shutil.rmtree(directory, ignore_errors=True)  # ours, left by a load that failed
    else:
        directory = import_dir or Path("kb-import")
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty; name an empty or new directory for the import set")

    # The first query may reach a server that has only just started (above), on busy cores: not held to the
    # usual timeout.
    db = Database.connect(settings.model_copy(update={"neo4j_query_timeout_s": FIRST_QUERY_TIMEOUT_S}))
    stopping: asyncio.Task[bool] | None = None
    try:
        if local is not None and await database_is_empty(db):
            # An empty database resolves no reference and stays empty (the server is local and about to stop,
            # so nothing else writes to it): nothing below needs the server, which stops while the files are read.
            await db.close()
            stopping = asyncio.create_task(asyncio.to_thread(local.stop))
            stored, still_empty = _nothing_stored, _empty
        else:
            stored, still_empty = partial(existing, db), partial(database_is_empty, db)
        validation, import_set, converter_mb = await _validate_and_convert(
            paths, directory, on_document, stored, still_empty
        )
    finally:
        await db.close()
        if stopping is not None and not stopping.done():
            await stopping
    clock.lap("validate_and_convert")
    if stopping is not None and local is not None and import_set is None:
        # Invalid input: the server was stopped for nothing; it is started again as it was.
        await asyncio.to_thread(local.start)
        clock.lap("restart_server")
    if not validation.ok:
        return BulkResult("invalid", validation, phases=phases)
    if import_set is None:
        return BulkResult("not-empty", validation, phases=phases)
    if local is None:
        script = import_set.write_script(settings.neo4j_database)
        return BulkResult("import-set-written", validation, import_set, script, phases, converter_mb)

    def phase(name: str) -> None:
        if on_phase is not None:
            on_phase(name)

    if stopping is None:
        phase("stopping the server")
        local.stop()
    clock.lap("stop_server")  # with an empty database it stopped during validate_and_convert
    phase("importing")
    try:
        await asyncio.to_thread(local.import_database, import_set.arguments(), settings.neo4j_database)
    except LocalNeo4jError as error:
        raise LocalNeo4jError(
            f"{error}\nThe server is left stopped and its database is likely unusable (the import set is in "
            f"{directory}); remove {local.home / 'data' / 'databases' / settings.neo4j_database} and "
            f"{local.home / 'data' / 'transactions' / settings.neo4j_database} to start it empty"
        ) from error
    clock.lap("import")
    phase("starting the server")
    await asyncio.to_thread(local.start)
    clock.lap("restart_server")
    phase("building indexes")
    # Building indexes over a large graph keeps the server busy: no statement here is held to the usual timeout.
    db = Database.connect(settings.model_copy(update={"neo4j_query_timeout_s": INDEX_TIMEOUT_S}))
    try:
        await finish_graph(db, settings.schema_dir)
        await migrate(db)  # nothing to do: the import set records every migration as done
    finally:
        await db.close()
    clock.lap("indexes")
    if import_dir is None:
        shutil.rmtree(directory, ignore_errors=True)
    phases["total"] = round(sum(phases.values()), 2)
    return BulkResult("loaded", validation, import_set, phases=phases, conversion_rss_mb=converter_mb)
