"""The ``kb`` command: the local Neo4j, the schema, seeding and serving.

Every command that reads the settings checks the whole configuration first
(service/config_check.py): a bad one is one line on stderr and exit status 2,
with nothing started. Those that use the database find out first whether it
answers (service/database_check.py): if not, one line and exit status 1, in
about a second. Each command's --help names the environment variables it
reads (service/cli_help.py).

Ctrl-C (SIGINT) and SIGTERM: ``kb serve`` stops serving gracefully and exits
0, leaving the local Neo4j running; any other command unwinds (a Neo4j it was
starting is stopped again, the batches a seed load has written stay), says
what it leaves, and ends as interrupted by that signal (status 130 or 143 in
the shell).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, TypeVar

import typer
from neo4j.exceptions import Neo4jError
from rich.console import Console
from rich.markup import escape

from service import cli_help
from service.config import PROJECT_ROOT, SERVER_HEADER_LIMIT, Settings
from service.config_check import EXIT_STATUS, ConfigError, checked_settings
from service.database_check import Unreachable, check_reachable
from service.errors import KBError
from service.graph.driver import Database
from service.graph.schema import apply_schema
from service.ingest.bulk import BulkResult, bulk_seed
from service.ingest.export import ExportFile, NoReport, export_graph, unexpressible
from service.ingest.generate import GraphShape
from service.ingest.generate import generate as generate_graph
from service.ingest.import_set import NotImportable
from service.ingest.loader import DEFAULT_BATCH, LoadSummary, database_is_empty, load_documents
from service.ingest.models import seed_json_schema
from service.ingest.references import existing
from service.ingest.validation import SeedCheck, Validation, iter_documents
from service.local_neo4j import RECORD_NAME, LocalNeo4j, LocalNeo4jError, ServerRecord
from service.observability import log_config
from service.progress import DEFAULT_INTERVAL_S, Meter

# Click's plain help: flags read as flags (Typer's rich help shows `--dry-run <bool>`, as if it took a value).
app = typer.Typer(
    help="Knowledge base of who said what about whom. Settings come from the environment; each command's "
    "--help names the variables it reads.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
neo4j_app = typer.Typer(
    help="The local Neo4j server (used when NEO4J_URI is not set).", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(neo4j_app, name="neo4j")
schema_app = typer.Typer(help="Database constraints and the GraphQL SDL.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(schema_app, name="schema")

log = logging.getLogger("service.cli")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


EXPORT_TIMEOUT_S = 600.0


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    YAML = "yaml"


SDL_PATH = PROJECT_ROOT / "schema" / "schema.graphql"
SEED_SCHEMA_PATH = PROJECT_ROOT / "schema" / "seed.schema.json"


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _settings(**overrides: object) -> Settings:
    """The settings (``overrides``, a command's options by variable name, over the environment), the whole
    configuration checked; a bad one: one line on stderr, exit status 2."""
    try:
        return checked_settings(**overrides)
    except ConfigError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=EXIT_STATUS) from None


class Interrupted(BaseException):
    """SIGINT (Ctrl-C) or SIGTERM, raised where the command was, so that it unwinds: drivers closed, temporary
    files removed. Not an Exception, so that nothing on the way takes it for a failure to handle; click does
    not turn it into its "Aborted!" either. Commands add notes saying what they leave."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def _on_interrupt(note: str | None) -> Iterator[None]:
    """Add ``note`` (what an interruption here leaves, if anything to say) to an interruption passing through."""
    try:
        yield
    except Interrupted as stop:
        if note is not None:
            stop.add_note(note)
        raise


def _run_with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """``work`` done with a connection to the database; KBError (the database unavailable, ...) is the caller's."""

    async def run() -> T:
        db = Database.connect(settings)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """``work`` on a database that has just answered; one line and exit status 1 when it does not (in about a
    second) or when it fails."""
    try:
        check_reachable(settings)
    except Unreachable as error:
        raise _fail(escape(str(error))) from None
    try:
        return _run_with_database(settings, work)
    except KBError as error:
        raise _fail(f"{error.message} ({settings.effective_neo4j_uri()})") from error
    except Neo4jError as error:
        raise _fail(f"Neo4j refused the operation: {error.message or error}") from error


# -- kb neo4j ----------------------------------------------------------------


@neo4j_app.command("start", epilog=cli_help.NEO4J_START)
def neo4j_start() -> None:
    """Fetch Neo4j from Maven Central if needed, start it on loopback, print its Bolt URI.

    What it was started with is recorded in KB_NEO4J_HOME/server.json, where every later command finds it.
    """
    uri = _start_local(_settings())
    out.print(uri)


def _start_local(settings: Settings) -> str:
    local = LocalNeo4j.from_settings(settings)
    if local.pid() is None:
        note = f"the local Neo4j in {local.home} was starting: it is stopped again"
    else:
        note = f"the local Neo4j in {local.home} was running already: it keeps running"
    try:
        with _on_interrupt(note):
            return local.start()
    except LocalNeo4jError as error:
        raise _fail(escape(str(error))) from error


@neo4j_app.command("stop", epilog=cli_help.NEO4J_STOP)
def neo4j_stop() -> None:
    """Stop the local Neo4j server gracefully (its data and recorded settings stay)."""
    stopped = LocalNeo4j.from_settings(_settings()).stop()
    out.print("stopped" if stopped else "not running")


@neo4j_app.command("status", epilog=cli_help.NEO4J_STATUS)
def neo4j_status() -> None:
    """Say whether the local Neo4j runs, where, what it was started with, and which server kb commands
    connect to; exit 3 when it does not run."""
    settings = _settings()
    local = LocalNeo4j.from_settings(settings)
    record = local.record()
    pid = local.pid()
    if pid is None:
        out.print(f"not running (home {local.home})")
        if record is not None:
            out.print(f"last started {_when(record)} on Bolt port {record.bolt_port}; `kb neo4j start` starts it there")
    else:
        port = local.bolt_port if record is None else record.bolt_port
        out.print(f"running, pid {pid}, bolt://127.0.0.1:{port}, home {local.home}")
        if record is None:
            out.print("what it was started with is not recorded (an older kb started it); restart it to record it")
        else:
            out.print(
                f"started {_when(record)} with Bolt port {record.bolt_port}, heap {record.heap}, page cache "
                f"{record.pagecache} (recorded in {local.home / RECORD_NAME})"
            )
    out.print(_connects_to(settings, record))
    if pid is None:
        raise typer.Exit(code=3)


def _when(record: ServerRecord) -> str:
    return record.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _connects_to(settings: Settings, record: ServerRecord | None) -> str:
    """Which server the other commands connect to, and what says so."""
    uri = settings.effective_neo4j_uri()
    if settings.neo4j_uri is not None:
        return f"kb commands connect to {uri}, set by NEO4J_URI (not this server)"
    if record is not None and record.bolt_port != settings.local_neo4j_bolt_port:
        return f"kb commands connect to {uri}, set by KB_NEO4J_BOLT_PORT (not the port this server was started on)"
    if record is not None:
        return f"kb commands connect to {uri}, the port this server was started on"
    source = "KB_NEO4J_BOLT_PORT" if "local_neo4j_bolt_port" in settings.model_fields_set else "the default port"
    return f"kb commands connect to {uri}, set by {source}"


# -- kb schema ---------------------------------------------------------------


@schema_app.command("apply", epilog=cli_help.SCHEMA_APPLY)
def schema_apply() -> None:
    """Create the constraints and indexes of schema/*.cypher (idempotent)."""
    settings = _settings()
    count = _with_database(settings, lambda db: apply_schema(db, settings.schema_dir))
    out.print(f"applied {count} schema statements to {settings.effective_neo4j_uri()}")


@schema_app.command("export", epilog=cli_help.NONE)
def schema_export(
    path: Annotated[Path, typer.Option(help="Where to write the SDL.")] = SDL_PATH,
    seed_path: Annotated[Path, typer.Option(help="Where to write the seed format's JSON Schema.")] = SEED_SCHEMA_PATH,
) -> None:
    """Write the GraphQL SDL and the seed format's JSON Schema, as the code defines them, to schema/."""
    from service.api.schema import schema

    path.write_text(schema.as_str() + "\n")
    out.print(f"wrote {path}")
    seed_path.write_text(json.dumps(seed_json_schema(), indent=2) + "\n")
    out.print(f"wrote {seed_path}")


# -- kb seed -----------------------------------------------------------------

PROGRESS_OPTION = typer.Option(
    "--progress-every",
    metavar="SECONDS",
    min=0.1,
    help="Off a terminal: seconds between progress lines (a terminal gets a bar).",
)


@app.command(epilog=cli_help.SEED)
def seed(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Seed files (.yaml, .yml, .jsonl) or directories of them.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="With --dry-run: do not ask a database about ids the files do not define."),
    ] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Load only into a database with no knowledge-base nodes.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(metavar="N", min=1, max=5_000, help="Reports per transaction.")
    ] = DEFAULT_BATCH,
    progress_every: Annotated[float, PROGRESS_OPTION] = DEFAULT_INTERVAL_S,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="First load into an empty database with Neo4j's offline importer (local server: stopped, "
            "loaded, restarted; remote: writes the import set and the command to run on its host).",
        ),
    ] = False,
    import_dir: Annotated[
        Path | None, typer.Option(metavar="DIR", help="With --bulk: where to write (and keep) the importer's input.")
    ] = None,
) -> None:
    """Validate seed files whole, then load them in batches of reports (idempotent, never half a report).

    Everything the files can tell is checked with no database; references to ids the files do not define are
    then looked up in the database (with --dry-run and none reachable, or --offline, they are listed unchecked).
    """
    if offline and not dry_run:
        raise _fail("--offline needs --dry-run: loading needs a database")
    settings = _settings()
    if bulk and not dry_run:
        _bulk_seed(settings, paths, import_dir, if_empty, progress_every)
        return
    with SeedCheck() as check:
        with Meter(err, "validating", "documents", interval_s=progress_every) as meter:
            validation = check.read(paths, on_document=meter.advance)
        unavailable = None
        if validation.unresolved and not offline:
            try:
                check_reachable(settings)
                _run_with_database(settings, lambda db: check.resolve(lambda wanted: existing(db, wanted)))
            except Unreachable as error:
                unavailable = str(error)
            except KBError as error:
                unavailable = f"{error.message} ({settings.effective_neo4j_uri()})"
            except Neo4jError as error:
                unavailable = f"Neo4j refused the operation: {error.message or error}"
        _report_validation(check, validation, "--offline" if offline else unavailable)
        if not validation.ok:
            raise _fail(
                f"{validation.problem_count} problem(s) in {validation.documents} document(s); nothing was loaded"
            )
        if dry_run:
            out.print(f"{validation.documents} report(s) valid; nothing written (--dry-run)")
            return
    if unavailable is not None:
        raise _fail(f"{unavailable}; nothing was loaded")

    async def load(db: Database) -> LoadSummary | None:
        if if_empty and not await database_is_empty(db):
            return None
        with Meter(err, "loading", "reports", total=validation.documents, interval_s=progress_every) as meter:
            return await load_documents(db, iter_documents(paths), batch_size=batch_size, on_batch=meter.advance)

    with _on_interrupt("the batches of reports already loaded stay, each whole; `kb seed` again loads the rest"):
        summary = _with_database(settings, load)
    if summary is None:
        out.print("database already holds data; seeds not loaded (--if-empty)")
        return
    out.print(f"loaded {summary.reports} report(s)")
    for kind, counts in summary.written.tally.items():
        out.print(
            f"  {kind:<10} {counts['created']:>9} created {counts['updated']:>9} updated "
            f"{counts['unchanged']:>9} unchanged"
        )


