"""kb against the Neo4j GraphQL Library and the driver floor, on the same Neo4j and graph, in one run.

    .venv/bin/python -m bench.perf        # both graphs, concurrency 1, 8, 32, three interleaved 5 s rounds
    .venv/bin/python -m bench.perf --graphs large --scenarios claims-page-100 --concurrency 1 8

Contenders, interleaved within each round: `kb` (uvicorn with the 2 workers the README
recommends for 2 cores), `neo4j-graphql` (@neo4j/graphql 7 on Apollo Server,
bench/neo4j-graphql/) and `driver-floor` (the Cypher kb sends for the same
request, replayed through the Python driver: no HTTP, no GraphQL); and, when
asked for with `--contenders`, `http-floor` (the same replay behind uvicorn and
Starlette as kb runs them: HTTP, no GraphQL; bench/http_floor.py). Load comes
from a separate process (bench/load.py). Results: bench/results/latest.json,
bench/results/perf.md and PNG charts.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import base64
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.common import (
    KB,
    RESULTS,
    Server,
    auto_commit,
    bench_neo4j,
    cypher,
    free_port,
    fresh_store,
    generated_graph,
    machine,
    markdown_table,
)
from service.api.auth import Role
from service.api.graphiql import EXAMPLES
from service.config import PROJECT_ROOT, UVICORN_FLAGS, Settings
from service.graph.driver import Database, recorded_statements, request_round_trips
from service.local_neo4j import LocalNeo4j

TOKEN = "bench-perf-writer-token-0123456789"
NGQL_DIR = PROJECT_ROOT / "bench" / "neo4j-graphql"
KB_WORKERS = 2
# Seconds of warm-up per contender and scenario: the slowest (the library's headline, 4 a second at 1 client)
# still sends each of its 10 distinct requests.
WARM_UP_S = 3.0


@dataclass(frozen=True)
class Scenario:
    name: str
    kb: str
    neo4j_graphql: str
    write: bool = False


HEADLINE_KB = EXAMPLES[0].query  # DESIGN.md's headline query, as GraphiQL opens with it
HEADLINE_NGQL = """query AnonymousClaimsAbout($name: String!) {
  actors(where: { name: { eq: $name } }) {
    id
    name
    claimsAboutConnection(
      first: 20
      where: { node: { retracted: { eq: false }, source: { some: { anonymous: { eq: true } } } } }
    ) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          text
          source { name anonymous descriptor }
          reports { title url publishedAt publisher { name } cites { title publisher { name } } }
        }
      }
    }
  }
}"""

SCENARIOS = [
    Scenario(
        "point-lookup",
        "query($id: ID!) { node(id: $id) { ... on Claim { id text modality } } }",
        "query($id: ID!) { claims(where: { id: { eq: $id } }) { id text modality } }",
    ),
    Scenario("headline", HEADLINE_KB, HEADLINE_NGQL),
    Scenario(
        "neighbourhood-2-hops",
        "query($name: String!) { actor(name: $name) { neighbors(depth: 2) { distance actor { name } } } }",
        """query($name: String!) { actors(where: { name: { eq: $name } }) {
             relatedTo { name relatedTo { name } relatedFrom { name } }
             relatedFrom { name relatedTo { name } relatedFrom { name } } } }""",
    ),
    Scenario(
        "claims-page-100",
        "{ claims(first: 100) { edges { node { text source { name } reports { title publisher { name } } } } } }",
        "{ claims(limit: 100, where: { retracted: { eq: false } }) "
        "{ text source { name } reports { title publisher { name } } } }",
    ),
    Scenario(
        "search",
        "query($text: String!) { search(text: $text, first: 20) { node { ... on Claim { text } } } }",
        "query($text: String!) { claimsSearch(phrase: $text, first: 20) { edges { node { text } } } }",
    ),
    Scenario(
        "ingest-report",
        "mutation($input: IngestReportInput!) { ingestReport(input: $input) { created } }",
        "mutation($input: [ReportCreateInput!]!) { createReports(input: $input) { reports { id } } }",
        write=True,
    ),
]


# -- what each request asks for ------------------------------------------------------


def gid(kind: str, key: str) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


class Pools:
    """Variables for each scenario, drawn once from the loaded graph, shared by every contender."""

    def __init__(self, neo4j: LocalNeo4j, rng: random.Random) -> None:
        self.popular = [
            r["name"]
            for r in cypher(
                neo4j,
                """MATCH (a:Actor) WHERE NOT coalesce(a.anonymous, false) AND a.name STARTS WITH 'Actor '
                   RETURN a.name AS name ORDER BY COUNT { (a)<-[:ABOUT]-() } DESC LIMIT 10""",
            )
        ]
        reports = cypher(neo4j, "MATCH (r:Report) WHERE r.id STARTS WITH 'report-' RETURN count(r) AS n")[0]["n"]
        self.claims = [f"claim-{rng.randrange(reports)}-{rng.randrange(5)}" for _ in range(200)]
        # kb generate defines an actor only when a report uses it: the ids have gaps, so list those stored.
        self.actors = [
            r["id"]
            for r in cypher(
                neo4j,
                """MATCH (a:Actor) WHERE a.id STARTS WITH 'actor-'
                   RETURN a.id AS id ORDER BY toInteger(substring(a.id, 6)) LIMIT 20000""",
            )
        ]
        self.words = [f"report {rng.randrange(reports)}" for _ in range(200)]

    def variables(self, scenario: str, i: int, kb: bool = True) -> dict[str, Any]:
        if scenario == "point-lookup":
            key = self.claims[i % len(self.claims)]
            return {"id": gid("Claim", key) if kb else key}
        if scenario in ("headline", "neighbourhood-2-hops"):
            return {"name": self.popular[i % len(self.popular)]}
        if scenario == "search":
            return {"text": self.words[i % len(self.words)]}
        return {}

    def document(self, run: str, i: int) -> dict[str, Any]:
        """A new report of 5 claims about existing actors, in the seed format."""
        report = f"perf-{run}-{i}"
        return {
            "report": {"id": report, "title": f"Perf report {i}", "publisher": "outlet-1", "publishedAt": "2024-05-01"},
            "claims": [
                {
                    "id": f"{report}-c{k}",
                    "text": f"Perf claim {k} of report {i}",
                    "source": self.actors[(i * 7 + k) % len(self.actors)],
                    "about": [self.actors[(i + k) % 50]],
                }
                for k in range(5)
            ],
        }


def ngql_create(document: dict[str, Any]) -> dict[str, Any]:
    def connect(key: str) -> dict[str, Any]:
        return {"where": {"node": {"id": {"eq": key}}}}

    report = document["report"]
    return {
        "id": report["id"],
        "title": report["title"],
        "publishedAt": report["publishedAt"],
        "publisher": {"connect": [connect(report["publisher"])]},
        "claims": {
            "create": [
                {
                    "node": {
                        "id": c["id"],
                        "text": c["text"],
                        "modality": "asserted",  # as kb stores it: the graph is shared
                        "retracted": False,
                        "source": {"connect": [connect(c["source"])]},
                        "about": {"connect": [connect(a) for a in c["about"]]},
                    }
                }
                for c in document["claims"]
            ]
        },
    }


# -- contenders -------------------------------------------------------------------------


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids.extend(int(c) for c in children)
        except (OSError, StopIteration):
            continue
    return total / 1024


class PeakRss:
    """Samples a process tree's RSS every 0.2 s while a measurement runs."""

    def __init__(self, pid: int | None) -> None:
        self.pid, self.peak = pid, 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.done.is_set() and self.pid is not None:
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            self.done.wait(0.2)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()


