"""Every read query on the seed article, through the real schema and the real Neo4j."""

from __future__ import annotations

from typing import Any

import pytest

from service.api.ids import to_global_id
from service.graph.driver import Database
from tests.conftest import Execute


async def data(execute: Execute, query: str, **variables: Any) -> Any:
    result = await execute(query, **variables)
    assert result["errors"] == [], result["errors"]
    return result["data"]


def actor_id(key: str) -> str:
    return to_global_id("Actor", key)


async def test_actors_filters_sorts_and_pages(seeded: Database, execute: Execute) -> None:
    query = """query($after: String) { actors(filter: {kind: STATE}, first: 3, after: $after) {
                 totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }"""
    first = (await data(execute, query))["actors"]
    second = (await data(execute, query, after=first["pageInfo"]["endCursor"]))["actors"]

    names = [e["node"]["name"] for e in first["edges"] + second["edges"]]
    assert first["totalCount"] == 7
    assert names == ["Afghanistan", "Bahrain", "Israel", "Morocco", "Sudan", "United Arab Emirates"]


async def test_actors_by_partial_name_and_anonymity(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ named: actors(filter: {nameContains: "emirates"}) { edges { node { name } } }
             anon: actors(filter: {anonymous: true}, sort: NAME_DESC) { edges { node { name } } } }""",
    )

    assert [e["node"]["name"] for e in result["named"]["edges"]] == ["United Arab Emirates"]
    assert [e["node"]["name"] for e in result["anon"]["edges"]] == [
        "Unnamed Israeli advocate",
        "Anonymous former Afghan official",
    ]


async def test_claims_made_by_the_anonymous_official(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ actor(name: "the Afghan source") { claimsMade(first: 50) { totalCount }
                                               affiliations { role actor { name } } } }""",
    )

    assert result["actor"]["claimsMade"]["totalCount"] == 7
    assert result["actor"]["affiliations"] == [
        {"role": "former prominent official", "actor": {"name": "Former Afghan government"}}
    ]


async def test_claims_filtered_by_modality(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ actor(name: "Israel") { asserted: claims(modality: [ASSERTED]) { totalCount }
                                     speculated: claims(modality: [SPECULATED]) { edges { node { slug } } }
                                     all: claims { totalCount } }
             afghanistan: actor(name: "Afghanistan") { alleged: claims(modality: [ALLEGED]) {
                                                         edges { node { slug } } } } }""",
    )

    israel = result["actor"]
    assert [e["node"]["slug"] for e in israel["speculated"]["edges"]] == ["claim-taliban-may-normalize-with-israel"]
    assert israel["asserted"]["totalCount"] == israel["all"]["totalCount"] - 1
    assert [e["node"]["slug"] for e in result["afghanistan"]["alleged"]["edges"]] == [
        "claim-simintov-last-jew-in-afghanistan"
    ]


async def test_events_of_an_actor_in_date_order(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ actor(name: "Taliban") { events { edges { node { name startDate status } } } }
             actor2: actor(name: "Afghanistan") { events(sort: DATE_DESC) { edges { node { startDate } } } } }""",
    )

    events = [e["node"] for e in result["actor"]["events"]["edges"]]
    assert events[0] == {"name": "Taliban seizure of Afghanistan", "startDate": "2021-08", "status": "OCCURRED"}
    assert {e["status"] for e in events[1:]} == {"RUMOURED"}
    assert [e["node"]["startDate"] for e in result["actor2"]["events"]["edges"]] == ["2021-08"]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # The cooperation has no dates: the article says Sudan maintains it, not since when.
        (
            "2021-01",
            {
                ("governs", "INCOMING", "Sudanese transitional government"),
                ("cooperates_with", "OUTGOING", "Israel"),
            },
        ),
        (
            "2022",
            {
                ("cooperates_with", "OUTGOING", "Israel"),
                ("controls", "INCOMING", "Sudanese military"),
            },
        ),
    ],
)
async def test_relations_valid_at_a_point_in_time(
    seeded: Database, execute: Execute, as_of: str, expected: set[tuple[str, str, str]]
) -> None:
    result = await data(
        execute,
        'query($asOf: String) { actor(name: "Sudan") { relations(asOf: $asOf) { kind direction other { name } } } }',
        asOf=as_of,
    )

    assert {(r["kind"], r["direction"], r["other"]["name"]) for r in result["actor"]["relations"]} == expected


