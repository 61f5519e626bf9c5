"""The real GraphQL clients of tests/clients (graphql-codegen, Apollo Client), run with Node against the live server.

`make install` installs them with `npm ci` from tests/clients/package-lock.json; a test fails, saying so,
when they are missing rather than skipping.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


async def run(*args: str | Path, timeout_s: float = 120) -> Done:
    """``node *args`` in tests/clients, its output captured as text; killed after ``timeout_s``."""
    process = await asyncio.create_subprocess_exec(
        node(), *map(str, args), cwd=CLIENTS, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
        pytest.fail(f"node {' '.join(map(str, args))} took over {timeout_s}s:\n{stdout.decode()}\n{stderr.decode()}")
    assert process.returncode is not None
    return Done(process.returncode, stdout.decode(), stderr.decode())
