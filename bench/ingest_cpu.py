"""CPU of one ingestReport in process: through service.app's ASGI app (HTTP checks, GraphQL, the writer) and
through the writer alone (the bench's driver floor), interleaved in one process, so that what kb spends above
its writer is measured under the same load as the writer itself.

    KB_BENCH_NEO4J_BOLT_PORT=7721 .venv/bin/python -m bench.ingest_cpu --requests 150

Runs against the bench Neo4j (started if it is not running; the large graph should be loaded: see
bench/perf.py), with the bench's request: a new report of 5 claims about stored actors, `{ created }`. The
ASGI app is called directly (no sockets for HTTP). CPU is this process's (time.process_time): each request's,
the median; with ``--concurrency`` above 1 (kb's requests only, that many at once), all of theirs over their
number. The garbage collector's comes from gc.callbacks. To compare two commits, run it in both checkouts
alternately and take medians: the machine's load moves each figure by more than most changes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import bench_neo4j
from bench.perf import SCENARIOS, TOKEN, Pools, remove_ingested
from service.app import create_app
from service.config import Settings
from service.graph.driver import Database
from service.ingest.models import SeedDocument
from service.ingest.writer import write_document

QUERY = next(s.kb for s in SCENARIOS if s.name == "ingest-report")


class CollectorTime:
    """Time spent in the garbage collector while installed in gc.callbacks: CPU by generation, and each
    collection's wall time (a pause for every request in flight)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self.pauses: list[float] = []
        self.started = 0.0
        self.started_wall = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.process_time()
            self.started_wall = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.process_time() - self.started
            self.collections[info["generation"]] += 1
            self.pauses.append(time.perf_counter() - self.started_wall)


def asgi_post(app: Any, body: bytes) -> Callable[[], Awaitable[tuple[int, bytes]]]:
    """One POST /graphql as a writer, straight into the ASGI app."""
    headers = [
        (b"host", b"kb"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {TOKEN}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip

    async def post() -> tuple[int, bytes]:
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        answer: dict[str, Any] = {"status": 0, "body": b""}

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client stays until the answer is sent
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            else:
                answer["body"] += message.get("body", b"")

        await app(scope, receive, send)
        return answer["status"], answer["body"]

    return post


async def measure(requests: int, concurrency: int) -> dict[str, Any]:
    neo4j = bench_neo4j()
    neo4j.start()
    settings = Settings(NEO4J_URI=neo4j.uri, NEO4J_USER=neo4j.user, NEO4J_PASSWORD=neo4j.password,
                        KB_TOKENS=f"{TOKEN}:writer", LOG_LEVEL="warning")  # fmt: skip
    pools = Pools(neo4j, random.Random(7))
    run = f"cpu{os.getpid()}"
    app = create_app(settings)
    db = Database.connect(settings)
    cpu: dict[str, list[float]] = {"kb": [], "writer": []}
    count = 0

    async def one(contender: str, kept: bool) -> None:
        nonlocal count
        count += 1
        document = pools.document(f"{run}-{contender}", count)
        body = json.dumps({"query": QUERY, "variables": {"input": document}}).encode()
        post = asgi_post(app, body)
        started = time.process_time()
        if contender == "kb":
            status, answer = await post()
            if status != 200 or b'"errors"' in answer:
                raise RuntimeError(f"kb answered {status}: {answer[:500]!r}")
        else:
            await write_document(db, SeedDocument.model_validate(json.loads(body)["variables"]["input"]))
        if kept:
            cpu[contender].append((time.process_time() - started) * 1000)

    collector = CollectorTime()
    made = 2 * requests
    try:
        async with app.router.lifespan_context(app):
            for _ in range(10):  # warm up: connections, cached statements and plans
                await one("kb", False)
                await one("writer", False)
            gc.callbacks.append(collector)
            if concurrency == 1:
                for _ in range(requests):
                    await one("kb", True)
                    await one("writer", True)
            else:

                async def client() -> None:
                    for _ in range(requests // concurrency):
                        await one("kb", True)

                # Requests interleave: the CPU of all of them over their number, not each one's own.
                started = time.process_time()
                await asyncio.gather(*(client() for _ in range(concurrency)))
                cpu["kb"] = [(time.process_time() - started) * 1000 / len(cpu["kb"])]
                made = concurrency * (requests // concurrency)
    finally:
        if collector in gc.callbacks:
            gc.callbacks.remove(collector)
        await db.close()
        remove_ingested(neo4j)
    result: dict[str, Any] = {
        "concurrency": concurrency,
        "kb_cpu_ms": statistics.median(cpu["kb"]),
        "gc_ms_per_request": sum(collector.seconds) * 1000 / made,
        "gc_collections": collector.collections,
        "load_average": os.getloadavg(),
    }
    if cpu["writer"]:
        result["writer_cpu_ms"] = statistics.median(cpu["writer"])
        result["kb_above_writer_ms"] = result["kb_cpu_ms"] - result["writer_cpu_ms"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=150, help="Measured requests of each kind.")
    parser.add_argument("--concurrency", type=int, default=1, help="kb's requests in flight at once (>1: kb only).")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.requests, args.concurrency))))


if __name__ == "__main__":
    main()
