"""/graphql over HTTP, as the GraphQL over HTTP specification has it, on Strawberry's ASGI view.

Two layers:

- ``GraphQLEndpoint``, an ASGI app in front of the view, answers what is
  about HTTP before any GraphQL is read: the media type to answer in
  (`application/graphql-response+json` when the client accepts it, else
  `application/json`; 406 when neither), the method (405), oversized headers
  (431) and query strings (414), the body's media type (415), size (413) and
  how long it takes to arrive (408), and the request's JSON shape (400: not
  JSON, not an object, a batch, a field of the wrong type). Each refusal is a
  GraphQL-shaped JSON body whose error has `extensions.code`.
- ``GraphQLView``, Strawberry's ASGI view, through its documented hooks:
  ``get_context`` (credentials, 401 where reads need a token),
  ``decode_json``/``encode_json`` (orjson), ``process_result`` (error codes,
  and the status: a request error, one with no `data`, is 400 under the new
  media type and 200 under the old one; 403, 405 and Apollo's 200 for a
  persisted query not found keep their own). Strawberry then runs every
  operation through its schema extensions (service.api.gate: persisted
  queries, operation selection, limits; validation; error codes), queries
  and mutations alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from service.api.auth import Credentials
from service.api.context import Context
from service.api.errors import coded_error
from service.api.gate import BAD_REQUEST, FORBIDDEN, METHOD_NOT_ALLOWED, PERSISTED_QUERY_NOT_FOUND, Admission
from service.api.schema import schema
from service.errors import shortened
from service.observability import count_error, current_request_id

log = logging.getLogger("service.api")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
DID_YOU_MEAN = re.compile(r"\s*Did you mean .*$", re.S)
# Request errors whose status is their own, whatever the media type.
STATUS_OF_CODE = {BAD_REQUEST: 400, PERSISTED_QUERY_NOT_FOUND: 200, FORBIDDEN: 403, METHOD_NOT_ALLOWED: 405}


def json_bytes(content: Any) -> bytes:
    """A JSON body as orjson writes it: the same bytes as Starlette's JSONResponse (compact, UTF-8), a page of
    100 claims in 0.014 ms against its 0.26. What orjson refuses (an integer over 64 bits, say) is written as
    JSONResponse writes it."""
    try:
        return orjson.dumps(content)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class JSONBody(Response):
    """A JSON response written by ``json_bytes``."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


class RequestRefused(Exception):
    """A request that never reaches GraphQL, with its HTTP status and error code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: Any):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.details = details


class ClientGone(Exception):
    """The client disconnected before its request was read: there is nobody to answer."""


@dataclass
class GraphQLRequest:
    query: str | None
    variables: dict[str, Any]
    operation_name: str | None
    extensions: dict[str, Any]


@dataclass
class Exchange:
    """One request's passage through the view: what the endpoint read, where the view's hooks leave the
    status and headers (the response object Strawberry hands ``get_context``)."""

    media: str
    request: GraphQLRequest
    response: Response | None = None


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in; None when the client accepts neither of ours."""
    if not accept:
        return JSON
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
                if not 0 <= quality <= 1:  # also NaN
                    quality = 0.0
        ranked.append((-quality, position, media.lower()))
    for negative_quality, _, media in sorted(ranked):
        if negative_quality == 0:
            break
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def decode(data: str | bytes, what: str) -> Any:
    """JSON as orjson reads it: a lone surrogate, a number out of range or nesting past 1,024 levels is refused,
    in time linear in its length."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise RequestRefused(400, "BAD_REQUEST", f"{what} is not JSON: {shortened(str(error), 120)}") from None


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with the service's context, JSON and results; see the module's docstring."""

    def __init__(self, state: Any) -> None:
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=True, subscription_protocols=())
        self.state = state

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        exchange: Exchange = request.state.kb
        settings = self.state.settings
        credentials = Credentials.from_header(request.headers.get("authorization"), self.state.tokens)
        if settings.read_requires_token and credentials.role is None:
            reason = "the token is not valid" if credentials.presented else "this endpoint needs a bearer token"
            raise RequestRefused(401, "UNAUTHENTICATED", reason, {"www-authenticate": "Bearer"})
        assert isinstance(response, Response)
        exchange.response = response
        admission = Admission(exchange.request.operation_name, self.state.persisted, settings)
        return Context.create(self.state.db, settings, current_request_id(), credentials, admission)

    def decode_json(self, data: str | bytes) -> object:
        return decode(data, "the request")

    def encode_json(self, data: object) -> bytes:
        return json_bytes(data)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        exchange: Exchange = request.state.kb
        request_id = current_request_id() or "-"
        errors = [e if (e.extensions or {}).get("code") else coded_error(e, request_id) for e in result.errors or ()]
        formatted = _counted([e.formatted for e in errors])
        if not self.state.settings.introspection:
            for error in formatted:  # graphql-core's suggestions name fields and types: introspection by another way
                error["message"] = DID_YOU_MEAN.sub("", error["message"])
        if result.data is None and errors and all(e.path is None for e in errors):
            # A request error: nothing ran, so there is no `data` at all.
            code = str(formatted[0]["extensions"]["code"])
            assert exchange.response is not None
            exchange.response.status_code = STATUS_OF_CODE.get(code, 400 if exchange.media == GRAPHQL_RESPONSE else 200)
            if code == METHOD_NOT_ALLOWED:
                exchange.response.headers["allow"] = "POST"
            return {"errors": formatted}
        body: GraphQLHTTPResponse = {"data": result.data}
        if formatted:
            body["errors"] = formatted
        if result.extensions:
            body["extensions"] = result.extensions
        return body


