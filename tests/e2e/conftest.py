"""The real server for end-to-end tests: uvicorn in its own process, against the session's Neo4j."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from service.config import PROJECT_ROOT, Settings
from tests.conftest import free_port


@pytest.fixture(scope="module")
def server(neo4j_settings: Settings) -> Iterator[str]:
    """`uvicorn service.app:create_app` against the session's Neo4j; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "NEO4J_URI": neo4j_settings.effective_neo4j_uri(),
        "NEO4J_USER": neo4j_settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_settings.neo4j_password.get_secret_value(),
        "NEO4J_DATABASE": neo4j_settings.neo4j_database,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {process.stdout.read().decode() if process.stdout else ''}")
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("uvicorn did not become ready within 30s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