def load(work: dict[str, Any], concurrency: int, duration: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(work, f)
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.load",
                f.name,
                "--concurrency",
                str(concurrency),
                "--duration",
                str(duration),
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(f.name)
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


# -- what kb sends: round trips, and the Cypher the floor replays --------------------------


async def kb_cypher(settings: Settings, query: str, variables: list[dict[str, Any]]) -> tuple[int, list[Any]]:
    """Round trips of one request, and for each variables the statements kb sent for it."""
    from service.api.auth import Credentials
    from service.api.context import Context
    from service.api.schema import schema

    db = Database.connect(settings)
    recorded: list[Any] = []
    trips = 0
    try:
        for values in variables:
            counter = [0]
            token_trips = request_round_trips.set(counter)
            try:
                with recorded_statements() as log:
                    context = Context.create(db, settings, credentials=Credentials(Role.READER, presented=True))
                    result = await schema.execute(query, variable_values=values, context_value=context)
            finally:
                request_round_trips.reset(token_trips)
            if result.errors:
                raise RuntimeError(f"kb refused a benchmark query: {result.errors[0].message}")
            recorded.append([[c, p] for c, p in log])
            trips = counter[0]
    finally:
        await db.close()
    return trips, recorded


# -- the run ------------------------------------------------------------------------------------


# The two graphs: claims in each (one actor per ten claims, one report per five).
GRAPHS = {"small": 10_000, "large": 1_000_000}


def ensure_graph(neo4j: LocalNeo4j, env: dict[str, str], name: str) -> None:
    """Leave the named graph loaded in the bench Neo4j: kept when it is there, else loaded with `kb seed`.

    A (:BenchGraph) node says which graph is loaded; what the ingest scenario
    wrote is removed before each run (remove_ingested).
    """
    claims = GRAPHS[name]
    if cypher(neo4j, "MATCH (g:BenchGraph {claims: $claims}) RETURN count(g) AS n", claims=claims)[0]["n"]:
        return
    print(f"loading the {name} graph ({claims:,} claims) into a new store ...", flush=True)
    fresh_store(neo4j)
    subprocess.run([str(KB), "schema", "apply"], env=env, check=True, stdout=subprocess.DEVNULL)
    graph = generated_graph(max(10, claims // 10), max(1, claims // 5))
    subprocess.run([str(KB), "seed", str(graph)], env=env, check=True, stdout=subprocess.DEVNULL)
    cypher(neo4j, "CREATE (:BenchGraph {claims: $claims})", claims=claims)
    # Indexes online (Community has no procedure to force a checkpoint), so no contender waits on them.
    cypher(neo4j, "CALL db.awaitIndexes(600)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graphs", nargs="+", choices=list(GRAPHS), default=list(GRAPHS))
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--duration", type=float, default=5.0, help="Seconds per measurement.")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Measurements of each cell per contender, interleaved; rows are medians."
    )
    parser.add_argument("--scenarios", nargs="+", default=[s.name for s in SCENARIOS])
    parser.add_argument(
        "--contenders",
        nargs="+",
        choices=["kb", "neo4j-graphql", "driver-floor", "http-floor"],
        default=["kb", "neo4j-graphql", "driver-floor"],
    )
    parser.add_argument("--name", default="latest", help="Results file stem: bench/results/<name>.json.")
    args = parser.parse_args()

    neo4j = bench_neo4j()
    neo4j.start()
    env = {**os.environ, "NEO4J_URI": neo4j.uri, "NEO4J_USER": neo4j.user, "NEO4J_PASSWORD": neo4j.password}
    loaded = {r["claims"] for r in cypher(neo4j, "MATCH (g:BenchGraph) RETURN g.claims AS claims")}
    rows: list[dict[str, Any]] = []
    # The graph already loaded first: loading the large one takes minutes.
    for graph in sorted(args.graphs, key=lambda g: GRAPHS[g] not in loaded):
        ensure_graph(neo4j, env, graph)
        rows += run_graph(args, neo4j, env, graph)
        report(rows, args)


def remove_ingested(neo4j: LocalNeo4j) -> None:
    """Delete the reports and claims the ingest scenario wrote (ids `perf-...`), so every run reads the same graph."""
    for label in ("Claim", "Report"):
        auto_commit(neo4j, f"MATCH (n:{label}) WHERE n.id STARTS WITH 'perf-' "
                           "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS")  # fmt: skip


def run_graph(args: argparse.Namespace, neo4j: LocalNeo4j, env: dict[str, str], graph: str) -> list[dict[str, Any]]:
    """Every contender on every scenario and concurrency, on the graph loaded."""
    remove_ingested(neo4j)
    settings = Settings(NEO4J_URI=neo4j.uri, NEO4J_USER=neo4j.user, NEO4J_PASSWORD=neo4j.password)
    pools = Pools(neo4j, random.Random(7))
    scenarios = [s for s in SCENARIOS if s.name in args.scenarios]
    run_id = time.strftime("%Y%m%d%H%M%S")
    per_request = 4_000  # distinct requests cycled through by each measurement

    trips: dict[str, int] = {}
    floor_work: dict[str, list[Any]] = {}
    for scenario in scenarios:
        if scenario.write:
            trips[scenario.name] = 1  # one transaction: the plan and the write
            continue
        variables = [pools.variables(scenario.name, i) for i in range(20)]
        trips[scenario.name], floor_work[scenario.name] = asyncio.run(kb_cypher(settings, scenario.kb, variables))

    rows: list[dict[str, Any]] = []
    servers: dict[str, Server] = {}
    try:
        # Both servers stay up for the whole run, so each cell is measured for every contender in turn
        # (the order rotating from cell to cell): a drift in the machine falls on all of them alike.
        if "kb" in args.contenders:
            servers["kb"] = start_kb(env)
        if "neo4j-graphql" in args.contenders:
            servers["neo4j-graphql"] = start_neo4j_graphql(env)
        if "http-floor" in args.contenders:
            servers["http-floor"] = start_http_floor(env, floor_work)
        connection = {"uri": neo4j.uri, "user": neo4j.user, "password": neo4j.password}
        cell = 0
        for scenario in scenarios:

            def works_for(tag: str, scenario: Scenario = scenario) -> dict[str, dict[str, Any]]:
                return {
                    contender: work_for(contender, scenario, pools, tag, per_request, servers, connection, floor_work)
                    for contender in args.contenders
                    if not (scenario.write and contender == "http-floor")  # a floor of reads only
                }

            # Warm-up, each contender on its own: a read goes through every distinct request it will be measured
            # on (a request first read at random from a cold page cache took 2 to 3 times as long, and whichever
            # contender came first paid for it); a write, 20 reports.
            for work in works_for(f"{run_id}-warm").values():
                if scenario.write:
                    work = {**work, "requests": work["requests"][:20]}
                load(work, 4, WARM_UP_S)
            works = works_for(run_id)
            for concurrency in args.concurrency:
                rounds: dict[str, list[dict[str, Any]]] = {contender: [] for contender in works}
                for round_ in range(args.rounds):
                    if scenario.write:  # new reports in every cell: the same ones again would be no write at all
                        works = works_for(f"{run_id}-c{concurrency}-r{round_}")
                    order = list(works)
                    order = order[cell % len(order) :] + order[: cell % len(order)]
                    cell += 1
                    for contender in order:
                        server = servers.get(contender)
                        counted_by_kb = scenario.write and contender == "kb"
                        before = write_counts(server) if server and counted_by_kb else None
                        with PeakRss(server.process.pid if server else None) as rss:
                            result = load(works[contender], concurrency, args.duration)
                        if server and before:
                            after = write_counts(server)
                            result.update({key: after[key] - before[key] for key in after})
                        rounds[contender].append(
                            {
                                "throughput_rps": round(result["throughput_rps"], 1),
                                "p50_ms": round(result["p50_ms"], 2),
                                "p99_ms": round(result["p99_ms"], 2),
                                "errors": result["errors"],
                                "rss_mb": round(rss.peak, 1) if server else None,
                                # kb's (from /metrics) and the floor's (in process); the library's are not
                                # visible from outside it.
                                "writes": result.get("writes"),
                                "retries": result.get("retries"),
                            }
                        )
                        print(
                            scenario.name, graph, concurrency, contender, json.dumps(rounds[contender][-1]), flush=True
                        )
                for contender, measured in rounds.items():
                    trips_here = trips[scenario.name] if contender != "neo4j-graphql" else 1
                    rows.append(summary_row(scenario.name, graph, concurrency, contender, measured, trips_here))
    finally:
        for server in servers.values():
            server.stop()
    return rows


def summary_row(
    scenario: str, graph: str, concurrency: int, contender: str, rounds: list[dict[str, Any]], round_trips: int
) -> dict[str, Any]:
    """One contender's row for a cell: the median of its rounds' throughput, p50 and p99, errors summed, the
    peak RSS; each round as measured under ``rounds``."""
    rss = [r["rss_mb"] for r in rounds if r["rss_mb"] is not None]
    writes = sum(r.get("writes") or 0 for r in rounds)
    retries = sum(r.get("retries") or 0 for r in rounds)
    return {
        "scenario": scenario,
        "graph": graph,
        "concurrency": concurrency,
        "contender": contender,
        "throughput_rps": round(statistics.median(r["throughput_rps"] for r in rounds), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in rounds), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in rounds), 2),
        "errors": sum(r["errors"] for r in rounds),
        "rss_mb": max(rss) if rss else None,
        "round_trips": round_trips,
        # Times a write's transaction ran again, per write, over all rounds (None: not a write, or not known).
        "retries_per_request": round(retries / writes, 3) if writes else None,
        "rounds": rounds,
    }


