"""The HTTP floor: kb's Cypher behind the same HTTP stack, with no GraphQL at all.

    uvicorn bench.http_floor:app    # with HTTP_FLOOR_WORK=FILE and NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD

The ``http-floor`` contender of bench/perf.py (opt-in: ``--contenders``). FILE
holds, per scenario, the statements kb sent for each of its requests (as the
driver floor replays them); ``POST /`` with ``{"scenario": S, "i": N}`` runs
request N's statements in order through the Python driver, exactly as the
driver floor does, and answers their last records as JSON. It is served by
uvicorn with kb's flags and workers, through a Starlette route: about what
kb's throughput would be if its GraphQL layer (parsing, the plan, the
post-step, the extension, the middleware) cost nothing. On small answers (the
point lookup) its ratio to the library is about the most a GraphQL layer on
this stack could reach. On large ones it is no ceiling: a session per
statement and ``record.data()`` cost more than kb's reading of the same
records, and kb beats it on the headline and the page of 100.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.load import replayed
from neo4j import AsyncDriver, AsyncGraphDatabase

# Read at import: uvicorn imports the app in each worker before its event loop serves anything.
_FILE = os.environ.get("HTTP_FLOOR_WORK")
WORK: dict[str, list[list[list[Any]]]] = json.loads(Path(_FILE).read_text()) if _FILE else {}
DRIVER: list[AsyncDriver] = []


async def replay(request: Request) -> Response:
    asked = orjson.loads(await request.body())
    statements = WORK.get(asked.get("scenario", ""), [])
    if not isinstance(asked.get("i"), int) or not statements:
        return Response(b'{"errors":[{"message":"send {scenario, i}"}]}', 400, media_type="application/json")
    records = await replayed(DRIVER[0], statements[asked["i"] % len(statements)])  # as the driver floor reads
    return Response(orjson.dumps({"data": [record.data() for record in records]}), media_type="application/json")


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    auth = (os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])
    DRIVER.append(AsyncGraphDatabase.driver(os.environ["NEO4J_URI"], auth=auth))
    try:
        yield
    finally:
        await DRIVER.pop().close()


app = Starlette(routes=[Route("/", replay, methods=["POST"])], lifespan=lifespan)
