"""Write mutations against the real Neo4j: atomic, idempotent, and only with the right token."""

from __future__ import annotations

import asyncio
from typing import Any, LiteralString

import pytest
from neo4j.exceptions import TransientError
from prometheus_client import REGISTRY

from service.api.auth import Role
from service.api.ids import to_global_id
from service.graph.driver import Database, Run
from service.ingest import writer
from tests.conftest import Execute
from tests.graphs import actor, claim, document, load

INGEST = """
mutation($input: IngestReportInput!) {
  ingestReport(input: $input) { report { slug title publisher { name } cites { slug } }
                                claims { slug source { name } } created updated unchanged }
}
"""

COUNTS = """
RETURN COUNT { (:Actor) } AS actors, COUNT { (:Report) } AS reports, COUNT { (:Claim) } AS claims,
       COUNT { (:Event) } AS events, COUNT { ()-[]->() } AS relationships
"""


def report_input(report_id: str = "r1", **extra: Any) -> dict[str, Any]:
    return {
        "report": {"id": report_id, "title": "Title", "publisher": "outlet", "publishedAt": "2024-05-01"},
        "actors": [
            {"id": "outlet", "name": "Outlet", "kind": "MEDIA_OUTLET"},
            {"id": "anon", "name": "A source", "kind": "PERSON", "anonymous": True, "descriptor": "an aide"},
            {"id": "x", "name": "X", "kind": "STATE", "aliases": ["Ex"]},
        ],
        "events": [
            {
                "id": "e1",
                "name": "Summit",
                "kind": "meeting",
                "startDate": "2024-04",
                "participants": [{"actor": "x", "role": "host"}],
            }
        ],
        "claims": [
            {"id": f"{report_id}-c{i}", "text": f"Claim {i}", "source": "anon", "about": ["x"], "aboutEvents": ["e1"]}
            for i in range(5)
        ],
        "relations": [{"id": "rel-1", "kind": "hosts", "from": "x", "to": "outlet", "evidence": [f"{report_id}-c0"]}],
        **extra,
    }


def write_retries() -> dict[str, float]:
    """kb_write_retries_total by cause, as /metrics would show it."""
    return {cause: REGISTRY.get_sample_value("kb_write_retries_total", {"cause": cause}) or 0.0
            for cause in ("transient", "constraint")}  # fmt: skip


async def counts(db: Database) -> dict[str, int]:
    [record] = await db.read(COUNTS, {})
    return record


async def test_ingest_report_stores_everything_once(graph: Database, execute: Execute) -> None:
    first = await execute(INGEST, Role.WRITER, input=report_input())
    after_first = await counts(graph)
    second = await execute(INGEST, Role.WRITER, input=report_input())

    assert first["errors"] == []
    assert second["errors"] == []
    payload = first["data"]["ingestReport"]
    assert payload["report"] == {"slug": "r1", "title": "Title", "publisher": {"name": "Outlet"}, "cites": []}
    assert [c["source"]["name"] for c in payload["claims"]] == ["A source"] * 5
    # 3 actors, 1 report, 1 event, 5 claims, 1 relation
    assert (payload["created"], payload["updated"], payload["unchanged"]) == (11, 0, 0)
    repeat = second["data"]["ingestReport"]
    assert (repeat["created"], repeat["updated"], repeat["unchanged"]) == (0, 0, 11)
    assert (
        await counts(graph) == after_first == {"actors": 3, "reports": 1, "claims": 5, "events": 1, "relationships": 32}
    )


