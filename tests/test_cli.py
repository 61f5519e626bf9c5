"""The `kb` command as a newcomer meets it: each --help names the environment variables behind it and shows flags
as flags; a database that does not answer is one line naming the URI tried and what to do, without the
retries a request would make; Ctrl-C and SIGTERM end a command without a traceback, as interrupted.

The behaviour runs `kb` as an operator does (a process of its own); --help is read in process. (The local
server found from fresh shells, `kb serve` and `make serve` stopped with Ctrl-C: tests/e2e/test_local_server.py.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import black_hole as bench_black_hole
from service.cli import app
from service.cli_help import VARIABLES
from service.config import PROJECT_ROOT, Settings
from tests.conftest import SEEDS, free_port

KB = str(Path(sys.executable).parent / "kb")
ALIASES = {field.alias for field in Settings.model_fields.values()}
CONNECTION = {"NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE", "NEO4J_RETRY_TIME", "KB_NEO4J_HOME",
              "KB_NEO4J_BOLT_PORT"}  # fmt: skip
# The variables each command's --help must name: those behind its options and those it reads.
NAMED = {
    "serve": CONNECTION | {"HOST", "PORT", "KB_SEEDS_DIR", "KB_SCHEMA_DIR", "KB_NEO4J_HEAP", "KB_NEO4J_PAGECACHE",
                           "JAVA_HOME", "LOG_LEVEL", "KB_LOG_FORMAT", "KB_SHUTDOWN_GRACE"},
    "seed": CONNECTION,
    "export": CONNECTION,
    "schema apply": CONNECTION | {"KB_SCHEMA_DIR"},
    "neo4j start": {"KB_NEO4J_HOME", "KB_NEO4J_BOLT_PORT", "KB_NEO4J_HEAP", "KB_NEO4J_PAGECACHE", "JAVA_HOME",
                    "NEO4J_PASSWORD"},
    "neo4j stop": {"KB_NEO4J_HOME"},
    "neo4j status": {"KB_NEO4J_HOME", "KB_NEO4J_BOLT_PORT", "NEO4J_URI"},
    "schema export": set(),
    "generate": set(),
}  # fmt: skip
VARIABLE = re.compile(r"\b(?:NEO4J|KB|JAVA)_[A-Z0-9_]+\b|\b(?:HOST|PORT|LOG_LEVEL)\b")
# With no retry limit of its own, a command would try for this long; it must give up well before.
RETRY_S = 30
QUICKLY_S = 15  # start-up of a command is a second or two; this only tells "did not retry" on a busy machine


def help_of(command: str) -> str:
    result = CliRunner().invoke(app, [*command.split(), "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def commands(prefix: str = "") -> Iterator[str]:
    """Every command, as the help lists them (a group's help has a Commands section; a command's has none)."""
    text = help_of(prefix)
    if "Commands:" not in text:
        yield prefix
        return
    listed = text.split("Commands:", 1)[1]
    for name in re.findall(r"^  ([a-z0-9-]+)\b", listed, re.M):
        yield from commands(f"{prefix} {name}".strip())


ALL = list(commands())


def test_every_command_is_checked() -> None:
    assert sorted(ALL) == sorted(NAMED)


@pytest.mark.parametrize("command", ALL)
def test_each_help_names_the_environment_it_reads(command: str) -> None:
    text = help_of(command)
    named = set(VARIABLE.findall(text))

    assert "Environment" in text
    assert NAMED[command] <= named
    assert named <= ALIASES, "a --help names a variable the settings do not read"


@pytest.mark.parametrize("command", ALL)
def test_each_help_fits_80_columns(command: str) -> None:
    assert max(map(len, help_of(command).splitlines())) <= 80


def test_every_variable_a_help_describes_is_a_setting() -> None:
    assert set(VARIABLES) <= ALIASES


def test_serve_has_host_and_port_behind_their_variables() -> None:
    text = help_of("serve")

    assert re.search(r"^\s+--host ADDRESS\s+Interface to bind \[env HOST; default 127\.0\.0\.1\]", text, re.M)
    assert re.search(r"^\s+--port N\s+Port to listen on \[env PORT; default 8000\]", text, re.M)
    assert re.search(r"^\s+--seed-dir DIR\s+.*\[env KB_SEEDS_DIR", text, re.M)


@pytest.mark.parametrize("command", ALL)
def test_flags_read_as_flags(command: str) -> None:
    text = help_of(command)

    assert not re.search(r"<bool>|BOOLEAN", text)
    assert re.search(r"^\s+--help\s{2,}Show this message and exit\.$", text, re.M)


def test_seeds_flags_take_no_value() -> None:
    text = help_of("seed")

    assert re.search(r"^\s+--dry-run\s{2,}Validate only; write nothing\.", text, re.M)
    assert re.search(r"^\s+--if-empty\s{2,}Load only", text, re.M)


# -- a database that does not answer --------------------------------------------------------------------------


def clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any setting of the service's, plus ``variables``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "KB_", "PROMETHEUS_"))}
    return {**environment, "NEO4J_RETRY_TIME": str(RETRY_S), **variables}


def run(args: list[str], environment: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([KB, *args], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    return done, time.monotonic() - started


def assert_one_line(done: subprocess.CompletedProcess[str], elapsed: float, line: str) -> None:
    assert done.returncode == 1
    assert done.stderr.splitlines() == [line]
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert elapsed < QUICKLY_S, f"{elapsed:.1f} s: retried as a request would"


@pytest.fixture
def black_hole() -> Iterator[str]:
    """The URI of a server that takes connections and never answers (bench/cli.py measures the same case)."""
    with bench_black_hole() as uri:
        yield uri


# (`seed --dry-run` needs no database: tests/ingest/test_kb_seed.py checks what it says without one.)
COMMANDS = {"seed": ["seed", str(SEEDS)], "schema apply": ["schema", "apply"]}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_nothing_listening_is_one_line_at_once(command: str) -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"

    done, elapsed = run(COMMANDS[command], clean_environment(NEO4J_URI=uri))

    assert_one_line(done, elapsed, f"error: no Neo4j answers at {uri} (connection refused); check NEO4J_URI and "
                                   "that the server is up")  # fmt: skip


def test_a_server_that_never_answers_is_given_a_second(black_hole: str) -> None:
    done, elapsed = run(COMMANDS["seed"], clean_environment(NEO4J_URI=black_hole))

    assert_one_line(done, elapsed, f"error: no Neo4j answers at {black_hole} (no answer within 1 s); check "
                                   "NEO4J_URI and that the server is up")  # fmt: skip


def test_a_host_that_does_not_resolve() -> None:
    done, elapsed = run(COMMANDS["seed"], clean_environment(NEO4J_URI="neo4j://no-such-host.invalid:7687"))

    assert_one_line(done, elapsed, done.stderr.strip())
    assert done.stderr.startswith("error: no Neo4j answers at neo4j://no-such-host.invalid:7687 (cannot resolve")


def test_the_local_server_not_running_says_how_to_start_it(tmp_path: Path) -> None:
    port = free_port()
    environment = clean_environment(KB_NEO4J_HOME=str(tmp_path), KB_NEO4J_BOLT_PORT=str(port))

    done, elapsed = run(COMMANDS["seed"], environment)

    assert_one_line(done, elapsed, f"error: no Neo4j answers at bolt://127.0.0.1:{port} (connection refused); the "
                                   f"local Neo4j in {tmp_path} is not running: start it with `kb neo4j start` (or "
                                   "`make serve`), or set NEO4J_URI to use another server")  # fmt: skip
    assert not any(tmp_path.iterdir())


def test_credentials_refused_are_one_line(neo4j_settings: Settings) -> None:
    uri = neo4j_settings.effective_neo4j_uri()
    # A user that does not exist: refused, and no real user's failed logins are counted towards a lock-out.
    environment = clean_environment(NEO4J_URI=uri, NEO4J_USER="nobody", NEO4J_PASSWORD="wrong-password")

    done, elapsed = run(COMMANDS["schema apply"], environment)

    assert_one_line(done, elapsed, f"error: Neo4j at {uri} refused user 'nobody' with NEO4J_PASSWORD: check "
                                   "NEO4J_USER and NEO4J_PASSWORD")  # fmt: skip
    assert "wrong-password" not in done.stderr


# -- Ctrl-C and SIGTERM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_command_ends_as_interrupted(tmp_path: Path, signum: signal.Signals) -> None:
    out = tmp_path / "big.jsonl"
    # A command long enough to be interrupted in the middle; its own process group, as a terminal's job is.
    process = subprocess.Popen([KB, "generate", "--reports", "50000000", "--out", str(out)], cwd=PROJECT_ROOT,
                               env=clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (out.exists() and out.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, signum)
    stdout, stderr = process.communicate(timeout=60)

    assert out.stat().st_size > 0, "the command was not under way"
    assert process.returncode == -signum  # what the shell shows as 128 + the signal, and make as "Interrupt"
    assert stderr == f"interrupted ({signum.name})\n"
    assert stdout == ""