class GraphQLEndpoint:
    """The ASGI endpoint: HTTP's checks, then the view. ``state`` carries settings, the driver, tokens and the
    persisted queries."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.view = GraphQLView(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        media = negotiate(", ".join(request.headers.getlist("accept")))
        try:
            if media is None:
                raise RequestRefused(406, "NOT_ACCEPTABLE", f"answers are {GRAPHQL_RESPONSE} or {JSON}")
            graphql_request, body = await self.read(request, scope, receive)
        except RequestRefused as refused:
            await _refusal(refused, media or JSON)(scope, receive, send)
            return
        except ClientGone:
            return
        exchange = Exchange(media, graphql_request)
        try:
            await self.view(_for_view(scope, media, exchange), _replay(body, receive), _answering_in(media, send))
        except RequestRefused as refused:  # from one of the view's hooks, before it answered
            await _refusal(refused, media)(scope, receive, send)

    async def read(self, request: Request, scope: Scope, receive: Receive) -> tuple[GraphQLRequest, bytes]:
        """The request's GraphQL fields, checked, and its body (to hand the view as it came)."""
        settings = self.state.settings
        size = sum(len(name) + len(value) for name, value in scope["headers"])
        if size > settings.max_header_bytes:
            raise RequestRefused(431, "REQUEST_HEADER_FIELDS_TOO_LARGE",
                                 f"the headers are over {settings.max_header_bytes} bytes",
                                 maximum=settings.max_header_bytes)  # fmt: skip
        body = b""
        if request.method == "GET":
            if len(scope["query_string"]) > settings.max_body_bytes:
                raise RequestRefused(414, "URI_TOO_LONG", f"the query string is over {settings.max_body_bytes} bytes",
                                     maximum=settings.max_body_bytes)  # fmt: skip
            params = request.query_params
            if "query" not in params and "extensions" not in params:
                raise RequestRefused(400, "BAD_REQUEST", "GET /graphql needs a `query` parameter")
            raw: Any = {
                "query": params.get("query"),
                "operationName": params.get("operationName"),
                "variables": _json_param(params.get("variables"), "variables"),
                "extensions": _json_param(params.get("extensions"), "extensions"),
            }
        elif request.method == "POST":
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != JSON:
                raise RequestRefused(415, "UNSUPPORTED_MEDIA_TYPE", f"send the request as {JSON}")
            body = await _read_body(request, receive, settings.max_body_bytes, settings.body_timeout_s)
            raw = decode(body, "the body")
        else:
            raise RequestRefused(405, "METHOD_NOT_ALLOWED", "use POST (or GET for queries)", {"allow": "GET, POST"})
        if isinstance(raw, list):
            raise RequestRefused(400, "BAD_REQUEST", "batched requests are not supported: send one operation")
        if not isinstance(raw, dict):
            raise RequestRefused(400, "BAD_REQUEST", "the body must be a JSON object with `query`")
        query, variables = raw.get("query"), raw.get("variables")
        name, extensions = raw.get("operationName"), raw.get("extensions")
        for field, value, kind in (
            ("query", query, str),
            ("operationName", name, str),
            ("variables", variables, dict),
            ("extensions", extensions, dict),
        ):
            if value is not None and not isinstance(value, kind):
                expected = "a string" if kind is str else "an object"
                raise RequestRefused(400, "BAD_REQUEST", f"`{field}` must be {expected} or null", field=field)
        return GraphQLRequest(query, variables or {}, name, extensions or {}), body


