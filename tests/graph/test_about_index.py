"""An actor's standing claims are paged from the index about_actor_claims, whose keys every write keeps on the
ABOUT links, and counted from the twins every write keeps beside those links (claims.standing_twin). After each
kind of write, what the index and the count give must equal what walking the graph gives: for every actor,
with and without the anonymity condition, page by page; and every twin must be where its ABOUT link's claim
says."""

from __future__ import annotations

import asyncio

import pytest

from service.api.auth import Role
from service.api.ids import to_global_id
from service.graph import schema
from service.graph.claims import ClaimFilter, ClaimOrder, claim_page_query, claim_pages, indexed
from service.graph.driver import Database
from tests.conftest import Execute
from tests.graphs import actor, anonymous, claim, document, load

# What the index must agree with: the claims about the actor, walked and filtered on the claims themselves.
WALKED = """
MATCH (a:Actor {id: $actor})<-[:ABOUT]-(c:Claim)
WHERE NOT coalesce(c.retracted, false) AND ($anonymous IS NULL OR c.sourceAnonymous = $anonymous)
RETURN DISTINCT c.id AS id ORDER BY id
"""


async def paged(graph: Database, actor_id: str, anonymous: bool | None, first: int) -> tuple[list[str], list[int]]:
    """Every claim of the actor's list, a page of ``first`` at a time through the cursors; and each page's total."""
    ids: list[str] = []
    totals: list[int] = []
    after: list[str] | None = None
    while True:
        pages = await claim_pages(
            graph,
            "about_actor",
            [actor_id],
            where=ClaimFilter(anonymous=anonymous),
            order=ClaimOrder.ID,
            first=first,
            after=after,
        )
        page = pages[actor_id]
        ids.extend(row.node["id"] for row in page.rows)
        totals.append(page.total)
        if not page.has_next:
            return ids, totals
        last = page.rows[-1]
        after = [last.sort_key, last.node["id"]]


# ABOUT links to actors whose twins are not what their claim says (one of the source's anonymity while it
# stands, none once retracted or while the source is unknown), and twins with no ABOUT link beside them.
TWINS_ASTRAY = """
CALL () {
  MATCH (c:Claim)-[:ABOUT]->(a:Actor)
  WITH DISTINCT c, a
  WITH c, a, [COUNT { (c)-[:ANONYMOUS_CLAIM_ABOUT]->(a) }, COUNT { (c)-[:NAMED_CLAIM_ABOUT]->(a) }] AS twins,
       CASE WHEN coalesce(c.retracted, false) OR c.sourceAnonymous IS NULL THEN [0, 0]
            WHEN c.sourceAnonymous THEN [1, 0] ELSE [0, 1] END AS expected
  WHERE twins <> expected
  RETURN c.id AS claim, a.id AS actor, twins
  UNION
  MATCH (c:Claim)-[t:ANONYMOUS_CLAIM_ABOUT|NAMED_CLAIM_ABOUT]->(a)
  WHERE NOT EXISTS { (c)-[:ABOUT]->(a) }
  RETURN c.id AS claim, a.id AS actor, [type(t)] AS twins
}
RETURN claim, actor, twins ORDER BY claim, actor
"""


async def assert_index_agrees(graph: Database) -> None:
    assert await graph.read(TWINS_ASTRAY, {}) == []
    actors = [r["id"] for r in await graph.read("MATCH (a:Actor) RETURN a.id AS id", {})]
    for actor_id in actors:
        for anonymity in (None, True, False):
            walked = [r["id"] for r in await graph.read(WALKED, {"actor": actor_id, "anonymous": anonymity})]
            for first in (1, 2, 20):
                ids, totals = await paged(graph, actor_id, anonymity, first)
                assert ids == walked, (actor_id, anonymity, first)
                assert set(totals) == {len(walked)}, (actor_id, anonymity, first)


async def about_x(graph: Database) -> list[str]:
    return [r["id"] for r in await graph.read(WALKED, {"actor": "x", "anonymous": True})]


def test_the_headline_shape_and_only_it_is_answered_from_the_index() -> None:
    standing = frozenset({"excludeRetracted"})
    assert indexed("about_actor", ClaimOrder.ID, standing)
    assert indexed("about_actor", ClaimOrder.ID, standing | {"anonymous"})
    assert not indexed("about_actor", ClaimOrder.ID, frozenset({"anonymous"}))  # retracted ones too
    assert not indexed("about_actor", ClaimOrder.ID, standing | {"modality"})
    assert not indexed("about_actor", ClaimOrder.FIRST_REPORTED_ASC, standing)
    assert not indexed("made_by_actor", ClaimOrder.ID, standing)
    # Without a total asked for, the statement holds no count at all.
    assert "COUNT {" not in claim_page_query("about_actor", ClaimOrder.ID, standing, with_total=False)
    assert "COUNT {" in claim_page_query("about_actor", ClaimOrder.ID, standing, with_total=True)


