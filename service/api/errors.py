"""The one place where failures become GraphQL errors with a stable ``extensions.code``.

Errors the user can act on (``service.errors.KBError``) keep their message and
code. GraphQL's own parse and validation errors are coded as such, and a
variable value the schema refuses is ``BAD_USER_INPUT``. Anything
else is an unexpected failure: logged in full server-side with the request id,
and masked to ``INTERNAL`` with that id for the client to quote.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult

from service.errors import KBError, shortened

log = logging.getLogger("service.api")

INTERNAL_MESSAGE = "Internal error; quote the requestId when reporting it."
# graphql-core's messages can quote what was sent (a string literal a syntax error is about, say): cut short.
MESSAGE_LIMIT = 300


def coded_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the client sees it, with ``extensions.code`` always set."""
    original = error.original_error
    if isinstance(original, KBError):
        extensions: dict[str, Any] = {"code": original.code, **original.details}
        return _with(error, original.message, extensions)
    if isinstance(original, GraphQLError):
        # graphql-core refusing a variable's value ("Variable '$x' has invalid value: ...").
        return _with(error, error.message, {**(error.extensions or {}), "code": "BAD_USER_INPUT"})
    if original is None or (error.path is None and error.nodes and isinstance(original, ValueError)):
        # Raised by graphql-core itself: syntax and validation (a literal graphql-core could not read, such as an
        # Int of 5,000 digits, carries Python's ValueError).
        code = "GRAPHQL_PARSE_FAILED" if error.message.startswith("Syntax Error") else "GRAPHQL_VALIDATION_FAILED"
        return _with(error, error.message, {**(error.extensions or {}), "code": code})
    log.error(
        "unexpected error in request %s at %s",
        request_id,
        ".".join(str(p) for p in error.path or []),
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with(error, INTERNAL_MESSAGE, {"code": "INTERNAL", "requestId": request_id})


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message=shortened(message, MESSAGE_LIMIT),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def code_errors(execution: ExecutionContext) -> None:
    """Every error of the operation's result rewritten through ``coded_error`` (after it ran)."""
    result = execution.result
    if isinstance(result, (GraphQLExecutionResult, ExecutionResult)) and result.errors:
        request_id = getattr(execution.context, "request_id", "-")
        result.errors = [coded_error(e, request_id) for e in result.errors]
