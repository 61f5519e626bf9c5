"""Whether Neo4j answers, found out in about a second, before a command uses it.

A request retries an unreachable Neo4j for NEO4J_RETRY_TIME (a server should ride out a restart). A command
run by hand should not: ``check_reachable`` makes one connection, with the settings' credentials, that may take
PROBE_S, and on failure raises ``Unreachable`` with one line naming the URI tried, why it failed and what to do
(start the local server, unset a variable that points elsewhere, fix the password). ``kb seed``, ``kb schema
apply`` and ``kb serve`` call it first.
"""

from __future__ import annotations

import socket

from neo4j.exceptions import AuthError, ConfigurationError, DriverError, Neo4jError

from neo4j import GraphDatabase
from service.config import Settings
from service.graph.driver import CONNECT_FLOOR_S, USER_AGENT
from service.local_neo4j import LocalNeo4j

# How long the one connection may take: what any attempt of the service gets at least.
PROBE_S = CONNECT_FLOOR_S
REASON_LIMIT = 160


class Unreachable(Exception):
    """Neo4j did not take a connection with the settings' credentials: one line, what was tried and what to do."""


def check_reachable(settings: Settings) -> None:
    """Return once Neo4j at the settings' URI has taken a connection and their credentials; else raise
    Unreachable, within about PROBE_S (at once when nothing listens)."""
    uri = settings.effective_neo4j_uri()
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    try:
        with GraphDatabase.driver(uri, auth=auth, connection_timeout=PROBE_S, connection_acquisition_timeout=PROBE_S,
                                  max_transaction_retry_time=0, user_agent=USER_AGENT) as driver:  # fmt: skip
            driver.verify_connectivity()
    except AuthError:
        raise Unreachable(_refused(settings, uri)) from None
    except ConfigurationError as error:
        raise Unreachable(f"NEO4J_URI {uri!r} cannot be used: {_reason(error)}") from None
    except (DriverError, Neo4jError, OSError) as error:
        raise Unreachable(f"no Neo4j answers at {uri} ({_reason(error)}); {_advice(settings)}") from None


def _advice(settings: Settings) -> str:
    if settings.neo4j_uri is not None:
        return "check NEO4J_URI and that the server is up"
    local = LocalNeo4j.from_settings(settings)
    pid = local.pid()
    if pid is None:
        return (
            f"the local Neo4j in {local.home} is not running: start it with `kb neo4j start` (or `make serve`), "
            "or set NEO4J_URI to use another server"
        )
    record = local.record()
    if record is not None and record.bolt_port != local.bolt_port:
        return (
            f"the local Neo4j in {local.home} runs on Bolt port {record.bolt_port} (pid {pid}), but "
            f"KB_NEO4J_BOLT_PORT={local.bolt_port}: unset it"
        )
    return f"the local Neo4j in {local.home} runs (pid {pid}) but does not answer: see {local.console_log}"


def _refused(settings: Settings, uri: str) -> str:
    refused = f"Neo4j at {uri} refused user {settings.neo4j_user!r} with NEO4J_PASSWORD"
    if settings.neo4j_uri is not None:
        return f"{refused}: check NEO4J_USER and NEO4J_PASSWORD"
    home = settings.local_neo4j_home
    return (
        f"{refused}: the local server's password was set when {home} was created; use that NEO4J_PASSWORD, "
        f"or stop the server (`kb neo4j stop`) and remove {home} to start afresh"
    )


def _reason(error: BaseException) -> str:
    """Why a connection failed, in a few words: the operating system's reason where there is one."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve the host: {cause.strerror}"
        if isinstance(cause, TimeoutError):
            return f"no answer within {PROBE_S:g} s"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    # The driver's own message: its last line says what happened, the first only where it tried.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[-1] if lines else type(error).__name__
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"