async def test_every_relation_shows_its_evidence(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ actor(name: "Taliban") { relations(kind: ["controls"]) {
               from { name } to { name } since until evidence { text source { name } } } } }""",
    )

    [relation] = result["actor"]["relations"]
    assert relation["from"]["name"] == "Taliban"
    assert relation["to"]["name"] == "Afghanistan"
    assert relation["since"] == "2021-08"
    assert {e["source"]["name"] for e in relation["evidence"]} == {"World Israel News"}
    assert len(relation["evidence"]) == 2


async def test_neighbors_by_depth(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ actor(name: "Israel") { one: neighbors(depth: 1) { distance actor { name } }
                                    two: neighbors(depth: 2, kinds: ["normalized_relations_with"]) {
                                      distance actor { name } } } }""",
    )

    one = {n["actor"]["name"] for n in result["actor"]["one"]}
    assert one == {"United Arab Emirates", "Bahrain", "Morocco", "Sudan"}
    assert {n["distance"] for n in result["actor"]["one"]} == {1}
    two = {(n["actor"]["name"], n["distance"]) for n in result["actor"]["two"]}
    assert two == {("United Arab Emirates", 1), ("Bahrain", 1), ("Morocco", 1)}


async def test_provenance_runs_from_the_relaying_report_to_the_source(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """query($id: ID!) { node(id: $id) { ... on Claim {
             provenance { report { publisher { name } } reports { publisher { name } } origin { publisher { name } }
                          source { name anonymous } } } } }""",
        id=to_global_id("Claim", "claim-taliban-want-confidential-relations"),
    )

    chains = result["node"]["provenance"]
    assert [[r["publisher"]["name"] for r in c["reports"]] for c in chains] == [
        ["World Israel News", "i24 News"],
        ["i24 News"],
    ]
    assert all(c["origin"]["publisher"]["name"] == "i24 News" for c in chains)
    assert all(c["source"] == {"name": "Anonymous former Afghan official", "anonymous": True} for c in chains)


async def test_corroboration_counts_one_source_relayed_twice_once(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """query($id: ID!) { node(id: $id) { ... on Claim {
             reports { slug }
             corroboration { claims independentSources reports sources { name } deniedBy { name } } } } }""",
        id=to_global_id("Claim", "claim-taliban-weighing-secret-outreach"),
    )

    assert len(result["node"]["reports"]) == 2
    assert result["node"]["corroboration"] == {
        "claims": 1,
        "independentSources": 1,
        "reports": 2,
        "sources": [{"name": "Anonymous former Afghan official"}],
        "deniedBy": [],
    }


async def test_claim_subjects(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """query($id: ID!) { node(id: $id) { ... on Claim { about { name } aboutEvents { name } quote } } }""",
        id=to_global_id("Claim", "claim-taliban-seized-afghanistan-august-2021"),
    )

    assert {a["name"] for a in result["node"]["about"]} == {"Taliban", "Afghanistan", "United States"}
    assert {e["name"] for e in result["node"]["aboutEvents"]} == {
        "Taliban seizure of Afghanistan",
        "Pull-out of American and foreign troops from Afghanistan",
    }
    assert result["node"]["quote"] is None


async def test_reports_citations_both_ways_and_their_claims(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ reports(sort: PUBLISHED_ASC) { totalCount edges { node { slug kind publisher { name } authors { name }
               cites { slug } citedBy { slug } claims(first: 1) { totalCount } } } } }""",
    )

    reports = {e["node"]["slug"]: e["node"] for e in result["reports"]["edges"]}
    win = reports["win-taliban-weighing-secret-talks-with-israel"]
    i24 = reports["i24-taliban-israel-report"]
    assert win["cites"] == [{"slug": "i24-taliban-israel-report"}]
    assert i24["citedBy"] == [{"slug": "win-taliban-weighing-secret-talks-with-israel"}]
    assert win["authors"] == [{"name": "Lauren Marcus"}]
    assert i24["kind"] == "OTHER"
    assert win["claims"]["totalCount"] == 18
    assert i24["claims"]["totalCount"] == 8


async def test_event_participants_and_claims(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ events(filter: {kind: "agreement"}) { edges { node { name startDate
               participants { role actor { name } } claims { totalCount } } } } }""",
    )

    [accords] = [e["node"] for e in result["events"]["edges"]]
    assert accords["name"] == "Abraham Accords"
    roles = {(p["actor"]["name"], p["role"]) for p in accords["participants"]}
    assert ("Donald Trump", "broker") in roles
    assert ("Sudan", "joined") in roles
    assert accords["claims"]["totalCount"] == 3


async def test_events_filtered_by_status_and_dates(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """{ rumoured: events(filter: {status: RUMOURED}) { totalCount }
             in2021: events(filter: {since: "2021", until: "2021"}) { edges { node { name } } } }""",
    )

    assert result["rumoured"]["totalCount"] == 2
    assert {e["node"]["name"] for e in result["in2021"]["edges"]} == {
        "Taliban seizure of Afghanistan",
        "Pull-out of American and foreign troops from Afghanistan",
        "Military coup in Sudan",
        "Zablon Simintov leaves Afghanistan",
    }


