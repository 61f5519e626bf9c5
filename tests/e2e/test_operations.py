"""Operating the real `kb serve`: JSON logs with request ids, /metrics across workers, graceful shutdown."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from neo4j import GraphDatabase
from service.api.ids import to_global_id
from service.config import Settings
from tests.e2e.servers import KbServe

WRITER = "operations-writer-token-0123"


Key = tuple[str, tuple[tuple[str, str], ...]]


def samples(text: str) -> dict[Key, float]:
    """Every sample of a scrape, summed over the workers' pid label."""
    found: dict[Key, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))
            key = (sample.name, labels)
            found[key] = found.get(key, 0.0) + sample.value
    return found


@pytest.fixture
def two_workers(empty_graph: None, neo4j_settings: Settings, tmp_path: Path) -> Iterator[KbServe]:
    server = KbServe(neo4j_settings, tmp_path / "kb.log", "--workers", "2", KB_LOG_FORMAT="json")
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def test_logs_metrics_and_request_ids_over_two_workers(two_workers: KbServe) -> None:
    base = two_workers.base
    with httpx.Client(base_url=base, timeout=10) as client:
        query = {"query": '{ actor(name: "Israel") { name } }'}
        answers = [client.post("/graphql", json=query, headers={"x-request-id": f"ops-{i}"}) for i in range(40)]
        invalid = client.post("/graphql", json={"query": "{ nope }"}, headers={"x-request-id": "ops-invalid"})
        odd_id = client.post("/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "a b\tc"})
        time.sleep(0.5)  # the last request is counted just after its answer is sent
        scrapes = [client.get("/metrics") for _ in range(6)]

    assert [a.headers["x-request-id"] for a in answers] == [f"ops-{i}" for i in range(40)]
    assert all(a.json() == {"data": {"actor": {"name": "Israel"}}} for a in answers)
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert odd_id.headers["x-request-id"] != "a b\tc"
    assert len(odd_id.headers["x-request-id"]) == 32

    # Each scrape lands on one worker or the other and counts both.
    for scrape in scrapes:
        assert scrape.status_code == 200
        figures = samples(scrape.text)
        graphql = sum(v for (name, labels), v in figures.items()
                      if name == "kb_http_requests_total" and ("route", "/graphql") in labels)  # fmt: skip
        assert graphql == 42
        assert figures[("kb_graphql_errors_total", (("code", "GRAPHQL_VALIDATION_FAILED"),))] == 1
        assert figures[("kb_http_request_duration_seconds_count", (("route", "/graphql"),))] == 42
        assert figures[("kb_neo4j_pool_max_size", ())] == 100  # two workers of 50
        assert ("kb_neo4j_connections_in_use", ()) in figures

    assert two_workers.stop() == 0
    assert not list(two_workers.tmp.glob("kb-metrics-*"))
    lines = two_workers.log.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    # Everything after the command's own start-up output is JSON, one object per line.
    assert len(records) >= 40
    first_json = next(i for i, line in enumerate(lines) if line.startswith("{"))
    assert all(line.startswith("{") for line in lines[first_json:])
    access = {r["requestId"]: r for r in records if r["logger"] == "service.access"}
    assert {f"ops-{i}" for i in range(40)} <= access.keys()
    assert access["ops-3"]["status"] == 200
    assert access["ops-3"]["path"] == "/graphql"
    assert all(set(r) >= {"time", "level", "logger", "message", "requestId"} for r in records)
    assert sum("Neo4j driver closed" in r["message"] for r in records) == 2
    assert records[-1]["logger"] == "service.cli"
    assert records[-1]["message"] == "stopped"  # kb serve's last word, after both workers'


def test_sigterm_lets_the_request_in_flight_finish_then_closes_the_driver(
    empty_graph: None, neo4j_settings: Settings, tmp_path: Path
) -> None:
    server = KbServe(neo4j_settings, tmp_path / "kb.log", KB_TOKENS=f"{WRITER}:writer",
                     NEO4J_QUERY_TIMEOUT="30").wait_ready()  # fmt: skip
    answer: dict[str, httpx.Response] = {}
    auth = (neo4j_settings.neo4j_user, neo4j_settings.neo4j_password.get_secret_value())
    with GraphDatabase.driver(neo4j_settings.effective_neo4j_uri(), auth=auth) as driver, driver.session() as session:
        # Another transaction holds Israel's lock: the mutation below waits on it.
        blocker = session.begin_transaction()
        blocker.run("MATCH (a:Actor {id: 'israel'}) SET a.heldByTest = true").consume()

        def mutate() -> None:
            answer["response"] = httpx.post(
                f"{server.base}/graphql",
                json={"query": 'mutation($id: ID!) { addAlias(actor: $id, alias: "Medinat Yisrael") { aliases } }',
                      "variables": {"id": to_global_id("Actor", "israel")}},
                headers={"authorization": f"Bearer {WRITER}"},
                timeout=60,
            )  # fmt: skip

        in_flight = threading.Thread(target=mutate)
        in_flight.start()
        time.sleep(1.5)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.5)
        still_serving = server.process.poll() is None
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.base}/health", timeout=2)  # no new requests once shutting down
        blocker.rollback()
        in_flight.join(timeout=30)

    assert still_serving
    # After its graceful shutdown uvicorn raises the signal again; kb serve unwinds and ends as it should, with 0.
    assert server.stop() == 0
    assert not list(server.tmp.glob("kb-metrics-*"))  # its temporary directory was removed on the way out
    response = answer["response"]
    assert response.status_code == 200
    assert "Medinat Yisrael" in response.json()["data"]["addAlias"]["aliases"]
    log = server.log.read_text()
    assert log.index('"status": 200') < log.index("Neo4j driver closed")  # the mutation was answered first
    assert "Traceback" not in log