def write_counts(server: Server) -> dict[str, float]:
    """kb's writes and their retries so far, every worker's, from its /metrics."""
    text = httpx.get(server.url.removesuffix("/graphql") + "/metrics", timeout=10).text
    samples = [sample for family in text_string_to_metric_families(text) for sample in family.samples]
    return {
        "writes": sum(s.value for s in samples if s.name == "kb_writes_total"),
        "retries": sum(s.value for s in samples if s.name == "kb_write_retries_total"),
    }


def start_kb(env: dict[str, str]) -> Server:
    """kb as deployed: uvicorn with the workers the README recommends for 2 cores, their metrics summed as
    `kb serve` sums them (a multiprocess directory of their own)."""
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="kb-bench-metrics-")
    atexit.register(shutil.rmtree, metrics_dir, True)
    kb_env = {**env, "KB_TOKENS": f"{TOKEN}:writer", "LOG_LEVEL": "warning", "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "service.app:create_app",
        "--port",
        str(port),
        *UVICORN_FLAGS,
    ]
    return Server("kb", [*command, "--workers", str(KB_WORKERS), "--log-level", "warning"], kb_env, PROJECT_ROOT,
                  f"http://127.0.0.1:{port}/graphql")  # fmt: skip


def start_http_floor(env: dict[str, str], floor_work: dict[str, list[Any]]) -> Server:
    """bench/http_floor.py under uvicorn as kb is run (its flags and workers), replaying ``floor_work``."""
    port = free_port()
    with tempfile.NamedTemporaryFile("w", prefix="kb-bench-http-floor-", suffix=".json", delete=False) as f:
        json.dump(floor_work, f)
    atexit.register(os.unlink, f.name)
    command = [sys.executable, "-m", "uvicorn", "bench.http_floor:app", "--port", str(port), *UVICORN_FLAGS]
    return Server("http-floor", [*command, "--workers", str(KB_WORKERS), "--log-level", "warning"],
                  {**env, "HTTP_FLOOR_WORK": f.name}, PROJECT_ROOT, f"http://127.0.0.1:{port}/")  # fmt: skip