async def test_a_page_without_its_total_counts_nothing(graph: Database) -> None:
    await load(graph, document("r1", actors=[actor("x")], claims=[claim(f"c{i}", "outlet", ["x"]) for i in range(3)]))
    pages = await claim_pages(
        graph, "about_actor", ["x"], where=ClaimFilter(), order=ClaimOrder.ID, first=2, after=None, with_total=False
    )
    assert [row.node["id"] for row in pages["x"].rows] == ["c0", "c1"]
    assert (pages["x"].total, pages["x"].has_next) == (0, True)


async def test_ingest_and_reingest_keep_the_index(graph: Database) -> None:
    actors = [actor("x"), actor("y"), anonymous("aide"), actor("minister", kind="person")]
    claims = [claim(f"c{i}", ["aide", "minister", "outlet"][i % 3], ["x"] if i % 2 else ["x", "y"]) for i in range(9)]
    # A subject named twice is one link.
    claims.append(claim("c9", "aide", ["x", "x", "y"]))
    await load(graph, document("r1", actors=actors, claims=claims))
    await assert_index_agrees(graph)
    assert await graph.read("MATCH (:Claim {id: 'c9'})-[r:ABOUT]->(:Actor {id: 'x'}) RETURN count(r) AS n", {}) == [
        {"n": 1}
    ]

    # The same report again, with claims moved to other sources and subjects.
    claims[0] = claim("c0", "minister", ["y"])
    claims[3] = claim("c3", "aide", ["x"])
    await load(graph, document("r1", actors=actors, claims=claims))
    await assert_index_agrees(graph)


async def test_a_placeholder_source_defined_later(graph: Database) -> None:
    # r1 names "aide" before any document defines it: not anonymous until r2 says so.
    await load(graph, document("r1", actors=[actor("x")], claims=[claim("c1", "aide", ["x"])]))
    assert await about_x(graph) == []
    await assert_index_agrees(graph)

    await load(graph, document("r2", actors=[anonymous("aide")], claims=[claim("c2", "aide", ["x"])]))

    assert await about_x(graph) == ["c1", "c2"]
    await assert_index_agrees(graph)


async def test_mutations_keep_the_index(graph: Database, execute: Execute) -> None:
    actors = [actor("x"), actor("y"), anonymous("aide"), actor("minister", kind="person")]
    await load(
        graph,
        document(
            "r1",
            actors=actors,
            claims=[claim("c1", "aide", ["x"]), claim("c2", "minister", ["x", "y"]), claim("c3", "outlet", ["y"])],
        ),
        document("r2", claims=[claim("c4", "aide", ["y"])]),
    )
    await assert_index_agrees(graph)

    async def mutate(query: str, role: Role, **variables: str) -> None:
        result = await execute(query, role, **variables)
        assert result["errors"] == [], result["errors"]
        await assert_index_agrees(graph)

    await mutate(
        'mutation { upsertActor(input: {id: "minister", name: "A minister", kind: PERSON, anonymous: true,'
        ' descriptor: "a minister"}) { anonymous } }',
        Role.WRITER,
    )
    await mutate(
        'mutation($id: ID!) { retractClaim(id: $id, reason: "wrong") { retracted } }',
        Role.WRITER,
        id=to_global_id("Claim", "c1"),
    )
    # y's claims move to x (c2 was about both), and the aide's claims to the outlet, which is not anonymous.
    merge = "mutation($keep: ID!, $merge: ID!) { mergeActors(keep: $keep, merge: $merge) { slug } }"
    await mutate(merge, Role.ADMIN, keep=to_global_id("Actor", "x"), merge=to_global_id("Actor", "y"))
    await mutate(merge, Role.ADMIN, keep=to_global_id("Actor", "outlet"), merge=to_global_id("Actor", "aide"))
    await mutate(
        "mutation($id: ID!) { deleteReport(id: $id) { claimsDeleted } }", Role.ADMIN, id=to_global_id("Report", "r2")
    )
    standing = await graph.read(WALKED, {"actor": "x", "anonymous": None})
    assert [r["id"] for r in standing] == ["c2", "c3"]


async def load_about_x_and_y(graph: Database, claim_ids: list[str]) -> None:
    """One report whose claims are all about x and y, every other one from the anonymous aide."""
    claims = [claim(key, "aide" if i % 2 else "outlet", ["x", "y"]) for i, key in enumerate(claim_ids)]
    await load(graph, document("r1", actors=[actor("x"), actor("y"), anonymous("aide")], claims=claims))


