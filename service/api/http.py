"""/graphql over HTTP, as the GraphQL over HTTP specification has it, on Strawberry's schema.

``GraphQLEndpoint``, an ASGI app, answers what is about HTTP before any
GraphQL is read: the media type to answer in
(`application/graphql-response+json` when the client accepts it, else
`application/json`; 406 when neither), the method (405), oversized headers
(431) and query strings (414), the body's media type (415), size (413) and
how long it takes to arrive (408), the request's JSON shape (400: not JSON,
not an object, a batch, a field of the wrong type) and credentials (401
where reads need a token). Each refusal is a GraphQL-shaped JSON body whose
error has `extensions.code`.

It then hands the operation to ``schema.execute``, Strawberry's public entry
point, which runs it through the schema's extension (service.api.lifecycle:
persisted queries, operation selection, limits; validation; compiled reads;
error codes), queries and mutations alike, GET allowing queries only. The
result is answered with its errors coded and the status the specification
gives: a request error, one with no `data`, is 400 under the new media type
and 200 under the old one; 403, 405 and Apollo's 200 for a persisted query
not found keep their own. The body is read and decoded once, here;
Strawberry's HTTP view, which would read it again, is not used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from service.api.auth import Credentials
from service.api.context import Context
from service.api.errors import coded_error
from service.api.gate import (
    BAD_REQUEST,
    FORBIDDEN,
    METHOD_NOT_ALLOWED,
    MUTATION_OVER_GET,
    NO_QUERY,
    OPERATION_RESOLUTION_FAILURE,
    PERSISTED_QUERY_NOT_FOUND,
    Admission,
    request_error,
)
from service.api.schema import schema
from service.errors import shortened
from service.observability import count_error, current_request_id

log = logging.getLogger("service.api")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
DID_YOU_MEAN = re.compile(r"\s*Did you mean .*$", re.S)
# Request errors whose status is their own, whatever the media type.
STATUS_OF_CODE = {BAD_REQUEST: 400, PERSISTED_QUERY_NOT_FOUND: 200, FORBIDDEN: 403, METHOD_NOT_ALLOWED: 405}
QUERIES_ONLY = frozenset({OperationType.QUERY})
EVERY_OPERATION = frozenset({OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION})


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


class GraphQLEndpoint:
    """The ASGI endpoint: HTTP's checks, then the operation through ``schema.execute``. ``state`` carries
    settings, the driver, tokens and the persisted queries."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        media = negotiate(", ".join(request.headers.getlist("accept")))
        try:
            if media is None:
                raise RequestRefused(406, "NOT_ACCEPTABLE", f"answers are {GRAPHQL_RESPONSE} or {JSON}")
            graphql_request = await self.read(request, scope, receive)
            context = self.context(request, graphql_request)
        except RequestRefused as refused:
            await _refusal(refused, media or JSON)(scope, receive, send)
            return
        except ClientGone:
            return
        try:
            result = await schema.execute(
                graphql_request.query,
                variable_values=graphql_request.variables,
                context_value=context,
                operation_name=graphql_request.operation_name,
                allowed_operation_types=QUERIES_ONLY if request.method == "GET" else EVERY_OPERATION,
                operation_extensions=graphql_request.extensions,
            )
        except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError) as error:
            # service.api.gate refuses these first; Strawberry checks them again. Answered as the gate's are.
            result = ExecutionResult(data=None, errors=[_gate_error(error)])
        status, headers, body = self.answer(result, media)
        await JSONBody(body, status_code=status, headers=headers, media_type=media)(scope, receive, send)

    def context(self, request: Request, graphql_request: GraphQLRequest) -> Context:
        """The resolvers' context: credentials (401 where reads need a token), the gate's admission."""
        settings = self.state.settings
        credentials = Credentials.from_header(request.headers.get("authorization"), self.state.tokens)
        if settings.read_requires_token and credentials.role is None:
            reason = "the token is not valid" if credentials.presented else "this endpoint needs a bearer token"
            raise RequestRefused(401, "UNAUTHENTICATED", reason, {"www-authenticate": "Bearer"})
        admission = Admission(graphql_request.operation_name, self.state.persisted, settings)
        return Context.create(self.state.db, settings, current_request_id(), credentials, admission)

    def answer(self, result: ExecutionResult, media: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        """The status, headers and body of ``result``: errors coded; a request error (one with no `data`) is 400
        under the new media type and 200 under the old one; 403, 405 and Apollo's 200 for a persisted query
        not found keep their own."""
        request_id = current_request_id() or "-"
        errors = [e if (e.extensions or {}).get("code") else coded_error(e, request_id) for e in result.errors or ()]
        formatted = _counted([e.formatted for e in errors])
        if not self.state.settings.introspection:
            for error in formatted:  # graphql-core's suggestions name fields and types: introspection by another way
                error["message"] = DID_YOU_MEAN.sub("", error["message"])
        if result.data is None and errors and all(e.path is None for e in errors):
            # A request error: nothing ran, so there is no `data` at all.
            code = str(formatted[0]["extensions"]["code"])
            status = STATUS_OF_CODE.get(code, 400 if media == GRAPHQL_RESPONSE else 200)
            return status, {"allow": "POST"} if code == METHOD_NOT_ALLOWED else {}, {"errors": formatted}
        body: dict[str, Any] = {"data": result.data}
        if formatted:
            body["errors"] = formatted
        if result.extensions:
            body["extensions"] = result.extensions
        return 200, {}, body

    async def read(self, request: Request, scope: Scope, receive: Receive) -> GraphQLRequest:
        """The request's GraphQL fields, checked."""
        settings = self.state.settings
        size = sum(len(name) + len(value) for name, value in scope["headers"])
        if size > settings.max_header_bytes:
            raise RequestRefused(431, "REQUEST_HEADER_FIELDS_TOO_LARGE",
                                 f"the headers are over {settings.max_header_bytes} bytes",
                                 maximum=settings.max_header_bytes)  # fmt: skip
        if request.method == "GET":
            if len(scope["query_string"]) > settings.max_body_bytes:
                raise RequestRefused(414, "URI_TOO_LONG", f"the query string is over {settings.max_body_bytes} bytes",
                                     maximum=settings.max_body_bytes)  # fmt: skip
            params = request.query_params
            if "query" not in params and "extensions" not in params:
                raise RequestRefused(400, "BAD_REQUEST", "GET /graphql needs a `query` parameter")
            raw: Any = {
                "query": params.get("query") or None,  # `query=` with a persisted query's hash: no query
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
        return GraphQLRequest(query, variables or {}, name, extensions or {})


def _gate_error(error: Exception) -> GraphQLError:
    """The request error service.api.gate gives for what Strawberry refused."""
    if isinstance(error, InvalidOperationTypeError):
        return request_error(METHOD_NOT_ALLOWED, MUTATION_OVER_GET)
    if isinstance(error, CannotGetOperationTypeError):
        return request_error(OPERATION_RESOLUTION_FAILURE, "the operation to run cannot be determined")
    return request_error(BAD_REQUEST, NO_QUERY)


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


def _counted(errors: list[Any]) -> list[Any]:
    """The errors, each counted by its code in the metrics."""
    for error in errors:
        count_error(str((error.get("extensions") or {}).get("code", "INTERNAL")))
    return errors
