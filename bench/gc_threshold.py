"""The garbage collector's thresholds, alternated in one process: kb's CPU per request, the collector's share
and its longest pause, with requests in flight through service.app's ASGI app.

    .venv/bin/python -m bench.gc_threshold ingest-report --concurrency 16 --requests 400 700,10,10 5000,10,10
    .venv/bin/python -m bench.gc_threshold point-lookup --concurrency 16 --requests 2000 700,10,10 5000,10,10

Runs against the bench Neo4j (started if it is not running; the large graph should be loaded: see
bench/perf.py) with bench.perf's requests for the scenario, any of its six. Each round runs every threshold
once, in the order given, after a full collection; a row is the median of the rounds: the collector's CPU
per request and its longest pause (wall time). The app sets its own threshold at start (service/app.py);
this sets each one after that. What ingest-report wrote is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import time
from typing import Any

from bench.common import bench_neo4j
from bench.ingest_cpu import CollectorTime, asgi_post
from bench.perf import SCENARIOS, TOKEN, Pools, remove_ingested
from service.app import create_app
from service.config import Settings


async def measure(scenario: str, thresholds: list[tuple[int, int, int]], requests: int, concurrency: int,
                  rounds: int) -> list[dict[str, Any]]:  # fmt: skip
    neo4j = bench_neo4j()
    neo4j.start()
    settings = Settings(NEO4J_URI=neo4j.uri, NEO4J_USER=neo4j.user, NEO4J_PASSWORD=neo4j.password,
                        KB_TOKENS=f"{TOKEN}:writer", LOG_LEVEL="warning")  # fmt: skip
    pools = Pools(neo4j, random.Random(7))
    query = next(s.kb for s in SCENARIOS if s.name == scenario)
    app = create_app(settings)
    sent = 0

    def body() -> bytes:
        nonlocal sent
        sent += 1
        if scenario == "ingest-report":
            variables = {"input": pools.document("gc-threshold", sent)}
        else:
            variables = pools.variables(scenario, sent % 200)
        return json.dumps({"query": query, "variables": variables}).encode()

    async def one() -> None:
        status, answer = await asgi_post(app, body())()
        if status != 200 or b'"errors"' in answer:
            raise RuntimeError(f"kb answered {status}: {answer[:500]!r}")

    each = requests // concurrency
    made = each * concurrency
    measured: dict[tuple[int, int, int], list[tuple[float, float, float, int]]] = {t: [] for t in thresholds}
    try:
        async with app.router.lifespan_context(app):
            for _ in range(30):  # warm up: connections, cached documents and plans
                await one()
            for _ in range(rounds):
                for threshold in thresholds:
                    gc.set_threshold(*threshold)
                    gc.collect()
                    collector = CollectorTime()
                    gc.callbacks.append(collector)

                    async def client() -> None:
                        for _ in range(each):
                            await one()

                    started = time.process_time()
                    try:
                        await asyncio.gather(*(client() for _ in range(concurrency)))
                    finally:
                        gc.callbacks.remove(collector)
                    cpu_ms = (time.process_time() - started) * 1000 / made
                    gc_ms = sum(collector.seconds) * 1000 / made
                    longest_ms = max(collector.pauses, default=0.0) * 1000
                    measured[threshold].append((cpu_ms, gc_ms, longest_ms, len(collector.pauses)))
    finally:
        if scenario == "ingest-report":
            remove_ingested(neo4j)
    return [
        {
            "threshold": list(threshold),
            "cpu_ms_per_request": statistics.median(r[0] for r in rows),
            "gc_ms_per_request": statistics.median(r[1] for r in rows),
            "longest_pause_ms": statistics.median(r[2] for r in rows),
            "collections": statistics.median(r[3] for r in rows),
        }
        for threshold, rows in measured.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=[s.name for s in SCENARIOS])
    parser.add_argument("thresholds", nargs="+", help="gen0,gen1,gen2 thresholds, e.g. 700,10,10")
    parser.add_argument("--requests", type=int, default=400, help="Requests per threshold per round.")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    thresholds = []
    for text in args.thresholds:
        young, older, oldest = (int(part) for part in text.split(","))
        thresholds.append((young, older, oldest))
    rows = asyncio.run(measure(args.scenario, thresholds, args.requests, args.concurrency, args.rounds))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
