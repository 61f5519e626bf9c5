"""What every operation passes before it is validated and run, called from the schema extension's hooks
(service.api.lifecycle).

They run for every request, whatever its shape or transport (POST, GET, a
persisted query, a test calling ``schema.execute``), in this order:

- ``resolve_persisted`` (``on_operation``): Apollo's automatic persisted
  queries and the allow-list. The document comes from its hash, or is learnt
  under it (``learn_persisted``, after validation); in allow-list mode only
  registered documents run.
- ``admit`` (``on_parse``): the document is parsed once per text
  (a shared cache; the parser stops at KB_MAX_TOKENS), the operation to run is
  picked as the GraphQL spec says (one operation, or the one named; anything
  else is a request error), its type is checked against what the transport
  allows (no mutation over GET), and it is measured against the limits of
  service.api.limits, introspection included. Validation (cached per
  document, graphql-core's rules with Strawberry's and the introspection
  depth rule) and execution only ever see an operation that passed.

A refusal is a GraphQL request error with a stable ``extensions.code``;
service.api.http turns its code into the HTTP status.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, GraphQLSyntaxError, OperationType, build_schema
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionContext

from service.api.errors import coded_error
from service.api.limits import DOCUMENTS, Limits, NoOperation, Parsed, select_operation, too_complex
from service.config import Settings, get_settings

# Codes of the request errors raised here (service.api.http maps them to HTTP statuses).
BAD_REQUEST = "BAD_REQUEST"
FORBIDDEN = "FORBIDDEN"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"


# Refusals also made where Strawberry repeats the gate's checks (service.api.http).
NO_QUERY = "no query: send `query`"
MUTATION_OVER_GET = "only queries over GET; send mutations with POST"

LEARNT_LARGEST = 64 * 1024  # the longest document remembered for a client's hash


def request_error(code: str, message: str, **details: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **details})


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueries:
        return cls.from_manifest(settings.persisted_queries, settings.apq_capacity, settings.allow_list_only)

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> tuple[str, str | None]:
        """The document to run, and the hash to learn it under once it has proved valid (None: nothing to
        learn); or a request error."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version") != 1:
                raise request_error(BAD_REQUEST, "persistedQuery must be {version: 1, sha256Hash}")
            key = persisted.get("sha256Hash")
            if not isinstance(key, str):
                raise request_error(BAD_REQUEST, "persistedQuery.sha256Hash must be a string")
            if query is None:
                known = self.registered.get(key) or self._recall(key)
                if known is None:
                    # Apollo clients answer this by sending the query with its hash.
                    raise request_error(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
                return known, None
            if sha256(query) != key:
                raise request_error(BAD_REQUEST, "persistedQuery.sha256Hash is not the SHA-256 of query")
            if self.allow_list_only and key not in self.registered:
                raise request_error(FORBIDDEN, "only registered operations run on this endpoint")
            return query, None if self.allow_list_only or key in self.registered else key
        if not query:
            raise request_error(BAD_REQUEST, "no query: send `query`, or a persisted query's hash")
        if self.allow_list_only and sha256(query) not in self.registered:
            raise request_error(FORBIDDEN, "only registered operations run on this endpoint")
        return query, None

    def _recall(self, key: str) -> str | None:
        if self.allow_list_only:
            return None
        query = self.learnt.get(key)
        if query is not None:
            self.learnt.move_to_end(key)
        return query

    def learn(self, key: str, query: str) -> None:
        if len(query) > LEARNT_LARGEST:
            return  # kept in full for every hash: only documents of a sensible size
        self.learnt[key] = query
        self.learnt.move_to_end(key)
        while len(self.learnt) > self.capacity:
            self.learnt.popitem(last=False)


@dataclass(frozen=True)
class Admission:
    """What the gate needs of a request beyond Strawberry's execution context: the operation name as the
    request gave it (Strawberry's ``operation_name`` falls back to the first operation's), the persisted
    queries, the settings. The request's context object provides it as its ``admission`` attribute."""

    operation_name: str | None
    persisted: PersistedQueries | None
    settings: Settings


def _admission(context: Any, fallback_name: str | None) -> Admission:
    given = getattr(context, "admission", None)
    if isinstance(given, Admission):
        return given
    settings = getattr(context, "settings", None)
    return Admission(fallback_name, None, settings if isinstance(settings, Settings) else get_settings())


# A document sent with its hash, to learn under it once it has passed the gate and validation.
Learning = tuple[PersistedQueries, str, str]


def resolve_persisted(execution: ExecutionContext) -> Learning | None:
    """Before anything else runs: a persisted query's hash becomes its document (or a request error). Returns
    what to learn once the document has proved valid (``learn_persisted``), if anything."""
    persisted = _admission(execution.context, None).persisted
    if persisted is None:
        if not execution.query:
            raise request_error(BAD_REQUEST, NO_QUERY)
        return None
    execution.query, key = persisted.resolve(execution.query, execution.operation_extensions)
    return None if key is None else (persisted, key, execution.query)


def learn_persisted(execution: ExecutionContext, learning: Learning | None) -> None:
    """After validation: a document sent with its hash is learnt under it, if it passed."""
    if learning is not None and not execution.pre_execution_errors:
        persisted, key, query = learning
        persisted.learn(key, query)


@dataclass(frozen=True)
class Admitted:
    """What passed the gate: the parsed document (validation's errors are kept with it) and whether the
    operation is introspection."""

    parsed: Parsed
    introspection: bool


def admit(execution: ExecutionContext) -> Admitted:
    """Parse (cached, bounded), pick the operation, check its type and limits: see the module's docstring.
    Raises the request error of the first check that fails; sets the execution's document otherwise."""
    admission = _admission(execution.context, execution.operation_name)
    limits = Limits.from_settings(admission.settings)
    try:
        parsed = DOCUMENTS.parse(execution.query or "", limits.tokens)
    except GraphQLSyntaxError as error:
        if "Parsing aborted" in error.message and "tokens" in error.message:
            detail = f"the document has more than {limits.tokens} tokens"
            raise too_complex("tokens", None, limits.tokens, detail) from None
        raise coded_error(error, getattr(execution.context, "request_id", "-")) from None
    document = parsed.document
    try:
        operation = select_operation(document, admission.operation_name)
    except NoOperation as error:
        raise request_error(OPERATION_RESOLUTION_FAILURE, str(error)) from None
    kind = operation.operation
    if kind is OperationType.MUTATION and not _allows(execution.allowed_operations, "mutation"):
        raise request_error(METHOD_NOT_ALLOWED, MUTATION_OVER_GET)
    if kind is OperationType.SUBSCRIPTION:
        raise request_error(BAD_REQUEST, "this endpoint serves no subscriptions")
    measures = parsed.measure(typed_schema(execution.schema), operation, execution.variables, limits)
    if measures.exceeded is not None:
        figure, value, maximum = measures.exceeded
        raise too_complex(figure, value, maximum)
    if measures.introspection and not admission.settings.introspection:
        message = "introspection is turned off on this endpoint (KB_INTROSPECTION=false)"
        raise request_error(FORBIDDEN, message)
    execution.graphql_document = document
    return Admitted(parsed, measures.introspection)


def validation_known(admitted: Admitted | None, execution: ExecutionContext) -> None:
    """Before validation: a document validated before gets its errors back (Strawberry validates only when
    none are set), so validation runs once per document kept."""
    if admitted is not None and admitted.parsed.errors is not None:
        execution.pre_execution_errors = list(admitted.parsed.errors)


def validation_done(admitted: Admitted | None, execution: ExecutionContext) -> None:
    """After validation: its errors (none, or some) are kept with the document."""
    if admitted is not None and admitted.parsed.errors is None and execution.pre_execution_errors is not None:
        admitted.parsed.errors = list(execution.pre_execution_errors)


def introspection_answered(admitted: Admitted | None, execution: ExecutionContext) -> None:
    """After execution: an introspection answer gets ``@deprecated`` as the GraphQL spec (October 2021) defines
    it. graphql-core 3.3 follows graphql-js 17 in letting it deprecate directives (location
    DIRECTIVE_DEFINITION), which clients on graphql-js 16 (graphql-codegen, Apollo Client 3) cannot parse back
    from the introspection result. No directive of this schema is deprecated."""
    result = execution.result
    if admitted is not None and admitted.introspection and result is not None and result.data is not None:
        _without_directive_deprecation(result.data)


def _without_directive_deprecation(value: Any) -> None:
    """Drop DIRECTIVE_DEFINITION from the locations of ``@deprecated`` wherever an answer lists them."""
    if isinstance(value, list):
        for item in value:
            _without_directive_deprecation(item)
    elif isinstance(value, dict):
        if "deprecated" in value.values():
            for key, item in value.items():
                if isinstance(item, list) and "DIRECTIVE_DEFINITION" in item:
                    value[key] = [location for location in item if location != "DIRECTIVE_DEFINITION"]
        for item in value.values():
            _without_directive_deprecation(item)


def _allows(allowed: Any, kind: str) -> bool:
    return any(getattr(a, "value", a) == kind for a in allowed)


@lru_cache(maxsize=4)
def typed_schema(schema: BaseSchema) -> GraphQLSchema:
    """The schema's types, fields and argument defaults, as graphql-core builds them from its SDL."""
    return build_schema(schema.as_str())
