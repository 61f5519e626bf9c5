"""`kb serve` in a process of its own, as an operator runs it, with its log kept in a file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from service.config import PROJECT_ROOT, Settings
from tests.conftest import free_port

KB = Path(sys.executable).parent / "kb"


def neo4j_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """This process's environment, pointed at the Neo4j of ``settings``, plus ``extra``."""
    environment = {
        **os.environ,
        "NEO4J_URI": settings.effective_neo4j_uri(),
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        "NEO4J_DATABASE": settings.neo4j_database,
        **extra,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return environment


def wait_ready(process: subprocess.Popen[bytes], base: str, log: Path, what: str, timeout_s: float) -> None:
    """Return once ``base``/ready answers 200; raise with the log if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within {timeout_s}s: {log.read_text()}")


class KbServe:
    def __init__(self, settings: Settings, log: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.tmp = log.parent / "tmp"  # the server's temporary files, to check it leaves none
        self.tmp.mkdir(exist_ok=True)
        environment = neo4j_environment(settings, PORT=str(self.port), TMPDIR=str(self.tmp), **env)
        with log.open("wb") as out:
            self.process = subprocess.Popen([str(KB), "serve", *args], cwd=PROJECT_ROOT, env=environment,
                                            stdout=out, stderr=subprocess.STDOUT)  # fmt: skip

    def wait_ready(self, timeout_s: float = 60) -> KbServe:
        wait_ready(self.process, self.base, self.log, "kb serve", timeout_s)
        return self

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=60)
