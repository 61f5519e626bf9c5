"""A bad configuration is one line on stderr and exit status 2, before anything starts: for every `kb` command
that reads the settings, and for the application as uvicorn loads it.

The commands run as an operator runs them (`.venv/bin/kb`, a process of its own) with NEO4J_URI unset, so that
`kb serve` and `kb neo4j start` would otherwise start the local Neo4j, in an empty KB_NEO4J_HOME: it must stay
empty, and nothing may listen on its Bolt port. (Messages for each kind of problem: test_config_check.py.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT
from service.local_neo4j import LocalNeo4j
from tests.conftest import SEEDS, free_port

BIN = Path(sys.executable).parent
SECRET = "s3cr3t-short"  # a token under 16 characters: refused, and never to be printed
BAD = {
    "KB_TOKENS": ({"KB_TOKENS": f"{SECRET}:admin"}, "error: KB_TOKENS: tokens must be at least 16 characters"),
    "PORT": ({"PORT": "abc"}, "error: PORT: Input should be a valid integer, unable to parse string as an integer"),
}
COMMANDS = {
    "serve": ["serve"],
    "seed": ["seed", str(SEEDS)],
    "neo4j start": ["neo4j", "start"],
    "neo4j status": ["neo4j", "status"],
    "neo4j stop": ["neo4j", "stop"],
    "schema apply": ["schema", "apply"],
}
QUICKLY_S = 15  # a command's start-up is about a second; starting Neo4j takes much longer


@dataclass
class Place:
    """Where a command would start the local Neo4j, and the environment that says so."""

    home: Path
    bolt_port: int
    environment: dict[str, str]

    def run(self, args: list[str], **extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
        started = time.monotonic()
        done = subprocess.run(args, cwd=PROJECT_ROOT, env={**self.environment, **extra}, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip
        return done, time.monotonic() - started

    def untouched(self) -> bool:
        """Nothing written in the home, nothing listening on the Bolt port."""
        with socket.socket() as probe:
            listening = probe.connect_ex(("127.0.0.1", self.bolt_port)) == 0
        return not any(self.home.iterdir()) and not listening


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Place]:
    home = tmp_path / "neo4j"
    home.mkdir()
    bolt_port = free_port()
    # No NEO4J_* or KB_* from this process: NEO4J_URI unset means the local server.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "KB_", "PROMETHEUS_"))}
    environment.update(KB_NEO4J_HOME=str(home), KB_NEO4J_BOLT_PORT=str(bolt_port), PORT=str(free_port()))
    yield Place(home, bolt_port, environment)
    # Had a command started Neo4j after all, it is stopped.
    LocalNeo4j(home=home, bolt_port=bolt_port, user="neo4j", password="unused").stop()


def assert_refused(done: subprocess.CompletedProcess[str], elapsed: float, line: str, place: Place) -> None:
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.splitlines() == [line]
    assert done.stdout == ""
    assert done.returncode == 2
    assert SECRET not in done.stderr
    assert elapsed < QUICKLY_S, f"{elapsed:.1f} s"
    assert place.untouched()


@pytest.mark.parametrize("problem", list(BAD))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_configuration_is_one_line_and_nothing_starts(place: Place, command: str, problem: str) -> None:
    variables, line = BAD[problem]

    done, elapsed = place.run([str(BIN / "kb"), *COMMANDS[command]], **variables)

    assert_refused(done, elapsed, line, place)


def test_with_a_good_configuration_the_same_command_goes_on(place: Place) -> None:
    # The control: the harness sees a command that does get past the configuration.
    done, _ = place.run([str(BIN / "kb"), "neo4j", "status"], KB_TOKENS="a-token-long-enough-0123:admin")

    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith("not running")


@pytest.mark.parametrize(
    ("variables", "line"),
    [
        BAD["KB_TOKENS"],
        ({"KB_MAX_DEPTH": "0"}, "error: KB_MAX_DEPTH: Input should be greater than or equal to 1"),
    ],
    ids=["KB_TOKENS", "KB_MAX_DEPTH"],
)
def test_uvicorn_loading_the_app_with_a_bad_configuration_gets_one_line(
    place: Place, variables: dict[str, str], line: str
) -> None:
    uvicorn = [str(BIN / "uvicorn"), "--factory", "service.app:create_app", "--port", str(free_port())]

    done, elapsed = place.run(uvicorn, **variables)

    assert_refused(done, elapsed, line, place)
