"""The Query root and the executable schema."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.types.execution import ExecutionContext

from service.api.arguments import bounded, key_of, page_arguments, partial_date, required_key_of
from service.api.connections import Connection, wants_total
from service.api.context import Info
from service.api.ids import from_global_id
from service.api.lifecycle import RequestLifecycle
from service.api.mutations import Mutation
from service.api.paths import Path, explain_path
from service.api.types import (
    Actor,
    ActorKind,
    Claim,
    ClaimSort,
    Event,
    EventSort,
    EventStatus,
    Modality,
    Node,
    Report,
    claim_connection,
    claim_filter,
    event_connection,
    node_from,
)
from service.errors import BadUserInput, NotFound, quoted
from service.graph import actors, paths, reports, search
from service.graph.actors import ActorFilter, ActorOrder
from service.graph.driver import Record
from service.graph.events import EventFilter
from service.graph.reports import ReportFilter, ReportOrder


@strawberry.enum(description="Orders of actors.")
class ActorSort(Enum):
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


@strawberry.enum(description="Orders of reports. Undated reports come last.")
class ReportSort(Enum):
    PUBLISHED_DESC = "PUBLISHED_DESC"
    PUBLISHED_ASC = "PUBLISHED_ASC"


@strawberry.input(description="Conditions on actors; all given must hold.")
class ActorFilterInput:
    name: str | None = strawberry.field(default=None, description="Canonical name or alias, case-insensitive.")
    name_contains: str | None = strawberry.field(default=None, description="Part of any name, case-insensitive.")
    kind: ActorKind | None = strawberry.field(default=None, description="Only actors of this kind.")  # type: ignore[valid-type]
    anonymous: bool | None = strawberry.field(
        default=None, description="Only anonymous sources (true) or only named actors (false)."
    )


@strawberry.input(description="Conditions on claims; all given must hold.")
class ClaimFilterInput:
    about: strawberry.ID | None = strawberry.field(default=None, description="Id of an actor the claim is about.")
    attributed_to: strawberry.ID | None = strawberry.field(default=None, description="Id of the claim's source.")
    anonymous: bool | None = strawberry.field(default=None, description="Whether the source is anonymous.")
    modality: list[Modality] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only claims put in one of these ways."
    )
    reported_in: strawberry.ID | None = strawberry.field(default=None, description="Id of a report carrying it.")
    since: str | None = strawberry.field(default=None, description="First reported on or after (YYYY[-MM[-DD]]).")
    until: str | None = strawberry.field(default=None, description="First reported on or before (YYYY[-MM[-DD]]).")


@strawberry.input(description="Conditions on events; all given must hold.")
class EventFilterInput:
    kind: str | None = strawberry.field(default=None, description="Only events of this kind (e.g. coup).")
    status: EventStatus | None = strawberry.field(default=None, description="Only events with this status.")  # type: ignore[valid-type]
    participant: strawberry.ID | None = strawberry.field(default=None, description="Id of an actor taking part.")
    since: str | None = strawberry.field(default=None, description="Ending on or after (YYYY[-MM[-DD]]).")
    until: str | None = strawberry.field(default=None, description="Starting on or before (YYYY[-MM[-DD]]).")


@strawberry.input(description="Conditions on reports; all given must hold.")
class ReportFilterInput:
    publisher: strawberry.ID | None = strawberry.field(default=None, description="Global id of the publishing actor.")
    since: str | None = strawberry.field(
        default=None, description="Published on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)."
    )
    until: str | None = strawberry.field(
        default=None, description="Published on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)."
    )


@strawberry.type(description="A search result and how well it matches.")
class SearchHit:
    score: float = strawberry.field(description="Full-text relevance; higher is better.")
    node: Node = strawberry.field(description="The actor, claim or report found.")


@strawberry.type(description="Reads: actors, claims, reports and events, the paths between actors, and search.")
class Query:
    @strawberry.field(description="One actor, by global id or by any of its names (case-insensitive).")
    async def actor(
        self,
        info: Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")] = None,
        name: Annotated[
            str | None,
            strawberry.argument(description="Canonical name or alias; a canonical-name match wins over an alias."),
        ] = None,
    ) -> Actor | None:
        if (id is None) == (name is None):
            raise BadUserInput("give exactly one of id or name", argument="id" if id is not None else "name")
        if id is not None:
            record = await info.context.loaders.actor.load(required_key_of(id, "Actor", "id"))
            if record is None:
                raise NotFound(f"no actor has id {quoted(id)}", argument="id")
            return Actor.from_record(record)
        found = await actors.actors_by_name(info.context.db, name or "", limit=1)
        if not found:
            raise NotFound(f"no actor is called {quoted(name)}", argument="name")
        return Actor.from_record(found[0])

    @strawberry.field(description="Actors, filtered and sorted, paged.")
    async def actors(
        self,
        info: Info,
        filter: ActorFilterInput | None = None,
        sort: ActorSort = ActorSort.NAME_ASC,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Actor]:
        first, after_key = page_arguments(info, first, after)
        given = filter or ActorFilterInput()
        where = ActorFilter(
            name=given.name,
            name_contains=given.name_contains,
            kind=given.kind.value if given.kind is not None else None,
            anonymous=given.anonymous,
        )
        page = await actors.actor_page(
            info.context.db,
            where=where,
            order=ActorOrder[sort.value],
            first=first,
            after=after_key,
            with_total=wants_total(info),
        )
        return Connection[Actor].from_page(page, after_key, Actor.from_record)

    @strawberry.field(description="Claims, filtered and sorted, paged. Retracted claims are hidden.")
    async def claims(
        self,
        info: Info,
        filter: ClaimFilterInput | None = None,
        sort: ClaimSort = ClaimSort.ID,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Claim]:
        given = filter or ClaimFilterInput()
        where = claim_filter(
            anonymous=given.anonymous,
            modality=given.modality,
            since=given.since,
            until=given.until,
            about=key_of(given.about, "Actor", "about"),
            attributed_to=key_of(given.attributed_to, "Actor", "attributedTo"),
            reported_in=key_of(given.reported_in, "Report", "reportedIn"),
        )
        return await claim_connection(info, "root", "", where, sort, first, after)

    @strawberry.field(description="Reports, filtered and sorted, paged.")
    async def reports(
        self,
        info: Info,
        filter: ReportFilterInput | None = None,
        sort: ReportSort = ReportSort.PUBLISHED_DESC,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Report]:
        first, after_key = page_arguments(info, first, after)
        given = filter or ReportFilterInput()
        where = ReportFilter(
            publisher=key_of(given.publisher, "Actor", "publisher"),
            since=partial_date(given.since, "since"),
            until=partial_date(given.until, "until"),
        )
        page = await reports.report_page(
            info.context.db,
            where=where,
            order=ReportOrder[sort.value],
            first=first,
            after=after_key,
            with_total=wants_total(info),
        )
        return Connection[Report].from_page(page, after_key, Report.from_record)

    @strawberry.field(description="Events, filtered, in date order, paged.")
    async def events(
        self,
        info: Info,
        filter: EventFilterInput | None = None,
        sort: EventSort = EventSort.DATE_ASC,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Event]:
        given = filter or EventFilterInput()
        where = EventFilter(
            kind=given.kind,
            status=given.status.value if given.status is not None else None,
            participant=key_of(given.participant, "Actor", "participant"),
            since=partial_date(given.since, "since"),
            until=partial_date(given.until, "until"),
        )
        return await event_connection(info, "root", "", where, sort, first, after)

    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, key = from_global_id(id)
        loader: DataLoader[str, Record | None] = getattr(info.context.loaders, _NODE_LOADERS[type_name])
        record = await loader.load(key)
        if record is None:
            raise NotFound(f"nothing has id {quoted(id)}", argument="id")
        return node_from(type_name, record)

    @strawberry.field(description="Full-text search over actor names and aliases, claim texts and report titles.")
    async def search(
        self,
        info: Info,
        text: Annotated[str, strawberry.argument(description="Words to look for; no query syntax.")],
        first: int = 20,
    ) -> list[SearchHit]:
        bounded(first, "first", 0, info.context.settings.max_page_size)
        if not text.strip():
            raise BadUserInput("text must not be empty", argument="text")
        if len(text) > 500:
            raise BadUserInput("text must be at most 500 characters", argument="text", maximum=500)
        hits = await search.search(info.context.db, text, first)
        return [SearchHit(score=h["score"], node=node_from(h["type"], h["node"])) for h in hits]

    @strawberry.field(
        description="The shortest connection between two actors through relations, events, claims and "
        f"affiliations, each step explained; null when none is within maxHops (1 to {paths.MAX_HOPS})."
    )
    async def path(
        self,
        info: Info,
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        to: strawberry.ID,
        max_hops: int = 4,
    ) -> Path | None:
        bounded(max_hops, "maxHops", 1, paths.MAX_HOPS)
        from_key, to_key = required_key_of(from_, "Actor", "from"), required_key_of(to, "Actor", "to")
        found = await info.context.loaders.actor.load_many([from_key, to_key])
        for argument, record, given in (("from", found[0], from_), ("to", found[1], to)):
            if record is None:
                raise NotFound(f"no actor has id {quoted(given)}", argument=argument)
        if from_key == to_key:
            raise BadUserInput("from and to are the same actor", argument="to")
        record = await paths.shortest_path(info.context.db, from_key, to_key, max_hops)
        return explain_path(record) if record else None


# The loader of each type a global id can name (only the one asked for is made: making a loader costs).
_NODE_LOADERS = {"Actor": "actor", "Claim": "claim", "Report": "report", "Event": "event"}


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry would log every error; code_errors logs the unexpected ones, in full, with the request id."""


schema = Schema(
    query=Query,
    mutation=Mutation,
    types=[Actor, Claim, Report, Event],
    # Error codes, persisted queries, the gate, validation once per document, compiled reads: one extension
    # (service.api.lifecycle) calls them in order.
    extensions=[RequestLifecycle],
)
