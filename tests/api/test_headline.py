"""The headline query of DESIGN.md, on the seed article, through the real schema."""

from __future__ import annotations

import pytest

from service.graph.driver import Database
from tests.conftest import Execute

HEADLINE = """
query AnonymousClaimsAbout($name: String!) {
  actor(name: $name) {
    id
    name
    claims(anonymous: true, first: 20) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          text
          source { name anonymous descriptor }
          reports { title url publishedAt publisher { name } cites { title publisher { name } } }
        }
      }
    }
  }
}
"""

ANONYMOUS_CLAIMS_ABOUT_ISRAEL = {
    "claim-taliban-weighing-secret-outreach",
    "claim-taliban-want-confidential-relations",
    "claim-source-involved-in-peace-discussions",
    "claim-taliban-see-israel-as-influencer",
    "claim-national-interest",
    "claim-source-in-contact-with-israeli-advocate",
}


@pytest.mark.parametrize("name", ["the Jewish State", "THE JEWISH STATE", "Jerusalem", "israel", " Israel "])
async def test_any_name_of_israel_resolves_to_israel(seeded: Database, execute: Execute, name: str) -> None:
    result = await execute(HEADLINE, name=name)

    assert result["errors"] == []
    assert result["data"]["actor"]["name"] == "Israel"


async def test_headline_lists_the_anonymous_officials_claims_with_their_report_chain(
    seeded: Database, execute: Execute
) -> None:
    result = await execute(HEADLINE, name="the Jewish State")

    claims = result["data"]["actor"]["claims"]
    assert claims["totalCount"] == len(ANONYMOUS_CLAIMS_ABOUT_ISRAEL)
    assert claims["pageInfo"]["hasNextPage"] is False
    nodes = [edge["node"] for edge in claims["edges"]]
    assert {_key(n["id"]) for n in nodes} == ANONYMOUS_CLAIMS_ABOUT_ISRAEL
    for node in nodes:
        assert node["source"]["name"] == "Anonymous former Afghan official"
        assert node["source"]["anonymous"] is True
        assert "Kabul" in node["source"]["descriptor"]
        by_publisher = {r["publisher"]["name"]: r for r in node["reports"]}
        assert set(by_publisher) == {"World Israel News", "i24 News"}
        win = by_publisher["World Israel News"]
        assert win["title"].startswith("Anonymous former Afghan official says Taliban weighing secret talks")
        assert [(c["title"], c["publisher"]["name"]) for c in win["cites"]] == [
            ("i24 News report: Taliban weighing secret talks with Israel", "i24 News")
        ]


async def test_named_sources_are_left_out_of_anonymous_claims(seeded: Database, execute: Execute) -> None:
    result = await execute(
        """query { actor(name: "Israel") { named: claims(anonymous: false) { edges { node { source { name } } } }
                                           all: claims { totalCount } } }"""
    )

    actor = result["data"]["actor"]
    named_sources = {e["node"]["source"]["name"] for e in actor["named"]["edges"]}
    assert named_sources == {"i24 News", "World Israel News"}
    assert actor["all"]["totalCount"] == len(ANONYMOUS_CLAIMS_ABOUT_ISRAEL) + len(actor["named"]["edges"])


async def test_pages_walk_every_claim_once(seeded: Database, execute: Execute) -> None:
    query = """query($after: String) { actor(name: "Israel") { claims(anonymous: true, first: 4, after: $after) {
                 totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { id } } } } }"""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await execute(query, after=after))["data"]["actor"]["claims"]
        assert page["totalCount"] == 6
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen.extend(e["node"]["id"] for e in page["edges"])
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages == 2
    assert len(seen) == len(set(seen)) == 6


async def test_actor_with_no_claims_has_an_empty_connection(seeded: Database, execute: Execute) -> None:
    result = await execute('query { actor(name: "Lauren Marcus") { claims { totalCount edges { cursor } } } }')

    assert result["data"]["actor"]["claims"] == {"totalCount": 0, "edges": []}


async def test_node_fetches_what_actor_returned(seeded: Database, execute: Execute) -> None:
    actor = (await execute('query { actor(name: "UAE") { id name } }'))["data"]["actor"]

    result = await execute("query($id: ID!) { node(id: $id) { id ... on Actor { name aliases } } }", id=actor["id"])

    assert result["data"]["node"]["name"] == "United Arab Emirates"
    assert "the Arab Emirates" in result["data"]["node"]["aliases"]


def _key(global_id: str) -> str:
    import base64

    return base64.urlsafe_b64decode(global_id).decode().split(":", 1)[1]
