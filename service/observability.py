"""Request ids, structured logs and Prometheus metrics.

Every HTTP request gets an id: the client's ``X-Request-Id`` when it is a
sensible one (up to 128 of ``A-Za-z0-9._-``), else a new one. It is sent back
in the response's ``X-Request-Id``, carried in a context variable, and stamped
on every log line written while the request runs, ours and the libraries'.

Logs are one JSON object per line (``KB_LOG_FORMAT=json``, the default) or
plain text (``text``). Metrics are served at ``/metrics`` in Prometheus' text
format; under several uvicorn workers ``kb serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a directory of its own so that a scrape sums
every worker.

Tracing is OpenTelemetry's, off unless configured: with
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_TRACES_EXPORTER=console``) each
request is a span and each Cypher round trip a child span carrying the
statement's text (never its parameters).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

log = logging.getLogger("service.access")
tracer = trace.get_tracer("kb")

# -- metrics -------------------------------------------------------------------

REQUESTS = Counter("kb_http_requests_total", "HTTP requests answered, by route, method and status.",
                   ["route", "method", "status"])  # fmt: skip
LATENCY = Histogram(
    "kb_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter("kb_graphql_errors_total", "GraphQL errors answered, by extensions.code.", ["code"])
NEO4J_IN_USE = Gauge("kb_neo4j_connections_in_use", "Neo4j connections held by a running transaction.",
                     multiprocess_mode="livesum")  # fmt: skip
NEO4J_POOL_SIZE = Gauge("kb_neo4j_pool_max_size", "Most Neo4j connections the drivers may open, all workers.",
                        multiprocess_mode="livesum")  # fmt: skip
COMPILED_READS = Counter("kb_compiled_reads_total",
                         "Queries by how KB_COMPILED_READS answered them: compiled (one Cypher statement), "
                         "unsupported or declined (then Strawberry answered).", ["outcome"])  # fmt: skip
NEO4J_UNAVAILABLE = Counter("kb_neo4j_unavailable_total", "Neo4j calls that failed because it could not be reached.")
NEO4J_RETRIES = Counter("kb_neo4j_retries_total", "Neo4j calls attempted again after a transient failure.")
WRITES = Counter("kb_writes_total", "Writes of the writer (ingestReport, upsertActor, kb seed batches), each one "
                 "transaction that commits or fails.")  # fmt: skip
WRITE_RETRIES = Counter("kb_write_retries_total",
                        "Times a write's transaction ran again, by cause: transient (a deadlock, a server "
                        "restarting) or constraint (another writer created an id it planned to create).",
                        ["cause"])  # fmt: skip


def current_request_id() -> str | None:
    """The id of the request running, or None outside one."""
    rid = request_id.get()
    return None if rid == "-" else rid


def count_error(code: str) -> None:
    ERRORS.labels(code=code).inc()


async def metrics(_: Request) -> Response:
    """``GET /metrics``: every worker's figures when several share a multiprocess directory."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(DEFAULT_REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


# -- the middleware ---------------------------------------------------------------


class RequestContext:
    """Pure ASGI middleware: request id in and out, one access log line, request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = _header(scope, b"x-request-id")
        rid = presented if presented is not None and _GOOD_ID.fullmatch(presented) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        route, method = _route(scope["path"]), _method(scope["method"])
        span = tracer.start_span(f"{method} {route}", kind=SpanKind.SERVER,
                                 attributes={"http.request.method": method, "http.route": route,
                                             "url.path": scope["path"], "kb.request_id": rid})  # fmt: skip
        try:
            with trace.use_span(span, end_on_exit=False):
                await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()
            counted, timed = _series(route, method, status)
            counted.inc()
            timed.observe(elapsed)
            log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                extra={"method": scope["method"], "path": scope["path"], "status": status,
                       "durationMs": round(elapsed * 1000, 2)},
            )  # fmt: skip
            request_id.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


# HTTP's methods; any other token a client sends is labelled "_OTHER" (OpenTelemetry's name for it), so a
# client cannot create metric series at will.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


def _method(method: str) -> str:
    return method if method in _METHODS else "_OTHER"


@lru_cache(maxsize=1024)
def _series(route: str, method: str, status: int) -> tuple[Any, Any]:
    """The request counter's and the latency histogram's series for a request (bounded labels, so kept)."""
    return REQUESTS.labels(route=route, method=method, status=str(status)), LATENCY.labels(route=route)


def _route(path: str) -> str:
    """A bounded label: the known routes, everything else as "other"."""
    if path in ("/graphql", "/health", "/ready", "/metrics"):
        return path
    if path.startswith("/graphiql/"):
        return "/graphiql"
    return "other"


# -- logs ---------------------------------------------------------------------------

# Attributes every LogRecord has; anything else was passed in ``extra`` and is logged as a field.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "requestId"}


class RequestIdFilter(logging.Filter):
    """Stamps the running request's id (or "-") on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.requestId = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, requestId, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": getattr(record, "requestId", "-"),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_config(level: str, format: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the service and uvicorn (whose access log ours replaces)."""
    formatter = (
        {"()": JsonFormatter}
        if format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(requestId)s] %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "default", "filters": ["request_id"],
               "stream": "ext://sys.stderr"}  # fmt: skip
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


# -- tracing ---------------------------------------------------------------------------


def setup_tracing(exporter: Any = None) -> bool:
    """Install a tracer provider when OpenTelemetry is configured (or an exporter is given); True if so.

    The OTLP exporter reads the standard OTEL_EXPORTER_OTLP_* variables;
    OTEL_SERVICE_NAME names the service ("kb" unless set).
    """
    if exporter is None:
        if os.environ.get("OTEL_TRACES_EXPORTER") == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporter = ConsoleSpanExporter()
        elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        else:
            return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "kb")}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True