async def test_ingest_may_refer_to_what_is_already_stored(graph: Database, execute: Execute) -> None:
    await execute(INGEST, Role.WRITER, input=report_input())
    relay = {
        "report": {"id": "r2", "title": "Relay", "publisher": "outlet", "cites": ["r1"]},
        "carriedClaims": ["r1-c0"],
        "claims": [{"id": "r2-own", "text": "Own", "source": "outlet", "about": ["x"]}],
    }

    result = await execute(INGEST, Role.WRITER, input=relay)

    assert result["errors"] == []
    assert result["data"]["ingestReport"]["report"]["cites"] == [{"slug": "r1"}]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"report": {"id": "Bad Id", "title": "T"}}, "report.id"),
        ({"claims": [{"id": "c", "text": "T", "source": "nobody"}]}, "actor 'nobody'"),
        ({"report": {"id": "r9", "title": "T", "cites": ["ghost"]}}, "report 'ghost'"),
        ({"report": {"id": "r9", "title": "T", "url": "javascript:alert(1)"}}, "report.url"),
        # A field whose GraphQL name is the seed format's alias is reported by the model's name, as it always was.
        ({"report": {"id": "r9", "title": "T", "publishedAt": "2024-13-01"}}, "report.published_at"),
        ({"relations": [{"id": "x", "kind": "k", "from": "Bad Id", "to": "b"}]}, "relations.0.source"),
        ({"actors": [{"id": "a", "name": "A", "kind": "PERSON", "anonymous": True}]}, "descriptor"),
    ],
)
async def test_invalid_ingest_is_refused_whole(
    graph: Database, execute: Execute, change: dict[str, Any], words: str
) -> None:
    result = await execute(INGEST, Role.WRITER, input={**report_input(), **change})

    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert words in error["message"] or any(words in p["field"] for p in error["extensions"]["problems"])
    assert await counts(graph) == {"actors": 0, "reports": 0, "claims": 0, "events": 0, "relationships": 0}


