"""Nodes, and a page's edges, are made from records without calling their dataclass ``__init__``
(``connections.made``): each must come out exactly as ``__init__`` makes it, with every attribute it sets
and no other. And a node's fields read straight from its record must be what the object made from it says."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType

from service.api.connections import Edge, _edge
from service.api.execution import NOT_STORED, PlainField, plain_field
from service.api.schema import schema
from service.api.types import Actor, Claim, Event, Report
from service.graph.paging import Row

FULL: dict[type[Any], dict[str, Any]] = {
    Actor: {"id": "a", "name": "A", "kind": "person", "aliases": ["Ay"], "description": "d", "anonymous": True,
            "descriptor": "an aide"},
    Claim: {"id": "c", "text": "t", "quote": "q", "modality": "alleged", "retracted": True, "proposition": "p",
            "firstReportedAt": "2021-08-15T00:00:00Z", "_source": {"id": "a"},
            "_reports": [{"id": "r", "_publisher": {"id": "o"}}]},
    Report: {"id": "r", "title": "T", "url": "https://x", "publishedAt": "2021-08-15", "kind": "broadcast",
             "_publisher": {"id": "o", "name": "O"}},
    Event: {"id": "e", "name": "E", "kind": "coup", "startDate": "2021", "endDate": "2022", "place": "Kabul",
            "status": "rumoured", "description": "d"},
}  # fmt: skip


@pytest.mark.parametrize("cls", list(FULL))
@pytest.mark.parametrize("filled", [True, False], ids=["every property", "only the id"])
def test_a_node_made_from_a_record_is_what_its_init_makes(cls: type[Any], filled: bool) -> None:
    record = FULL[cls] if filled else {"id": "x"}

    made = cls.from_record(record)
    initialised = cls(**vars(made))

    assert type(made) is cls
    assert vars(made) == vars(initialised)
    assert made == initialised


def test_an_edge_made_from_a_row_is_what_its_init_makes() -> None:
    row = Row(sort_key="k", node={"id": "c"})

    made = _edge(row, Claim.from_record)
    initialised = Edge(row=row, build=Claim.from_record, record=row.node)

    assert type(made) is Edge
    assert vars(made) == vars(initialised)


# A page's tree reads its nodes' records without making the objects (Node.record_readers): each reader must
# give what the object made from the same record gives, for every plain field, whatever the record holds.
VARIANTS: dict[type[Any], list[dict[str, Any]]] = {
    Actor: [FULL[Actor], {"id": "x"}, {"id": "x", "name": "", "kind": None, "aliases": None, "anonymous": False}],
    Claim: [FULL[Claim], {"id": "x"}, {"id": "x", "text": None, "_source": None, "_reports": []},
            {"id": "x", "_source": {}, "_reports": [{"id": "r"}, {"id": "s", "_publisher": None}]}],
    Report: [FULL[Report], {"id": "x"},
             {"id": "x", "title": "", "publishedAt": "2021-08-15T10:00:00+01:00", "_publisher": {}}],
    Event: [FULL[Event], {"id": "x"}, {"id": "x", "name": None, "kind": None, "status": None}],
}  # fmt: skip


def graphql_type(cls: type[Any]) -> GraphQLObjectType:
    found = schema._schema.get_type(cls.__name__)
    assert isinstance(found, GraphQLObjectType)
    return found


def as_objects(plan: PlainField, value: Any) -> Any:
    """A reader's related record(s) as the objects from_record makes of them."""
    if plan.object_type is None or value is None or value is NOT_STORED:
        return value
    cls = {c.__name__: c for c in FULL}[plan.object_type.name]
    return [cls.from_record(item) for item in value] if plan.is_list else cls.from_record(value)


@pytest.mark.parametrize("cls", list(FULL))
def test_every_field_read_from_a_record_is_the_objects(cls: type[Any]) -> None:
    gql = graphql_type(cls)
    plans = {name: plain_field(gql, name) for name in gql.fields}
    readable = {name: plan for name, plan in plans.items() if plan is not None and plan.read is not None}
    # Every plain field can be read from a record, but a report's citations: no page brings those.
    assert {name for name, plan in plans.items() if plan is not None and plan.read is None} == (
        {"cites"} if cls is Report else set()
    )
    for record in VARIANTS[cls]:
        made = cls.from_record(record)
        for name, plan in readable.items():
            assert plan.read is not None
            assert as_objects(plan, plan.read(record)) == plan.value(made), (name, record)
