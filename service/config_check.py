"""The whole configuration, checked before anything starts.

``checked_settings`` reads the settings from the environment (``Settings``:
types and ranges), fills in what the local Neo4j was last started with where
the environment says nothing (``service.local_neo4j.recorded_settings``), and
then runs what the application would run on them at start: ``KB_TOKENS``
through ``parse_tokens``, the persisted-query manifest through
``PersistedQueries.from_manifest``. The first problem found is a
``ConfigError`` whose message is one line naming the variable, never a
secret's value (at most a token's first 4 characters, as ``parse_tokens``
says it). ``kb`` prints it and exits 2 before starting Neo4j or loading
anything; ``create_app`` does the same when uvicorn calls it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from service.api.auth import parse_tokens
from service.config import Settings
from service.local_neo4j import recorded_settings

# The status `kb` and the uvicorn factory exit with on a bad configuration (as click does on bad usage).
EXIT_STATUS = 2


class ConfigError(Exception):
    """A configuration that cannot be used: one line, naming the variable."""


def checked_settings(**overrides: Any) -> Settings:
    """The settings from the environment, with the local server's record, checked whole; ConfigError on the
    first problem. ``overrides`` (by variable name: ``PORT=8001``) win over the environment, as a command's
    options do, and are checked the same way."""
    try:
        settings = recorded_settings(Settings(**overrides))
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None
    except SettingsError as error:  # a value the environment source could not parse at all
        raise ConfigError(str(error).splitlines()[0]) from None
    check(settings)
    return settings


def check(settings: Settings) -> None:
    """What the application would refuse at start, refused now: KB_TOKENS, the persisted-query manifest."""
    try:
        parse_tokens(settings.tokens.get_secret_value())
    except ValueError as error:
        raise ConfigError(f"KB_TOKENS: {error}") from None
    if settings.persisted_queries is None and not settings.allow_list_only:
        return
    # Only then: the module brings in the whole GraphQL schema.
    from service.api.gate import PersistedQueries

    path = settings.persisted_queries
    try:
        PersistedQueries.from_manifest(path, settings.apq_capacity, settings.allow_list_only)
    except OSError as error:
        raise ConfigError(f"KB_PERSISTED_QUERIES: cannot read {path}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"KB_PERSISTED_QUERIES: {path} is not JSON: {error.msg} at line {error.lineno}") from None
    except ValueError as error:
        message = str(error)
        raise ConfigError(
            message if message.startswith("KB_") else f"KB_PERSISTED_QUERIES: {path}: {message}"
        ) from None
    except (KeyError, TypeError, AttributeError):
        raise ConfigError(
            f'KB_PERSISTED_QUERIES: {path} is not a persisted-query manifest ({{"operations": [{{"id", "body"}}]}} '
            "or {hash: query})"
        ) from None


def _describe(error: ValidationError) -> str:
    """Pydantic's errors as one line: each variable and what was wrong with it, never the value given."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        variable = ".".join(str(part) for part in problem["loc"]) or "settings"
        problems.append(f"{variable}: {problem['msg']}")
    return "; ".join(problems)
