"""`kb seed` throughput and memory at two sizes, both ways, and `ingestReport` latency over HTTP.

    .venv/bin/python -m bench.seed                     # 100,000 and 1,000,000 claims, transactional and bulk
    .venv/bin/python -m bench.seed --sizes 20000       # a quick look
    .venv/bin/python -m bench.seed --methods bulk --sizes 1000000 --ingests 0   # bulk only (other rows kept)

Each size is a `kb generate` graph (5 claims per report, one actor per ten
claims) loaded by the real `kb seed` command into an emptied, dedicated local
Neo4j; then loaded again to show that a repeat changes nothing. Throughput is
claims over the command's whole wall time (validation pass included); memory
is the command's peak resident set, from the kernel. Then `kb serve` runs on
the largest graph and a client posts `ingestReport` mutations of 5 claims
about existing actors, one at a time, timing each round trip.

`--methods bulk` runs `kb seed --bulk` instead, against a new store each
time (it loads only into an empty database): throughput is claims over the
command's whole wall time, from reading the file to every index online;
memory is the peak RSS of the command plus that of the importer it runs (the
two never exceed it together), as the command reports them; the phases'
seconds are the command's own. Rows of a method not run are kept from the
previous results.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time
from typing import Any

import httpx

from bench.common import (
    KB,
    RESULTS,
    Server,
    bench_neo4j,
    cypher,
    empty_database,
    environment,
    free_port,
    fresh_store,
    generated_graph,
    load_average,
    markdown_table,
    percentiles,
    timed,
    write_results,
)
from service.config import PROJECT_ROOT
from service.local_neo4j import LocalNeo4j

# Migration nodes are bookkeeping: a bulk load writes them, a transactional one into an emptied store does not.
COUNTS = "RETURN COUNT { (n) WHERE NOT n:Migration } AS nodes, COUNT { ()-[]->() } AS relationships"
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


HEADERS = ["method", "claims", "nodes", "relationships", "load s", "claims/s", "peak RSS MB", "repeat s"]
HEADERS.append("repeat claims/s")


def bulk_row(neo4j: LocalNeo4j, claims: int, actors: int, reports: int) -> dict[str, Any]:
    """`kb seed --bulk` of the generated graph into a new store of the bench's local server."""
    graph = generated_graph(actors, reports)
    fresh_store(neo4j)
    env = {key: value for key, value in environment(neo4j).items() if key not in ("NEO4J_URI", "NEO4J_DATABASE")}
    env.update(
        KB_NEO4J_HOME=str(neo4j.home),
        KB_NEO4J_BOLT_PORT=str(neo4j.bolt_port),
        KB_NEO4J_HEAP=neo4j.heap,
        KB_NEO4J_PAGECACHE=neo4j.pagecache,
    )
    print(f"bulk loading {claims:,} claims from {graph.name} ...", flush=True)
    load = timed([str(KB), "seed", "--bulk", str(graph)], env)
    [loaded] = cypher(neo4j, COUNTS)
    phases = dict(
        (name, float(seconds)) for name, seconds in re.findall(r"(\w+) ([\d.]+) s", load.stdout.split("peak RSS")[0])
    )
    rss = re.search(r"peak RSS: kb (\d+) MB, importer (\d+) MB", load.stdout)
    if rss is None:
        raise RuntimeError(f"kb seed --bulk did not report its memory:\n{load.stdout}")
    kb_mb, importer_mb = int(rss.group(1)), int(rss.group(2))
    conversion = re.search(r"the conversion process beside kb: (\d+) MB", load.stdout)
    return {
        "method": "bulk",
        "claims": claims,
        "actors": actors,
        "reports": reports,
        "nodes": loaded["nodes"],
        "relationships": loaded["relationships"],
        "seconds": round(load.seconds, 1),
        "claims_per_s": round(claims / load.seconds),
        # CPU the command used, with its conversion process and the importer (not the server's index build):
        # on shared cores, the figure the load average does not inflate.
        "cpu_s": round(load.cpu_seconds, 1),
        "peak_rss_mb": kb_mb + importer_mb,
        "kb_peak_rss_mb": kb_mb,
        "importer_peak_rss_mb": importer_mb,
        # Runs beside kb, before the importer; the importer figure is the largest child's, so it is at least this.
        "conversion_peak_rss_mb": None if conversion is None else int(conversion.group(1)),
        "phases_s": phases,
        "load_average": load_average(),
    }


