"""The executor that answers plain fields itself answers exactly as graphql-core's own.

Each document runs twice, once through service.api.execution.Executor and once through Strawberry's
stock executor, and the two results (data, and every error's message and path) must be equal. First on
small schemas built to break things (nulls where the schema forbids them, errors inside lists,
values of the wrong type), then on the seeded graph through the service's schema: every GraphiQL
example, pages with look-ahead, and queries generated from the SDL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sys
from collections.abc import Callable
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from service.api import connections, types
from service.api.context import Context
from service.api.execution import AHEAD, COMPUTED, NOT_STORED, STORED, Executor, plain_field
from service.api.graphiql import EXAMPLES
from service.api.schema import schema as service_schema
from service.config import Settings
from service.graph.driver import Database
from tests.e2e.test_fuzz import SCALARS

Outcome = tuple[Any, list[tuple[str, list[str | int] | None]]]


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leaf(Named):
    name: str
    colour: Colour
    at: dt.datetime | None
    tags: list[str]
    maybe_tags: list[str | None] | None
    pre: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)

    @strawberry.field(metadata={AHEAD: "twin"})
    async def twin(self) -> Leaf | None:
        """As the service's look-ahead fields: the value loaded ahead if there is one, else loaded now."""
        if "twin" in self.pre:
            return self.pre["twin"]  # type: ignore[no-any-return]
        return Leaf(name=f"{self.name} (loaded)", colour=Colour.BLUE, at=None, tags=[], maybe_tags=None)

    @strawberry.field
    async def slow(self) -> str:
        await asyncio.sleep(0)
        if self.name == "fails":
            raise ValueError("slow failed")
        return self.name.upper()

    @strawberry.field
    def broken(self) -> str:
        raise ValueError(f"broken on {self.name}")


@strawberry.type
class Box:
    leaf: Leaf
    maybe_leaf: Leaf | None
    leaves: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    named: Named | None


@dataclasses.dataclass
class Lookalike:
    """Has every attribute of a Leaf, but is not one: graphql-core refuses it where a Leaf is expected."""

    name: str
    colour: Colour = Colour.RED
    at: dt.datetime | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    maybe_tags: list[str | None] | None = None


def leaf(label: Any, **changes: Any) -> Leaf:
    built = Leaf(name=label, colour=Colour.RED, at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC), tags=["a"], maybe_tags=None)
    return dataclasses.replace(built, **changes)


def box(leaf: Any, maybe_leaf: Any = None, leaves: Any = (), maybe_leaves: Any = None, named: Any = None) -> Box:
    return Box(leaf=leaf, maybe_leaf=maybe_leaf, leaves=list(leaves), maybe_leaves=maybe_leaves, named=named)


# Values the schema allows, and values it does not (a null, or an object of the wrong type, where the
# schema says otherwise), at each kind of position: a leaf, an object, a list item.
BOXES: dict[str, Box] = {
    "ok": box(leaf("a"), None, [leaf("b"), leaf("c")], [leaf("d"), None]),
    "null_leaf": box(leaf("a", name=None), leaf("x", colour=None)),
    "null_item": box(leaf("a"), None, [leaf("b"), None], [None, leaf("e", name=None)]),
    "wrong_type": box("not a leaf", Box, [leaf("b"), 3], [leaf("f")], named=leaf("n")),
    "null_tags": box(leaf("a", tags=["x", None]), leaf("y", maybe_tags=["p", None], tags=None)),
    "failing": box(leaf("fails"), leaf("fails"), [leaf("ok"), leaf("fails")], [leaf("fails")]),
    "ahead": box(leaf("", pre={"twin": leaf("p")}), leaf("b", pre={"twin": None}), [leaf("c", pre={"twin": leaf("")})]),
    "half_ahead": box(leaf("a"), None, [leaf("c", pre={"twin": leaf("d")}), leaf("e")]),
    "null_object": box(None, leaf("m"), [leaf("b")], [None, leaf("g")]),
    # String makes "3" of 3, and refuses an object; Colour refuses a str
    "coerced": box(leaf("a", tags=["x", 3]), leaf("c", maybe_tags=[1.5, None]), [leaf("b", tags=[object()])]),
    "bad_enum": box(leaf("a"), None, [leaf("b"), leaf("c", colour="red")]),
    "lookalike": box(Lookalike("a"), Lookalike("m"), [leaf("b"), Lookalike("c")]),
    "not_lists": box(leaf("a", tags="ab"), leaf("m", maybe_tags="cd"), "xy", "zw"),  # a str is not a list
}  # fmt: skip


@strawberry.type
class Crate:
    """A box inside a plain object, so that whole sub-selections of a box are answered as one tree."""

    box: Box
    boxes: list[Box | None]