async def unmigrate_twins(graph: Database) -> None:
    """The graph as a version before the twins left it: none, and no migration recorded."""
    await graph.write("MATCH ()-[t:ANONYMOUS_CLAIM_ABOUT|NAMED_CLAIM_ABOUT]->() DELETE t", {})
    await graph.write("MATCH (m:Migration) DELETE m", {})


async def test_the_migration_keys_links_an_older_version_wrote(
    graph: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load_about_x_and_y(graph, [f"c{i}" for i in range(5)])
    await graph.write("MATCH (c:Claim {id: 'c3'}) SET c.retracted = true", {})
    # What a version before the index left behind: ABOUT links with no keys, and no twins.
    await graph.write("MATCH ()-[r:ABOUT]->() REMOVE r.actorId, r.sourceAnonymous, r.liveClaimId", {})
    await unmigrate_twins(graph)
    assert (
        await claim_pages(graph, "about_actor", ["x"], where=ClaimFilter(), order=ClaimOrder.ID, first=9, after=None)
    )["x"].rows == []
    # Two claims per batch: the walk through the id index must go on past the first batch.
    monkeypatch.setattr(schema, "MIGRATION_BATCH", 2)

    ran = await schema.migrate(graph)
    again = await schema.migrate(graph)

    assert ran == ["claim-source-anonymous", "about-actor-keys", "standing-claim-twins"]
    assert again == []
    await assert_index_agrees(graph)
    assert await about_x(graph) == ["c1"]


async def test_processes_migrating_at_once_make_one_twin_each(graph: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every process runs the migrations when it starts: several starting together must not double a twin.
    await load_about_x_and_y(graph, [f"c{i:04}" for i in range(400)])
    await unmigrate_twins(graph)
    monkeypatch.setattr(schema, "MIGRATION_BATCH", 50)

    await asyncio.gather(schema.migrate(graph), schema.migrate(graph), schema.migrate(graph))

    doubled = await graph.read(
        """MATCH (c:Claim)-[t:ANONYMOUS_CLAIM_ABOUT|NAMED_CLAIM_ABOUT]->(a)
           WITH c, a, count(t) AS twins WHERE twins > 1 RETURN count(*) AS pairs""",
        {},
    )
    assert doubled == [{"pairs": 0}]
    await assert_index_agrees(graph)


async def test_every_kind_of_write_in_turn_keeps_the_twins(graph: Database, execute: Execute) -> None:
    # Sources and subjects that are the same actor, a source no document defines, retracting twice, reloading
    # a retracted claim changed, an anonymity flipped, merges in a chain, both reports deleted.
    actors = [actor("x"), actor("y"), anonymous("aide"), actor("minister", kind="person"), anonymous("spy")]
    claims = [
        claim("c1", "aide", ["x", "y", "aide"]),
        claim("c2", "minister", ["x", "minister"]),
        claim("c3", "spy", ["aide", "spy", "x"]),
        claim("c4", "ghost", ["x", "phantom"]),
    ]
    await load(graph, document("r1", actors=actors, claims=claims), document("r2", claims=[claim("c5", "aide", ["y"])]))
    await assert_index_agrees(graph)

    async def mutate(query: str, role: Role, **variables: str) -> None:
        result = await execute(query, role, **variables)
        assert result["errors"] == [], result["errors"]
        await assert_index_agrees(graph)

    retract = "mutation($id: ID!) { retractClaim(id: $id) { retracted } }"
    await mutate(retract, Role.WRITER, id=to_global_id("Claim", "c1"))
    await mutate(retract, Role.WRITER, id=to_global_id("Claim", "c1"))
    changed = [
        claim("c1", "spy", ["x"], text="changed"),
        claim("c2", "aide", ["y", "x"], text="changed"),
        *claims[2:],
    ]
    await load(graph, document("r1", actors=[*actors, anonymous("ghost")], claims=changed))
    await assert_index_agrees(graph)
    await mutate(
        'mutation { upsertActor(input: {id: "spy", name: "Spy", kind: PERSON, anonymous: false}) { anonymous } }',
        Role.WRITER,
    )
    merge = "mutation($keep: ID!, $merge: ID!) { mergeActors(keep: $keep, merge: $merge) { slug } }"
    for keep, gone in (("aide", "spy"), ("x", "aide"), ("ghost", "x")):
        await mutate(merge, Role.ADMIN, keep=to_global_id("Actor", keep), merge=to_global_id("Actor", gone))
    delete = "mutation($id: ID!) { deleteReport(id: $id) { claimsDeleted } }"
    for report in ("r2", "r1"):
        await mutate(delete, Role.ADMIN, id=to_global_id("Report", report))
