"""The local Neo4j as a newcomer meets it: started once on a port of their choosing, then found by every later
command run from a fresh shell (`kb neo4j status`, `kb schema apply`, `kb seed`, `kb serve`, `make serve`) that
does not name the port; a variable that is set still wins, and status says so. Ctrl-C stops `kb serve` and
`make serve` cleanly and leaves Neo4j running; Ctrl-C while Neo4j starts leaves nothing running.

Every command is a process of its own, in an environment with none of the service's variables (and none of the
outer make's), in its own process group as a terminal's job is; Ctrl-C is SIGINT to that whole group.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from neo4j import GraphDatabase
from service.config import PROJECT_ROOT
from service.local_neo4j import RECORD_NAME, LocalNeo4j, ServerRecord
from tests.conftest import SEEDS, free_port
from tests.e2e.servers import wait_ready

BIN = Path(sys.executable).parent
KB = str(BIN / "kb")
MEMORY = {"KB_NEO4J_HEAP": "512m", "KB_NEO4J_PAGECACHE": "64m"}


def fresh_shell(**variables: str) -> dict[str, str]:
    """An environment as a new shell has it: none of the service's settings, no make of ours around."""
    ours = ("NEO4J_", "KB_", "PROMETHEUS_", "MAKE", "MFLAGS")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(ours) and k not in {"HOST", "PORT"}}
    return {**environment, "KB_LOG_FORMAT": "text", **variables}


@dataclass
class Local:
    home: Path
    bolt_port: int

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def shell(self, **variables: str) -> dict[str, str]:
        """A fresh shell that names the home (as the default .kb/neo4j would be found), not the port."""
        return fresh_shell(KB_NEO4J_HOME=str(self.home), **variables)

    def kb(self, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KB, *args], cwd=PROJECT_ROOT, env=self.shell(**variables), capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip

    def running(self) -> bool:
        return LocalNeo4j(home=self.home, bolt_port=self.bolt_port, user="neo4j", password="unused").pid() is not None


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    """`kb neo4j start` on a free port, named once, in a home of its own."""
    server = Local(tmp_path_factory.mktemp("local") / "neo4j", free_port())
    started = server.kb("neo4j", "start", KB_NEO4J_BOLT_PORT=str(server.bolt_port), **MEMORY)
    assert started.returncode == 0, started.stderr
    assert started.stdout == f"{server.uri}\n"
    yield server
    LocalNeo4j(home=server.home, bolt_port=server.bolt_port, user="neo4j", password="unused").stop()


def test_status_in_a_fresh_shell_finds_it(local: Local) -> None:
    status = local.kb("neo4j", "status")

    assert status.returncode == 0, status.stderr
    running, started, connects = status.stdout.splitlines()
    record = ServerRecord.read(local.home)
    assert record is not None
    assert running == f"running, pid {record.pid}, {local.uri}, home {local.home}"
    recorded_in = re.escape(str(local.home / RECORD_NAME))
    assert re.fullmatch(rf"started \d{{4}}-\d\d-\d\d \d\d:\d\d UTC with Bolt port {local.bolt_port}, heap 512m, "
                        rf"page cache 64m \(recorded in {recorded_in}\)", started)  # fmt: skip
    assert connects == f"kb commands connect to {local.uri}, the port this server was started on"


def test_schema_apply_and_seed_find_it(local: Local) -> None:
    applied = local.kb("schema", "apply")
    checked = local.kb("seed", "--dry-run", str(SEEDS))
    loaded = local.kb("seed", str(SEEDS))

    assert re.fullmatch(rf"applied \d+ schema statements to {local.uri}\n", applied.stdout), applied.stderr
    assert checked.stdout == "2 report(s) valid; nothing written (--dry-run)\n", checked.stderr
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("loaded 2 report(s)\n")


def test_a_variable_that_is_set_wins_and_status_says_so(local: Local) -> None:
    other = free_port()
    elsewhere = f"bolt://127.0.0.1:{free_port()}"

    status = local.kb("neo4j", "status", KB_NEO4J_BOLT_PORT=str(other))
    seed = local.kb("seed", str(SEEDS), KB_NEO4J_BOLT_PORT=str(other))
    start = local.kb("neo4j", "start", KB_NEO4J_BOLT_PORT=str(other))
    remote = local.kb("neo4j", "status", NEO4J_URI=elsewhere)

    assert status.returncode == 0
    assert status.stdout.splitlines()[-1] == (
        f"kb commands connect to bolt://127.0.0.1:{other}, set by KB_NEO4J_BOLT_PORT (not the port this server "
        "was started on)"
    )
    record = ServerRecord.read(local.home)
    assert record is not None
    pid = record.pid
    assert seed.returncode == 1
    assert seed.stderr.splitlines() == [
        f"error: no Neo4j answers at bolt://127.0.0.1:{other} (connection refused); the local Neo4j in {local.home} "
        f"runs on Bolt port {local.bolt_port} (pid {pid}), but KB_NEO4J_BOLT_PORT={other}: unset it"
    ]
    assert start.returncode == 1
    assert start.stderr.splitlines() == [
        f"error: the local Neo4j in {local.home} already runs on Bolt port {local.bolt_port} (pid {pid}); stop it "
        f"(`kb neo4j stop`) to start it on {other}, or unset KB_NEO4J_BOLT_PORT"
    ]
    assert not listening(other)
    assert remote.stdout.splitlines()[-1] == f"kb commands connect to {elsewhere}, set by NEO4J_URI (not this server)"