def leaf_of(record: dict[str, Any]) -> Leaf:
    """The leaf a record makes, as the service's nodes are made from theirs (Leaf.record_readers read the same)."""
    twin = {"twin": leaf_of(record["twin"]) if record["twin"] else None} if "twin" in record else {}
    return Leaf(name=record["name"], colour=record["colour"], at=None, tags=record["tags"], maybe_tags=None, pre=twin)


Leaf.record_readers = {  # type: ignore[attr-defined]
    "name": lambda r: r["name"],
    "colour": lambda r: r["colour"],
    "at": lambda r: None,
    "tags": lambda r: r["tags"],
    "maybe_tags": lambda r: None,
    "twin": lambda r: (r["twin"] or None) if "twin" in r else NOT_STORED,
}


@strawberry.type
class Holder:
    """As the service's edges: the leaf is made from the record when asked for, or read from the record."""

    source: strawberry.Private[dict[str, Any]]
    record: strawberry.Private[dict[str, Any] | None]

    @strawberry.field(metadata={COMPUTED: True, STORED: "record"})
    def leaf(self) -> Leaf:
        return leaf_of(self.source)


def held(name: Any, record: bool = True, **fields: Any) -> Holder:
    source = {"name": name, "colour": Colour.RED, "tags": ["a"], **fields}
    return Holder(source=source, record=source if record else None)


# Records a tree reads (or, with record=False, does not), and records it cannot answer from: a null name, a
# twin not brought, a colour given as a str.
HELD: dict[str, list[Holder]] = {
    "records": [
        held("a", twin=None),
        held("b", twin={"name": "c", "colour": Colour.BLUE, "tags": []}),
        held("d", twin=None),
    ],
    "objects": [held("a", record=False), held("b", record=False, twin={"name": "c", "colour": Colour.RED, "tags": []})],
    "null_name": [held("a"), held(None), held("c", record=False)],
    "not_brought": [held("a", twin={"name": "b", "colour": Colour.RED, "tags": []}), held("c")],
    "bad_colour": [held("a"), held("b", colour="red")],
}


@strawberry.type
class Query:
    @strawberry.field
    def box(self, name: str) -> Box | None:
        return BOXES[name]

    @strawberry.field
    def held(self, name: str) -> list[Holder]:
        return HELD[name]

    @strawberry.field
    def strict_box(self, name: str) -> Box:
        return BOXES[name]

    @strawberry.field
    def crate(self, name: str) -> Crate | None:
        return Crate(box=BOXES[name], boxes=[BOXES["ok"], BOXES[name], None])


SMALL = strawberry.Schema(query=Query, types=[Leaf])

DOCUMENTS = [
    "{ box(name: $NAME) { leaf { name colour at tags maybeTags } maybeLeaf { name colour } } }",
    "{ box(name: $NAME) { leaves { name } maybeLeaves { name colour } } }",
    "{ strictBox(name: $NAME) { leaf { name } leaves { name at } } }",
    "{ box(name: $NAME) { leaf { slow name } leaves { slow } maybeLeaves { slow twin { name } } } }",
    "{ box(name: $NAME) { leaf { twin { name twin { name } } } maybeLeaf { twin { name } } leaves { twin { slow } } }"
    " }",
    "{ box(name: $NAME) { leaves { broken } maybeLeaves { name broken } } }",
    "{ box(name: $NAME) { named { __typename name ... on Leaf { colour } } a: leaf { n: name } a: leaf { tags } } }",
    "{ box(name: $NAME) { ...F leaves { name @skip(if: true) colour @include(if: true) } } }"
    " fragment F on Box { leaf { name } }",
    "{ box(name: $NAME) { leaf { name @include(if: false) colour } maybeLeaves { __typename } } }",
    "{ crate(name: $NAME) { box { leaf { name colour tags } maybeLeaf { name maybeTags } leaves { tags } } } }",
    "{ crate(name: $NAME) { boxes { __typename leaf { name at } maybeLeaves { colour } } } }",
    "{ crate(name: $NAME) { boxes { leaves { name } } box { maybeLeaf { twin { name } } leaves { slow } } } }",
]
HELD_DOCUMENTS = [
    "{ held(name: $NAME) { leaf { name colour tags twin { name } } } }",
    "{ held(name: $NAME) { leaf { __typename n: name twin { twin { name } } } } }",
    "{ held(name: $NAME) { leaf { name slow } } }",  # slow has no reader: the leaf is made
]


async def both(schema: strawberry.Schema, document: str, context: Any = None, **execute: Any) -> list[Outcome]:
    """The outcome under the plain-field executor, then under Strawberry's own; ``context`` makes each run's
    context (so neither sees the other's loader cache)."""
    outcomes: list[Outcome] = []
    original = schema.execution_context_class
    for executor in (Executor, StrawberryGraphQLCoreExecutionContext):
        schema.execution_context_class = executor
        try:
            result = await schema.execute(document, context_value=context() if context else None, **execute)
        finally:
            schema.execution_context_class = original
        outcomes.append((result.data, [(e.message, e.path) for e in result.errors or []]))
    return outcomes