def _report_validation(check: SeedCheck, validation: Validation, unchecked_because: str | None) -> None:
    """Every problem on stderr, one a line; then the references left unchecked, and why."""
    for problem in validation.problems:
        err.print(str(problem), markup=False, highlight=False)
    if validation.more_problems:
        err.print(f"... and {validation.more_problems} more", markup=False)
    if validation.unresolved and not validation.resolved:
        err.print(
            f"{validation.unresolved} id(s) referred to but not defined in the files, not checked against a database "
            f"({unchecked_because}):",
            markup=False,
            highlight=False,
        )
        for reference in check.unresolved(limit=check.keep):
            err.print(f"  {reference}", markup=False, highlight=False)
        if validation.unresolved > check.keep:
            err.print(f"  ... and {validation.unresolved - check.keep} more", markup=False)


def _print_problems(validation: Validation) -> typer.Exit:
    for problem in validation.problems:
        err.print(str(problem), markup=False, highlight=False)
    if validation.more_problems:
        err.print(f"... and {validation.more_problems} more", markup=False)
    return _fail(f"{validation.problem_count} problem(s) in {validation.documents} document(s); nothing was loaded")


def _bulk_seed(
    settings: Settings, paths: list[Path], import_dir: Path | None, if_empty: bool, progress_every: float
) -> None:
    async def run() -> BulkResult:
        with Meter(err, "validating and converting", "documents", interval_s=progress_every) as meter:
            return await bulk_seed(
                settings,
                paths,
                import_dir,
                on_document=meter.advance,
                on_phase=lambda name: err.print(name, highlight=False),
                on_lap=lambda phase, seconds: err.print(f"  {phase} {seconds:.1f} s", highlight=False),
            )

    try:
        check_reachable(settings)
    except Unreachable as error:
        raise _fail(escape(str(error))) from None
    try:
        with _on_interrupt("a bulk load interrupted leaves the local server stopped or empty: `kb neo4j status`"):
            result = asyncio.run(run())
    except (LocalNeo4jError, FileExistsError, NotImportable, TimeoutError, RuntimeError) as error:
        raise _fail(str(error)) from error
    except KBError as error:
        raise _fail(f"{error.message} ({settings.effective_neo4j_uri()})") from error
    except Neo4jError as error:
        raise _fail(f"Neo4j refused the operation: {error.message or error}") from error
    if result.outcome == "invalid":
        raise _print_problems(result.validation)
    if result.outcome == "not-empty":
        if if_empty:
            out.print("database already holds data; seeds not loaded (--if-empty)")
            return
        raise _fail("--bulk loads only into an empty database, and this one holds data; use `kb seed` without --bulk")
    assert result.import_set is not None
    counts = result.import_set.counts
    if result.outcome == "import-set-written":
        raise _fail(
            f"{settings.effective_neo4j_uri()} is not the local server: Neo4j's importer must run on the database's "
            f"own host. The import set ({result.validation.documents} report(s)) is in {result.import_set.directory}; "
            f"there, with the database stopped, run {result.script} (it says what to do after)"
        )
    out.print(
        f"loaded {result.validation.documents} report(s) with Neo4j's importer: "
        + ", ".join(f"{counts[label]} {label}" for label in ("Actor", "Report", "Event", "Claim"))
        + " nodes"
    )
    out.print("  " + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in result.phases.items()))
    rss = result.peak_rss_mb
    out.print(
        f"  peak RSS: kb {rss['kb']:.0f} MB, importer {rss['importer']:.0f} MB "
        f"(the conversion process beside kb: {rss['conversion']:.0f} MB)"
    )


