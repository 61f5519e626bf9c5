"""Per-request DataLoaders: every field at one nesting level becomes one batched query.

A resolver asks its loader for one parent's data; the loader gathers the keys
of all resolvers at that level and calls one repository function for them.
So a request costs one round trip per (field, level), never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import cached_property, partial
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from service.graph import actors, claims, events, reports
from service.graph.driver import Database, Record
from service.graph.paging import EMPTY_PAGE, Page

A = TypeVar("A", bound=Hashable)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

LoadOne = Callable[[list[str]], Awaitable[list[Record | None]]]
LoadMany = Callable[[list[str]], Awaitable[list[list[V]]]]


Lookup = Callable[[Database, Sequence[str]], Awaitable[dict[str, V]]]


def _one(db: Database, lookup: Lookup[Record]) -> LoadOne:
    async def load(keys: list[str]) -> list[Record | None]:
        found = await lookup(db, keys)
        return [found.get(key) for key in keys]

    return load


def _many(db: Database, lookup: Lookup[list[V]]) -> LoadMany[V]:
    async def load(keys: list[str]) -> list[list[V]]:
        found = await lookup(db, keys)
        return [found.get(key, []) for key in keys]

    return load


class GroupedLoader(DataLoader[tuple[str, A], V], Generic[A, V]):
    """Keys are (parent id, arguments): one query per distinct set of arguments, for all parents."""

    def __init__(self, fetch: Callable[[list[str], A], Awaitable[dict[str, V]]], default: V) -> None:
        async def load(keys: list[tuple[str, A]]) -> list[V]:
            groups: dict[A, list[str]] = defaultdict(list)
            for parent_id, arguments in keys:
                groups[arguments].append(parent_id)
            found: dict[tuple[str, A], V] = {}
            for arguments, parent_ids in groups.items():
                results = await fetch(parent_ids, arguments)
                for parent_id in parent_ids:
                    found[(parent_id, arguments)] = results.get(parent_id, default)
            return [found[key] for key in keys]

        super().__init__(load)


class Loaders:
    """The loaders of one request; created fresh per request so nothing leaks between users."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # Each loader is made the first time a request asks for it: most requests use one to three of the 19,
    # and making them all took 7 % of a point lookup's time in the server.

    @cached_property
    def actor(self) -> DataLoader[str, Record | None]:
        return DataLoader(_one(self.db, actors.actors_by_ids))

    @cached_property
    def claim(self) -> DataLoader[str, Record | None]:
        return DataLoader(_one(self.db, claims.claims_by_ids))

    @cached_property
    def report(self) -> DataLoader[str, Record | None]:
        return DataLoader(_one(self.db, reports.reports_by_ids))

    @cached_property
    def event(self) -> DataLoader[str, Record | None]:
        return DataLoader(_one(self.db, events.events_by_ids))

    @cached_property
    def claim_source(self) -> DataLoader[str, Record | None]:
        return DataLoader(_one(self.db, claims.sources_of_claims))

    @cached_property
    def claim_subjects(self) -> DataLoader[str, Record | None]:
        return DataLoader(_one(self.db, claims.subjects_of_claims))

    @cached_property
    def claim_corroboration(self) -> DataLoader[str, Record | None]:
        return DataLoader(_one(self.db, claims.corroboration_of_claims))

    @cached_property
    def claim_provenance(self) -> DataLoader[str, list[list[Record]]]:
        return DataLoader(_many(self.db, claims.provenance_of_claims))

    @cached_property
    def claim_reports(self) -> DataLoader[str, list[Record]]:
        return DataLoader(_many(self.db, reports.reports_of_claims))

    @cached_property
    def report_publisher(self) -> DataLoader[str, Record | None]:
        return DataLoader(_one(self.db, reports.publishers_of_reports))

    @cached_property
    def report_authors(self) -> DataLoader[str, list[Record]]:
        return DataLoader(_many(self.db, reports.authors_of_reports))

    @cached_property
    def report_cites(self) -> DataLoader[str, list[Record]]:
        return DataLoader(_many(self.db, reports.reports_cited_by))

    @cached_property
    def report_cited_by(self) -> DataLoader[str, list[Record]]:
        return DataLoader(_many(self.db, reports.reports_citing))

    @cached_property
    def event_participants(self) -> DataLoader[str, list[Record]]:
        return DataLoader(_many(self.db, events.participants_of_events))

    @cached_property
    def actor_affiliations(self) -> DataLoader[str, list[Record]]:
        return DataLoader(_many(self.db, actors.affiliations_of_actors))

    # The loaders below are made from the database alone, never from ``self``: a loader holding a method or
    # closure of this object would make a cycle (Loaders -> loader -> self), and the pages and records in the
    # loader's cache would then wait for the garbage collector instead of going with the request.

    @cached_property
    def claim_pages(self) -> GroupedLoader[Any, Page]:
        return GroupedLoader(_pages(self.db, claims.claim_pages), EMPTY_PAGE)

    @cached_property
    def event_pages(self) -> GroupedLoader[Any, Page]:
        return GroupedLoader(_pages(self.db, events.event_pages), EMPTY_PAGE)

    @cached_property
    def relations(self) -> GroupedLoader[Any, list[Record]]:
        return GroupedLoader(partial(_relations, self.db), [])

    @cached_property
    def neighbors(self) -> GroupedLoader[Any, list[Record]]:
        return GroupedLoader(partial(_neighbors, self.db), [])


def _pages(db: Database, fetch: Callable[..., Awaitable[dict[str, Page]]]) -> Callable[..., Awaitable[dict[str, Page]]]:
    """A grouped load of claim or event pages: one query for every parent asking the same page.

    Keys are (parent id, (anchor, where, order, first, after, with_total, more)), ``more`` being
    further keyword arguments of ``fetch`` as (name, value) pairs."""

    async def load(parent_ids: list[str], arguments: Any) -> dict[str, Page]:
        anchor, where, order, first, after, with_total, more = arguments
        return await fetch(
            db,
            anchor,
            parent_ids,
            where=where,
            order=order,
            first=first,
            after=_unfreeze(after),
            with_total=with_total,
            **dict(more),
        )

    return load


async def _relations(db: Database, parent_ids: list[str], arguments: Any) -> dict[str, list[Record]]:
    kinds, as_of = arguments
    return await actors.relations_of_actors(db, parent_ids, kinds=kinds, as_of=as_of)


async def _neighbors(db: Database, parent_ids: list[str], arguments: Any) -> dict[str, list[Record]]:
    depth, kinds, limit = arguments
    return await actors.neighbors_of_actors(db, parent_ids, depth=depth, kinds=kinds, limit=limit)


async def load_all(loader: DataLoader[K, V], keys: Sequence[K]) -> list[V]:
    """The loader's values for all ``keys`` (one batch for those it has not loaded yet)."""
    return list(await loader.load_many(list(keys)))


def freeze(after: list[str] | None) -> tuple[str, ...] | None:
    """Cursors as hashable loader-key parts."""
    return tuple(after) if after is not None else None


def _unfreeze(after: tuple[str, ...] | None) -> list[str] | None:
    return list(after) if after is not None else None
