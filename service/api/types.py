"""GraphQL object types. Resolvers are thin: check arguments, ask a loader."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from service.api.context import Info
from service.api.ids import from_cursor, to_cursor, to_global_id
from service.api.loaders import ClaimsAboutKey
from service.errors import BadUserInput
from service.graph.driver import Record
from service.ingest import models

ActorKind = strawberry.enum(models.ActorKind, description="What sort of actor this is.")
Modality = strawberry.enum(models.Modality, description="How firmly the source puts the claim.")


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global, opaque id.")


@strawberry.type(description="Where a page of a connection starts and ends.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_arguments(info: Info, first: int, after: str | None) -> tuple[int, str | None]:
    """Validated ``first`` and the key ``after`` stands for."""
    limit = info.context.settings.max_page_size
    if first < 0:
        raise BadUserInput(f"first must be 0 or more, got {first}", argument="first")
    if first > limit:
        raise BadUserInput(f"first must be at most {limit}, got {first}", argument="first", maximum=limit)
    return first, from_cursor(after)


@strawberry.type(description="A person, organisation, state, government, armed group or media outlet.")
class Actor(Node):
    key: strawberry.Private[str]
    name: str = strawberry.field(description="Canonical name.")
    kind: ActorKind  # type: ignore[valid-type]
    aliases: list[str] = strawberry.field(description="Every other name the sources use.")
    description: str | None
    anonymous: bool = strawberry.field(description="True for a source the reports do not name.")
    descriptor: str | None = strawberry.field(description="How the reports describe an anonymous source.")

    @classmethod
    def from_record(cls, record: Record) -> Actor:
        return cls(
            id=strawberry.ID(to_global_id("Actor", record["id"])),
            key=record["id"],
            name=record.get("name") or record["id"],
            kind=models.ActorKind(record.get("kind") or "other"),
            aliases=list(record.get("aliases") or []),
            description=record.get("description"),
            anonymous=bool(record.get("anonymous")),
            descriptor=record.get("descriptor"),
        )

    @strawberry.field(description="Claims about this actor, oldest id first; retracted claims are hidden.")
    async def claims(
        self,
        info: Info,
        anonymous: Annotated[
            bool | None, strawberry.argument(description="Only claims whose source is (or is not) anonymous.")
        ] = None,
        first: int = 20,
        after: str | None = None,
    ) -> ClaimConnection:
        first, after_key = page_arguments(info, first, after)
        page = await info.context.loaders.claims_about.load(ClaimsAboutKey(self.key, anonymous, first, after_key))
        edges = [ClaimEdge(cursor=to_cursor(r["id"]), node=Claim.from_record(r)) for r in page.items]
        return ClaimConnection(
            total_count=page.total,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after_key is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            edges=edges,
        )


@strawberry.type(description="An article or broadcast.")
class Report(Node):
    key: strawberry.Private[str]
    title: str | None
    url: str | None
    published_at: dt.datetime | None

    @classmethod
    def from_record(cls, record: Record) -> Report:
        published = record.get("publishedAt")
        return cls(
            id=strawberry.ID(to_global_id("Report", record["id"])),
            key=record["id"],
            title=record.get("title"),
            url=record.get("url"),
            published_at=_parse_datetime(published),
        )

    @strawberry.field(description="The outlet that published the report.")
    async def publisher(self, info: Info) -> Actor | None:
        record = await info.context.loaders.report_publisher.load(self.key)
        return Actor.from_record(record) if record else None

    @strawberry.field(description="Reports this one relays or quotes, oldest first.")
    async def cites(self, info: Info) -> list[Report]:
        return [Report.from_record(r) for r in await info.context.loaders.report_cites.load(self.key)]


@strawberry.type(description="One statement attributed to one source.")
class Claim(Node):
    key: strawberry.Private[str]
    text: str = strawberry.field(description="A faithful paraphrase.")
    quote: str | None = strawberry.field(description="The verbatim words, where a report gives them.")
    modality: Modality  # type: ignore[valid-type]
    retracted: bool

    @classmethod
    def from_record(cls, record: Record) -> Claim:
        return cls(
            id=strawberry.ID(to_global_id("Claim", record["id"])),
            key=record["id"],
            text=record.get("text") or "",
            quote=record.get("quote"),
            modality=models.Modality(record.get("modality") or "asserted"),
            retracted=bool(record.get("retracted")),
        )

    @strawberry.field(description="The actor the claim is attributed to.")
    async def source(self, info: Info) -> Actor | None:
        record = await info.context.loaders.claim_source.load(self.key)
        return Actor.from_record(record) if record else None

    @strawberry.field(description="The reports that carried the claim, oldest first.")
    async def reports(self, info: Info) -> list[Report]:
        return [Report.from_record(r) for r in await info.context.loaders.claim_reports.load(self.key)]


@strawberry.type
class ClaimEdge:
    cursor: str
    node: Claim


@strawberry.type(description="A page of claims, paged in the database.")
class ClaimConnection:
    total_count: int = strawberry.field(description="Claims matching, across all pages.")
    page_info: PageInfo
    edges: list[ClaimEdge]


def _parse_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