# -- kb export ---------------------------------------------------------------


@app.command("export", epilog=cli_help.EXPORT)
def export(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Where to write graph.jsonl (or graph.yaml); created if missing.")
    ],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", metavar="jsonl|yaml", help="JSON Lines, or YAML.")
    ] = ExportFormat.JSONL,
    allow_loss: Annotated[
        bool,
        typer.Option("--allow-loss", help="Export even what the seed format cannot hold all of, leaving that out."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier export in the directory.")] = False,
    statement_timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS", min=1, help="Seconds each of the export's reads may take (they scan the whole graph)."
        ),
    ] = EXPORT_TIMEOUT_S,
    progress_every: Annotated[float, PROGRESS_OPTION] = DEFAULT_INTERVAL_S,
) -> None:
    """Write the graph in the seed format, deterministically: `kb seed` on it rebuilds the same graph."""
    target = directory / f"graph.{fmt.value}"
    if target.exists() and not force:
        raise _fail(f"{target} exists; --force replaces it")
    # NEO4J_QUERY_TIMEOUT bounds a request's queries; the export's read the whole graph, a batch job's worth.
    settings = _settings().model_copy(update={"neo4j_query_timeout_s": statement_timeout})

    lost = _with_database(settings, unexpressible)
    if lost:
        err.print("the seed format cannot hold all of the graph:", markup=False)
        for item in lost:
            err.print(f"  {item}", markup=False, highlight=False)
        if not allow_loss:
            raise _fail("nothing written; --allow-loss exports the rest")

    try:
        with (
            ExportFile(directory, fmt.value) as sink,
            Meter(err, "exporting", "reports", interval_s=progress_every) as meter,
        ):
            counts = _with_database(settings, lambda db: export_graph(db, fmt.value, sink.write, meter.advance))
    except NoReport as error:
        raise _fail(str(error)) from error
    written = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    out.print(f"wrote {sink.path}: {written}" + (" (what is listed above left out)" if lost else ""), highlight=False)


