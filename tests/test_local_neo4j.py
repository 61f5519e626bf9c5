"""The local server's launcher: what it takes for a process to be stopped; and its record
(KB_NEO4J_HOME/server.json): what the environment leaves unset comes from it, what the environment sets wins, a
record that cannot be read is no record. (The real server, started and found from fresh shells:
tests/e2e/test_local_server.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.config import Settings
from service.config_check import checked_settings
from service.local_neo4j import RECORD_NAME, LocalNeo4j, ServerRecord, _alive, recorded_settings

STARTED = datetime(2026, 12, 1, 18, 40, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """None of this process's settings; KB_NEO4J_HOME an empty directory. Returns it."""
    for name in list(os.environ):
        if name.startswith(("NEO4J_", "KB_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KB_NEO4J_HOME", str(tmp_path))
    return tmp_path


def record(home: Path, bolt_port: int = 17700, heap: str = "768m", pagecache: str = "64m") -> ServerRecord:
    written = ServerRecord(bolt_port=bolt_port, heap=heap, pagecache=pagecache, pid=4321, java="/usr/bin/java",
                           started_at=STARTED)  # fmt: skip
    written.write(home)
    return written


def test_with_no_record_the_defaults_hold(tmp_path: Path) -> None:
    settings = checked_settings()

    assert (settings.local_neo4j_bolt_port, settings.local_neo4j_heap, settings.local_neo4j_pagecache) == (
        7687, "1g", "512m")  # fmt: skip
    assert settings.effective_neo4j_uri() == "bolt://127.0.0.1:7687"


def test_what_the_environment_leaves_unset_comes_from_the_record(tmp_path: Path) -> None:
    record(tmp_path)

    settings = checked_settings()

    assert (settings.local_neo4j_bolt_port, settings.local_neo4j_heap, settings.local_neo4j_pagecache) == (
        17700, "768m", "64m")  # fmt: skip
    assert settings.effective_neo4j_uri() == "bolt://127.0.0.1:17700"
    assert LocalNeo4j.from_settings(settings).uri == "bolt://127.0.0.1:17700"  # a restart comes back there


def test_what_the_environment_sets_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path)
    monkeypatch.setenv("KB_NEO4J_BOLT_PORT", "7687")  # the default, named: still the environment's
    monkeypatch.setenv("KB_NEO4J_HEAP", "2g")

    settings = checked_settings()

    assert (settings.local_neo4j_bolt_port, settings.local_neo4j_heap, settings.local_neo4j_pagecache) == (
        7687, "2g", "64m")  # fmt: skip


def test_neo4j_uri_wins_over_the_local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path)
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://example.databases.neo4j.io")

    assert checked_settings().effective_neo4j_uri() == "neo4j+s://example.databases.neo4j.io"


def test_a_record_is_read_from_the_home_the_settings_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    other.mkdir()
    record(other, bolt_port=17800)

    assert checked_settings().local_neo4j_bolt_port == 7687
    monkeypatch.setenv("KB_NEO4J_HOME", str(other))
    assert checked_settings().local_neo4j_bolt_port == 17800


@pytest.mark.parametrize(
    "content",
    ["", "{", "[]", json.dumps({"bolt_port": 70000, "heap": "1g", "pagecache": "1g", "pid": 1, "java": "java",
                                "started_at": STARTED.isoformat()}), json.dumps({"bolt_port": 17700})],
    ids=["empty", "not-json", "not-an-object", "port-out-of-range", "fields-missing"],
)  # fmt: skip
def test_a_record_that_cannot_be_read_is_no_record(tmp_path: Path, content: str) -> None:
    (tmp_path / RECORD_NAME).write_text(content)

    assert ServerRecord.read(tmp_path) is None
    assert checked_settings().local_neo4j_bolt_port == 7687


def test_a_record_reads_back_as_written(tmp_path: Path) -> None:
    written = record(tmp_path)

    assert ServerRecord.read(tmp_path) == written
    assert json.loads((tmp_path / RECORD_NAME).read_text())["bolt_port"] == 17700
    assert not list(tmp_path.glob("*.tmp"))


def test_given_settings_are_left_as_given(tmp_path: Path) -> None:
    record(tmp_path)
    given = Settings(KB_NEO4J_HOME=str(tmp_path), KB_NEO4J_BOLT_PORT=17900)

    assert recorded_settings(given).local_neo4j_bolt_port == 17900


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
