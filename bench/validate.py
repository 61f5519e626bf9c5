"""Offline validation, `kb seed --dry-run --offline FILE`: wall time, CPU time and peak RSS, checkouts interleaved.

    .venv/bin/python -m bench.validate FILE                                  # this checkout, 5 rounds
    .venv/bin/python -m bench.validate FILE --against /tmp/base --rounds 5   # another checkout of the project too

With `--against DIR`, each round runs the command once with this checkout's code and once with DIR's (through
PYTHONPATH, the same interpreter and packages), alternating which goes first, so both see the same load. CPU
time is the kernel's (user + system) for the command: on shared cores, the figure the load does not inflate.
No database is needed; nothing is written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
from pathlib import Path

from bench.common import KB, load_average, markdown_table, timed, write_results
from service.config import PROJECT_ROOT


def run(file: Path, tree: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one offline validation with ``tree``'s code."""
    command = [str(KB), "seed", "--dry-run", "--offline", str(file)]
    result = timed(command, {**os.environ, "PYTHONPATH": str(tree)}, stderr=subprocess.DEVNULL)
    return result.seconds, result.cpu_seconds, result.peak_rss_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="A seed file (or directory) that validates.")
    parser.add_argument("--against", type=Path, help="Another checkout of the project, to compare with.")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trees = {"this": PROJECT_ROOT} | ({"against": args.against.resolve()} if args.against else {})
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in trees}
    for number in range(args.rounds):
        order = list(trees) if number % 2 == 0 else list(reversed(trees))
        for name in order:
            samples[name].append(run(args.file, trees[name]))
            wall, cpu, rss = samples[name][-1]
            load_now = os.getloadavg()[0]
            print(f"{name}: wall {wall:.1f} s, CPU {cpu:.1f} s, {rss:.0f} MB, load {load_now:.1f}", flush=True)
    load = load_average()
    rows = [
        {
            "checkout": str(trees[name]),
            "median_wall_s": round(statistics.median(s[0] for s in runs), 1),
            "median_cpu_s": round(statistics.median(s[1] for s in runs), 1),
            "peak_rss_mb": round(max(s[2] for s in runs)),
            "rounds": [[round(s[0], 1), round(s[1], 1)] for s in runs],
        }
        for name, runs in samples.items()
    ]
    cells = [[r["checkout"], r["median_wall_s"], r["median_cpu_s"], r["peak_rss_mb"]] for r in rows]
    table = markdown_table(["checkout", "median wall s", "median CPU s", "peak RSS MB"], cells)
    write_results("validate", rows, table + f"\n\n{args.file}; load average {load}", {"load_average": load})


if __name__ == "__main__":
    main()
