"""Per-request DataLoaders: every field at one nesting level becomes one batched query.

A resolver asks its loader for one parent's data; the loader gathers the keys
of all resolvers at that level and calls one repository function for them.
So a request costs one round trip per (field, level), never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from service.graph import actors, claims, reports
from service.graph.claims import Page
from service.graph.driver import Database, Record

LoadOne = Callable[[list[str]], Awaitable[list[Record | None]]]
LoadMany = Callable[[list[str]], Awaitable[list[list[Record]]]]


@dataclass(frozen=True)
class ClaimsAboutKey:
    actor_id: str
    anonymous: bool | None
    first: int
    after: str | None


def _one(fetch: Callable[[Sequence[str]], Awaitable[dict[str, Record]]]) -> LoadOne:
    async def load(keys: list[str]) -> list[Record | None]:
        found = await fetch(keys)
        return [found.get(key) for key in keys]

    return load


def _many(fetch: Callable[[Sequence[str]], Awaitable[dict[str, list[Record]]]]) -> LoadMany:
    async def load(keys: list[str]) -> list[list[Record]]:
        found = await fetch(keys)
        return [found.get(key, []) for key in keys]

    return load


class Loaders:
    """The loaders of one request; created fresh per request so nothing leaks between users."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.actor: DataLoader[str, Record | None] = DataLoader(_one(lambda ids: actors.actors_by_ids(db, ids)))
        self.claim_source: DataLoader[str, Record | None] = DataLoader(
            _one(lambda ids: claims.sources_of_claims(db, ids))
        )
        self.claim_reports: DataLoader[str, list[Record]] = DataLoader(
            _many(lambda ids: reports.reports_of_claims(db, ids))
        )
        self.report_publisher: DataLoader[str, Record | None] = DataLoader(
            _one(lambda ids: reports.publishers_of_reports(db, ids))
        )
        self.report_cites: DataLoader[str, list[Record]] = DataLoader(
            _many(lambda ids: reports.reports_cited_by(db, ids))
        )
        self.claims_about: DataLoader[ClaimsAboutKey, Page] = DataLoader(self._load_claims_about)

    async def _load_claims_about(self, keys: list[ClaimsAboutKey]) -> list[Page]:
        # One query per distinct set of arguments (usually exactly one).
        groups: dict[tuple[bool | None, int, str | None], list[str]] = defaultdict(list)
        for key in keys:
            groups[(key.anonymous, key.first, key.after)].append(key.actor_id)
        pages: dict[ClaimsAboutKey, Page] = {}
        for (anonymous, first, after), actor_ids in groups.items():
            found = await claims.claims_about_actors(self.db, actor_ids, anonymous=anonymous, first=first, after=after)
            for actor_id in actor_ids:
                page = found.get(actor_id, Page(items=[], total=0, has_next=False))
                pages[ClaimsAboutKey(actor_id, anonymous, first, after)] = page
        return [pages[key] for key in keys]
