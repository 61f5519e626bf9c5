"""Lookups by key from concurrent requests share one query; one alone never waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import Any

import pytest
import pytest_asyncio
from neo4j.exceptions import CypherSyntaxError

from service.api.ids import to_global_id
from service.config import Settings
from service.graph import actors, claims, shared
from service.graph.driver import Database, Record, recorded_statements
from tests.conftest import Execute


@pytest_asyncio.fixture
async def db(neo4j_settings: Settings, seeded: Database) -> AsyncIterator[Database]:
    """A database of its own (so its lanes are fresh) over the seeded graph."""
    database = Database.connect(neo4j_settings)
    yield database
    await database.close()


@pytest_asyncio.fixture
async def claim_ids(seeded: Database) -> list[str]:
    return [r["id"] for r in await seeded.read("MATCH (c:Claim) RETURN c.id AS id ORDER BY id LIMIT 6", {})]


def claims_by_ids(db: Database, keys: Sequence[str]) -> Any:
    return db.shared.fetch(claims.claims_by_ids, keys, partial(claims.claims_by_ids, db))


async def test_lookups_at_once_go_as_one_query_after_the_running_one(db: Database, claim_ids: list[str]) -> None:
    alone = await claims.claims_by_ids(db, claim_ids)
    with recorded_statements() as sent:
        answers = await asyncio.gather(*(claims_by_ids(db, [key]) for key in claim_ids))
    # The first went at once; the other five waited for it and went together.
    assert [params["ids"] for _, params in sent] == [claim_ids[:1], claim_ids[1:]]
    for key, answer in zip(claim_ids, answers, strict=True):
        assert answer[key] == alone[key]  # each key answered as its own query answers it
    assert db.shared.joined == 4


async def test_a_lookup_alone_goes_at_once(db: Database, claim_ids: list[str]) -> None:
    with recorded_statements() as sent:
        for key in claim_ids[:3]:
            assert key in await claims_by_ids(db, [key])
    assert [params["ids"] for _, params in sent] == [[key] for key in claim_ids[:3]]
    assert db.shared.joined == 0


async def test_lookups_of_different_kinds_do_not_wait_for_each_other(db: Database, claim_ids: list[str]) -> None:
    actor_ids = [r["id"] for r in await db.read("MATCH (a:Actor) RETURN a.id AS id ORDER BY id LIMIT 2", {})]
    with recorded_statements() as sent:
        await asyncio.gather(
            claims_by_ids(db, claim_ids[:1]),
            db.shared.fetch(actors.actors_by_ids, actor_ids, partial(actors.actors_by_ids, db)),
        )
    assert len(sent) == 2
    assert db.shared.joined == 0


async def test_switched_off_every_lookup_has_its_own_query(neo4j_settings: Settings, claim_ids: list[str]) -> None:
    db = Database.connect(neo4j_settings.model_copy(update={"shared_lookups": False}))
    try:
        with recorded_statements() as sent:
            answers = await asyncio.gather(*(claims_by_ids(db, [key]) for key in claim_ids))
        assert [params["ids"] for _, params in sent] == [[key] for key in claim_ids]
        assert [list(a) for a in answers] == [[key] for key in claim_ids]
    finally:
        await db.close()


async def test_a_shared_query_that_fails_fails_for_all_who_joined_and_frees_its_kind(db: Database) -> None:
    async def broken(keys: Sequence[str]) -> dict[str, Record]:
        await db.read("RETURN RETURN", {"keys": list(keys)})
        raise AssertionError("Neo4j accepted a syntax error")

    async def working(keys: Sequence[str]) -> dict[str, Record]:
        return {r["key"]: r for r in await db.read("UNWIND $keys AS key RETURN key", {"keys": list(keys)})}

    outcomes = await asyncio.gather(*(db.shared.fetch("kind", [str(i)], broken) for i in range(3)),
                                    return_exceptions=True)  # fmt: skip
    assert [type(o) for o in outcomes] == [CypherSyntaxError] * 3
    # At once, not stuck behind the failed query.
    assert await asyncio.wait_for(db.shared.fetch("kind", ["a"], working), 5) == {"a": {"key": "a"}}


async def test_a_request_cancelled_while_it_waits_leaves_the_others_answer(db: Database, claim_ids: list[str]) -> None:
    first = asyncio.ensure_future(claims_by_ids(db, claim_ids[:1]))
    second = asyncio.ensure_future(claims_by_ids(db, claim_ids[1:2]))  # starts the waiting batch
    third = asyncio.ensure_future(claims_by_ids(db, claim_ids[2:3]))  # joins it
    await asyncio.sleep(0)  # all three are in: the first running, the other two waiting
    second.cancel()
    assert claim_ids[0] in await first
    assert claim_ids[2] in await third  # the query the cancelled request started still ran
    with pytest.raises(asyncio.CancelledError):
        await second


async def test_a_full_batch_takes_no_more_keys(
    db: Database, claim_ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared, "MAX_KEYS", 2)
    with recorded_statements() as sent:
        await asyncio.gather(
            claims_by_ids(db, claim_ids[:1]),  # runs
            claims_by_ids(db, claim_ids[1:3]),  # waits, and fills the batch
            claims_by_ids(db, claim_ids[3:4]),  # would overfill it: runs at once instead
        )
    assert [params["ids"] for _, params in sent] == [claim_ids[:1], claim_ids[3:4], claim_ids[1:3]]


async def test_requests_at_once_each_get_their_own_node(
    resolve: Execute, seeded: Database, claim_ids: list[str]
) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on Claim { id text } } }"
    alone = [await resolve(query, id=to_global_id("Claim", key)) for key in claim_ids]
    before = seeded.round_trips
    together = await asyncio.gather(*(resolve(query, id=to_global_id("Claim", key)) for key in claim_ids))
    assert together == alone
    assert [r["data"]["node"]["id"] for r in together] == [to_global_id("Claim", key) for key in claim_ids]
    assert seeded.round_trips - before == 2  # one at once, then the other five together