@pytest.mark.parametrize("name", sorted(BOXES))
@pytest.mark.parametrize("document", DOCUMENTS)
async def test_small_schema_answers_alike(document: str, name: str) -> None:
    fast, stock = await both(SMALL, document.replace("$NAME", f'"{name}"'))

    assert fast == stock


@pytest.mark.parametrize("name", sorted(HELD))
@pytest.mark.parametrize("document", HELD_DOCUMENTS)
async def test_fields_read_from_records_answer_alike(document: str, name: str) -> None:
    fast, stock = await both(SMALL, document.replace("$NAME", f'"{name}"'))

    assert fast == stock


async def test_a_tree_reads_records_without_making_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where every record answers, no leaf is made; where one cannot, that one is made and answers."""
    made: list[str] = []
    make = leaf_of

    def counted(record: dict[str, Any]) -> Leaf:
        made.append(record["name"])
        return make(record)

    monkeypatch.setattr(sys.modules[__name__], "leaf_of", counted)
    monkeypatch.setattr(SMALL, "execution_context_class", Executor)

    result = await SMALL.execute(HELD_DOCUMENTS[0].replace("$NAME", '"records"'))
    assert result.errors is None
    assert made == []
    result = await SMALL.execute(HELD_DOCUMENTS[0].replace("$NAME", '"not_brought"'))
    assert result.errors is None
    assert made == ["c"]


async def test_the_cases_reach_the_fast_path_and_its_hand_overs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain fields of good values never reach graphql-core's execute_field; bad values do, and get
    graphql-core's errors, at the path of the list item."""
    generic: list[str] = []
    stock = StrawberryGraphQLCoreExecutionContext.execute_field

    def spy(self: Any, parent_type: Any, source: Any, fields: Any, path: Any, position: Any) -> Any:
        generic.append(f"{parent_type.name}.{fields[0].node.name.value}")
        return stock(self, parent_type, source, fields, path, position)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", spy)
    monkeypatch.setattr(SMALL, "execution_context_class", Executor)
    result = await SMALL.execute(DOCUMENTS[1].replace("$NAME", '"ok"'))
    assert result.errors is None
    assert generic == ["Query.box"]  # everything under it answered by the fast path

    generic.clear()
    result = await SMALL.execute(DOCUMENTS[1].replace("$NAME", '"null_item"'))
    assert result.data == {"box": None}  # the null item of a non-null list nulls the nearest nullable field
    assert [e.path for e in result.errors or []] == [["box", "leaves", 1]]
    assert generic == ["Query.box", "Box.leaves"]  # handed over at the null item, which ends the box