def _refusal(refused: RequestRefused, media: str) -> Response:
    count_error(refused.code)
    error = {"message": refused.message, "extensions": {"code": refused.code, **refused.details}}
    return JSONBody({"errors": [error]}, status_code=refused.status, headers=refused.headers, media_type=media)


def _json_param(value: str | None, name: str) -> Any:
    if value is None or value == "":
        return None
    decoded = decode(value, f"`{name}`")
    if not isinstance(decoded, dict):
        raise RequestRefused(400, "BAD_REQUEST", f"`{name}` must be a JSON object", field=name)
    return decoded


async def _read_body(request: Request, receive: Receive, limit: int, timeout_s: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        # Answered before the body is read: the connection cannot carry another request after it.
        raise RequestRefused(413, "PAYLOAD_TOO_LARGE", f"the body is over {limit} bytes", {"connection": "close"},
                             maximum=limit)  # fmt: skip
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise RequestRefused(413, "PAYLOAD_TOO_LARGE", f"the body is over {limit} bytes",
                                         {"connection": "close"}, maximum=limit)  # fmt: skip
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise RequestRefused(408, "REQUEST_TIMEOUT", f"the body did not arrive within {timeout_s:g} s",
                             {"connection": "close"}, limitSeconds=timeout_s) from None  # fmt: skip


def _for_view(scope: Scope, media: str, exchange: Exchange) -> Scope:
    """The scope the view sees, the request as the endpoint read it: the exchange in its state, Accept as
    negotiated (so a GET without `query` is a request to run, never one for an IDE page: GraphiQL is served
    in front of the endpoint), the body's media type as checked, and a GET's empty parameters left out (the
    endpoint reads `variables=` as no variables)."""
    headers = [(k, v) for k, v in scope["headers"] if k not in (b"accept", b"content-type")]
    headers.append((b"accept", media.encode()))
    query_string = scope["query_string"]
    if scope["method"] == "POST":
        headers.append((b"content-type", JSON.encode()))
    elif query_string:
        pairs = [(k, v) for k, v in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True) if v]
        query_string = urlencode(pairs).encode("latin-1")
    return {**scope, "headers": headers, "query_string": query_string,
            "state": {**scope.get("state", {}), "kb": exchange}}  # fmt: skip


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, as one message; then whatever the client sends (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _answering_in(media: str, send: Send) -> Send:
    """``send``, with the response's media type the one negotiated (the view writes application/json)."""
    content_type = media.encode()

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            given = message.get("headers", [])
            if (b"content-type", JSON.encode()) in given:
                headers = [(k, v) for k, v in given if k != b"content-type"]
                message = {**message, "headers": [*headers, (b"content-type", content_type)]}
        await send(message)

    return sending


def _counted(errors: list[Any]) -> list[Any]:
    """The errors, each counted by its code in the metrics."""
    for error in errors:
        count_error(str((error.get("extensions") or {}).get("code", "INTERNAL")))
    return errors
