"""The local server's launcher: what it takes for a process to be stopped."""

from __future__ import annotations

import subprocess
import sys
import time

from service.local_neo4j import _alive

# Starts a child that exits at once and is never reaped (a zombie), prints its pid, and lives on a while.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "pass"])
print(child.pid, flush=True)
time.sleep(30)
"""


def test_a_process_that_exited_is_not_alive_even_when_its_parent_has_not_reaped_it() -> None:
    # `kb seed --bulk` stops a server that another process (the bench, a test session) started and still runs.
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

        assert not _alive(pid)
        assert _alive(parent.pid)
    finally:
        parent.kill()
        parent.wait()
