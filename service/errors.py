"""The failures a user can act on, each with one stable code.

The GraphQL layer puts ``code`` in ``extensions.code``; anything not listed
here reaches the user as ``INTERNAL`` with a request id, never as a trace.
"""

from __future__ import annotations

from typing import Any, ClassVar

QUOTED_PREFIX = 40  # the most of an input an error message repeats


def quoted(value: object, limit: int = QUOTED_PREFIX) -> str:
    """An input as an error message quotes it: at most its first ``limit`` characters, and how long it was."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        return f"'{text[:limit]}…' ({len(text):,} characters)"
    return f"'{text}'"


def shortened(text: str, limit: int) -> str:
    """``text``, cut where it is longer than ``limit`` characters so that it ends up that long at most."""
    if len(text) <= limit:
        return text
    tail = f"… ({len(text):,} characters in all)"
    return text[: max(limit - len(tail), 0)] + tail


class KBError(Exception):
    """Base of every error the service reports to users by code."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadUserInput(KBError):
    """An argument is malformed or out of range."""

    code = "BAD_USER_INPUT"


class NotFound(KBError):
    """An id or name that the caller asked for does not exist."""

    code = "NOT_FOUND"


class Unauthenticated(KBError):
    """No valid credential was presented."""

    code = "UNAUTHENTICATED"


class Forbidden(KBError):
    """The credential is valid but its role does not allow this."""

    code = "FORBIDDEN"


class DatabaseUnavailable(KBError):
    """Neo4j cannot be reached; retrying later may succeed."""

    code = "DATABASE_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("the database is unavailable; try again shortly")


class QueryTimeout(KBError):
    """A database query ran past its time limit."""

    code = "TIMEOUT"

    def __init__(self, limit_s: float) -> None:
        super().__init__(f"the query took longer than {limit_s:g}s and was stopped", limitSeconds=limit_s)
