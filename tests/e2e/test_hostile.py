"""Requests that once got a bare 500 or were read without bound, sent to the real server over raw sockets.

Each answer must be a 4xx with a JSON body (or, for JSON 1,000 levels deep, which is within what is read, the
answer), a coded error and an X-Request-Id, and the keep-alive connection
must carry the next request. A body that stalls gets 408 after KB_BODY_TIMEOUT; headers past
KB_MAX_HEADER_BYTES get 431, and past the server's own bound uvicorn closes the connection with 400.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import pytest

from service.config import SERVER_HEADER_LIMIT, Settings
from service.graph.driver import Database
from tests.e2e.conftest import uvicorn_serving

BODY_TIMEOUT_S = 1.0
GQL = "application/graphql-response+json"


@pytest.fixture(scope="module")
def address(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    with uvicorn_serving(
        neo4j_settings, tmp_path_factory.mktemp("hostile"), KB_BODY_TIMEOUT=str(BODY_TIMEOUT_S)
    ) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


class Connection:
    """One keep-alive HTTP/1.1 connection, read by hand: status, headers, body."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=15)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def post(self, body: bytes, accept: str = GQL, extra: bytes = b"") -> None:
        self.send(
            b"POST /graphql HTTP/1.1\r\nHost: kb\r\nContent-Type: application/json\r\nAccept: "
            + accept.encode()
            + b"\r\nContent-Length: %d\r\n" % len(body)
            + extra
            + b"\r\n"
            + body
        )

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        self.sock.settimeout(5)
        return self.sock.recv(1) == b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def coded(status: int, headers: dict[str, str], body: bytes) -> str:
    assert 400 <= status < 500, (status, body[:300])
    assert headers["content-type"].startswith(("application/json", GQL)), headers
    assert headers.get("x-request-id")
    return str(json.loads(body)["errors"][0]["extensions"]["code"])


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


HOSTILE: list[tuple[bytes, str | None]] = [
    (body(query="subscription S { __typename }"), "BAD_REQUEST"),
    (body(query="query A { __typename }", operationName="B"), "OPERATION_RESOLUTION_FAILURE"),
    (body(query="query A { __typename } query B { __typename }"), "OPERATION_RESOLUTION_FAILURE"),
    (body(query="fragment F on Query { __typename }"), "OPERATION_RESOLUTION_FAILURE"),
    (b'{"query": "query($n: String!) { actor(name: $n) { id } }", "variables": {"n": "\\ud800"}}', "BAD_REQUEST"),
    (b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * 1_000 + b"]" * 1_000 + b"}}", None),  # read: it runs
    (b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * 5_000 + b"]" * 5_000 + b"}}", "BAD_REQUEST"),
    (
        b'{"query": "{ __typename }", "variables": {"x": ' + b'{"a":' * 2_000 + b"1" + b"}" * 2_000 + b"}}",
        "BAD_REQUEST",
    ),
    (body(query="{ " + "__typename " * 5_000 + "}"), "QUERY_TOO_COMPLEX"),
]


def test_hostile_requests_get_coded_4xx_and_the_connection_stays(seeded: Database, address: tuple[str, int]) -> None:
    connection = Connection(address)
    try:
        for payload, code in HOSTILE:
            connection.post(payload)
            status, headers, answer = connection.answer()
            if code is None:
                assert (status, json.loads(answer)) == (200, {"data": {"__typename": "Query"}})
            else:
                assert coded(status, headers, answer) == code, payload[:80]
            connection.post(body(query="{ __typename }"))  # the same connection carries on
            status, _, answer = connection.answer()
            assert (status, json.loads(answer)) == (200, {"data": {"__typename": "Query"}})
    finally:
        connection.close()


def test_a_body_that_stalls_gets_408(address: tuple[str, int]) -> None:
    connection = Connection(address)
    started = time.monotonic()
    try:
        connection.send(b"POST /graphql HTTP/1.1\r\nHost: kb\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 100\r\n\r\n{\"query\": ")  # fmt: skip
        status, headers, answer = connection.answer()
        waited = time.monotonic() - started
        assert coded(status, headers, answer) == "REQUEST_TIMEOUT"
        assert status == 408
        assert BODY_TIMEOUT_S <= waited < BODY_TIMEOUT_S + 5
    finally:
        connection.close()


def test_headers_past_the_limits(address: tuple[str, int]) -> None:
    large = Connection(address)
    try:
        large.post(body(query="{ __typename }"), extra=b"X-Big: " + b"x" * (SERVER_HEADER_LIMIT // 2) + b"\r\n")
        assert coded(*large.answer()) == "REQUEST_HEADER_FIELDS_TOO_LARGE"
    finally:
        large.close()

    beyond = Connection(address)
    try:
        with suppress(BrokenPipeError, ConnectionResetError):  # the server stopped reading: its answer is below
            beyond.post(body(query="{ __typename }"), extra=b"X-Big: " + b"x" * (SERVER_HEADER_LIMIT + 1) + b"\r\n")
        status, _, _ = beyond.answer()
        assert status in (400, 431)
        assert beyond.closed()
    except (ConnectionError, OSError):
        pass  # closed before an answer could be read: also bounded
    finally:
        beyond.close()

    after = Connection(address)
    try:
        after.post(body(query="{ __typename }"))
        assert after.answer()[0] == 200
    finally:
        after.close()