@app.command(epilog=cli_help.NONE)
def generate(
    out_path: Annotated[Path, typer.Option("--out", help="JSON Lines file to write ('-' for stdout).")] = Path("-"),
    actors: Annotated[int, typer.Option(min=2, help="Distinct actors to draw from.")] = 1_000,
    reports: Annotated[int, typer.Option(min=1, help="Reports (one document each).")] = 2_000,
    claims_per_report: Annotated[int, typer.Option(min=1, max=100)] = 5,
    outlets: Annotated[int, typer.Option(min=1)] = 50,
    anonymous_share: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.3,
    relay_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="Reports relaying an earlier one.")] = 0.4,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same file.")] = 42,
) -> None:
    """Write a reproducible synthetic graph as seed documents (JSON Lines)."""
    shape = GraphShape(
        actors=actors,
        reports=reports,
        claims_per_report=claims_per_report,
        outlets=outlets,
        anonymous_share=anonymous_share,
        relay_share=relay_share,
        seed=seed_value,
    )
    target = sys.stdout if str(out_path) == "-" else out_path.open("w", encoding="utf-8")
    try:
        for document in generate_graph(shape):
            target.write(json.dumps(document, separators=(",", ":")) + "\n")
    finally:
        if target is not sys.stdout:
            target.close()
    if target is not sys.stdout:
        err.print(f"wrote {reports} reports, {reports * claims_per_report} claims to {out_path}")


