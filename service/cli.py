"""The ``kb`` command: the local Neo4j, the schema, seeding and serving.

Every command that reads the settings checks the whole configuration first
(service/config_check.py): a bad one is one line on stderr and exit status 2,
with nothing started.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, TypeVar

import typer
from neo4j.exceptions import Neo4jError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from service.config import PROJECT_ROOT, SERVER_HEADER_LIMIT, Settings
from service.config_check import EXIT_STATUS, ConfigError, checked_settings
from service.errors import KBError
from service.graph.driver import Database
from service.graph.schema import apply_schema
from service.ingest.bulk import BulkResult, bulk_seed
from service.ingest.generate import GraphShape
from service.ingest.generate import generate as generate_graph
from service.ingest.import_set import NotImportable
from service.ingest.loader import DEFAULT_BATCH, LoadSummary, database_is_empty, load_documents
from service.ingest.models import seed_json_schema
from service.ingest.references import existing
from service.ingest.validation import Validation, iter_documents, validate_files
from service.local_neo4j import LocalNeo4j, LocalNeo4jError
from service.observability import log_config

app = typer.Typer(
    help="Knowledge base of who said what about whom.", no_args_is_help=True, pretty_exceptions_show_locals=False
)
neo4j_app = typer.Typer(help="The local Neo4j server (used when NEO4J_URI is not set).", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")
schema_app = typer.Typer(help="Database constraints and the GraphQL SDL.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

SDL_PATH = PROJECT_ROOT / "schema" / "schema.graphql"
SEED_SCHEMA_PATH = PROJECT_ROOT / "schema" / "seed.schema.json"


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _settings() -> Settings:
    """The settings, the whole configuration checked; a bad one: one line on stderr, exit status 2."""
    try:
        return checked_settings()
    except ConfigError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=EXIT_STATUS) from None


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database.connect(settings)
        try:
            return await work(db)
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except KBError as error:
        raise _fail(f"{error.message} ({settings.effective_neo4j_uri()})") from error
    except Neo4jError as error:
        raise _fail(f"Neo4j refused the operation: {error.message or error}") from error


# -- kb neo4j ----------------------------------------------------------------


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Fetch Neo4j from Maven Central if needed, start it on loopback, print its Bolt URI."""
    local = LocalNeo4j.from_settings(_settings())
    try:
        uri = local.start()
    except LocalNeo4jError as error:
        raise _fail(str(error)) from error
    out.print(uri)


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j server gracefully."""
    stopped = LocalNeo4j.from_settings(_settings()).stop()
    out.print("stopped" if stopped else "not running")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the local Neo4j runs, and where; exit 3 when it does not."""
    local = LocalNeo4j.from_settings(_settings())
    pid = local.pid()
    if pid is None:
        out.print(f"not running (home {local.home})")
        raise typer.Exit(code=3)
    out.print(f"running, pid {pid}, {local.uri}, home {local.home}")


# -- kb schema ---------------------------------------------------------------


@schema_app.command("apply")
def schema_apply() -> None:
    """Create the constraints and indexes of schema/*.cypher (idempotent)."""
    settings = _settings()
    count = _with_database(settings, lambda db: apply_schema(db, settings.schema_dir))
    out.print(f"applied {count} schema statements to {settings.effective_neo4j_uri()}")


@schema_app.command("export")
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


