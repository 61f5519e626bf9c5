"""What every benchmark shares: a dedicated local Neo4j, generated graphs, timed child processes."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from neo4j import Driver, GraphDatabase
from service.config import PROJECT_ROOT
from service.local_neo4j import LocalNeo4j

BENCH_HOME = PROJECT_ROOT / ".kb" / "bench"
RESULTS = PROJECT_ROOT / "bench" / "results"
KB = Path(sys.executable).parent / "kb"
PASSWORD = "kb-bench-password"


def bench_neo4j(heap: str | None = None, pagecache: str | None = None, port: int | None = None) -> LocalNeo4j:
    """A Neo4j of its own (own store, own port), sized for a million claims; never the developer's.

    What is not passed comes from KB_BENCH_NEO4J_HEAP, KB_BENCH_NEO4J_PAGECACHE and KB_BENCH_NEO4J_BOLT_PORT
    (4g, 4g, 7697 when unset), so two checkouts can each run a benchmark on one machine.
    """
    return LocalNeo4j(
        home=BENCH_HOME / "neo4j",
        bolt_port=port or int(os.environ.get("KB_BENCH_NEO4J_BOLT_PORT", "7697")),
        user="neo4j",
        password=PASSWORD,
        heap=heap or os.environ.get("KB_BENCH_NEO4J_HEAP", "4g"),
        pagecache=pagecache or os.environ.get("KB_BENCH_NEO4J_PAGECACHE", "4g"),
    )


def environment(neo4j: LocalNeo4j, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password,
        **extra,
    }


def fresh_store(neo4j: LocalNeo4j) -> None:
    """Stop the bench Neo4j, delete its store (databases, transaction logs, the initial password), and start
    it again, as on its first start: an empty store, where a graph loads without deleting the other first.

    Measured right after the large graph (5.7 million records) was deleted and the small one loaded, the
    small graph's reads ran 2 to 5 times slower than half an hour later (the floor's page of 100 claims:
    13.3 ms, then 2.9 ms). A new store skips the delete and whatever Neo4j does after it, but not all of the
    difference: measured right after the small graph was loaded into a new store, that page took 13.4 ms,
    and 2.1 ms in a run a few minutes after the load had finished.
    """
    neo4j.stop()
    data = neo4j.home / "data"
    for path in (data / "databases", data / "transactions"):
        shutil.rmtree(path, ignore_errors=True)
    for auth in (data / "dbms").glob("auth.ini*"):
        auth.unlink()
    neo4j.start()


def empty_database(neo4j: LocalNeo4j) -> None:
    """Delete everything in transactions of 20,000: relationships first, so that no one transaction
    holds all of a popular actor's (a million-claim graph fits in no single transaction)."""
    auto_commit(neo4j, "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS")
    auto_commit(neo4j, "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 20000 ROWS")


def _driver(neo4j: LocalNeo4j) -> Driver:
    # No notifications: asking an empty database for its marker label would log a warning per query.
    return GraphDatabase.driver(neo4j.uri, auth=(neo4j.user, neo4j.password), notifications_min_severity="OFF")


def auto_commit(neo4j: LocalNeo4j, query: str) -> None:
    """Run a statement outside an explicit transaction, as `CALL { ... } IN TRANSACTIONS` needs."""
    with _driver(neo4j) as driver, driver.session() as session:
        session.run(query).consume()


def cypher(neo4j: LocalNeo4j, query: str, **params: Any) -> list[dict[str, Any]]:
    with _driver(neo4j) as driver:
        records, _, _ = driver.execute_query(query, params)
        return [r.data() for r in records]


def generated_graph(actors: int, reports: int, seed: int = 42) -> Path:
    """The `kb generate` file for this shape, made once and kept under .kb/bench."""
    path = BENCH_HOME / f"graph-a{actors}-r{reports}-s{seed}.jsonl"
    if not path.exists():
        BENCH_HOME.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        command = [str(KB), "generate", "--actors", str(actors), "--reports", str(reports), "--seed", str(seed)]
        subprocess.run([*command, "--out", str(partial)], check=True)
        partial.rename(path)
    return path


@dataclass(frozen=True)
class Timed:
    seconds: float
    peak_rss_mb: float
    stdout: str
    cpu_seconds: float = 0.0  # user + system, of the command and of the programs it ran and waited for


def timed(command: list[str], env: dict[str, str], stderr: int | None = None) -> Timed:
    """Run a command to completion; its wall time, peak resident memory and CPU time (from the kernel's rusage).

    ``stderr`` as subprocess takes it (None: this process's; subprocess.STDOUT: into the output returned)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert process.stdout is not None
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command, stdout)
    return Timed(seconds, usage.ru_maxrss / 1024, stdout, usage.ru_utime + usage.ru_stime)


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages, beside a figure measured on shared cores."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def write_results(name: str, rows: list[dict[str, Any]], table: str, meta: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({"machine": machine(), **meta, "rows": rows}, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(table + "\n")
    print(table)


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Median and 99th percentile."""
    if len(samples) < 2:
        return samples[0], samples[0]
    return statistics.median(samples), statistics.quantiles(samples, n=100, method="inclusive")[98]


class Server:
    """A server process under test, ready once it answers a GraphQL request at ``url``."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], cwd: Path, url: str) -> None:
        self.name, self.url = name, url
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server; closed by stop()
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{name} exited: {self.log.read().decode(errors='replace')}")
            try:
                httpx.post(url, json={"query": "{ __typename }"}, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{name} did not start in 120 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
