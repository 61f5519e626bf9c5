"""Offline validation and `kb export`: time, memory, and the round trip at scale.

    .venv/bin/python -m bench.export                          # 100,000 claims
    .venv/bin/python -m bench.export --claims 20000 --port 19697 --heap 1g --pagecache 512m

A `kb generate` graph is validated with no database (`kb seed --dry-run
--offline`, several rounds), loaded into an emptied, dedicated local Neo4j,
exported (several rounds); then the database is emptied, the export seeded,
and exported again: the two files must be the same bytes. Times are each
command's whole wall time; figures are medians of the rounds; memory is the
command's peak resident set, from the kernel.
"""

from __future__ import annotations

import argparse
import filecmp
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.common import (
    KB,
    Timed,
    bench_neo4j,
    empty_database,
    environment,
    generated_graph,
    markdown_table,
    timed,
    write_results,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=100_000, help="Claims in the generated graph.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of validation and of export.")
    parser.add_argument("--port", type=int, help="The bench Neo4j's Bolt port (KB_BENCH_NEO4J_BOLT_PORT, 7697).")
    parser.add_argument("--heap", help="KB_BENCH_NEO4J_HEAP, 4g.")
    parser.add_argument("--pagecache", help="KB_BENCH_NEO4J_PAGECACHE, 4g.")
    args = parser.parse_args()

    actors, reports = max(10, args.claims // 10), max(1, args.claims // 5)
    graph = generated_graph(actors, reports)
    neo4j = bench_neo4j(heap=args.heap, pagecache=args.pagecache, port=args.port)
    neo4j.start()
    env = environment(neo4j)
    subprocess.run([str(KB), "schema", "apply"], env=env, check=True, stdout=subprocess.DEVNULL)
    validation = [timed([str(KB), "seed", "--dry-run", "--offline", str(graph)], env) for _ in range(args.rounds)]
    empty_database(neo4j)
    load = timed([str(KB), "seed", str(graph)], env)
    with tempfile.TemporaryDirectory(prefix="kb-bench-export-") as scratch:
        exports = [timed([str(KB), "export", "--force", str(Path(scratch) / "first")], env) for _ in range(args.rounds)]
        empty_database(neo4j)
        reload = timed([str(KB), "seed", str(Path(scratch) / "first" / "graph.jsonl")], env)
        timed([str(KB), "export", str(Path(scratch) / "second")], env)
        first, second = (Path(scratch) / name / "graph.jsonl" for name in ("first", "second"))
        identical = filecmp.cmp(first, second, shallow=False)
        size_mb = first.stat().st_size / 1e6
    if not identical:
        raise RuntimeError("export, empty, seed the export, export again: the files differ")

    def median(runs: list[Timed], attribute: str) -> float:
        return round(float(statistics.median(getattr(run, attribute) for run in runs)), 1)

    row = {
        "claims": args.claims,
        "validate_offline_s": median(validation, "seconds"),
        "validate_offline_rounds_s": [round(v.seconds, 1) for v in validation],
        "validate_peak_rss_mb": median(validation, "peak_rss_mb"),
        "load_s": round(load.seconds, 1),
        "export_s": median(exports, "seconds"),
        "export_rounds_s": [round(e.seconds, 1) for e in exports],
        "export_peak_rss_mb": median(exports, "peak_rss_mb"),
        "export_mb": round(size_mb, 1),
        "seed_export_s": round(reload.seconds, 1),
        "seed_export_peak_rss_mb": round(reload.peak_rss_mb),
        "round_trip_identical": identical,
    }
    table = markdown_table(
        ["claims", "validate offline s", "load s", "export s", "export MB", "seed the export s", "identical"],
        [
            [
                f"{args.claims:,}",
                row["validate_offline_s"],
                row["load_s"],
                row["export_s"],
                row["export_mb"],
                row["seed_export_s"],
                "yes" if identical else "no",
            ]
        ],
    )
    write_results("export", [row], table, {"rounds": args.rounds, "neo4j_heap": neo4j.heap})


if __name__ == "__main__":
    main()
