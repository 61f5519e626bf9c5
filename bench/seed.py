"""`kb seed` throughput and memory at two sizes, and `ingestReport` latency over HTTP.

    .venv/bin/python -m bench.seed                     # 100,000 and 1,000,000 claims
    .venv/bin/python -m bench.seed --sizes 20000       # a quick look

Each size is a `kb generate` graph (5 claims per report, one actor per ten
claims) loaded by the real `kb seed` command into an emptied, dedicated local
Neo4j; then loaded again to show that a repeat changes nothing. Throughput is
claims over the command's whole wall time (validation pass included); memory
is the command's peak resident set, from the kernel. Then `kb serve` runs on
the largest graph and a client posts `ingestReport` mutations of 5 claims
about existing actors, one at a time, timing each round trip.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from typing import Any

import httpx

from bench.common import (
    KB,
    Server,
    bench_neo4j,
    cypher,
    empty_database,
    environment,
    free_port,
    fresh_store,
    generated_graph,
    markdown_table,
    percentiles,
    timed,
    write_results,
)
from service.config import PROJECT_ROOT

COUNTS = "RETURN COUNT { (n) } AS nodes, COUNT { ()-[]->() } AS relationships"
TOKEN = "bench-writer-token-0123456789"
INGEST = """
mutation($input: IngestReportInput!) { ingestReport(input: $input) { created updated unchanged } }
"""


def ingest_input(number: int, actors: int) -> dict[str, Any]:
    """A new report of 5 claims about actors already in the generated graph."""
    report = f"bench-ingest-{number}"
    return {
        "report": {
            "id": report,
            "title": f"Bench report {number}",
            "publisher": "outlet-1",
            "publishedAt": "2024-05-01",
        },
        "claims": [
            {
                "id": f"{report}-c{i}",
                "text": f"Benchmark claim {i} of report {number}",
                "source": f"actor-{(number * 7 + i) % actors}",
                "about": [f"actor-{(number + i) % 50}", f"actor-{(number * 3 + i) % actors}"],
            }
            for i in range(5)
        ],
    }


def ingest_latency(env: dict[str, str], actors: int, count: int) -> dict[str, float]:
    port = free_port()
    server_env = {**env, "PORT": str(port), "KB_TOKENS": f"{TOKEN}:writer", "LOG_LEVEL": "warning"}
    server = Server("kb serve", [str(KB), "serve"], server_env, PROJECT_ROOT, f"http://127.0.0.1:{port}/graphql")
    try:
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}) as client:

            def post(number: int) -> float:
                start = time.perf_counter()
                body = {"query": INGEST, "variables": {"input": ingest_input(number, actors)}}
                response = client.post(server.url, json=body)
                elapsed = (time.perf_counter() - start) * 1000
                answer = response.json()
                if response.status_code != 200 or answer.get("errors"):
                    raise RuntimeError(f"ingestReport failed: {response.status_code} {answer}")
                return elapsed

            for number in range(count, count + 20):  # warm-up, not counted
                post(number)
            new = [post(number) for number in range(count)]
            repeated = [post(number) for number in range(count)]  # the same reports again: nothing to write
    finally:
        server.stop()
    new_p50, new_p99 = percentiles(new)
    repeat_p50, repeat_p99 = percentiles(repeated)
    return {"p50_ms": new_p50, "p99_ms": new_p99, "repeat_p50_ms": repeat_p50, "repeat_p99_ms": repeat_p99}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="Claims per graph.")
    parser.add_argument("--ingests", type=int, default=300, help="ingestReport calls to time.")
    parser.add_argument("--warmup", type=int, default=20_000, help="Claims loaded (and deleted) before timing.")
    args = parser.parse_args()

    neo4j = bench_neo4j()
    neo4j.start()
    # A new store, not a delete: `make bench` leaves a graph of up to a million claims there, and deleting
    # that, even in batches, ran past Neo4j's 60 s limit on the statement's own transaction.
    fresh_store(neo4j)
    env = environment(neo4j)
    subprocess.run([str(KB), "schema", "apply"], env=env, check=True, stdout=subprocess.DEVNULL)
    if args.warmup:
        # A fresh JVM compiles as it goes: the first load would measure the compiler.
        timed([str(KB), "seed", str(generated_graph(max(10, args.warmup // 10), max(1, args.warmup // 5)))], env)
    rows: list[dict[str, Any]] = []
    for claims in sorted(args.sizes):
        actors, reports = max(10, claims // 10), max(1, claims // 5)
        graph = generated_graph(actors, reports)
        empty_database(neo4j)
        print(f"loading {claims:,} claims from {graph.name} ...", flush=True)
        first = timed([str(KB), "seed", str(graph)], env)
        [loaded] = cypher(neo4j, COUNTS)
        again = timed([str(KB), "seed", str(graph)], env)
        [reloaded] = cypher(neo4j, COUNTS)
        if reloaded != loaded:
            raise RuntimeError(f"a repeated load changed the graph: {loaded} then {reloaded}")
        rows.append(
            {
                "claims": claims,
                "actors": actors,
                "reports": reports,
                "nodes": loaded["nodes"],
                "relationships": loaded["relationships"],
                "seconds": round(first.seconds, 1),
                "claims_per_s": round(claims / first.seconds),
                "peak_rss_mb": round(first.peak_rss_mb),
                "repeat_seconds": round(again.seconds, 1),
                "repeat_claims_per_s": round(claims / again.seconds),
                "repeat_peak_rss_mb": round(again.peak_rss_mb),
            }
        )
    latency = ingest_latency(env, actors=rows[-1]["actors"], count=args.ingests)
    table = markdown_table(
        ["claims", "nodes", "relationships", "load s", "claims/s", "peak RSS MB", "repeat s", "repeat claims/s"],
        [
            [
                f"{r['claims']:,}",
                f"{r['nodes']:,}",
                f"{r['relationships']:,}",
                r["seconds"],
                f"{r['claims_per_s']:,}",
                r["peak_rss_mb"],
                r["repeat_seconds"],
                f"{r['repeat_claims_per_s']:,}",
            ]
            for r in rows
        ],
    )
    table += (
        f"\n\ningestReport, 5 claims, on the {rows[-1]['claims']:,}-claim graph, {args.ingests} calls over HTTP: "
        f"new report p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms; "
        f"same report again p50 {latency['repeat_p50_ms']:.1f} ms, p99 {latency['repeat_p99_ms']:.1f} ms"
    )
    write_results("seed", rows, table, {"ingest_report": latency, "neo4j_heap": neo4j.heap})


if __name__ == "__main__":
    main()
