"""The real server for end-to-end tests: uvicorn in its own process, against the session's Neo4j."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from neo4j import GraphDatabase
from service.config import PROJECT_ROOT, UVICORN_FLAGS, Settings
from tests.conftest import free_port
from tests.e2e.servers import neo4j_environment, wait_ready

ADMIN_TOKEN = "e2e-admin-token-0123456789"


@contextmanager
def uvicorn_serving(settings: Settings, log_dir: Path, **env: str) -> Iterator[str]:
    """`uvicorn service.app:create_app`, run as kb serve runs it, against ``settings``' Neo4j with ``env`` added;
    yields its base URL. Its log goes to a file (a pipe nobody reads would fill and stall it)."""
    port = free_port()
    log = log_dir / "uvicorn.log"
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--port", str(port), *UVICORN_FLAGS],
        cwd=PROJECT_ROOT,
        env=neo4j_environment(settings, **env),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, base, log, "uvicorn", 30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        out.close()


@pytest.fixture(scope="module")
def server(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server against the session's Neo4j; it knows one token, ADMIN_TOKEN."""
    with uvicorn_serving(neo4j_settings, tmp_path_factory.mktemp("uvicorn"), KB_TOKENS=f"{ADMIN_TOKEN}:admin") as base:
        yield base


@pytest.fixture
def empty_graph(neo4j_settings: Settings) -> None:
    """The session's graph emptied (`kb serve` then loads the seed into it, as on a first start)."""
    auth = (neo4j_settings.neo4j_user, neo4j_settings.neo4j_password.get_secret_value())
    with GraphDatabase.driver(neo4j_settings.effective_neo4j_uri(), auth=auth) as driver:
        driver.execute_query("MATCH (n) DETACH DELETE n")
