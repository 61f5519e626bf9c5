"""The ASGI application: the GraphQL endpoint at /graphql, plus /health, /ready and /metrics."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from service.api.auth import parse_tokens
from service.api.gate import PersistedQueries
from service.api.graphiql import GraphiQL
from service.api.http import GraphQLEndpoint
from service.config import Settings
from service.config_check import EXIT_STATUS, ConfigError, check, checked_settings
from service.errors import KBError
from service.graph.driver import Database
from service.graph.schema import apply_schema
from service.observability import RequestContext, metrics, setup_tracing

log = logging.getLogger("service")


class GraphQLRoute:
    """/graphql: GraphiQL for a browser asking for HTML, the GraphQL endpoint for everything else."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.endpoint = GraphQLEndpoint(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _wants_html(Request(scope)):
            # The page is static; the queries it sends carry the token, if one is needed.
            await self.state.graphiql.page()(scope, receive, send)
            return
        await self.endpoint(scope, receive, send)


class AppState:
    """What lives for the process: settings, the one driver, whether the schema is applied."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database.connect(settings)
        self.tokens = parse_tokens(settings.tokens.get_secret_value())
        self.schema_applied = False
        self.graphiql = GraphiQL(settings.graphiql_dir)
        self.persisted = PersistedQueries.from_settings(settings)

    async def ensure_schema(self) -> bool:
        """Apply schema/*.cypher once; on failure, say so and try again next time."""
        if not self.schema_applied:
            try:
                await apply_schema(self.db, self.settings.schema_dir)
                self.schema_applied = True
            except KBError as error:
                log.warning("schema not applied yet: %s", error.message)
        return self.schema_applied


# Allocations, net of frees, between two collections of the youngest generation (Python's default: 700).
YOUNG_COLLECTION_THRESHOLD = 5_000


def _tune_collector() -> None:
    """Exempt what startup made (modules, the schema, the driver: some 80,000 objects) from garbage collection,
    and collect the youngest generation less often.

    The collector's oldest generation ran every few pages of 100 claims, each time walking all of it: with
    the younger ones, a fifth of such a page's time in process (2.4 s of 12.5 s over 1,300 pages; 1.1 s once
    frozen). Once per process.

    A request leaves little in reference cycles (an ingestReport about 215 objects, mostly the driver's
    results), but with 16 in flight every young collection walks all their live objects: at the default
    threshold, 0.38 ms of an ingest's 3.6 ms of CPU went to it, 0.23 of a page of 100's 2.1 ms, 0.05 of a
    point lookup's 0.66. At 5,000 those fell to 0.22, 0.05 and 0.01 ms, the longest pause staying under
    the default's on the page (8.8 ms against 9.0) and at 4 ms on the point lookup (bench: in-process
    thresholds alternated, 2026-12-02). Cyclic garbage waits a little longer: at most a few MB.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def create_app(settings: Settings | None = None) -> Starlette:
    """The application, on ``settings`` or, as uvicorn calls it, on the environment's.

    The configuration is checked whole first (service/config_check.py): given settings that cannot be used
    raise ConfigError; the environment's are told as one line on stderr, and the process exits with status 2
    before anything starts (uvicorn would otherwise print a traceback).
    """
    if settings is None:
        try:
            settings = checked_settings()
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr, flush=True)
            raise SystemExit(EXIT_STATUS) from None
    else:
        check(settings)
    state = AppState(settings)
    if setup_tracing():
        log.info("OpenTelemetry tracing on")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not state.graphiql.installed():
            log.warning("GraphiQL's files are missing (run `make install`); /graphql in a browser will say so")
        await state.ensure_schema()
        _tune_collector()
        log.info("started; Neo4j at %s", state.settings.effective_neo4j_uri())
        try:
            yield
        finally:
            # uvicorn gets here on SIGTERM once the requests in flight have finished (or KB_SHUTDOWN_GRACE ran out).
            await state.db.close()
            log.info("Neo4j driver closed; shutting down")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        checks: dict[str, Any] = {}
        try:
            await state.db.ping()
            checks["neo4j"] = "ok"
        except KBError as error:
            checks["neo4j"] = error.code
        checks["schema"] = "applied" if checks["neo4j"] == "ok" and await state.ensure_schema() else "pending"
        ok = checks["neo4j"] == "ok" and checks["schema"] == "applied"
        return JSONResponse({"status": "ready" if ok else "unavailable", **checks}, status_code=200 if ok else 503)

    graphql = GraphQLRoute(state)
    origins = [o.strip() for o in state.settings.cors_origins.split(",") if o.strip()]
    middleware = [Middleware(RequestContext)]
    if origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    app = Starlette(
        middleware=middleware,
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/graphql", graphql),  # every method: the endpoint answers those it does not serve with 405
            Route("/graphiql/{name}", state.graphiql.asset, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.kb = state
    return app
