"""Relay cursor connections over pages fetched in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from service.api.ids import to_cursor
from service.graph.driver import Record
from service.graph.paging import Page, Row

T = TypeVar("T")


@strawberry.type(description="Where a page of a connection starts and ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow this page.")
    has_previous_page: bool = strawberry.field(description="True when the page was asked for with `after`.")
    start_cursor: str | None = strawberry.field(description="The cursor of the first item of the page.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="One item of a page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item; pass as `after` to continue from it.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, paged in the database.")
class Connection(Generic[T]):
    total_count: int = strawberry.field(description="Items matching, across all pages.")
    page_info: PageInfo = strawberry.field(description="Where the page starts and ends.")
    edges: list[Edge[T]] = strawberry.field(description="The items of the page, in order.")

    @classmethod
    def from_page(cls, page: Page, after: list[str] | None, build: Callable[[Record], T]) -> Connection[T]:
        return cls(
            total_count=page.total,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after is not None,
                start_cursor=_cursor(page.rows[0]) if page.rows else None,
                end_cursor=_cursor(page.rows[-1]) if page.rows else None,
            ),
            edges=[Edge(cursor=_cursor(row), node=build(row.node)) for row in page.rows],
        )


def _cursor(row: Row) -> str:
    return to_cursor(row.sort_key, row.node["id"])


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
