"""Relay global ids and opaque cursors.

A global id is ``base64("Type:key")``; a cursor is base64 of a JSON list
holding the sort key and id of the row it follows.
Both are opaque to clients; anything that does not decode is BAD_USER_INPUT.
"""

from __future__ import annotations

import base64
import binascii
from json.encoder import encode_basestring_ascii

import orjson

from service.errors import BadUserInput, quoted

NODE_TYPES = ("Actor", "Claim", "Report", "Event")


def to_global_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


def from_global_id(global_id: str) -> tuple[str, str]:
    """Split a global id into (type name, key), or raise BadUserInput."""
    decoded = _decode(global_id, "id")
    type_name, _, key = decoded.partition(":")
    if type_name not in NODE_TYPES or not key:
        raise BadUserInput(f"{quoted(global_id)} is not an id issued by this API", argument="id")
    return type_name, key


def to_cursor(sort_key: str, key: str) -> str:
    """A cursor for keyset paging: the row's sort key and its id."""
    # What json.dumps(["c", sort_key, key]) writes, without its per-call set-up (a page makes 100 of these).
    text = f'["c", {encode_basestring_ascii(sort_key)}, {encode_basestring_ascii(key)}]'
    return base64.urlsafe_b64encode(text.encode()).decode()


CURSOR_LONGEST = 4_096  # far longer than any cursor this API issues (a sort key and an id)


def from_cursor(cursor: str | None) -> list[str] | None:
    """[sort key, id] a cursor stands for (None for no cursor), or raise BadUserInput."""
    if cursor is None:
        return None
    try:
        parts = orjson.loads(_decode(cursor, "after")) if len(cursor) <= CURSOR_LONGEST else None
    except orjson.JSONDecodeError:  # orjson refuses nesting past 1,024 levels
        parts = None
    if not (isinstance(parts, list) and len(parts) == 3 and parts[0] == "c" and all(isinstance(p, str) for p in parts)):
        raise BadUserInput(f"{quoted(cursor)} is not a cursor issued by this API", argument="after")
    return [parts[1], parts[2]]


def _decode(value: str, argument: str) -> str:
    try:
        return base64.urlsafe_b64decode(value.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise BadUserInput(f"{quoted(value)} is not a valid {argument}", argument=argument) from error