def previous_rows(methods: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of the methods not run now, and the previous ingestReport figures, from the last results."""
    try:
        previous = json.loads((RESULTS / "seed.json").read_text())
    except FileNotFoundError:
        return [], {}
    rows = [r for r in previous["rows"] if r.get("method", "transactional") not in methods]
    for row in rows:
        row.setdefault("method", "transactional")
        row.setdefault("measured", previous["machine"]["date"])
    return rows, previous.get("ingest_report", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="Claims per graph.")
    parser.add_argument("--ingests", type=int, default=300, help="ingestReport calls to time.")
    parser.add_argument("--warmup", type=int, default=20_000, help="Claims loaded (and deleted) before timing.")
    parser.add_argument("--methods", nargs="+", choices=["transactional", "bulk"], default=["transactional", "bulk"])
    parser.add_argument("--port", type=int, help="Bolt port of the bench's own Neo4j (KB_BENCH_NEO4J_BOLT_PORT, 7697).")
    args = parser.parse_args()

    neo4j = bench_neo4j(port=args.port)
    neo4j.start()
    # A new store, not a delete: `make bench` leaves a graph of up to a million claims there, and deleting
    # that, even in batches, ran past Neo4j's 60 s limit on the statement's own transaction.
    fresh_store(neo4j)
    env = environment(neo4j)
    subprocess.run([str(KB), "schema", "apply"], env=env, check=True, stdout=subprocess.DEVNULL)
    if args.warmup and "transactional" in args.methods:
        # A fresh JVM compiles as it goes: the first load would measure the compiler.
        timed([str(KB), "seed", str(generated_graph(max(10, args.warmup // 10), max(1, args.warmup // 5)))], env)
    rows, ingest_report = previous_rows(args.methods)
    for claims in sorted(args.sizes) if "transactional" in args.methods else []:
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
                "method": "transactional",
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
                "load_average": load_average(),
            }
        )
    for claims in sorted(args.sizes) if "bulk" in args.methods else []:
        rows.append(bulk_row(neo4j, claims, max(10, claims // 10), max(1, claims // 5)))
    rows.sort(key=lambda r: (r["method"] != "transactional", r["claims"]))
    largest = max(rows, key=lambda r: r["claims"])
    if args.ingests:
        # On the graph the last load left (the largest of those run now).
        ingest_report = ingest_latency(env, actors=largest["actors"], count=args.ingests)
    latency = ingest_report
    table = markdown_table(
        HEADERS,
        [
            [
                r["method"],
                f"{r['claims']:,}",
                f"{r['nodes']:,}",
                f"{r['relationships']:,}",
                r["seconds"],
                f"{r['claims_per_s']:,}",
                r["peak_rss_mb"],
                r.get("repeat_seconds", "-"),
                f"{r['repeat_claims_per_s']:,}" if "repeat_claims_per_s" in r else "-",
            ]
            for r in rows
        ],
    )
    for r in rows:
        if r["method"] == "bulk":
            phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in r["phases_s"].items())
            table += (
                f"\n\nbulk, {r['claims']:,} claims: {phases}; CPU {r.get('cpu_s', '-')} s; peak RSS kb "
                f"{r['kb_peak_rss_mb']} MB + importer {r['importer_peak_rss_mb']} MB (conversion process "
                f"{r.get('conversion_peak_rss_mb', '-')} MB); load average {r['load_average']}"
            )
    table += (
        f"\n\ningestReport, 5 claims, on the {largest['claims']:,}-claim graph, "
        + (f"{args.ingests} calls over HTTP: " if args.ingests else "(the previous run's figures): ")
        + f"new report p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms; "
        f"same report again p50 {latency['repeat_p50_ms']:.1f} ms, p99 {latency['repeat_p99_ms']:.1f} ms"
    )
    write_results("seed", rows, table, {"ingest_report": latency, "neo4j_heap": neo4j.heap})


if __name__ == "__main__":
    main()
