"""Traversals on small generated graphs built for their edge cases."""

from __future__ import annotations

from typing import Any

import pytest

from service.api.auth import Role
from service.api.ids import to_global_id
from service.graph.driver import Database
from tests.conftest import Execute
from tests.graphs import actor, anonymous, claim, document, load


async def data(execute: Execute, query: str, **variables: Any) -> Any:
    result = await execute(query, **variables)
    assert result["errors"] == [], result["errors"]
    return result["data"]


def claim_id(key: str) -> str:
    return to_global_id("Claim", key)


async def test_citation_cycle_gives_finite_chains_without_repeats(graph: Database, execute: Execute) -> None:
    # a cites b, b cites c, c cites a: all three carried the claim.
    await load(
        graph,
        document("a", report={"cites": ["b"]}, actors=[anonymous("anon")], claims=[claim("c1", "anon", [])]),
        document("b", report={"cites": ["c"]}, carriedClaims=["c1"]),
        document("c", report={"cites": ["a"]}, carriedClaims=["c1"]),
    )

    result = await data(
        execute,
        "query($id: ID!) { node(id: $id) { ... on Claim { provenance { reports { slug } } } } }",
        id=claim_id("c1"),
    )

    chains = [[r["slug"] for r in chain["reports"]] for chain in result["node"]["provenance"]]
    assert sorted(chains) == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]


async def test_chain_stops_at_reports_that_did_not_carry_the_claim(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document("origin", actors=[anonymous("anon")], claims=[claim("c1", "anon", [])]),
        document("unrelated"),
        document("relay", report={"cites": ["origin", "unrelated"]}, carriedClaims=["c1"]),
        document("relay-of-relay", report={"cites": ["relay"]}, carriedClaims=["c1"]),
    )

    result = await data(
        execute,
        "query($id: ID!) { node(id: $id) { ... on Claim { provenance { reports { slug } origin { slug } } } } }",
        id=claim_id("c1"),
    )

    chains = result["node"]["provenance"]
    assert [[r["slug"] for r in c["reports"]] for c in chains] == [
        ["relay-of-relay", "relay", "origin"],
        ["relay", "origin"],
        ["origin"],
    ]
    assert {c["origin"]["slug"] for c in chains} == {"origin"}


async def test_a_claim_about_several_actors_is_listed_under_each(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document(
            "r",
            actors=[actor("x"), actor("y"), actor("z"), anonymous("anon")],
            claims=[claim("shared", "anon", ["x", "y", "z"]), claim("only-x", "anon", ["x"])],
        ),
    )

    result = await data(
        execute,
        """{ x: actor(name: "X") { claims { totalCount } } y: actor(name: "Y") { claims { edges { node { slug } } } }
             z: actor(name: "Z") { claims { edges { node { about { name } } } } } }""",
    )

    assert result["x"]["claims"]["totalCount"] == 2
    assert result["y"]["claims"]["edges"] == [{"node": {"slug": "shared"}}]
    assert [a["name"] for a in result["z"]["claims"]["edges"][0]["node"]["about"]] == ["X", "Y", "Z"]


@pytest.mark.parametrize(
    ("as_of", "kinds"),
    [
        ("1999", []),
        ("2000", ["allied_with"]),
        ("2009-12-31", ["allied_with"]),
        ("2010", ["hostile_to"]),
        ("2010-01", ["hostile_to"]),
        (None, ["allied_with", "hostile_to"]),
    ],
)
async def test_ended_relations_are_left_out_after_they_end(
    graph: Database, execute: Execute, as_of: str | None, kinds: list[str]
) -> None:
    await load(
        graph,
        document(
            "r",
            actors=[actor("x"), actor("y")],
            claims=[claim("evidence", "outlet", ["x", "y"])],
            relations=[
                {"id": "old", "kind": "allied_with", "from": "x", "to": "y", "since": "2000", "until": "2010"},
                {"id": "new", "kind": "hostile_to", "from": "y", "to": "x", "since": "2010-01-01"},
            ],
        ),
    )

    result = await data(
        execute, 'query($asOf: String) { actor(name: "X") { relations(asOf: $asOf) { kind } } }', asOf=as_of
    )

    assert sorted(r["kind"] for r in result["actor"]["relations"]) == kinds


async def test_overlapping_aliases(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document(
            "r",
            actors=[
                actor("kingdom-a", "Kingdom A", aliases=["the Kingdom", "Kingdom B"]),
                actor("kingdom-b", "Kingdom B", aliases=["the Kingdom"]),
            ],
        ),
    )

    result = await data(
        execute,
        """{ shared: actor(name: "the kingdom") { slug } canonical: actor(name: "Kingdom B") { slug }
             all: actors(filter: {name: "The Kingdom"}) { totalCount edges { node { slug } } } }""",
    )

    assert result["shared"]["slug"] == "kingdom-a"  # neither is canonical: the first by id, every time
    assert result["canonical"]["slug"] == "kingdom-b"  # a canonical name beats another actor's alias
    assert result["all"]["totalCount"] == 2