def start_neo4j_graphql(env: dict[str, str]) -> Server:
    port = free_port()
    return Server("neo4j-graphql", ["node", "server.mjs"], {**env, "PORT": str(port)}, NGQL_DIR,
                  f"http://127.0.0.1:{port}/")  # fmt: skip


def work_for(contender: str, scenario: Scenario, pools: Pools, tag: str, per_request: int,
             servers: dict[str, Server], connection: dict[str, str],
             floor_work: dict[str, list[Any]]) -> dict[str, Any]:  # fmt: skip
    """What the load process sends for one contender and scenario; ``tag`` goes into written reports' ids."""
    count = per_request if scenario.write else 200
    if contender == "driver-floor":
        # kb's own Cypher through the Python driver, in the load process.
        if scenario.write:
            documents = [pools.document(f"floor-{tag}", i) for i in range(per_request)]
            return {"kind": "ingest", **connection, "requests": documents}
        return {"kind": "cypher", **connection, "requests": floor_work[scenario.name]}
    url = servers[contender].url
    if contender == "http-floor":
        bodies = [{"scenario": scenario.name, "i": i} for i in range(len(floor_work[scenario.name]))]
        return {"kind": "http", "url": url, "requests": [{"body": b} for b in bodies]}
    if contender == "kb":
        headers = {"authorization": f"Bearer {TOKEN}"} if scenario.write else {}
        bodies = [
            {
                "query": scenario.kb,
                "variables": {"input": pools.document(f"kb-{tag}", i)}
                if scenario.write
                else pools.variables(scenario.name, i),
            }
            for i in range(count)
        ]
        return {"kind": "http", "url": url, "requests": [{"body": b, "headers": headers} for b in bodies]}
    bodies = [
        {
            "query": scenario.neo4j_graphql,
            "variables": {"input": [ngql_create(pools.document(f"ngql-{tag}", i))]}
            if scenario.write
            else pools.variables(scenario.name, i, kb=False),
        }
        for i in range(count)
    ]
    return {"kind": "http", "url": url, "requests": [{"body": b} for b in bodies]}


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(rows, indent=1) + "\n")
    machine_file = "perf-machine.json" if args.name == "latest" else f"{args.name}-machine.json"
    described = {"machine": machine(), "duration_s": args.duration, "rounds": args.rounds}
    (RESULTS / machine_file).write_text(json.dumps(described, indent=2) + "\n")
    by_key = {(r["graph"], r["scenario"], r["concurrency"], r["contender"]): r for r in rows}
    table_rows = []
    for (graph, scenario, concurrency, contender), r in sorted(
        by_key.items(), key=lambda item: (GRAPHS[item[0][0]], item[0][1:])
    ):
        ngql = by_key.get((graph, scenario, concurrency, "neo4j-graphql"))
        floor = by_key.get((graph, scenario, concurrency, "driver-floor"))
        ratios = [median_ratio(r, other) if other else None for other in (ngql, floor)]
        rss = r["rss_mb"] if r["rss_mb"] is not None else ""
        retries = r.get("retries_per_request")
        measured = [r["throughput_rps"], r["p50_ms"], r["p99_ms"], r["errors"], rss, r["round_trips"],
                    "" if retries is None else f"{retries:.3f}"]  # fmt: skip
        shown = ["" if ratio is None else f"{ratio:.2f}" for ratio in ratios]
        table_rows.append([graph, scenario, concurrency, contender, *measured, *shown])
    table = markdown_table(
        [
            "graph",
            "scenario",
            "concurrency",
            "contender",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "RSS MB",
            "round trips",
            "retries/write",
            "vs neo4j-graphql",
            "vs driver floor",
        ],
        table_rows,
    )
    checked = targets(by_key)
    (RESULTS / ("perf.md" if args.name == "latest" else f"{args.name}.md")).write_text(table + "\n\n" + checked)
    print(table + "\n\n" + checked)
    if args.name == "latest":
        charts(rows)