MUTATIONS = {
    "ingestReport": ('mutation { ingestReport(input: {report: {id: "r", title: "T"}}) { created } }', Role.WRITER),
    "upsertActor": ('mutation { upsertActor(input: {id: "a", name: "A", kind: STATE}) { id } }', Role.WRITER),
    "addAlias": ('mutation { addAlias(actor: "QWN0b3I6eA==", alias: "Y") { id } }', Role.WRITER),
    "addRelation": ('mutation { addRelation(input: {id: "r", kind: "k", from: "x", to: "x"}) { kind } }', Role.WRITER),
    "retractClaim": ('mutation { retractClaim(id: "Q2xhaW06Yw==") { id } }', Role.WRITER),
    "mergeActors": ('mutation { mergeActors(keep: "QWN0b3I6eA==", merge: "QWN0b3I6eQ==") { id } }', Role.ADMIN),
    "deleteReport": ('mutation { deleteReport(id: "UmVwb3J0OnI=") { claimsDeleted } }', Role.ADMIN),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_every_mutation_needs_a_token_with_the_right_role(graph: Database, execute: Execute, name: str) -> None:
    query, needed = MUTATIONS[name]
    too_low = Role(needed - 1)

    without = await execute(query)
    low = await execute(query, too_low)

    assert [e["extensions"]["code"] for e in without["errors"]] == ["UNAUTHENTICATED"]
    assert [e["extensions"]["code"] for e in low["errors"]] == ["FORBIDDEN"]
    assert await counts(graph) == {"actors": 0, "reports": 0, "claims": 0, "events": 0, "relationships": 0}


async def test_the_table_covers_every_mutation_of_the_schema(execute: Execute) -> None:
    result = await execute("{ __schema { mutationType { fields { name } } } }")

    assert {f["name"] for f in result["data"]["__schema"]["mutationType"]["fields"]} == set(MUTATIONS)


async def test_upsert_actor_and_add_alias(graph: Database, execute: Execute) -> None:
    created = await execute(
        'mutation { upsertActor(input: {id: "kingdom", name: "Kingdom", kind: STATE, aliases: ["the Realm"]}) { id } }',
        Role.WRITER,
    )
    actor_id = created["data"]["upsertActor"]["id"]

    aliased = await execute(
        'mutation($id: ID!) { addAlias(actor: $id, alias: "Old Kingdom") { aliases } }', Role.WRITER, id=actor_id
    )
    found = await execute('{ actor(name: "old kingdom") { id } }')

    assert aliased["data"]["addAlias"]["aliases"] == ["the Realm", "Old Kingdom"]
    assert found["data"]["actor"]["id"] == actor_id


async def test_merge_actors_moves_everything_and_loses_nothing(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document(
            "r1",
            actors=[
                actor("israel", "Israel"),
                actor("jewish-state", "The Jewish State", aliases=["Zion"]),
                actor("uae", "UAE"),
                actor(
                    "gov", "Government", kind="government", affiliations=[{"actor": "jewish-state", "role": "governs"}]
                ),
            ],
            claims=[
                claim("about-israel", "outlet", ["israel"]),
                claim("about-js", "outlet", ["jewish-state"]),
                claim("by-js", "jewish-state", ["uae"]),
            ],
            relations=[
                {
                    "id": "rel",
                    "kind": "normalized_relations_with",
                    "from": "uae",
                    "to": "jewish-state",
                    "evidence": ["about-js"],
                }
            ],
            events=[
                {"id": "e", "name": "E", "kind": "k", "participants": [{"actor": "jewish-state", "role": "party"}]}
            ],
        ),
    )

    result = await execute(
        "mutation($keep: ID!, $merge: ID!) { mergeActors(keep: $keep, merge: $merge) { slug aliases } }",
        Role.ADMIN,
        keep=to_global_id("Actor", "israel"),
        merge=to_global_id("Actor", "jewish-state"),
    )
    after = await execute(
        """{ actor(name: "zion") { slug claims { totalCount } claimsMade { totalCount }
             relations { kind other { slug } evidence { slug } } events { totalCount } } }"""
    )
    gone = await execute("query($id: ID!) { node(id: $id) { id } }", id=to_global_id("Actor", "jewish-state"))
    affiliated = await execute('{ actor(name: "Government") { affiliations { actor { slug } role } } }')

    assert result["errors"] == []
    assert result["data"]["mergeActors"] == {"slug": "israel", "aliases": ["The Jewish State", "Zion"]}
    kept = after["data"]["actor"]
    assert kept["slug"] == "israel"
    assert kept["claims"]["totalCount"] == 2
    assert kept["claimsMade"]["totalCount"] == 1
    assert kept["relations"] == [
        {"kind": "normalized_relations_with", "other": {"slug": "uae"}, "evidence": [{"slug": "about-js"}]}
    ]
    assert kept["events"]["totalCount"] == 1
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert affiliated["data"]["actor"]["affiliations"] == [{"actor": {"slug": "israel"}, "role": "governs"}]


async def test_add_relation_then_read_it(graph: Database, execute: Execute) -> None:
    await load(graph, document("r", actors=[actor("x"), actor("y")], claims=[claim("ev", "outlet", ["x", "y"])]))

    added = await execute(
        """mutation { addRelation(input: {id: "x-y", kind: "allied_with", from: "x", to: "y", since: "2020",
                                          evidence: ["ev"]}) { kind from { slug } to { slug } since } }""",
        Role.WRITER,
    )
    bad = await execute(
        'mutation { addRelation(input: {id: "x-z", kind: "allied_with", from: "x", to: "nobody"}) { kind } }',
        Role.WRITER,
    )
    read = await execute('{ actor(name: "Y") { relations { direction other { slug } evidence { slug } } } }')

    assert added["data"]["addRelation"] == {
        "kind": "allied_with",
        "from": {"slug": "x"},
        "to": {"slug": "y"},
        "since": "2020",
    }
    assert bad["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert read["data"]["actor"]["relations"] == [
        {"direction": "INCOMING", "other": {"slug": "x"}, "evidence": [{"slug": "ev"}]}
    ]


async def test_retracted_claim_is_kept_in_history_and_hidden_from_lists(graph: Database, execute: Execute) -> None:
    await load(graph, document("r", actors=[actor("x")], claims=[claim("c", "outlet", ["x"])]))
    claim_global = to_global_id("Claim", "c")

    retracted = await execute(
        'mutation($id: ID!) { retractClaim(id: $id, reason: "source recanted") { retracted } }',
        Role.WRITER,
        id=claim_global,
    )
    listed = await execute('{ actor(name: "X") { claims { totalCount } } }')
    history = await execute("query($id: ID!) { node(id: $id) { ... on Claim { retracted text } } }", id=claim_global)

    assert retracted["data"]["retractClaim"] == {"retracted": True}
    assert listed["data"]["actor"]["claims"]["totalCount"] == 0
    assert history["data"]["node"] == {"retracted": True, "text": "Text of c"}


async def test_delete_report_keeps_claims_other_reports_carried(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document("r1", actors=[actor("x")], claims=[claim("only-r1", "outlet", ["x"]), claim("both", "outlet", ["x"])]),
        document("r2", carriedClaims=["both"]),
    )

    result = await execute(
        "mutation($id: ID!) { deleteReport(id: $id) { claimsDeleted } }", Role.ADMIN, id=to_global_id("Report", "r1")
    )
    left = await graph.read("MATCH (c:Claim) RETURN collect(c.id) AS ids, COUNT { (:Report) } AS reports", {})

    assert result["data"]["deleteReport"] == {"claimsDeleted": 1}
    assert left == [{"ids": ["both"], "reports": 1}]


async def test_ingest_report_reads_back_only_what_the_selection_asks(graph: Database, execute: Execute) -> None:
    counts_only = "mutation($input: IngestReportInput!) { ingestReport(input: $input) { created } }"

    before = graph.round_trips
    first = await execute(counts_only, Role.WRITER, input=report_input("r1"))
    write_only = graph.round_trips - before
    before = graph.round_trips
    second = await execute(INGEST, Role.WRITER, input=report_input("r2"))
    with_payload = graph.round_trips - before

    assert first["errors"] == []
    assert second["errors"] == []
    assert first["data"]["ingestReport"]["created"] > 0
    assert [c["slug"] for c in second["data"]["ingestReport"]["claims"]] == [f"r2-c{i}" for i in range(5)]
    assert write_only == 1  # the write transaction, nothing read back
    assert with_payload >= write_only + 2  # the report and its claims read back (then what they select)


async def test_a_changed_relation_is_updated_in_place_and_moved_when_its_ends_move(
    graph: Database, execute: Execute
) -> None:
    relation = """MATCH (a)-[r:RELATED_TO {id: 'rel-1'}]->(b)
                  RETURN a.id AS a, b.id AS b, r.evidence AS evidence, elementId(r) AS key"""
    await execute(INGEST, Role.WRITER, input=report_input("r1"))
    [first] = await graph.read(relation, {})
    await execute(INGEST, Role.WRITER, input=report_input("r2"))  # its evidence changes, its ends do not
    [updated] = await graph.read(relation, {})
    moved_input = report_input("r3")
    moved_input["relations"][0]["to"] = "anon"
    await execute(INGEST, Role.WRITER, input=moved_input)
    moved = await graph.read(relation, {})

    assert first["evidence"] == ["r1-c0"]
    assert updated == {**first, "evidence": ["r2-c0"]}  # the same relationship
    assert [(r["a"], r["b"], r["evidence"]) for r in moved] == [("x", "anon", ["r3-c0"])]


async def test_concurrent_overlapping_ingests_create_no_duplicates(graph: Database, execute: Execute) -> None:
    # Ten reports sharing the same actors, event and relation, ingested at once.
    inputs = [report_input(f"r{i}") for i in range(10)]
    retries_before = write_retries()

    results = await asyncio.gather(*(execute(INGEST, Role.WRITER, input=i) for i in inputs))

    assert all(r["errors"] == [] for r in results)
    retries = {cause: write_retries()[cause] - retries_before[cause] for cause in retries_before}
    # At most once each: the first writer creates the shared actors, the others plan again once and find them.
    # Updating the shared relation in place queues the writers on its lock; none deadlocks.
    assert retries["constraint"] <= len(inputs) - 1
    assert retries["transient"] == 0
    [duplicates] = await graph.read(
        """MATCH (n) WHERE n:Actor OR n:Event OR n:Name
           WITH labels(n)[0] AS label, coalesce(n.id, n.key) AS key, count(*) AS copies WHERE copies > 1
           RETURN count(*) AS duplicated""",
        {},
    )
    assert duplicates == {"duplicated": 0}
    # 4 names, 1 participation, 1 relation shared; per report 1 publisher and 5 x 5 claim links (the ABOUT link
    # to an actor has its twin, claims.standing_twin).
    assert await counts(graph) == {"actors": 3, "reports": 10, "claims": 50, "events": 1, "relationships": 266}


async def test_a_transient_failure_after_the_writes_is_retried_whole_and_stores_everything_once(
    graph: Database, execute: Execute, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first attempt runs every statement of the ingest in its transaction, then fails as Neo4j does on a
    # deadlock (a TransientError); the driver rolls it back and runs the whole transaction function again.
    attempts = 0
    write = writer._write

    async def fails_once(run: Run, batch: writer.Batch, strict: bool) -> writer.WriteSummary:
        nonlocal attempts
        attempts += 1
        summary = await write(run, batch, strict)
        if attempts == 1:
            raise TransientError("deadlock detected (injected after the writes ran)")
        return summary

    monkeypatch.setattr(writer, "_write", fails_once)
    retries_before = write_retries()
    result = await execute(INGEST, Role.WRITER, input=report_input("r1"))

    assert result["errors"] == []
    assert attempts == 2
    assert write_retries()["transient"] - retries_before["transient"] == 1  # counted in kb_write_retries_total
    assert result["data"]["ingestReport"]["created"] > 0  # the retry planned against the rolled-back graph
    assert await counts(graph) == {"actors": 3, "reports": 1, "claims": 5, "events": 1, "relationships": 32}


async def test_an_ingest_failing_halfway_leaves_nothing(
    graph: Database, execute: Execute, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Neo4j refuses the last statement, after the first ones ran in the same transaction.
    statement = writer.write_statement

    def failing(params: dict[str, Any]) -> tuple[LiteralString, dict[str, Any]]:
        cypher, read = statement(params)
        return cypher + "\nRETURN 1 / 0 AS boom", read

    monkeypatch.setattr(writer, "write_statement", failing)
    before = await counts(graph)

    result = await execute(INGEST, Role.WRITER, input=report_input("r1"))

    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["INTERNAL"]
    assert await counts(graph) == before


async def test_ingest_stores_a_claims_evidence_and_an_entrys_background(graph: Database, execute: Execute) -> None:
    given = report_input()
    given["claims"][0]["evidence"] = ["the report's words", "and more of them"]
    given["actors"][2]["background"] = 'The alias "Ex": public record (https://example.org/x).'
    given["events"][0]["background"] = "startDate 2024-04: https://example.org/summit"
    given["relations"][0]["background"] = "From elsewhere: https://example.org/rel"
    query = """query($claim: ID!, $other: ID!) { node(id: $claim) { ... on Claim { evidence } }
                 actor(name: "Ex") { background relations { background } events { edges { node { background } } } }
                 other: node(id: $other) { ... on Claim { evidence } } }"""
    ids = {"claim": to_global_id("Claim", "r1-c0"), "other": to_global_id("Claim", "r1-c1")}

    first = await execute(INGEST, Role.WRITER, input=given)
    read = await execute(query, **ids)
    again = await execute(INGEST, Role.WRITER, input=given)
    given["claims"][0]["evidence"] = ["other words"]
    changed = await execute(INGEST, Role.WRITER, input=given)
    reread = await execute(query, **ids)

    assert first["errors"] == read["errors"] == again["errors"] == changed["errors"] == []
    assert read["data"]["node"] == {"evidence": ["the report's words", "and more of them"]}
    assert read["data"]["other"] == {"evidence": []}
    ex = read["data"]["actor"]
    assert ex["background"] == given["actors"][2]["background"]
    assert ex["relations"] == [{"background": given["relations"][0]["background"]}]
    assert ex["events"]["edges"] == [{"node": {"background": given["events"][0]["background"]}}]
    assert again["data"]["ingestReport"]["updated"] == 0
    assert changed["data"]["ingestReport"]["updated"] == 1
    assert reread["data"]["node"] == {"evidence": ["other words"]}


async def test_merging_actors_keeps_both_backgrounds(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document(
            "r1",
            actors=[
                actor("uae", "United Arab Emirates", background='"United Arab Emirates": https://example.org/a'),
                actor("emirates", "The Emirates", aliases=["UAE"], background='"UAE": https://example.org/b'),
            ],
        ),
    )

    result = await execute(
        "mutation($keep: ID!, $merge: ID!) { mergeActors(keep: $keep, merge: $merge) { aliases background } }",
        Role.ADMIN,
        keep=to_global_id("Actor", "uae"),
        merge=to_global_id("Actor", "emirates"),
    )

    assert result["errors"] == []
    assert result["data"]["mergeActors"] == {
        "aliases": ["The Emirates", "UAE"],
        "background": '"United Arab Emirates": https://example.org/a "UAE": https://example.org/b',
    }
