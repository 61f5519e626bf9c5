"""Compiled reads answer exactly as Strawberry does: the same JSON, nulls and errors included.

Queries are generated from the part of the schema the compiler knows (hypothesis-graphql over the SDL with
the fields it does not know left out), their arguments drawn from what the graph holds (ids, names, dates,
page sizes in range) so that most of them reach the compiled path; each runs once with KB_COMPILED_READS off
(Strawberry's resolvers) and once on, against the seed and against a generated graph.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    IntValueNode,
    ListValueNode,
    NameNode,
    ObjectFieldNode,
    ObjectTypeDefinitionNode,
    StringValueNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from prometheus_client import REGISTRY

from service.api.context import Context
from service.api.graphiql import EXAMPLES
from service.api.ids import to_global_id
from service.api.schema import schema
from service.config import Settings
from service.graph.driver import Database
from service.ingest.generate import GraphShape, generate
from service.ingest.loader import load_documents
from service.ingest.models import SeedDocument

# Fields the compiler has no Cypher for: their queries go to Strawberry, so they are left out here.
UNCOMPILED = {"Actor": {"relations"}, "Claim": {"provenance", "corroboration"}, "Query": {"path"}}


def compiled_part_of_the_schema() -> str:
    document = parse(schema.as_str())
    kept: list[Any] = []
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode):
            if definition.name.value == "Mutation":
                continue
            left_out = UNCOMPILED.get(definition.name.value, set())
            fields = tuple(f for f in definition.fields or () if f.name.value not in left_out)
            definition = ObjectTypeDefinitionNode(
                name=definition.name, interfaces=definition.interfaces, directives=definition.directives,
                fields=fields, description=definition.description,
            )  # fmt: skip
        kept.append(definition)
    return print_ast(DocumentNode(definitions=tuple(kept)))


SUBSET = compiled_part_of_the_schema()
SCALARS = {"DateTime": st.just({"kind": "StringValue", "value": "2021-08-15T00:00:00+00:00"})}
EXAMPLES_RUN = settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


class Values:
    """What the graph holds, for arguments that find something."""

    def __init__(self, rows: dict[str, list[str]]) -> None:
        self.rows = rows

    @classmethod
    async def of(cls, db: Database) -> Values:
        found = await db.read(
            "MATCH (n) WHERE n:Actor OR n:Claim OR n:Report OR n:Event "
            "RETURN [l IN labels(n) WHERE l IN ['Actor', 'Claim', 'Report', 'Event']][0] AS type, n.id AS id, "
            "n.name AS name, n.aliases AS aliases",
            {},
        )
        rows: dict[str, list[str]] = {"Actor": [], "Claim": [], "Report": [], "Event": [], "name": []}
        for record in found:
            rows[record["type"]].append(to_global_id(record["type"], record["id"]))
            if record["type"] == "Actor":
                rows["name"] += [record["name"], *(record["aliases"] or [])]
        words = await db.read("MATCH (c:Claim) RETURN split(c.text, ' ')[0] AS w LIMIT 20", {})
        rows["word"] = [w["w"] for w in words if w["w"]] or ["Taliban"]
        kinds = await db.read("MATCH ()-[r:RELATED_TO]->() RETURN DISTINCT r.kind AS k", {})
        rows["kind"] = [k["k"] for k in kinds] or ["normalized_relations_with"]
        return cls(rows)


class Grounded(Visitor):
    """Arguments drawn from the graph: ids of the right type, names it knows, pages and depths in range."""

    ID_TYPES = {"id": None, "about": "Actor", "attributedTo": "Actor", "reportedIn": "Report", "publisher": "Actor",
                "participant": "Actor"}  # fmt: skip

    def __init__(self, values: Values, rng: random.Random) -> None:
        super().__init__()
        self.values, self.rng = values, rng

    def pick(self, kind: str) -> str:
        return self.rng.choice(self.values.rows[kind] or ["x"])

    def value(self, name: str, node: Any) -> Any:
        if name in ("first",):
            return IntValueNode(value=str(self.rng.randint(0, 12)))
        if name == "depth":
            return IntValueNode(value=str(self.rng.randint(1, 3)))
        if name in self.ID_TYPES:
            return StringValueNode(
                value=self.pick(self.ID_TYPES[name] or self.rng.choice(["Actor", "Claim", "Report", "Event"]))
            )
        if name in ("name", "nameContains"):
            text = self.pick("name")
            return StringValueNode(value=text if name == "name" or not text else text[: self.rng.randint(1, len(text))])
        if name == "text":
            return StringValueNode(value=self.pick("word"))
        if name in ("since", "until", "asOf"):
            return StringValueNode(value=self.rng.choice(["2020", "2021-08", "2021-08-15", "2024"]))
        if name in ("kinds",) or (name == "kind" and isinstance(node, ListValueNode)):
            return ListValueNode(values=(StringValueNode(value=self.pick("kind")),))
        if name == "anonymous" and not isinstance(node, BooleanValueNode):
            return BooleanValueNode(value=self.rng.random() < 0.5)
        return None

    def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
        if node.name.value == "after":
            return self.REMOVE
        replaced = self.value(node.name.value, node.value)
        return ArgumentNode(name=node.name, value=replaced) if replaced is not None else None

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> Any:
        replaced = self.value(node.name.value, node.value)
        return ObjectFieldNode(name=node.name, value=replaced) if replaced is not None else None

    def leave_field(self, node: FieldNode, *_: Any) -> Any:
        if node.name.value != "actor" or node.selection_set is None:
            return None
        arguments = [a for a in node.arguments or () if a.name.value == "name"] or [
            ArgumentNode(name=NameNode(value="name"), value=StringValueNode(value=self.pick("name")))
        ]
        return FieldNode(alias=node.alias, name=node.name, arguments=tuple(arguments[:1]),
                         directives=node.directives, selection_set=node.selection_set)  # fmt: skip


Answer = tuple[str, str]


def compiled_count() -> float:
    return REGISTRY.get_sample_value("kb_compiled_reads_total", {"outcome": "compiled"}) or 0.0


def answers(db: Database, settings_: Settings) -> Callable[[str, dict[str, Any]], Awaitable[Answer]]:
    on = settings_.model_copy(update={"compiled_reads": True, "max_cost": 10_000_000})
    off = settings_.model_copy(update={"compiled_reads": False, "max_cost": 10_000_000})

    async def run(document: str, variables: dict[str, Any]) -> Answer:
        results = []
        for each in (off, on):
            context = Context.create(db, each, request_id="same")
            result = await schema.execute(document, variable_values=variables, context_value=context)
            errors = [e.formatted for e in result.errors or []]
            results.append(json.dumps({"data": result.data, "errors": errors}))
        return results[0], results[1]

    return run


async def differ(db: Database, neo4j_settings: Settings, data: st.DataObject, values: Values) -> None:
    raw = data.draw(queries(SUBSET, custom_scalars=SCALARS))  # type: ignore[arg-type]
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    document = print_ast(visit(parse(raw), Grounded(values, rng)))
    stock, compiled = await answers(db, neo4j_settings)(document, {})
    assert compiled == stock, document


@pytest_asyncio.fixture
async def seed_values(seeded: Database) -> Values:
    return await Values.of(seeded)


@given(data=st.data())
@EXAMPLES_RUN
async def test_generated_queries_answer_alike_on_the_seed(
    seeded: Database, neo4j_settings: Settings, seed_values: Values, data: st.DataObject
) -> None:
    await differ(seeded, neo4j_settings, data, seed_values)


@pytest_asyncio.fixture
async def generated(graph: Database) -> Values:
    shape = GraphShape(actors=40, reports=60, claims_per_report=3, outlets=5, seed=7)
    await load_documents(graph, (SeedDocument.model_validate(d) for d in generate(shape)))
    return await Values.of(graph)


@given(data=st.data())
@EXAMPLES_RUN
async def test_generated_queries_answer_alike_on_a_generated_graph(
    graph: Database, neo4j_settings: Settings, generated: Values, data: st.DataObject
) -> None:
    await differ(graph, neo4j_settings, data, generated)


BENCH = [
    ("query($id: ID!) { node(id: $id) { ... on Claim { id text modality } } }", "Claim"),
    ("{ claims(first: 100) { edges { node { text source { name } reports { title publisher { name } } } } } }", None),
    ("query($name: String!) { actor(name: $name) { neighbors(depth: 2) { distance actor { name } } } }", "name"),
    ("query($text: String!) { search(text: $text, first: 20) { node { ... on Claim { text } } } }", "word"),
]


async def test_the_benchmarks_queries_are_compiled_and_answer_alike(
    seeded: Database, neo4j_settings: Settings, seed_values: Values
) -> None:
    """The headline and every read of the benchmark: one round trip each, the same answer."""
    run = answers(seeded, neo4j_settings)
    cases: list[tuple[str, dict[str, Any]]] = [(e.query, e.variables or {}) for e in EXAMPLES[:1]]
    for query, kind in BENCH:
        name = "id" if kind == "Claim" else "name" if kind == "name" else "text"
        cases.append((query, {name: seed_values.rows[kind][0]} if kind else {}))
    for query, variables in cases:
        before_count = compiled_count()
        stock, compiled = await run(query, variables)
        assert compiled == stock, query
        assert compiled_count() == before_count + 1, query
        assert json.loads(compiled)["errors"] == []


async def test_what_the_compiler_does_not_know_is_strawberrys(seeded: Database, neo4j_settings: Settings) -> None:
    run = answers(seeded, neo4j_settings)
    for query in (
        '{ actor(name: "Sudan") { relations { kind other { name } } } }',
        "{ __schema { queryType { name } } }",
        '{ actor(name: "no such actor") { name } }',
        "{ claims(first: 1000) { totalCount } }",
    ):
        before = compiled_count()
        stock, compiled = await run(query, {})
        assert compiled == stock, query
        assert compiled_count() == before, query


PAGED = [
    "query($after: String) { claims(first: 3, after: $after) { PAGE } }",
    "query($after: String) { claims(first: 2, sort: FIRST_REPORTED_DESC, after: $after) { PAGE } }",
    'query($after: String) { actor(name: "Israel") { claims(first: 2, after: $after) { PAGE } } }',
    'query($after: String) { actor(name: "Israel") { claims(anonymous: false, first: 1, after: $after) { PAGE } } }',
    'query($after: String) { actor(name: "Taliban") { claims(modality: [ASSERTED, ALLEGED], first: 1, after: $after)'
    " { PAGE } } }",
    "query($after: String) { actors(first: 4, sort: NAME_DESC, after: $after) { PAGE } }",
    "query($after: String) { reports(first: 1, sort: PUBLISHED_ASC, after: $after) { PAGE } }",
    "query($after: String) { events(first: 2, after: $after) { PAGE } }",
]
PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }"


@pytest.mark.parametrize("query", PAGED)
async def test_paging_through_with_cursors_answers_alike(
    seeded: Database, neo4j_settings: Settings, query: str
) -> None:
    """Every page of a list, each asked for with the cursor of the one before, as compiled and as resolved."""
    run = answers(seeded, neo4j_settings)
    document, after, pages = query.replace("PAGE", PAGE), None, 0
    while True:
        stock, compiled = await run(document, {"after": after})
        assert compiled == stock, (document, after)
        data = json.loads(compiled)["data"]
        page = next(iter(data.values()))
        page = page.get("claims", page)
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages > 1
