"""`kb seed FILE` with this checkout's code and other checkouts', interleaved, into the bench's own Neo4j.

    .venv/bin/python -m bench.seed_against FILE --against /tmp/base               # 2 rounds, emptied database
    .venv/bin/python -m bench.seed_against FILE --against /tmp/base --fresh       # a new store before each load
    .venv/bin/python -m bench.seed_against FILE --against /tmp/base --repeat      # and each load run again

Each round loads FILE once with each checkout's code (through PYTHONPATH: the same interpreter, packages and
database), alternating which goes first, so both see the same load on a shared machine. Before each load the
database is emptied (or, with --fresh, the store is deleted, the server restarted and the schema applied: a
million claims take longer to delete than a transaction may last). Printed per load, as one JSON line:

- wall: the command's wall time, start-up and validation included;
- until_first_claim: from the start to the first claim seen in the database (start-up, validation, the first
  batch): the rest is the loading phase;
- kb_cpu, neo4j_cpu: CPU seconds of the command (the kernel's rusage) and of the Neo4j JVM over the load,
  the figures that the machine's other work inflates least (with --fresh, the new JVM's compiling is in
  every load's figures: the first load of the 20,000-claim file took 36 s of Neo4j CPU);
- the machine's load averages when the load ended.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import KB, bench_neo4j, cypher, empty_database, environment, fresh_store, load_average, timed
from service.config import PROJECT_ROOT
from service.local_neo4j import LocalNeo4j

CLAIMS = "MATCH (c:Claim) RETURN count(c) AS n"
COUNTS = "RETURN COUNT { (n) WHERE NOT n:Migration } AS nodes, COUNT { ()-[]->() } AS relationships"
TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def first_claim_after(neo4j: LocalNeo4j, start: float, stop: threading.Event) -> list[float]:
    """Seconds from ``start`` to the first claim in the database, polled every 0.25 s in a thread."""
    seen: list[float] = []

    def poll() -> None:
        while not stop.is_set():
            if cypher(neo4j, CLAIMS)[0]["n"] > 0:
                seen.append(time.perf_counter() - start)
                return
            time.sleep(0.25)

    threading.Thread(target=poll, daemon=True).start()
    return seen


def load(neo4j: LocalNeo4j, env: dict[str, str], tree: Path, file: Path) -> dict[str, Any]:
    """One `kb seed FILE` with ``tree``'s code; its figures."""
    pid = neo4j.pid()
    if pid is None:
        raise RuntimeError("the bench Neo4j is not running")
    neo4j_cpu = process_cpu(pid)
    stop = threading.Event()
    start = time.perf_counter()
    seen = first_claim_after(neo4j, start, stop)
    try:
        result = timed([str(KB), "seed", str(file)], {**env, "PYTHONPATH": str(tree)}, stderr=subprocess.STDOUT)
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"kb seed failed with {tree}'s code:\n{error.output}") from None
    finally:
        stop.set()
    [counts] = cypher(neo4j, COUNTS)
    return {
        "wall": round(result.seconds, 1),
        "until_first_claim": round(seen[0], 1) if seen else None,
        "kb_cpu": round(result.cpu_seconds, 1),
        "neo4j_cpu": round(process_cpu(pid) - neo4j_cpu, 1),
        "kb_peak_rss_mb": round(result.peak_rss_mb),
        **counts,
        "load_average": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="A seed file, e.g. .kb/bench/graph-a10000-r20000-s42.jsonl.")
    parser.add_argument("--against", type=Path, nargs="+", required=True, help="Other checkouts of the project.")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="A new store before each load, not a delete.")
    parser.add_argument("--repeat", action="store_true", help="Run each load again (it should write nothing).")
    parser.add_argument("--port", type=int, help="Bolt port of the bench's own Neo4j (KB_BENCH_NEO4J_BOLT_PORT).")
    args = parser.parse_args()

    trees = [PROJECT_ROOT, *(path.resolve() for path in args.against)]
    neo4j = bench_neo4j(port=args.port)
    neo4j.start()
    env = environment(neo4j)
    runs: dict[str, list[dict[str, Any]]] = {str(tree): [] for tree in trees}
    for round_ in range(args.rounds):
        for tree in trees if round_ % 2 == 0 else trees[::-1]:
            if args.fresh:
                fresh_store(neo4j)
            else:
                empty_database(neo4j)
            subprocess.run([str(KB), "schema", "apply"], env=env, check=True, stdout=subprocess.DEVNULL)
            row = {"tree": str(tree), "round": round_, **load(neo4j, env, tree, args.file)}
            if args.repeat:
                again = load(neo4j, env, tree, args.file)
                row.update({f"repeat_{key}": again[key] for key in ("wall", "kb_cpu", "neo4j_cpu")})
            runs[str(tree)].append(row)
            print(json.dumps(row), flush=True)
    for tree, rows in runs.items():
        medians = {key: statistics.median(r[key] for r in rows) for key in ("wall", "kb_cpu", "neo4j_cpu")}
        print(f"{tree}: median of {len(rows)} " + ", ".join(f"{k} {v:.1f} s" for k, v in medians.items()))


if __name__ == "__main__":
    main()