async def test_corroboration_counts_distinct_sources_not_reports(graph: Database, execute: Execute) -> None:
    same = {"proposition": "p"}
    await load(
        graph,
        document(
            "r1",
            actors=[actor("x"), anonymous("anon"), actor("minister", kind="person"), actor("spokesman", kind="person")],
            claims=[
                claim("by-anon", "anon", ["x"], **same),
                claim("by-minister", "minister", ["x"], **same),
                claim("denial", "spokesman", ["x"], modality="denied", **same),
                claim("unrelated", "minister", ["x"]),
            ],
        ),
        document("r2", publisher="other-outlet", report={"cites": ["r1"]}, carriedClaims=["by-anon"]),
        document("r3", publisher="third-outlet", carriedClaims=["by-anon"]),
    )

    result = await data(
        execute,
        """query($id: ID!, $other: ID!) {
             a: node(id: $id) { ... on Claim { corroboration { claims independentSources reports
                                                               sources { slug } deniedBy { slug } } } }
             b: node(id: $other) { ... on Claim { corroboration { claims independentSources reports } } } }""",
        id=claim_id("by-anon"),
        other=claim_id("unrelated"),
    )

    assert result["a"]["corroboration"] == {
        "claims": 3,
        "independentSources": 2,  # anon (relayed by three reports) and the minister
        "reports": 3,
        "sources": [{"slug": "anon"}, {"slug": "minister"}],
        "deniedBy": [{"slug": "spokesman"}],
    }
    assert result["b"]["corroboration"] == {"claims": 1, "independentSources": 1, "reports": 1}


async def test_retracted_claims_are_hidden_from_reads(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document("r", actors=[actor("x")], claims=[claim("kept", "outlet", ["x"]), claim("gone", "outlet", ["x"])]),
    )
    retracted = await execute(
        "mutation($id: ID!) { retractClaim(id: $id) { retracted } }", Role.WRITER, id=claim_id("gone")
    )
    assert retracted["errors"] == []

    result = await data(
        execute,
        """{ actor(name: "X") { claims { totalCount edges { node { slug } } } }
             claims { totalCount } search(text: "Text of gone") { node { id } } }""",
    )

    assert result["actor"]["claims"] == {"totalCount": 1, "edges": [{"node": {"slug": "kept"}}]}
    assert result["claims"]["totalCount"] == 1
    assert to_global_id("Claim", "gone") not in {h["node"]["id"] for h in result["search"]}


async def test_claims_sorted_by_first_report_date_with_undated_last(graph: Database, execute: Execute) -> None:
    await load(
        graph,
        document(
            "late", report={"publishedAt": "2022-05-01"}, actors=[actor("x")], claims=[claim("c-late", "outlet", ["x"])]
        ),
        document("early", report={"publishedAt": "2020-01-01T08:00:00Z"}, claims=[claim("c-early", "outlet", ["x"])]),
        document("undated", claims=[claim("c-undated", "outlet", ["x"])]),
        document("relay", report={"publishedAt": "2023-01-01"}, carriedClaims=["c-late"]),
    )

    result = await data(
        execute,
        """{ actor(name: "X") {
             asc: claims(sort: FIRST_REPORTED_ASC) { edges { node { slug firstReportedAt } } }
             desc: claims(sort: FIRST_REPORTED_DESC, first: 1) { pageInfo { endCursor } edges { node { slug } } }
             in2022: claims(since: "2022", until: "2022-12") { edges { node { slug } } } } }""",
    )

    actor_data = result["actor"]
    assert [e["node"]["slug"] for e in actor_data["asc"]["edges"]] == ["c-early", "c-late", "c-undated"]
    assert actor_data["asc"]["edges"][1]["node"]["firstReportedAt"] == "2022-05-01T00:00:00+00:00"
    assert [e["node"]["slug"] for e in actor_data["in2022"]["edges"]] == ["c-late"]
    rest = await data(
        execute,
        'query($after: String) { actor(name: "X") { claims(sort: FIRST_REPORTED_DESC, after: $after) '
        "{ edges { node { slug } } } } }",
        after=actor_data["desc"]["pageInfo"]["endCursor"],
    )
    assert [e["node"]["slug"] for e in actor_data["desc"]["edges"] + rest["actor"]["claims"]["edges"]] == [
        "c-late",
        "c-early",
        "c-undated",
    ]


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ actor(name: "X") { neighbors(depth: 5) { distance } } }', "depth"),
        ('{ actor(name: "X") { neighbors(depth: 0) { distance } } }', "depth"),
        ('{ actor(name: "X") { relations(asOf: "last week") { kind } } }', "asOf"),
        ('{ actor(name: "X") { claims(since: "2021-13") { totalCount } } }', "since"),
        ('{ claims(filter: {about: "QWN0b3I6eA=="}, first: -3) { totalCount } }', "first"),
        ('{ claims(filter: {about: "UmVwb3J0OnI="}) { totalCount } }', "about"),
        ('{ path(from: "QWN0b3I6eA==", to: "QWN0b3I6eA==", maxHops: 9) { length } }', "maxHops"),
        ('{ path(from: "QWN0b3I6eA==", to: "QWN0b3I6eA==") { length } }', "to"),
        ('{ search(text: "   ") { score } }', "text"),
    ],
)
async def test_invalid_arguments_are_bad_user_input(
    graph: Database, execute: Execute, query: str, argument: str
) -> None:
    await load(graph, document("r", actors=[actor("x")]))

    result = await execute(query)

    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument


async def test_unknown_ids_are_not_found(graph: Database, execute: Execute) -> None:
    await load(graph, document("r", actors=[actor("x")]))

    result = await execute('{ path(from: "QWN0b3I6eA==", to: "QWN0b3I6bm9ib2R5") { length } }')

    assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"]
