"""Relay cursor connections over pages fetched in the database."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from service.api.execution import COMPUTED, STORED
from service.api.ids import to_cursor
from service.graph.driver import Record
from service.graph.paging import Page, Row

T = TypeVar("T")
M = TypeVar("M")


@strawberry.type(description="Where a page of a connection starts and ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow this page.")
    has_previous_page: bool = strawberry.field(description="True when the page was asked for with `after`.")
    start_cursor: str | None = strawberry.field(description="The cursor of the first item of the page.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="One item of a page, with its cursor.")
class Edge(Generic[T]):
    """A row of a page. Its node is made from the row's record when first asked for, and its cursor likewise:
    a page of 100 claims answered as one tree reads the record itself (``record``, see STORED in
    service.api.execution) and never makes either."""

    row: strawberry.Private[Row]
    build: strawberry.Private[Callable[[Record], T]]
    # The node's record, while nothing has been loaded into its object that the record lacks.
    record: strawberry.Private[Record | None]

    @strawberry.field(
        description="Opaque position of this item; pass as `after` to continue from it.", metadata={COMPUTED: True}
    )
    def cursor(self) -> str:
        return _cursor(self.row)

    @strawberry.field(description="The item.", metadata={COMPUTED: True, STORED: "record"})
    def node(self) -> T:
        return self.item

    @cached_property
    def item(self) -> T:
        """The node, made once."""
        return self.build(self.row.node)


@strawberry.type(description="A page of a list, paged in the database.")
class Connection(Generic[T]):
    total_count: int = strawberry.field(description="Items matching, across all pages.")
    page_info: PageInfo = strawberry.field(description="Where the page starts and ends.")
    edges: list[Edge[T]] = strawberry.field(description="The items of the page, in order.")

    @classmethod
    def from_page(cls, page: Page, after: list[str] | None, build: Callable[[Record], T]) -> Connection[T]:
        edges = [_edge(row, build) for row in page.rows]
        return cls(
            total_count=page.total,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after is not None,
                start_cursor=_cursor(page.rows[0]) if page.rows else None,
                end_cursor=_cursor(page.rows[-1]) if page.rows else None,
            ),
            edges=edges,
        )


def _cursor(row: Row) -> str:
    return to_cursor(row.sort_key, row.node["id"])


def _edge(row: Row, build: Callable[[Record], T]) -> Edge[T]:
    """``Edge(row=row, build=build, record=row.node)``, 100 times a page."""
    edge: Edge[T] = made(Edge, {"row": row, "build": build, "record": row.node})
    return edge


def made(cls: type[M], values: dict[str, Any]) -> M:
    """``cls(**values)``, without the call: an object of a Strawberry type whose dataclass ``__init__`` does
    nothing but set these attributes (no defaults left out, no ``__post_init__``; tests/api/test_types.py
    compares each with its ``__init__``). An actor took 1.45 µs through ``__init__`` and takes 0.6 this
    way, and a page of 100 claims with sources, reports and publishers makes some 600 of them."""
    built = object.__new__(cls)
    built.__dict__ = values
    return built


def wants_total(info: Any) -> bool:
    """Whether the client selected ``totalCount`` on the connection being resolved (fragments included)."""
    return selected(info, "totalCount") is not None


def selected(info: Any, *path: str) -> list[Any] | None:
    """What the query selects at ``path`` below the field being resolved; None if nothing is."""
    return below([s for field in info.selected_fields for s in field.selections], *path)


def below(selections: list[Any] | None, *path: str) -> list[Any] | None:
    """What the query selects under the fields at ``path`` (fragments followed, aliases merged); None if none."""
    for name in path:
        if selections is None:
            return None
        fields = _fields_named(selections, name)
        selections = [s for field in fields for s in field.selections] if fields else None
    return selections


def field_names(selections: list[Any]) -> set[str]:
    """The names of the fields ``selections`` select (fragments followed, aliases merged)."""
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            names |= field_names(selection.selections)
    return names


def _fields_named(selections: list[Any], name: str) -> list[SelectedField]:
    found: list[SelectedField] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                found.append(selection)
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            found += _fields_named(selection.selections, name)
    return found
