"""Auto-commit reads over Bolt connections of the service's own, for ``bolt://`` URIs.

The Neo4j driver spends some 0.35 ms of Python on each query: its session,
result, response handlers and buffered socket reads. That was half of a point
lookup's cost in the server. A read needs much less: one RUN and one PULL
written together, and the answer's messages decoded as they arrive. The
``BoltReader`` does that on connections of its own (an ``asyncio.Protocol``
each, pooled), with the driver's PackStream codec.

It is used only where it can answer exactly as the driver would:
- a plain ``bolt://`` URI (one server: no routing, no TLS), and a server
  speaking Bolt 5.1 to 5.8; anything else, or ``KB_DIRECT_READS=false``,
  leaves every read to the driver;
- maps, lists and plain values in records; a record holding anything else (a
  node, a date) is answered by running the read again through the driver, as
  is a read whose parameters it cannot encode.

Errors come out as the driver's own exceptions (``Neo4jError`` subclasses
decoded from Neo4j's FAILURE, ``ServiceUnavailable`` for a lost or refused
connection), so ``Database`` retries and translates them the same way. A
connection that failed, or whose reader was cancelled mid-answer, is closed,
never reused. Having a connection (a free one, or a new one: TCP, Bolt
handshake, HELLO and LOGON) takes at most ``connect_timeout_s``, or what the
read is given (``Database`` gives a retry the retry time left). The server's
own transaction timeout bounds a read; a server that stops answering
altogether is given that timeout and 2 seconds more.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from neo4j.exceptions import Neo4jError, ServiceUnavailable

try:  # the driver's PackStream codec, in Rust (the neo4j-rust-ext package)
    from neo4j._codec.hydration import DehydrationHooks
    from neo4j._codec.packstream import Structure
    from neo4j._rust.codec.packstream.v1 import pack, unpack  # type: ignore[import-not-found]

    CODEC = True
except ImportError:  # pragma: no cover - neo4j-rust-ext is a dependency
    CODEC = False

Record = dict[str, Any]

HANDSHAKE = b"\x60\x60\xb0\x17" + b"\x00\x07\x08\x05" + bytes(12)  # Bolt 5.8 down to 5.1, nothing else
GQL_ERRORS = (5, 7)  # from this version, FAILURE carries GQL status objects
BOLT_AGENT = (5, 3)  # from this version, HELLO must say what the client is
NOTIFICATION_FILTERS = (5, 2)  # from this version, HELLO may turn notifications off

HELLO, LOGON, RUN, PULL, GOODBYE = b"\x01", b"\x6a", b"\x10", b"\x3f", b"\x02"
SUCCESS, RECORD, IGNORED, FAILURE = b"\x70", b"\x71", b"\x7e", b"\x7f"
MAX_CHUNK = 0xFFFF


class Unanswerable(Exception):
    """What this reader cannot do for a read (a value it cannot encode or decode): the driver does it."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @classmethod
    def of(cls, uri: str) -> Address | None:
        """The server of a plain ``bolt://`` URI; None for any other scheme (routing, TLS)."""
        parts = urlsplit(uri)
        if parts.scheme != "bolt" or not parts.hostname:
            return None
        return cls(parts.hostname, parts.port or 7687)


def _message(tag: bytes, *fields: Any) -> bytes:
    """One message, chunked: ``pack`` raises TypeError or ValueError on a value it cannot encode."""
    body: bytes = pack(Structure(tag, *fields), _HOOKS)
    if len(body) <= MAX_CHUNK:
        return len(body).to_bytes(2, "big") + body + b"\x00\x00"
    chunks = [body[i : i + MAX_CHUNK] for i in range(0, len(body), MAX_CHUNK)]
    return b"".join(len(c).to_bytes(2, "big") + c for c in chunks) + b"\x00\x00"


_HOOKS = DehydrationHooks(exact_values={}, exact_types={tuple: list}, subtypes={}) if CODEC else None
_PULL_ALL = _message(PULL, {"n": -1}) if CODEC else b""


