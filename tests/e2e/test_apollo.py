"""Apollo Client 3 with its automatic persisted queries link against the live server (tests/clients/apq.mjs).

Over POST, and over GET for hashed queries: the first request sends only the hash and misses, the link sends
the query with its hash, and the requests after that go by hash alone and are answered.
"""

from __future__ import annotations

import json
import secrets

from service.graph.driver import Database
from tests.e2e.clients import CLIENTS, installed, run

UAE = {"data": {"actor": {"__typename": "Actor", "name": "United Arab Emirates"}}, "errors": None}


async def test_apollo_client_persisted_queries_over_post_and_get(seeded: Database, server: str) -> None:
    installed("@apollo/client/link/persisted-queries/index.js")
    nonce = secrets.token_hex(4)  # a query the server has not seen, whatever ran before

    done = await run(CLIENTS / "apq.mjs", f"{server}/graphql", nonce)

    assert done.returncode == 0, f"apq.mjs exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    output = json.loads(done.stdout)
    assert set(output) == {"POST", "GET"}
    for method, run_ in output.items():
        assert run_["results"] == [UAE] * 3, method
        requests = run_["requests"]
        hashes = {request["hash"] for request in requests}
        assert len(hashes) == 1, requests
        assert None not in hashes, requests
        sent = [(r["method"], r["query"], r["status"], r["codes"]) for r in requests]
        assert sent == [
            (method, False, 200, ["PERSISTED_QUERY_NOT_FOUND"]),  # the hash alone: unknown
            ("POST", True, 200, []),  # the query with its hash, learnt
            (method, False, 200, []),  # then the hash alone, answered
            (method, False, 200, []),
        ], requests