def side_by_side(row: dict[str, Any], other: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each round of ``row`` with the same round of ``other`` (measured one after the other)."""
    return list(zip(row["rounds"], other["rounds"], strict=True))


def median_ratio(row: dict[str, Any], other: dict[str, Any]) -> float | None:
    """The median over rounds of ``row``'s throughput over ``other``'s in the same round."""
    ratios = [a["throughput_rps"] / b["throughput_rps"] for a, b in side_by_side(row, other) if b["throughput_rps"]]
    return statistics.median(ratios) if ratios else None


READ_TARGET = 1.5  # kb's throughput over the library's, every read scenario and concurrency, large graph
HEADLINE_P50_MS = 1.5  # kb's headline p50 over the floor's, at concurrency 1
HEADLINE_TAIL = 3.0  # kb's headline p99 over its p50, at concurrency 8
RSS_MB = 300.0  # kb's peak RSS at concurrency 32
FLOOR_AIM = 0.75  # kb's throughput over the driver floor's: an aim, every read scenario and concurrency


def targets(by_key: dict[tuple[str, str, int, str], dict[str, Any]]) -> str:
    """The issue's targets on the large graph, each as the median over rounds of what was measured side by
    side in one round; empty when the large graph was not run."""
    lines = []

    def line(what: str, value: float | None, met: bool | None, unit: str = "") -> None:
        if value is not None:
            lines.append(f"| {what} | {value:.2f}{unit} | {'met' if met else 'missed'} |")

    def row(scenario: str, concurrency: int, contender: str) -> dict[str, Any] | None:
        return by_key.get(("large", scenario, concurrency, contender))

    for scenario in [s.name for s in SCENARIOS if not s.write]:
        for concurrency in sorted({c for (g, s, c, _) in by_key if g == "large" and s == scenario}):
            kb, ngql = row(scenario, concurrency, "kb"), row(scenario, concurrency, "neo4j-graphql")
            ratio = median_ratio(kb, ngql) if kb and ngql else None
            line(f"{scenario}, concurrency {concurrency}: kb / library throughput", ratio,
                 ratio is not None and ratio >= READ_TARGET, " x")  # fmt: skip
            floor = row(scenario, concurrency, "driver-floor")
            share = median_ratio(kb, floor) if kb and floor else None
            line(f"{scenario}, concurrency {concurrency}: kb / driver floor throughput (aim)", share,
                 share is not None and share >= FLOOR_AIM, " x")  # fmt: skip
            stack = row(scenario, concurrency, "http-floor")
            reach = median_ratio(stack, ngql) if stack and ngql else None
            if reach is not None:  # what kb would reach if its GraphQL layer cost nothing
                reached = "within" if reach >= READ_TARGET else "beyond"
                lines.append(f"| {scenario}, concurrency {concurrency}: http floor / library throughput (context) "
                             f"| {reach:.2f} x | {reached} the stack's reach |")  # fmt: skip
    kb, floor = row("headline", 1, "kb"), row("headline", 1, "driver-floor")
    if kb and floor:
        over = statistics.median(a["p50_ms"] - b["p50_ms"] for a, b in side_by_side(kb, floor))
        line("headline, concurrency 1: kb p50 - floor p50", over, over <= HEADLINE_P50_MS, " ms")
    if kb8 := row("headline", 8, "kb"):
        tail = statistics.median(r["p99_ms"] / r["p50_ms"] for r in kb8["rounds"])
        line("headline, concurrency 8: kb p99 / p50", tail, tail < HEADLINE_TAIL)
    peaks = [r["rss_mb"] for (g, _, c, who), r in by_key.items() if g == "large" and c == 32 and who == "kb"]
    if peaks and None not in peaks:
        line("kb peak RSS at concurrency 32", max(peaks), max(peaks) < RSS_MB, " MB")
    if not lines:
        return ""
    head = "Targets on the large graph (medians over rounds of figures measured side by side):\n\n"
    return head + "| target | measured | |\n|---|---:|---|\n" + "\n".join(lines) + "\n"


def charts(rows: list[dict[str, Any]]) -> None:
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("matplotlib is not installed (make bench installs it): no charts")
        return
    contenders = ["kb", "neo4j-graphql", "driver-floor"]
    scenarios = sorted({r["scenario"] for r in rows})
    for graph, concurrency in sorted({(r["graph"], r["concurrency"]) for r in rows}):
        figure, axis = plt.subplots(figsize=(10, 4.5))
        width = 0.27
        for k, contender in enumerate(contenders):
            values = [
                next(
                    (
                        r["throughput_rps"]
                        for r in rows
                        if (r["graph"], r["scenario"], r["concurrency"], r["contender"])
                        == (graph, s, concurrency, contender)
                    ),
                    0,
                )
                for s in scenarios
            ]
            axis.bar([i + (k - 1) * width for i in range(len(scenarios))], values, width, label=contender)
        axis.set_xticks(range(len(scenarios)), scenarios, rotation=15)
        axis.set_ylabel("requests per second")
        axis.set_title(f"Throughput on the {graph} graph ({GRAPHS[graph]:,} claims) at concurrency {concurrency}")
        axis.legend()
        figure.tight_layout()
        figure.savefig(RESULTS / f"throughput-{graph}-c{concurrency}.png", dpi=110)
        plt.close(figure)


if __name__ == "__main__":
    main()
