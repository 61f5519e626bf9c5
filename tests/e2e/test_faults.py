"""Neo4j stopped and started again under a running load: coded errors meanwhile, recovery without a restart.

This test has a Neo4j of its own (the session's is shared by every other test).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from service.graph.driver import CONNECT_FLOOR_S
from service.local_neo4j import LocalNeo4j
from tests.conftest import free_port
from tests.e2e.servers import KbServe

QUERY = '{ actor(name: "Israel") { name claims(first: 3) { totalCount } } }'
PASSWORD = "kb-faults-password"
RETRY_S = 1.0


@dataclass
class Load:
    """Clients asking QUERY in a loop; every answer noted as (time, HTTP status, error code or "ok", seconds taken)."""

    base: str
    answers: list[tuple[float, int, str, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                asked = time.monotonic()
                try:
                    response = client.post("/graphql", json={"query": QUERY})
                except httpx.TransportError as error:
                    self.answers.append((time.monotonic(), 0, type(error).__name__, time.monotonic() - asked))
                    continue
                body = response.json()
                errors = body.get("errors") or []
                code = errors[0]["extensions"]["code"] if errors else "ok"
                self.answers.append((time.monotonic(), response.status_code, code, time.monotonic() - asked))
                time.sleep(0.02)

    def codes(self, since: float, until: float) -> Counter[str]:
        return Counter(code for at, _, code, _ in list(self.answers) if since <= at < until)


@pytest.fixture
def own_neo4j(tmp_path: Path) -> Iterator[LocalNeo4j]:
    neo4j = LocalNeo4j(home=tmp_path / "neo4j", bolt_port=free_port(), user="neo4j", password=PASSWORD,
                       heap="512m", pagecache="64m")  # fmt: skip
    neo4j.start()
    try:
        yield neo4j
    finally:
        neo4j.stop()


def test_neo4j_stopped_and_restarted_under_load(own_neo4j: LocalNeo4j, tmp_path: Path) -> None:
    settings = Settings(NEO4J_URI=own_neo4j.uri, NEO4J_USER="neo4j", NEO4J_PASSWORD=PASSWORD)
    server = KbServe(settings, tmp_path / "kb.log", NEO4J_RETRY_TIME=str(RETRY_S), NEO4J_QUERY_TIMEOUT="5").wait_ready()
    load = Load(server.base)
    clients = [threading.Thread(target=load.run) for _ in range(4)]
    try:
        for client in clients:
            client.start()
        time.sleep(3)
        stopping_at = time.monotonic()
        own_neo4j.stop()
        stopped_at = time.monotonic()
        time.sleep(5)
        ready_while_down = httpx.get(f"{server.base}/ready", timeout=30)
        restarted_at = time.monotonic()
        own_neo4j.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and load.codes(restarted_at, time.monotonic())["ok"] < 20:
            time.sleep(0.5)
        recovered_at = time.monotonic()
        time.sleep(2)
        ready_after = httpx.get(f"{server.base}/ready", timeout=30)
    finally:
        load.stop.set()
        for client in clients:
            client.join(timeout=60)
        alive = server.process.poll() is None
        server.stop()

    print(f"\nstop took {stopped_at - stopping_at:.1f} s; recovery {recovered_at - restarted_at:.1f} s after start")
    by_second = Counter((round(at - stopping_at), code) for at, _, code, _ in load.answers)
    print("answers by second since the stop began:", sorted(by_second.items()))
    unavailable = sorted(took for _, _, code, took in load.answers if code == "DATABASE_UNAVAILABLE") or [0.0]
    median, longest = unavailable[len(unavailable) // 2], unavailable[-1]
    print(f"DATABASE_UNAVAILABLE answered in {median:.2f} s (median), {longest:.2f} s at the longest")
    before = load.codes(0, stopping_at)
    during = load.codes(stopped_at + 1, restarted_at)
    after = load.codes(recovered_at, time.monotonic())
    statuses = Counter(status for _, status, _, _ in load.answers)

    assert before["ok"] > 20
    assert set(before) == {"ok"}
    assert during["DATABASE_UNAVAILABLE"] > 0
    assert set(during) == {"DATABASE_UNAVAILABLE"}, during
    # Each within the retry time and one last connection attempt (the README's bound), and some slack.
    assert longest <= RETRY_S + CONNECT_FLOOR_S + 0.5
    assert after["ok"] > 20
    assert set(after) == {"ok"}, after
    assert set(statuses) == {200}, statuses  # no 5xx, no dropped connection
    assert ready_while_down.status_code == 503
    assert ready_while_down.json()["neo4j"] == "DATABASE_UNAVAILABLE"
    assert ready_after.status_code == 200
    assert alive  # recovered by itself, never restarted
    assert "Traceback" not in server.log.read_text()
