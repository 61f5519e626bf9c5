"""How long a `kb` command takes to tell that the database does not answer (`python -m bench.cli`).

`kb seed seeds/`, as a newcomer runs it with the default settings (NEO4J_RETRY_TIME 5), against: nothing
listening on the port of NEO4J_URI ("refused"); a server that takes connections and never answers ("black
hole"); and the local server not running (NEO4J_URI unset, an empty KB_NEO4J_HOME). `kb --help` is the floor:
the interpreter and the command's imports. Each case runs ``--runs`` times, the cases interleaved; the table
gives the median wall time and the range, with the lines the command wrote on stderr.

``--source DIR`` runs the `kb` of another checkout (``python -m service.cli`` in DIR), to compare versions:
``git worktree add /tmp/before <commit>`` then ``python -m bench.cli --source /tmp/before --label before``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import free_port, markdown_table, write_results
from service.config import PROJECT_ROOT


@contextmanager
def black_hole() -> Iterator[str]:
    """The URI of a server that takes every connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def take() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=take, daemon=True).start()
    try:
        yield f"bolt://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for connection in held:
            connection.close()


def run(source: Path, args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=source, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    return time.perf_counter() - started, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=PROJECT_ROOT, help="checkout whose kb to run")
    parser.add_argument("--label", default="after", help="results go to bench/results/cli-LABEL.{json,md}")
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()

    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "KB_", "PROMETHEUS_"))}
    seeds = str(options.source / "seeds")
    with black_hole() as hole, tempfile.TemporaryDirectory() as home:
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "kb --help (the floor)": (["--help"], base),
            "refused": (["seed", seeds], {**base, "NEO4J_URI": f"bolt://127.0.0.1:{free_port()}"}),
            "black hole": (["seed", seeds], {**base, "NEO4J_URI": hole}),
            "local server not running": (
                ["seed", seeds], {**base, "KB_NEO4J_HOME": home, "KB_NEO4J_BOLT_PORT": str(free_port())}),
        }  # fmt: skip
        times: dict[str, list[float]] = {case: [] for case in cases}
        said: dict[str, str] = {}
        for _ in range(options.runs):
            for case, (args, env) in cases.items():
                seconds, stderr = run(options.source, args, env)
                times[case].append(seconds)
                said[case] = stderr
    rows: list[dict[str, Any]] = []
    for case, samples in times.items():
        lines = said[case].splitlines()
        rows.append({"case": case, "median_s": round(statistics.median(samples), 2), "min_s": round(min(samples), 2),
                     "max_s": round(max(samples), 2), "stderr_lines": len(lines),
                     "first_line": lines[0] if lines else ""})  # fmt: skip
    table = markdown_table(
        ["case", "median s", "min s", "max s", "stderr lines"],
        [[r["case"], r["median_s"], r["min_s"], r["max_s"], r["stderr_lines"]] for r in rows],
    )
    meta = {"source": str(options.source), "runs": options.runs, "load_average": os.getloadavg()}
    write_results(f"cli-{options.label}", rows, table, meta)


if __name__ == "__main__":
    main()
