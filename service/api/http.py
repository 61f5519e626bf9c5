"""/graphql over HTTP, as the GraphQL over HTTP specification has it.

- POST with an `application/json` body, or GET with the request in the query
  string (queries only: a mutation over GET is 405).
- The response is `application/graphql-response+json` when the client
  accepts it, else `application/json`. A request that cannot run (parse or
  validation error, a variable the schema refuses, a query over a limit) has
  no `data`; it is 400 under the new media type and 200 under the old one.
- A malformed request (not JSON, not an object, wrong field types, wrong
  media type, too large, a media type we cannot answer in) gets the matching
  4xx with a GraphQL-shaped body whose error has `extensions.code`.
- Automatic persisted queries (Apollo's protocol: `extensions.persistedQuery.
  sha256Hash`), and an optional allow-list of registered operations.
- Documents are parsed once per process (a cache shared with the schema's
  own parsing); Strawberry's validation cache keeps the validation of each.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLSyntaxError, OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperationType

from service.api.auth import Credentials
from service.api.context import Context
from service.api.errors import coded_error
from service.api.limits import Limits, measure, operation_of, parse_document
from service.api.schema import schema
from service.observability import count_error, current_request_id

log = logging.getLogger("service.api")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


class JSONBody(Response):
    """A JSON response body, written by orjson: the same bytes as Starlette's JSONResponse (compact, UTF-8),
    a page of 100 claims in 0.014 ms against its 0.26. What orjson refuses (an integer over 64 bits, say)
    is written as JSONResponse writes it."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:  # orjson.JSONEncodeError is one
            return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class RequestRefused(Exception):
    """A request that never reaches execution, with its HTTP status and error code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: Any):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.details = details


@dataclass
class GraphQLRequest:
    query: str | None
    variables: dict[str, Any]
    operation_name: str | None
    extensions: dict[str, Any]


class PersistedQueries:
    """Documents by the SHA-256 of their text: learnt from clients (bounded LRU), or registered up front."""

    def __init__(self, capacity: int, registered: dict[str, str], allow_list_only: bool) -> None:
        self.capacity = capacity
        self.learnt: OrderedDict[str, str] = OrderedDict()
        self.registered = registered
        self.allow_list_only = allow_list_only

    @classmethod
    def from_manifest(cls, path: Path | None, capacity: int, allow_list_only: bool) -> PersistedQueries:
        """Read an Apollo persisted-query manifest ({"operations": [{"id", "body", ...}]}) or a {hash: query} map."""
        registered: dict[str, str] = {}
        if path is not None:
            data = json.loads(path.read_text())
            operations = data.get("operations") if isinstance(data, dict) and "operations" in data else None
            pairs = [(o["id"], o["body"]) for o in operations] if operations is not None else list(data.items())
            for key, body in pairs:
                if sha256(body) != key:
                    raise ValueError(f"persisted query {key[:12]}… does not hash to its id")
                registered[key] = body
        if allow_list_only and not registered:
            raise ValueError("KB_ALLOW_LIST_ONLY needs KB_PERSISTED_QUERIES: a manifest of the allowed operations")
        return cls(capacity, registered, allow_list_only)

    def resolve(self, request: GraphQLRequest) -> str:
        """The document to run, or RequestRefused."""
        persisted = request.extensions.get("persistedQuery")
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version") != 1:
                raise RequestRefused(400, "BAD_REQUEST", "persistedQuery must be {version: 1, sha256Hash}")
            key = persisted.get("sha256Hash")
            if not isinstance(key, str):
                raise RequestRefused(400, "BAD_REQUEST", "persistedQuery.sha256Hash must be a string")
            if request.query is None:
                known = self.registered.get(key) or self._recall(key)
                if known is None:
                    # Apollo clients answer this by sending the query with its hash.
                    raise RequestRefused(200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
                return known
            if sha256(request.query) != key:
                raise RequestRefused(400, "BAD_REQUEST", "persistedQuery.sha256Hash is not the SHA-256 of query")
            if not self.allow_list_only:
                self._learn(key, request.query)
        if request.query is None:
            raise RequestRefused(400, "BAD_REQUEST", "no query: send `query`, or a persisted query's hash")
        if self.allow_list_only and sha256(request.query) not in self.registered:
            raise RequestRefused(403, "FORBIDDEN", "only registered operations run on this endpoint")
        return request.query

    def _recall(self, key: str) -> str | None:
        if self.allow_list_only:
            return None
        query = self.learnt.get(key)
        if query is not None:
            self.learnt.move_to_end(key)
        return query

    def _learn(self, key: str, query: str) -> None:
        self.learnt[key] = query
        self.learnt.move_to_end(key)
        while len(self.learnt) > self.capacity:
            self.learnt.popitem(last=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
        ranked.append((-quality, position, media.lower()))
    for negative_quality, _, media in sorted(ranked):
        if negative_quality == 0:
            break
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


class GraphQLEndpoint:
    """The ASGI endpoint; ``state`` carries settings, the driver, tokens and the persisted queries."""

    def __init__(self, state: Any) -> None:
        self.state = state
        settings = state.settings
        self.limits = Limits.from_settings(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        media = negotiate(request.headers.get("accept"))
        try:
            if media is None:
                raise RequestRefused(406, "NOT_ACCEPTABLE", f"answers are {GRAPHQL_RESPONSE} or {JSON}")
            response = await self.handle(request, media)
        except RequestRefused as refused:
            count_error(refused.code)
            body = {"errors": [{"message": refused.message, "extensions": {"code": refused.code, **refused.details}}]}
            response = JSONBody(body, status_code=refused.status, headers=refused.headers, media_type=media or JSON)
        await response(scope, receive, send)

    async def handle(self, request: Request, media: str) -> Response:
        settings = self.state.settings
        graphql_request = await self.read(request)
        credentials = Credentials.from_header(request.headers.get("authorization"), self.state.tokens)
        if settings.read_requires_token and credentials.role is None:
            reason = "the token is not valid" if credentials.presented else "this endpoint needs a bearer token"
            raise RequestRefused(401, "UNAUTHENTICATED", reason, {"www-authenticate": "Bearer"})
        query = self.state.persisted.resolve(graphql_request)
        context = Context.create(self.state.db, settings, current_request_id(), credentials)

        document = parse_document(query, self.limits.tokens)
        if isinstance(document, GraphQLSyntaxError):
            if "tokens" in document.message and "Parsing aborted" in document.message:
                return self.request_error(
                    media, self._too_complex("tokens", None, self.limits.tokens, document.message)
                )
            return self.request_error(media, coded_error(document, context.request_id))
        operation = operation_of(document, graphql_request.operation_name)
        if operation is not None:
            if request.method == "GET" and operation.operation != OperationType.QUERY:
                raise RequestRefused(405, "METHOD_NOT_ALLOWED", "only queries over GET; send mutations with POST",
                                     {"allow": "POST"})  # fmt: skip
            measures = measure(schema._schema, document, operation, graphql_request.variables)
            exceeded = measures.exceeded(self.limits)
            if exceeded is not None:
                figure, value, limit = exceeded
                return self.request_error(media, self._too_complex(figure, value, limit))
            if not settings.introspection and measures.introspection:
                message = "introspection is turned off on this endpoint (KB_INTROSPECTION=false)"
                return self.request_error(media, GraphQLError(message, extensions={"code": "FORBIDDEN"}))

        result: ExecutionResult | GraphQLExecutionResult | None = None
        if operation is not None and operation.operation == OperationType.QUERY:
            result = await schema.execute_valid(
                document, graphql_request.variables, context, graphql_request.operation_name
            )
        if result is None:
            result = await schema.execute(
                query,
                variable_values=graphql_request.variables,
                context_value=context,
                operation_name=graphql_request.operation_name,
                allowed_operation_types=_allowed(request.method),
            )
        if isinstance(result, PreExecutionError) or (
            result.data is None and result.errors and all(e.path is None for e in result.errors)
        ):
            return self.request_error(media, *(result.errors or []))
        return JSONBody(_body(result), media_type=media)

    def request_error(self, media: str, *errors: GraphQLError) -> Response:
        body = {"errors": _counted([e.formatted for e in errors])}
        return JSONBody(body, status_code=400 if media == GRAPHQL_RESPONSE else 200, media_type=media)

    def _too_complex(self, figure: str, value: int | None, limit: int, detail: str | None = None) -> GraphQLError:
        measured = f" {value}" if value is not None else ""
        message = detail or f"{figure}{measured} is over this endpoint's limit of {limit}"
        extensions: dict[str, Any] = {"code": "QUERY_TOO_COMPLEX", "limit": figure, "maximum": limit}
        if value is not None:
            extensions["measured"] = value
        return GraphQLError(f"query too complex: {message}", extensions=extensions)

    async def read(self, request: Request) -> GraphQLRequest:
        if request.method == "GET":
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
            body = await _read_body(request, self.state.settings.max_body_bytes)
            try:
                raw = json.loads(body)
            except (ValueError, UnicodeDecodeError) as error:
                raise RequestRefused(400, "BAD_REQUEST", f"the body is not JSON: {error}") from error
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


def _json_param(value: str | None, name: str) -> Any:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except ValueError as error:
        raise RequestRefused(400, "BAD_REQUEST", f"`{name}` is not JSON: {error}", field=name) from error


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestRefused(413, "PAYLOAD_TOO_LARGE", f"the body is over {limit} bytes", maximum=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestRefused(413, "PAYLOAD_TOO_LARGE", f"the body is over {limit} bytes", maximum=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _allowed(method: str) -> tuple[StrawberryOperationType, ...]:
    query, mutation = StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION
    return (query,) if method == "GET" else (query, mutation)


def _body(result: ExecutionResult | GraphQLExecutionResult) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = _counted([e.formatted for e in result.errors])
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def _counted(errors: list[Any]) -> list[Any]:
    """The errors, each counted by its code in the metrics."""
    for error in errors:
        count_error(str((error.get("extensions") or {}).get("code", "INTERNAL")))
    return errors
