"""The real GraphQL clients of tests/clients (graphql-codegen, Apollo Client), run with Node against the live server.

`make install` installs them with `npm ci` from tests/clients/package-lock.json; a test fails, saying so,
when they are missing rather than skipping.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT

CLIENTS = PROJECT_ROOT / "tests" / "clients"
NODE_MODULES = CLIENTS / "node_modules"


def installed(path: str) -> Path:
    """``path`` under tests/clients/node_modules, which must exist."""
    found = NODE_MODULES / path
    if not found.exists():
        pytest.fail(f"{found} is missing: run `make install` (it runs `npm ci` in tests/clients)")
    return found


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is not on PATH: the client tests need Node.js (see README)")
    return found


def run(*args: str | Path, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """``node *args`` in tests/clients, its output captured as text."""
    return subprocess.run(
        [node(), *map(str, args)], cwd=CLIENTS, capture_output=True, text=True, timeout=timeout_s, check=False
    )