async def test_a_plain_sub_selection_is_answered_as_one_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the crate everything is plain: no object of it goes through graphql-core's sub-field machinery,
    until a value the tree cannot answer (a null leaf name) hands that object over."""
    completed: list[str] = []
    stock = StrawberryGraphQLCoreExecutionContext.collect_and_execute_subfields

    def spy(self: Any, return_type: Any, *args: Any) -> Any:
        completed.append(return_type.name)
        return stock(self, return_type, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "collect_and_execute_subfields", spy)
    monkeypatch.setattr(SMALL, "execution_context_class", Executor)
    document = "{ crate(name: $NAME) { box { leaf { name } leaves { name tags } } } }"
    result = await SMALL.execute(document.replace("$NAME", '"ok"'))
    assert result.errors is None
    assert completed == ["Crate"]

    completed.clear()
    result = await SMALL.execute(document.replace("$NAME", '"null_item"'))
    assert result.data == {"crate": None}
    # The box's tree stopped at the null item of its non-null list. The box went the per-field way, and its list
    # graphql-core's, with the item before the null completed as graphql-core completes an object.
    assert completed == ["Crate", "Box", "Leaf"]


async def test_the_service_schema_uses_the_plain_field_executor() -> None:
    assert service_schema.execution_context_class is Executor
    claim = service_schema._schema.get_type("Claim")
    assert isinstance(claim, GraphQLObjectType)
    assert plain_field(claim, "text") is not None
    assert plain_field(claim, "source") is not None  # loaded ahead by pages
    assert plain_field(claim, "provenance") is None
    computed = plain_field(claim, "id")
    assert computed is not None
    assert computed.compute is not None  # the global id, made only when asked for


@pytest.fixture
def context_for(seeded: Database, neo4j_settings: Settings) -> Callable[[], Context]:
    resolved = neo4j_settings.model_copy(update={"compiled_reads": False})  # this executor is the resolvers'
    return lambda: Context.create(seeded, resolved, request_id="same-for-both")


async def test_every_graphiql_example_answers_alike(context_for: Callable[[], Context]) -> None:
    for example in EXAMPLES:
        fast, stock = await both(service_schema, example.query, context_for, variable_values=example.variables)
        assert fast == stock, example.title
        assert fast[0] is not None


PAGES = [
    "{ claims(first: 100) { edges { cursor node { id text modality firstReportedAt source { name aliases } "
    "reports { title publishedAt kind publisher { name } cites { title } } } } pageInfo { endCursor } } }",
    '{ actor(name: "Israel") { name claims(first: 50) { totalCount edges { node { __typename ... on Node { id } '
    "about { name } provenance { reports { title } source { name } } } } } } }",
    '{ a: actor(name: "Israel") { claims(first: 3) { edges { node { s: source { n: name } } } } } '
    'b: actor(name: "Israel") { claims(first: 3) { edges { node { reports { p: publisher { name } } } } } } }',
    '{ node(id: "bm90IGFuIGlk") { id } claims(first: 2) { edges { node { text } } } }',
]


@pytest.mark.parametrize("document", PAGES)
async def test_pages_of_the_seeded_graph_answer_alike(document: str, context_for: Callable[[], Context]) -> None:
    fast, stock = await both(service_schema, document, context_for)

    assert fast == stock
    assert fast[0] is not None


async def test_a_page_is_answered_from_its_records(
    context_for: Callable[[], Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The benchmark's page makes no claim, actor or report object; a page whose reports' citations must be
    loaded makes them, to hold what was loaded."""
    made: list[str] = []
    make = connections.made

    def counted(cls: type[Any], values: dict[str, Any]) -> Any:
        made.append(cls.__name__)
        return make(cls, values)

    monkeypatch.setattr(types, "made", counted)
    page = "{ claims(first: 100) { edges { node { text source { name } reports { title publisher { name } } } } } }"
    result = await service_schema.execute(page, context_value=context_for())
    assert result.errors is None
    assert len(result.data["claims"]["edges"]) > 10  # type: ignore[index]
    assert made == []

    result = await service_schema.execute(page.replace("title", "title cites { title }"), context_value=context_for())
    assert result.errors is None
    assert {"Claim", "Report", "Actor"} <= set(made)


def selection(fields: dict[str, Any], depth: int = 0) -> st.SearchStrategy[str]:
    """Some of ``fields`` (name: None for a leaf, or the fields below it), some aliased, in any order."""
    names = sorted(name for name, below in fields.items() if below is None or depth < 2)

    def field(name: str) -> st.SearchStrategy[str]:
        alias = st.sampled_from(["", f"x{name}: "])
        below = fields[name]
        inner = st.just("") if below is None else selection(below, depth + 1).map(lambda s: " { " + s + " }")
        return st.tuples(alias, st.just(name), inner).map("".join)

    chosen = st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)
    return chosen.flatmap(lambda picked: st.tuples(*map(field, picked))).map(" ".join)


ACTOR: dict[str, Any] = {"id": None, "name": None, "kind": None, "anonymous": None, "aliases": None}
REPORT: dict[str, Any] = {"id": None, "title": None, "publishedAt": None, "kind": None, "url": None, "publisher": ACTOR}
REPORT["cites"] = REPORT
CLAIM: dict[str, Any] = {
    **{name: None for name in ("id", "slug", "text", "quote", "modality", "retracted", "firstReportedAt")},
    "source": ACTOR,
    "reports": REPORT,
    "about": ACTOR,
}
PAGES_OF = [  # how a page opens and closes
    ('actor(name: "Israel") { claims(first: N) {', "} }"),
    ("claims(first: N) {", "}"),
    ("claims(first: N, sort: FIRST_REPORTED_DESC) {", "}"),
]


@given(data=st.data())
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
async def test_any_selection_of_a_page_answers_alike(context_for: Callable[[], Context], data: st.DataObject) -> None:
    """A page of claims with any selection of their fields and their sources', reports' and publishers'."""
    (opening, closing), rows = data.draw(st.sampled_from(PAGES_OF)), data.draw(selection(CLAIM))
    size = data.draw(st.integers(min_value=0, max_value=60))
    document = "{ " + opening.replace("N", str(size)) + " edges { node { " + rows + " } } " + closing + " }"
    fast, stock = await both(service_schema, document, context_for)

    assert fast == stock
    assert fast[1] == [], document


@given(data=st.data())
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
async def test_generated_queries_answer_alike(context_for: Callable[[], Context], data: st.DataObject) -> None:
    """Queries from the SDL, random arguments included (so mostly errors: not found, bad input)."""
    document = data.draw(queries(service_schema.as_str(), custom_scalars=SCALARS))  # type: ignore[arg-type]
    fast, stock = await both(service_schema, document, context_for)

    assert fast == stock
