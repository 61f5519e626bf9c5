"""A page of claims loads its rows' sources, reports and publishers ahead, for the whole page at once:
what the page's own statement can bring, it brings; the rest is loaded level by level after it.

The answers are the same as field by field (node(id:) takes that path, with every stored property);
fragments and aliases are followed; the rows' resolvers answer from what was loaded, without asking a
loader per row. The page's statement brings of each node only the properties the selected fields read,
and every field of the schema says which it reads (or that it reads none).
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type, is_leaf_type

from service.api.gate import typed_schema
from service.api.schema import schema
from service.api.types import KEYED, READS, Claim, Report
from service.graph.driver import Database, recorded_statements
from tests.conftest import Execute

FIELDS = "id text source { name anonymous } reports { title publisher { name } cites { title publisher { name } } }"
PAGE = "query($name: String!) { actor(name: $name) { claims(first: 100) { edges { node { " + FIELDS + " } } } } }"
ONE = "query($id: ID!) { node(id: $id) { ... on Claim { " + FIELDS + " } } }"
FRAGMENTS = """
query($name: String!) { actor(name: $name) { claims(first: 100) { edges { ...Row } } } }
fragment Row on ClaimEdge { node { id text ... on Claim { s: source { name anonymous } } ...Carried } }
fragment Carried on Claim { reports { title p: publisher { name } cites { title publisher { name } } } }
"""


async def page(resolve: Execute, query: str) -> list[dict[str, Any]]:
    result = await resolve(query, name="Israel")
    assert result["errors"] == []
    return [edge["node"] for edge in result["data"]["actor"]["claims"]["edges"]]


async def test_a_page_answers_as_each_claim_does_alone(seeded: Database, resolve: Execute) -> None:
    rows = await page(resolve, PAGE)

    assert len(rows) >= 5
    assert any(row["reports"] and row["reports"][0]["cites"] for row in rows)  # the nested levels are exercised
    for row in rows:
        alone = await resolve(ONE, id=row["id"])
        assert alone["data"]["node"] == row


async def test_fragments_and_aliases_are_looked_through(seeded: Database, resolve: Execute) -> None:
    plain, through = await page(resolve, PAGE), await page(resolve, FRAGMENTS)

    assert [r["source"] for r in plain] == [r["s"] for r in through]
    assert [[x["publisher"] for x in r["reports"]] for r in plain] == [[x["p"] for x in r["reports"]] for r in through]
    assert [[x["cites"] for x in r["reports"]] for r in plain] == [[x["cites"] for x in r["reports"]] for r in through]


async def test_rows_answer_from_the_look_ahead_not_a_loader_each(
    seeded: Database, resolve: Execute, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_: Any) -> None:
        raise AssertionError("a row asked its own loader")

    for owner, name in ((Claim, "_source"), (Claim, "_reports"), (Report, "_publisher")):
        monkeypatch.setattr(owner, name, refuse)
    with recorded_statements() as sent:
        rows = await page(resolve, PAGE)

    assert rows
    assert all(row["source"] for row in rows)
    # The actor; the page, bringing each row's source and reports with their publishers; the reports the
    # reports cite; the publishers of those.
    assert len(sent) == 4
    assert "_source" in sent[1][0]
    assert "_publisher" in sent[1][0]
    # A claim reached any other way still answers field by field (and here meets the refusal).
    alone = await resolve(ONE, id=rows[0]["id"])
    assert alone["errors"]


@pytest.mark.parametrize(
    ("fields", "brought"),
    [
        ("id", []),
        ("id source { name }", ["_source"]),
        ("id reports { title }", ["_reports"]),
        ("id reports { title publisher { name } }", ["_reports", "_publisher"]),
        ("id source { name } reports { publisher { name } }", ["_source", "_reports", "_publisher"]),
    ],
)
async def test_the_page_statement_brings_what_the_rows_select(
    seeded: Database, resolve: Execute, fields: str, brought: list[str]
) -> None:
    query = "query($name: String!) { actor(name: $name) { claims(first: 100) { edges { node { " + fields + " } } } } }"
    with recorded_statements() as sent:
        rows = await page(resolve, query)

    assert rows
    assert len(sent) == 2  # the actor, then the page with everything its rows need
    assert [key for key in ("_source", "_reports", "_publisher") if key in sent[1][0]] == brought
    full = await page(resolve, PAGE)  # the page with every field: rows answer alike either way
    for row, reference in zip(rows, full, strict=True):
        assert row == {key: _pick(reference[key], row[key]) for key in row}


def _pick(reference: Any, shape: Any) -> Any:
    """``reference`` cut down to the keys ``shape`` has."""
    if isinstance(shape, dict):
        return {key: _pick(reference[key], value) for key, value in shape.items()}
    if isinstance(shape, list):
        return [_pick(r, v) for r, v in zip(reference, shape, strict=True)]
    return reference


def test_every_field_of_a_page_node_says_what_it_reads() -> None:
    for type_name in READS:
        graphql_type = typed_schema(schema).get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType)
        assert set(graphql_type.fields) | {"__typename"} == set(READS[type_name]) | KEYED[type_name]
        assert not set(READS[type_name]) & KEYED[type_name]


def every_field(type_name: str, depth: int) -> str:
    """Every field of the type without arguments, objects' fields ``depth`` levels down."""
    graphql_type = typed_schema(schema).get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = []
    for name, field in graphql_type.fields.items():
        inner = get_named_type(field.type)
        if field.args:
            continue
        if is_leaf_type(inner):
            parts.append(name)
        elif isinstance(inner, GraphQLObjectType) and depth > 0:
            parts.append(f"{name} {{ {every_field(inner.name, depth - 1)} }}")
    return " ".join(parts)


ALL_FIELDS = every_field("Claim", 2)


@pytest.mark.parametrize(
    "fields",
    [
        ALL_FIELDS,
        # provenance answers with the row's own source: the source brings what both select
        "source { name } provenance { source { " + every_field("Actor", 0) + " } }",
        "reports { title } provenance { reports { " + every_field("Report", 0) + " } }",
        "text @include(if: true) ... on Claim { modality } reports { ... { kind } }",
        *[f"{name} {{ {every_field('Actor', 0)} }}" for name in ("source", "about")],
        *[every_field("Claim", 0).split()[i] for i in range(len(every_field("Claim", 0).split()))],
    ],
)
async def test_rows_bring_what_their_fields_read(seeded: Database, resolve: Execute, fields: str) -> None:
    query = (
        "query($name: String!) { actor(name: $name) { claims(first: 100) { edges { node { id " + fields + " } } } } }"
    )
    rows = await page(resolve, query)

    assert len(rows) >= 5
    for row in rows:
        alone = await resolve("query($id: ID!) { node(id: $id) { ... on Claim { id " + fields + " } } }", id=row["id"])
        assert alone["errors"] == []
        assert alone["data"]["node"] == row
