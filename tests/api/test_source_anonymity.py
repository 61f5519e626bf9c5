"""A claim keeps its source's anonymity (``sourceAnonymous``); every write that can move it keeps it in step."""

from __future__ import annotations

from service.api.auth import Role
from service.api.ids import to_global_id
from service.graph.driver import Database
from service.graph.schema import migrate
from tests.conftest import Execute
from tests.graphs import actor, anonymous, claim, document, load

ANONYMOUS_ABOUT_X = '{ actor(name: "X") { claims(anonymous: true) { totalCount edges { node { slug } } } } }'
NAMED_ABOUT_X = '{ actor(name: "X") { claims(anonymous: false) { totalCount } } }'


async def anonymous_about_x(execute: Execute) -> list[str]:
    result = await execute(ANONYMOUS_ABOUT_X)
    assert result["errors"] == []
    claims = result["data"]["actor"]["claims"]
    slugs = [edge["node"]["slug"] for edge in claims["edges"]]
    assert claims["totalCount"] == len(slugs)
    return slugs


async def test_a_source_defined_after_its_claims_gives_them_its_anonymity(graph: Database, execute: Execute) -> None:
    # r1 names "aide" before any document defines it: a placeholder, not anonymous.
    await load(graph, document("r1", actors=[actor("x")], claims=[claim("c1", "aide", ["x"])]))
    assert await anonymous_about_x(execute) == []

    await load(graph, document("r2", actors=[anonymous("aide")], claims=[claim("c2", "aide", ["x"])]))

    assert await anonymous_about_x(execute) == ["c1", "c2"]


async def test_upsert_actor_changing_anonymity_moves_its_claims(graph: Database, execute: Execute) -> None:
    named = actor("spokesman", kind="person")
    await load(graph, document("r1", actors=[actor("x"), named], claims=[claim("c1", "spokesman", ["x"])]))
    assert await anonymous_about_x(execute) == []

    result = await execute(
        'mutation { upsertActor(input: {id: "spokesman", name: "A spokesman", kind: PERSON, anonymous: true,'
        ' descriptor: "a spokesman"}) { anonymous } }',
        Role.WRITER,
    )

    assert result["data"]["upsertActor"] == {"anonymous": True}
    assert await anonymous_about_x(execute) == ["c1"]
    assert (await execute(NAMED_ABOUT_X))["data"]["actor"]["claims"]["totalCount"] == 0


async def test_a_claim_changing_source_changes_anonymity(graph: Database, execute: Execute) -> None:
    await load(graph, document("r1", actors=[actor("x"), anonymous("aide")], claims=[claim("c1", "aide", ["x"])]))
    assert await anonymous_about_x(execute) == ["c1"]

    await load(graph, document("r1", actors=[actor("x"), anonymous("aide")], claims=[claim("c1", "outlet", ["x"])]))

    assert await anonymous_about_x(execute) == []


async def test_merge_actors_gives_claims_the_kept_actors_anonymity(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document(
            "r1",
            actors=[actor("x"), anonymous("aide"), actor("minister", kind="person")],
            claims=[claim("c1", "aide", ["x"]), claim("c2", "minister", ["x"])],
        ),
    )
    assert await anonymous_about_x(execute) == ["c1"]

    result = await execute(
        "mutation($keep: ID!, $merge: ID!) { mergeActors(keep: $keep, merge: $merge) { slug } }",
        Role.ADMIN,
        keep=to_global_id("Actor", "minister"),
        merge=to_global_id("Actor", "aide"),
    )

    assert result["errors"] == []
    assert await anonymous_about_x(execute) == []
    assert (await execute(NAMED_ABOUT_X))["data"]["actor"]["claims"]["totalCount"] == 2


async def test_migration_fills_claims_an_older_version_wrote(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document(
            "r1",
            actors=[actor("x"), anonymous("aide")],
            claims=[claim("c1", "aide", ["x"]), claim("c2", "outlet", ["x"])],
        ),
    )
    # What a version before the property left behind (nor did it key ABOUT links with it).
    await graph.write("MATCH (c:Claim) REMOVE c.sourceAnonymous", {})
    await graph.write("MATCH ()-[r:ABOUT]->() REMOVE r.actorId, r.sourceAnonymous, r.liveClaimId", {})
    await graph.write("MATCH ()-[t:ANONYMOUS_CLAIM_ABOUT|NAMED_CLAIM_ABOUT]->() DELETE t", {})
    await graph.write("MATCH (m:Migration) DELETE m", {})
    assert await anonymous_about_x(execute) == []

    ran = await migrate(graph)
    again = await migrate(graph)

    assert ran == ["claim-source-anonymous", "about-actor-keys", "standing-claim-twins"]
    assert again == []
    assert await anonymous_about_x(execute) == ["c1"]
    assert (await execute(NAMED_ABOUT_X))["data"]["actor"]["claims"]["totalCount"] == 1
