"""The load generator: a process of its own that keeps N requests in flight for T seconds.

    python -m bench.load WORK.json --concurrency 8 --duration 20

WORK.json says what to send, cycling through its requests:
  {"kind": "http", "url": ..., "requests": [{"body": {...}, "headers": {...}}, ...]}
  {"kind": "cypher", "uri": ..., "user": ..., "password": ..., "requests": [[[cypher, params], ...], ...]}
  {"kind": "ingest", "uri": ..., "user": ..., "password": ..., "requests": [seed document, ...]}
A `cypher` request is the statements one GraphQL request made, sent in order
through the Python driver (the floor: no HTTP, no GraphQL). An `ingest`
request is written with kb's own writer, in process. Prints one JSON object:
completed requests, errors, throughput and latency percentiles in ms; for
`ingest`, also the writes and how many times their transactions ran again.
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
from urllib.parse import urlsplit

from bench.common import percentiles
from neo4j import READ_ACCESS, AsyncDriver, AsyncGraphDatabase, Record

Send = Callable[[Any], Awaitable[bool]]


async def run(work: dict[str, Any], concurrency: int, duration: float) -> dict[str, Any]:
    requests = work["requests"]
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    send, close, counted = await _sender(work, concurrency)
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
        **counted,
    }


async def _sender(work: dict[str, Any], concurrency: int) -> tuple[Send, Callable[[], Awaitable[None]], dict[str, int]]:
    """How to send one request, how to close, and counts the sender keeps (an ingest's writes and retries)."""
    if work["kind"] == "http":
        return (*_http_sender(work), {})

    driver = AsyncGraphDatabase.driver(work["uri"], auth=(work["user"], work["password"]))
    if work["kind"] == "cypher":

        async def replay(statements: list[list[Any]]) -> bool:
            await replayed(driver, statements)
            return True

        return replay, driver.close, {}

    from service.config import Settings
    from service.graph.driver import Database
    from service.ingest.models import SeedDocument
    from service.ingest.writer import write_document

    await driver.close()
    db = Database.connect(Settings(NEO4J_URI=work["uri"], NEO4J_USER=work["user"], NEO4J_PASSWORD=work["password"]))

    counted = {"writes": 0, "retries": 0}

    async def ingest(document: dict[str, Any]) -> bool:
        summary = await write_document(db, SeedDocument.model_validate(document))
        counted["writes"] += 1
        counted["retries"] += summary.runs - 1  # its transaction run again: a deadlock, a collision on an id
        return True

    return ingest, db.close, counted


async def replayed(driver: AsyncDriver, statements: list[list[Any]]) -> list[Record]:
    """The statements one request made, as kb reads: each an auto-commit read transaction, its records
    buffered. The last one's records (bench/http_floor.py answers them)."""
    records: list[Record] = []
    for cypher, params in statements:
        async with driver.session(default_access_mode=READ_ACCESS) as session:
            records = (await (await session.run(cypher, params)).to_eager_result()).records
    return records


def _http_sender(work: dict[str, Any]) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """POSTs over keep-alive HTTP/1.1 connections, one per request in flight, each request's bytes made once.

    A general client (httpx) spent 1.3 ms of CPU per request here: on 2 cores it took 0.8 of one core
    from the servers it was measuring. This one writes bytes made before the clock starts and reads the
    status line, the headers it needs and the body; an answer counts as an error unless it is 200 and its
    JSON has no `errors`.
    """
    url = urlsplit(work["url"])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    encoded: dict[int, bytes] = {}
    for request in work["requests"]:
        body = json.dumps(request["body"]).encode()
        headers = {"host": f"{host}:{port}", "content-type": "application/json", **request.get("headers", {})}
        head = f"POST {url.path or '/'} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        encoded[id(request)] = (head + f"content-length: {len(body)}\r\n\r\n").encode() + body
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened: list[asyncio.StreamWriter] = []

    async def post(request: dict[str, Any]) -> bool:
        if idle:
            reader, writer = idle.pop()
        else:
            reader, writer = await asyncio.open_connection(host, port)
            opened.append(writer)
        writer.write(encoded[id(request)])
        status, headers, body = await _response(reader)
        if headers.get(b"connection", b"").lower() == b"close":
            writer.close()
        else:
            idle.append((reader, writer))
        return status == 200 and not json.loads(body).get("errors")

    async def close() -> None:
        for writer in opened:
            writer.close()

    return post, close


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    """One HTTP/1.1 response: status, headers (names lowercased), body (by content-length or chunked)."""
    lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name:
            headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        return status, headers, await reader.readexactly(int(headers[b"content-length"]))
    if headers.get(b"transfer-encoding", b"").lower() != b"chunked":
        raise ValueError("a response with neither content-length nor chunked encoding")
    chunks = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        chunks.append(await reader.readexactly(size + 2))
    await reader.readuntil(b"\r\n")  # no trailers are sent; the chunked body ends with an empty line
    return status, headers, b"".join(chunk[:-2] for chunk in chunks)


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