@app.command()
def seed(
    paths: Annotated[list[Path], typer.Argument(help="Seed files (.yaml, .yml, .jsonl) or directories of them.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Load only into a database with no knowledge-base nodes.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=5_000, help="Reports per transaction.")] = DEFAULT_BATCH,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="First load into an empty database with Neo4j's offline importer (local server: stopped, "
            "loaded, restarted; remote: writes the import set and the command to run on its host).",
        ),
    ] = False,
    import_dir: Annotated[
        Path | None, typer.Option(help="With --bulk: where to write (and keep) the importer's input.")
    ] = None,
) -> None:
    """Validate seed files whole, then load them in batches of reports (idempotent, never half a report)."""
    settings = _settings()
    if bulk and not dry_run:
        _bulk_seed(settings, paths, import_dir, if_empty)
        return

    async def check_and_load(db: Database) -> tuple[Validation, LoadSummary | None]:
        with _progress() as progress:
            task = progress.add_task("validating", total=None)
            validation = await validate_files(
                paths, lambda wanted: existing(db, wanted), on_document=lambda: progress.advance(task)
            )
        if not validation.ok or dry_run:
            return validation, None
        if if_empty and not await database_is_empty(db):
            return validation, None
        with _progress() as progress:
            task = progress.add_task("loading reports", total=validation.documents)
            summary = await load_documents(
                db, iter_documents(paths), batch_size=batch_size, on_batch=lambda n: progress.advance(task, n)
            )
        return validation, summary

    validation, summary = _with_database(settings, check_and_load)
    if not validation.ok:
        raise _print_problems(validation)
    if dry_run:
        out.print(f"{validation.documents} report(s) valid; nothing written (--dry-run)")
        return
    if summary is None:
        out.print("database already holds data; seeds not loaded (--if-empty)")
        return
    out.print(f"loaded {summary.reports} report(s)")
    for kind, counts in summary.written.tally.items():
        out.print(
            f"  {kind:<10} {counts['created']:>9} created {counts['updated']:>9} updated "
            f"{counts['unchanged']:>9} unchanged"
        )


def _print_problems(validation: Validation) -> typer.Exit:
    for problem in validation.problems:
        err.print(str(problem), markup=False, highlight=False)
    if validation.more_problems:
        err.print(f"... and {validation.more_problems} more", markup=False)
    total = len(validation.problems) + validation.more_problems
    return _fail(f"{total} problem(s) in {validation.documents} document(s); nothing was loaded")


def _bulk_seed(settings: Settings, paths: list[Path], import_dir: Path | None, if_empty: bool) -> None:
    async def run() -> BulkResult:
        with _progress() as progress:
            task = progress.add_task("validating and converting", total=None)
            return await bulk_seed(
                settings,
                paths,
                import_dir,
                on_document=lambda: progress.advance(task),
                on_phase=lambda name: progress.update(task, description=name),
                on_lap=lambda phase, seconds: err.print(f"  {phase} {seconds:.1f} s", highlight=False),
            )

    try:
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
    out.print(f"  peak RSS: kb {rss['kb']:.0f} MB, importer {rss['importer']:.0f} MB")


def _progress() -> Progress:
    # A bar on a terminal; nothing when output goes to a file or a pipe.
    return Progress(console=err, transient=True, disable=not err.is_terminal)


@app.command()
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


@app.command()
def serve(
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
    seed_dir: Annotated[Path | None, typer.Option(help="Seeds to load into an empty database.")] = None,
) -> None:
    """Start Neo4j if NEO4J_URI is unset, apply the schema, seed an empty database, serve /graphql."""
    import uvicorn

    settings = _settings()
    if settings.neo4j_uri is None:
        try:
            uri = LocalNeo4j.from_settings(settings).start()
        except LocalNeo4jError as error:
            raise _fail(str(error)) from error
        out.print(f"local Neo4j at {uri} (stop it with `kb neo4j stop`)")
    schema_apply()
    seed([seed_dir or settings.seeds_dir], dry_run=False, if_empty=True)
    out.print(f"serving http://{settings.host}:{settings.port}/graphql")
    sys.stdout.flush()
    # After its graceful shutdown uvicorn raises the signal that stopped it again. Let SIGTERM then unwind
    # (as SystemExit, status 143) rather than kill the process, so the metrics directory below is removed.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    with tempfile.TemporaryDirectory(prefix="kb-metrics-") as metrics_dir:
        if workers > 1:
            # Each worker writes its figures here; /metrics in any worker sums them all.
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
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


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
