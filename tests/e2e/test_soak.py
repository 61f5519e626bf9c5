"""A soak: steady load on the real `kb serve` for a bounded time; no errors, no growth in memory or connections.

KB_SOAK_SECONDS sets the length (30 by default, to keep the suite short; run
it for an hour by hand with KB_SOAK_SECONDS=3600 pytest tests/e2e/test_soak.py -s).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from service.api.graphiql import EXAMPLES
from service.config import Settings
from tests.e2e.servers import KbServe

SECONDS = float(os.environ.get("KB_SOAK_SECONDS", "30"))
CLIENTS = 8


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_soak(empty_graph: None, neo4j_settings: Settings, tmp_path: Path) -> None:
    server = KbServe(neo4j_settings, tmp_path / "kb.log").wait_ready()
    pid = server.process.pid
    bodies = [{"query": e.query, "variables": e.variables or {}} for e in EXAMPLES]
    outcomes: Counter[str] = Counter()
    stop = threading.Event()

    def client(offset: int) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            i = offset
            while not stop.is_set():
                response = http.post("/graphql", json=bodies[i % len(bodies)])
                errors = response.json().get("errors") if response.status_code == 200 else [{}]
                outcomes["ok" if not errors else f"{response.status_code} {errors}"[:200]] += 1
                i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    samples: list[tuple[float, float, int]] = []
    try:
        for thread in threads:
            thread.start()
        started = time.monotonic()
        while time.monotonic() - started < SECONDS:
            time.sleep(1)
            samples.append((time.monotonic() - started, rss_mb(pid), open_files(pid)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        server.stop()

    # Warm-up (caches, the driver's pool, the allocator) is the first quarter; compare the rest.
    settled = [s for s in samples if s[0] >= SECONDS / 4]
    half = len(settled) // 2
    early_rss = statistics.median(s[1] for s in settled[:half])
    late_rss = statistics.median(s[1] for s in settled[half:])
    files = [s[2] for s in settled]
    print(
        f"\nsoak: {SECONDS:.0f} s, {CLIENTS} clients, {sum(outcomes.values())} requests "
        f"({sum(outcomes.values()) / SECONDS:.0f}/s); RSS MB {samples[0][1]:.0f} at 1 s, "
        f"{early_rss:.0f} then {late_rss:.0f} (medians of the settled halves); open files {min(files)}-{max(files)}"
    )
    assert set(outcomes) == {"ok"}, outcomes
    assert late_rss < early_rss * 1.10 + 5
    assert max(files) - min(files) <= CLIENTS + 4  # sockets come and go; none pile up
