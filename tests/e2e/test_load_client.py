"""The benchmark's HTTP client against the real server: it counts answers and errors as a GraphQL client would."""

from __future__ import annotations

import asyncio

from bench.load import _response, run


async def test_counts_each_answer_and_each_error(server: str) -> None:
    good = {"body": {"query": "{ __typename }"}}
    refused = {"body": {"query": "{ nosuchfield }"}}  # 200 under application/json, with `errors`
    result = await run({"kind": "http", "url": f"{server}/graphql", "requests": [good, refused]}, 2, 0.5)
    assert result["requests"] >= 4
    # The requests alternate, so half of them (give or take the one in flight at the deadline) are errors.
    assert abs(result["errors"] - result["requests"] / 2) <= 1


async def read(raw: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    reader = asyncio.StreamReader()
    reader.feed_data(raw)
    reader.feed_eof()
    return await _response(reader)


async def test_reads_a_chunked_body_and_a_sized_one() -> None:
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n4;x=1\r\n: 1}\r\n0\r\n\r\n'
    assert await read(chunked) == (200, {b"transfer-encoding": b"chunked"}, b'{"a": 1}')
    sized = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    assert await read(sized) == (400, {b"content-length": b"2", b"connection": b"close"}, b"{}")