def serving(command: list[str], environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def stopped(local: Local) -> str:
    """The last line `kb serve` logs when stopped while it used the local server."""
    return f"stopped; the local Neo4j keeps running at {local.uri} (stop it with `kb neo4j stop`)"


def ctrl_c(process: subprocess.Popen[bytes]) -> int:
    """SIGINT to the process's whole group, as a terminal sends it; its exit status."""
    os.killpg(process.pid, signal.SIGINT)
    return process.wait(timeout=60)


def test_kb_serve_on_host_and_port_stops_on_ctrl_c_with_status_0(local: Local, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    # PORT names another port: the option wins.
    process = serving([KB, "serve", "--host", "127.0.0.1", "--port", str(port)], local.shell(PORT=str(free_port())),
                      log)  # fmt: skip
    try:
        wait_ready(process, f"http://127.0.0.1:{port}", log, "kb serve", 120)
    finally:
        status = ctrl_c(process)

    output = log.read_text()
    assert status == 0, output
    assert f"local Neo4j at {local.uri}" in output
    assert output.splitlines()[-1].endswith(f"INFO service.cli [-] {stopped(local)}")
    assert "Neo4j driver closed" in output
    assert "Traceback" not in output
    assert local.running()


def test_make_serve_finds_it_and_ctrl_c_is_no_error(local: Local, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "make.log"
    # `make serve` as typed, but with this environment's kb, and set-up taken as done (-o install).
    process = serving(["make", "-o", "install", "serve", f"BIN={BIN}"], local.shell(PORT=str(port)), log)
    try:
        wait_ready(process, f"http://127.0.0.1:{port}", log, "make serve", 120)
    finally:
        status = ctrl_c(process)

    output = log.read_text()
    assert f"local Neo4j at {local.uri}" in output
    assert output.splitlines()[-1].endswith(f"INFO service.cli [-] {stopped(local)}")
    assert "make: ***" not in output  # no "Error 143", nor any other
    assert status == -signal.SIGINT  # make itself ends as interrupted, saying nothing
    assert "Traceback" not in output
    assert local.running()


def reports(local: Local) -> int:
    with GraphDatabase.driver(local.uri, auth=("neo4j", "kb-local-password")) as driver:
        records, _, _ = driver.execute_query("RETURN COUNT { (:Report) } AS reports")
    return int(records[0]["reports"])


def test_ctrl_c_during_a_load_keeps_whole_batches_and_a_second_run_ends_it(local: Local, tmp_path: Path) -> None:
    graph = tmp_path / "graph.jsonl"
    generated = local.kb("generate", "--reports", "4000", "--actors", "400", "--out", str(graph))
    assert generated.returncode == 0, generated.stderr
    before = reports(local)
    process = subprocess.Popen([KB, "seed", "--batch-size", "20", str(graph)], cwd=PROJECT_ROOT,
                               env=local.shell(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while reports(local) == before and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    interrupted_at = reports(local) - before
    again = local.kb("seed", str(graph))

    assert process.returncode == -signal.SIGINT, stderr
    assert stdout == ""
    assert stderr.splitlines() == ["interrupted (SIGINT)", "  the batches of reports already loaded stay, each whole; "
                                   "`kb seed` again loads the rest"]  # fmt: skip
    assert 0 < interrupted_at < 4000
    assert interrupted_at % 20 == 0  # whole batches only
    assert again.returncode == 0, again.stderr
    assert reports(local) == before + 4000


def test_stopped_it_says_where_it_will_start_again(local: Local) -> None:
    stop = local.kb("neo4j", "stop")
    status = local.kb("neo4j", "status")

    assert stop.stdout == "stopped\n"
    assert status.returncode == 3
    not_running, last, connects = status.stdout.splitlines()
    assert not_running == f"not running (home {local.home})"
    assert re.fullmatch(rf"last started .* UTC on Bolt port {local.bolt_port}; `kb neo4j start` starts it there", last)
    assert connects == f"kb commands connect to {local.uri}, the port this server was started on"
    assert not listening(local.bolt_port)


def test_ctrl_c_while_neo4j_starts_leaves_it_stopped(tmp_path: Path) -> None:
    home = tmp_path / "neo4j"
    port = free_port()
    environment = fresh_shell(KB_NEO4J_HOME=str(home), KB_NEO4J_BOLT_PORT=str(port), **MEMORY)
    process = subprocess.Popen([KB, "neo4j", "start"], cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    # The record is written once the server's process is launched, before Bolt answers.
    deadline = time.monotonic() + 180
    while ServerRecord.read(home) is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    record = ServerRecord.read(home)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)

    assert record is not None, stderr
    assert process.returncode == -signal.SIGINT
    assert stdout == ""
    assert stderr.splitlines() == ["interrupted (SIGINT)",
                                   f"  the local Neo4j in {home} was starting: it is stopped again"]  # fmt: skip
    assert not LocalNeo4j(home=home, bolt_port=port, user="neo4j", password="unused").pid()
    with pytest.raises(ProcessLookupError):
        os.kill(record.pid, 0)
    assert not listening(port)
