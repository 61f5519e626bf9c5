"""Checking arguments before any query runs: page sizes, depths, dates, ids."""

from __future__ import annotations

import re

from service.api.context import Info
from service.api.ids import from_cursor, from_global_id
from service.errors import BadUserInput, quoted

_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def page_arguments(info: Info, first: int, after: str | None) -> tuple[int, list[str] | None]:
    """Validated ``first`` and the (sort key, id) ``after`` stands for."""
    limit = info.context.settings.max_page_size
    bounded(first, "first", 0, limit)
    return first, from_cursor(after)


def bounded(value: int, name: str, low: int, high: int) -> int:
    if value < low or value > high:
        raise BadUserInput(
            f"{name} must be between {low} and {high}, got {value}", argument=name, minimum=low, maximum=high
        )
    return value


def partial_date(value: str | None, name: str) -> str | None:
    """A date as precise as wanted: YYYY, YYYY-MM or YYYY-MM-DD."""
    if value is None:
        return None
    if not _PARTIAL_DATE.match(value):
        raise BadUserInput(f"{name} must be a date as YYYY, YYYY-MM or YYYY-MM-DD, got {quoted(value)}", argument=name)
    return value


def key_of(global_id: str | None, type_name: str, name: str) -> str | None:
    """The key of an optional global id that must name a ``type_name``."""
    return None if global_id is None else required_key_of(global_id, type_name, name)


def required_key_of(global_id: str, type_name: str, name: str) -> str:
    """The key of a global id that must name a ``type_name``."""
    actual, key = from_global_id(global_id)
    if actual != type_name:
        raise BadUserInput(f"{name} must be the id of a {type_name}, not of a {actual}", argument=name)
    return key