async def test_root_claims_filter(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """query($about: ID!, $by: ID!) {
             byWin: claims(filter: {attributedTo: $by, about: $about}) { edges { node { slug } } }
             anon: claims(filter: {anonymous: true}, first: 100) { totalCount } }""",
        about=actor_id("sudan"),
        by=actor_id("world-israel-news"),
    )

    assert {e["node"]["slug"] for e in result["byWin"]["edges"]} == {
        "claim-sudan-joined-accords",
        "claim-sudan-government-overthrown",
        "claim-sudan-lower-key-cooperation",
    }
    assert result["anon"]["totalCount"] == 7


async def test_path_between_two_actors_explains_each_step(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """query($from: ID!, $to: ID!) { path(from: $from, to: $to, maxHops: 6) {
             length nodes { __typename } steps { link kind explanation } } }""",
        **{"from": actor_id("morocco"), "to": actor_id("sudan")},
    )

    path = result["path"]
    assert path["length"] == 2
    assert [s["explanation"] for s in path["steps"]] == [
        "Morocco normalized relations with Israel since 2020-12-10",
        "Sudan cooperates with Israel",
    ]


async def test_path_through_a_claim(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        """query($from: ID!, $to: ID!) { path(from: $from, to: $to) { length steps { link explanation } } }""",
        **{"from": actor_id("zablon-simintov"), "to": actor_id("world-israel-news")},
    )

    links = [s["link"] for s in result["path"]["steps"]]
    assert result["path"]["length"] == 2
    assert links == ["ABOUT", "ATTRIBUTED_TO"]


async def test_no_path_within_the_limit_is_null(seeded: Database, execute: Execute) -> None:
    result = await data(
        execute,
        "query($from: ID!, $to: ID!) { path(from: $from, to: $to, maxHops: 1) { length } }",
        **{"from": actor_id("morocco"), "to": actor_id("zablon-simintov")},
    )

    assert result["path"] is None


@pytest.mark.parametrize(
    ("text", "first_hit"),
    [
        ("Arab Emirates", "United Arab Emirates"),
        ("last Jew", "Zablon Simintov was the last Jew in Afghanistan."),
        ("secret talks", None),
    ],
)
async def test_search_ranks_names_claims_and_titles(
    seeded: Database, execute: Execute, text: str, first_hit: str | None
) -> None:
    result = await data(
        execute,
        """query($text: String!) { search(text: $text, first: 5) { score node { __typename
             ... on Actor { name } ... on Claim { text } ... on Report { title } } } }""",
        text=text,
    )

    hits = result["search"]
    assert hits
    assert hits == sorted(hits, key=lambda h: -h["score"])
    top = hits[0]["node"]
    if first_hit is not None:
        assert first_hit in (top.get("name"), top.get("text"))
    else:
        assert any(h["node"]["__typename"] == "Report" for h in hits)


@pytest.mark.parametrize("text", ["Taliban AND (", "title:*", '"unclosed', "a\\b || c && !d", "~/[]{}^"])
async def test_search_treats_query_syntax_as_plain_words(seeded: Database, execute: Execute, text: str) -> None:
    result = await execute("query($text: String!) { search(text: $text) { score } }", text=text)

    assert result["errors"] == []


async def test_node_finds_every_type(seeded: Database, execute: Execute) -> None:
    ids = {
        "Actor": to_global_id("Actor", "israel"),
        "Claim": to_global_id("Claim", "claim-national-interest"),
        "Report": to_global_id("Report", "i24-taliban-israel-report"),
        "Event": to_global_id("Event", "sudan-coup"),
    }
    for type_name, global_id in ids.items():
        result = await data(execute, "query($id: ID!) { node(id: $id) { __typename id } }", id=global_id)
        assert result["node"] == {"__typename": type_name, "id": global_id}


EVIDENCE_AND_BACKGROUND = """query($claim: ID!) {
  node(id: $claim) { ... on Claim { quote evidence } }
  actor(name: "UAE") { aliases background }
  events(filter: {kind: "coup"}) { edges { node { startDate background } } }
  sudan: actor(name: "Sudan") { relations(kind: ["cooperates_with", "controls"]) { kind since background } }
}"""


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "resolved"])
async def test_claims_show_the_words_they_rest_on_and_entries_their_background(
    seeded: Database, execute: Execute, resolve: Execute, compiled: bool
) -> None:
    run = execute if compiled else resolve
    result = await data(run, EVIDENCE_AND_BACKGROUND, claim=to_global_id("Claim", "claim-national-interest"))

    claim = result["node"]
    assert claim["quote"] is not None
    assert len(claim["evidence"]) == 1
    assert claim["quote"] in claim["evidence"][0]
    assert claim["evidence"][0].endswith("the Afghan source said")
    assert '"UAE"' in result["actor"]["background"]
    [coup] = [e["node"] for e in result["events"]["edges"]]
    assert coup["startDate"] in coup["background"]
    assert "https://" in coup["background"]
    relations = {r["kind"]: r for r in result["sudan"]["relations"]}
    assert relations["cooperates_with"] == {"kind": "cooperates_with", "since": None, "background": None}
    assert relations["controls"]["since"] in relations["controls"]["background"]