class _Connection(asyncio.Protocol):
    """One Bolt connection: one exchange at a time, its answer decoded as the bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.version: tuple[int, int] = (0, 0)
        self.closed = False
        self._buffer = bytearray()
        self._position = 0
        self._handshaking: asyncio.Future[bytes] | None = None
        # The exchange under way: how many summaries (SUCCESS, FAILURE, IGNORED) it waits for, what came.
        self._answer: asyncio.Future[None] | None = None
        self._summaries_due = 0
        self.summaries: list[tuple[bytes, dict[str, Any]]] = []
        self.records: list[list[Any]] = []
        self.foreign = False  # whether a record held a structure (node, date...): the driver decodes those
        self._hooks = {Structure: self._foreign_value} if CODEC else {}

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass of asyncio's

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._handshaking is not None:
            if len(self._buffer) >= 4:
                self._handshaking.set_result(bytes(self._buffer[:4]))
                self._handshaking = None
                del self._buffer[:4]
            return
        try:
            while self._answer is not None and self._decode_one():
                pass
        except Exception as error:  # noqa: BLE001 - an undecodable answer: the connection is done for
            self._fail(ServiceUnavailable(f"undecodable answer from Neo4j: {error!r}"))
        if self._position == len(self._buffer):
            self._buffer.clear()
            self._position = 0

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ServiceUnavailable(f"Neo4j closed the connection ({exc or 'end of stream'})"))

    # -- exchanges ---------------------------------------------------------------------

    async def handshake(self) -> None:
        assert self.transport is not None
        self._handshaking = asyncio.get_running_loop().create_future()
        self.transport.write(HANDSHAKE)
        reply = await self._handshaking
        self.version = (reply[3], reply[2])
        if self.version < (5, 1):
            raise Unanswerable(f"the server speaks Bolt {self.version[0]}.{self.version[1]}")

    async def exchange(self, messages: bytes, summaries: int) -> None:
        """Send ``messages`` (already chunked), wait for their ``summaries``; their records in ``records``."""
        if self.closed or self.transport is None:
            raise ServiceUnavailable("the connection to Neo4j is closed")
        self.summaries, self.records, self.foreign = [], [], False
        self._summaries_due = summaries
        self._answer = answer = asyncio.get_running_loop().create_future()
        self.transport.write(messages)
        await answer

    def _foreign_value(self, value: Any) -> Any:
        self.foreign = True
        return value

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def _fail(self, error: Exception) -> None:
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_exception(error)
        handshaking, self._handshaking = self._handshaking, None
        if handshaking is not None and not handshaking.done():
            handshaking.set_exception(error)
        self.close()

    def _decode_one(self) -> bool:
        """Decode the next whole message in the buffer, if there is one; False when there is none yet."""
        buffer, position, end = self._buffer, self._position, len(self._buffer)
        parts: list[bytearray] = []
        while True:
            if end - position < 2:
                return False
            size = (buffer[position] << 8) | buffer[position + 1]
            position += 2
            if size == 0:
                if not parts:  # a NOOP between messages (the server's keep-alive)
                    self._position = position
                    continue
                break
            if end - position < size:
                return False
            parts.append(buffer[position : position + size])
            position += size
        self._position = position
        message = bytearray().join(parts)
        # A message is a structure: its marker (0xB0 + number of fields), its tag, its fields.
        tag, count = bytes(message[1:2]), message[0] & 0x0F
        if tag == RECORD:
            values, _ = unpack(message, 2, self._hooks)
            self.records.append(values)
            return True
        metadata, _ = unpack(message, 2, None) if count else ({}, 2)
        self.summaries.append((tag, metadata))
        self._summaries_due -= 1
        if self._summaries_due == 0:
            answer, self._answer = self._answer, None
            assert answer is not None
            if not answer.done():
                answer.set_result(None)
            return False
        return True


class BoltReader:
    """Pooled Bolt connections to one server, for auto-commit reads; see the module's docstring."""

    def __init__(self, address: Address, user: str, password: str, database: str, timeout_s: float,
                 max_connections: int, user_agent: str, connect_timeout_s: float | None = None) -> None:  # fmt: skip
        self.address = address
        self.timeout_s = timeout_s
        # How long a read may take to have a connection, unless told otherwise: the query timeout by default.
        self.connect_timeout_s = timeout_s if connect_timeout_s is None else connect_timeout_s
        self._auth = {"scheme": "basic", "principal": user, "credentials": password}
        self._user_agent = user_agent
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._extra = {"db": database, "mode": "r", "tx_timeout": max(1, round(timeout_s * 1000))}
        self.usable = True  # False once the server turned out to speak no Bolt version this reader does

    @classmethod
    def for_uri(cls, uri: str, **settings: Any) -> BoltReader | None:
        address = Address.of(uri)
        if address is None or not CODEC:
            return None
        return cls(address, **settings)

    async def read(
        self, cypher: str, params: Mapping[str, Any], connect_timeout_s: float | None = None
    ) -> list[Record]:
        """The records of one auto-commit read; Unanswerable when the driver must do it instead.

        Having a connection (a free slot, then an idle connection or a new one) takes at most
        ``connect_timeout_s`` (default: the reader's), else ServiceUnavailable."""
        try:
            request = _message(RUN, cypher, params, self._extra) + _PULL_ALL
        except (TypeError, ValueError) as error:
            raise Unanswerable(f"a parameter it cannot encode: {error}") from error
        connect_s = self.connect_timeout_s if connect_timeout_s is None else connect_timeout_s
        connect_by = asyncio.get_running_loop().time() + connect_s
        if self._slots.locked():
            try:
                async with asyncio.timeout_at(connect_by):
                    await self._slots.acquire()
            except TimeoutError as error:
                raise ServiceUnavailable(f"no connection to Neo4j was free within {connect_s:g} s") from error
        else:
            await self._slots.acquire()
        connection: _Connection | None = None
        try:
            connection = await self._connection(connect_by)
            async with asyncio.timeout(self.timeout_s + 2):
                await connection.exchange(request, 2)
            (run_tag, run_meta), (pull_tag, pull_meta) = connection.summaries
            if run_tag != SUCCESS or pull_tag != SUCCESS:
                raise _error(connection.version, run_meta if run_tag == FAILURE else pull_meta)
            fields: list[str] = run_meta.get("fields", [])
            records = [dict(zip(fields, values, strict=True)) for values in connection.records]
            foreign = connection.foreign
            self._idle.append(connection)
            if foreign:
                raise Unanswerable("a value that is not a map, a list or a plain value")
            return records
        except BaseException as error:
            # Refused (the server then wants a RESET: a new connection is simpler), lost, timed out or
            # cancelled mid-answer: the connection is not used again.
            if connection is not None:
                connection.close()
            if isinstance(error, TimeoutError):
                raise ServiceUnavailable(f"Neo4j did not answer within {self.timeout_s + 2:g} s") from error
            raise
        finally:
            self._slots.release()

    async def _connection(self, connect_by: float) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return await self._open(connect_by)

    async def _open(self, connect_by: float) -> _Connection:
        """A new connection, handshake, HELLO and LOGON done by ``connect_by`` (the loop's clock)."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(connect_by):
                _, connection = await loop.create_connection(_Connection, self.address.host, self.address.port)
        except (OSError, TimeoutError) as error:
            raise ServiceUnavailable(f"cannot connect to Neo4j at {self.address.host}:{self.address.port}") from error
        try:
            async with asyncio.timeout_at(connect_by):
                try:
                    await connection.handshake()
                except Unanswerable:
                    self.usable = False
                    raise
                hello: dict[str, Any] = {"user_agent": self._user_agent}
                if connection.version >= NOTIFICATION_FILTERS:
                    hello["notifications_minimum_severity"] = "OFF"
                if connection.version >= BOLT_AGENT:
                    hello["bolt_agent"] = {
                        "product": self._user_agent,
                        "platform": f"{platform.system()} {platform.release()}; {platform.machine()}",
                        "language": f"Python/{platform.python_version()}",
                    }
                await connection.exchange(_message(HELLO, hello) + _message(LOGON, self._auth), 2)
            for tag, meta in connection.summaries:
                if tag != SUCCESS:
                    raise _error(connection.version, meta)
        except BaseException as error:
            connection.close()
            if isinstance(error, TimeoutError):
                raise ServiceUnavailable("Neo4j did not finish the Bolt handshake") from error
            raise
        return connection

    async def close(self) -> None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and connection.transport is not None:
                connection.transport.write(_message(GOODBYE))
            connection.close()


def _error(version: tuple[int, int], metadata: dict[str, Any]) -> Neo4jError:
    """Neo4j's FAILURE as the driver's exception for it."""
    metadata = dict(metadata)
    metadata.setdefault("message", "Neo4j refused the query")
    if version >= GQL_ERRORS:
        return Neo4jError._hydrate_gql(**metadata)
    return Neo4jError._hydrate_neo4j(**metadata)