# -- kb serve ----------------------------------------------------------------


@app.command(epilog=cli_help.SERVE)
def serve(
    host: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Interface to bind [env HOST; default 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(metavar="N", min=1, max=65535, help="Port to listen on [env PORT; default 8000].")
    ] = None,
    workers: Annotated[int, typer.Option(metavar="N", min=1, help="uvicorn worker processes.")] = 1,
    seed_dir: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Seeds to load into an empty database [env KB_SEEDS_DIR; default seeds/]."),
    ] = None,
) -> None:
    """Start Neo4j if NEO4J_URI is unset, apply the schema, seed an empty database, serve /graphql.

    Ctrl-C or SIGTERM stops it gracefully (requests in flight finish) with exit status 0; the local Neo4j
    keeps running, so the next start is quick: `kb neo4j stop` stops it.
    """
    import uvicorn

    options = {"HOST": host, "PORT": port}
    settings = _settings(**{name: value for name, value in options.items() if value is not None})
    local_uri = None
    if settings.neo4j_uri is None:
        local_uri = _start_local(settings)
        out.print(f"local Neo4j at {local_uri} (stop it with `kb neo4j stop`)")
    leaves = (
        None if local_uri is None else f"the local Neo4j keeps running at {local_uri} (stop it with `kb neo4j stop`)"
    )
    with _on_interrupt(leaves):
        schema_apply()
        seed([seed_dir or settings.seeds_dir], dry_run=False, if_empty=True)
    out.print(f"serving http://{settings.host}:{settings.port}/graphql (Ctrl-C stops it)")
    sys.stdout.flush()
    with tempfile.TemporaryDirectory(prefix="kb-metrics-") as metrics_dir:
        if workers > 1:
            # Each worker writes its figures here; /metrics in any worker sums them all.
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
        # uvicorn shuts down gracefully on SIGINT or SIGTERM, then raises the signal again (with several workers,
        # not) under the handlers it found: that is the end of serving, not a failure. Those handlers do nothing,
        # so uvicorn.run returns; one that raised would raise inside uvicorn's event loop, where its lifespan task
        # could log the cancellation as an error, traceback and all.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _serving_ends)
        with suppress(Interrupted):
            uvicorn.run(
                "service.app:create_app",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=workers,
                log_level=settings.log_level,
                log_config=log_config(settings.log_level, settings.log_format),
                proxy_headers=True,
                timeout_graceful_shutdown=settings.shutdown_grace_s,
                http="h11",
                h11_max_incomplete_event_size=SERVER_HEADER_LIMIT,
            )
        # Serving is over: another Ctrl-C or SIGTERM (a supervisor's second) does not cut the clean-up short.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
    # In the server's log, as its last line (a JSON object, unless KB_LOG_FORMAT=text).
    if local_uri is None:
        log.info("stopped")
    else:
        log.info("stopped; the local Neo4j keeps running at %s (stop it with `kb neo4j stop`)", local_uri)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _serving_ends(signum: int, frame: FrameType | None) -> None:
    """While uvicorn serves: it has its own handlers, and re-raises the signal under this one once shut down."""


def _end_as_interrupted(stop: Interrupted) -> None:
    """Say what was interrupted and what it leaves, then end as the signal ends a process: the shell, and make,
    see the interruption (make then stops too, and says `Interrupt` rather than `Error`)."""
    err.print(f"interrupted ({stop})", markup=False, highlight=False)
    for note in getattr(stop, "__notes__", ()):
        err.print(f"  {note}", markup=False, highlight=False)
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(stop.signum, signal.SIG_DFL)
    os.kill(os.getpid(), stop.signum)
    raise SystemExit(128 + stop.signum)  # where the signal could not end the process


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # as Python leaves an ignored SIGINT ignored
            signal.signal(signum, _interrupted)
    try:
        app()
    except Interrupted as stop:
        _end_as_interrupted(stop)


if __name__ == "__main__":
    main()
