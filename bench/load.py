"""The load generator: a process of its own that keeps N requests in flight for T seconds.

    python -m bench.load WORK.json --concurrency 8 --duration 20

WORK.json says what to send, cycling through its requests:
  {"kind": "http", "url": ..., "requests": [{"body": {...}, "headers": {...}}, ...]}
  {"kind": "cypher", "uri": ..., "user": ..., "password": ..., "requests": [[[cypher, params], ...], ...]}
  {"kind": "ingest", "uri": ..., "user": ..., "password": ..., "requests": [seed document, ...]}
A `cypher` request is the statements one GraphQL request made, sent in order
through the Python driver (the floor: no HTTP, no GraphQL). An `ingest`
request is written with kb's own writer, in process. Prints one JSON object:
completed requests, errors, throughput and latency percentiles in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentiles
from neo4j import READ_ACCESS, AsyncGraphDatabase

Send = Callable[[Any], Awaitable[bool]]


async def run(work: dict[str, Any], concurrency: int, duration: float) -> dict[str, Any]:
    requests = work["requests"]
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    send, close = await _sender(work, concurrency)
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            request = requests[next(counter) % len(requests)]
            started = time.perf_counter()
            try:
                ok = await send(request)
            except Exception:  # noqa: BLE001 - a failed request is counted, and the load goes on
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await close()
    p50, p99 = percentiles(latencies) if latencies else (None, None)
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "throughput_rps": len(latencies) / elapsed,
        "p50_ms": p50,
        "p99_ms": p99,
    }


async def _sender(work: dict[str, Any], concurrency: int) -> tuple[Send, Callable[[], Awaitable[None]]]:
    if work["kind"] == "http":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        client = httpx.AsyncClient(timeout=60, limits=limits)
        url = work["url"]

        async def post(request: dict[str, Any]) -> bool:
            response = await client.post(url, json=request["body"], headers=request.get("headers", {}))
            return response.status_code == 200 and not response.json().get("errors")

        return post, client.aclose

    driver = AsyncGraphDatabase.driver(work["uri"], auth=(work["user"], work["password"]))
    if work["kind"] == "cypher":

        async def replay(statements: list[list[Any]]) -> bool:
            # As kb reads: each statement an auto-commit read transaction, its records buffered.
            for cypher, params in statements:
                async with driver.session(default_access_mode=READ_ACCESS) as session:
                    await (await session.run(cypher, params)).to_eager_result()
            return True

        return replay, driver.close

    from service.config import Settings
    from service.graph.driver import Database
    from service.ingest.models import SeedDocument
    from service.ingest.writer import write_document

    await driver.close()
    db = Database.connect(Settings(NEO4J_URI=work["uri"], NEO4J_USER=work["user"], NEO4J_PASSWORD=work["password"]))

    async def ingest(document: dict[str, Any]) -> bool:
        await write_document(db, SeedDocument.model_validate(document))
        return True

    return ingest, db.close


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work", type=Path)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True)
    args = parser.parse_args()
    work = json.loads(args.work.read_text())
    print(json.dumps(asyncio.run(run(work, args.concurrency, args.duration))))


if __name__ == "__main__":
    main()
