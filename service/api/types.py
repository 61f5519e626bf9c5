"""GraphQL object types. Resolvers are thin: check arguments, ask a loader."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, TypeVar, cast

import strawberry

from service import vocabulary
from service.api.arguments import bounded, page_arguments, partial_date
from service.api.connections import Connection, below, field_names, selected, wants_total
from service.api.context import Info
from service.api.ids import to_global_id
from service.api.loaders import freeze, load_all
from service.graph.actors import MAX_NEIGHBOR_DEPTH
from service.graph.claims import PROPERTIES, ClaimFilter, ClaimOrder, RowShape
from service.graph.driver import Record
from service.graph.events import EventFilter, EventOrder

ActorKind = strawberry.enum(vocabulary.ActorKind, description="What sort of actor this is.")
Modality = strawberry.enum(vocabulary.Modality, description="How firmly the source puts the claim.")
EventStatus = strawberry.enum(vocabulary.EventStatus, description="Whether the event happened, is planned or rumoured.")
ReportKind = strawberry.enum(vocabulary.ReportKind, description="Article, broadcast or other.")
T = TypeVar("T")
E = TypeVar("E", bound=Enum)


@strawberry.enum(description="Orders of claims. Claims never reported with a date come last.")
class ClaimSort(Enum):
    ID = "ID"
    FIRST_REPORTED_ASC = "FIRST_REPORTED_ASC"
    FIRST_REPORTED_DESC = "FIRST_REPORTED_DESC"

    def order(self) -> ClaimOrder:
        return ClaimOrder[self.value]


@strawberry.enum(description="Orders of events. Undated events come last.")
class EventSort(Enum):
    DATE_ASC = "DATE_ASC"
    DATE_DESC = "DATE_DESC"

    def order(self) -> EventOrder:
        return EventOrder[self.value]


@strawberry.enum(description="Which way a relation points from the actor in hand.")
class RelationDirection(Enum):
    OUTGOING = "OUTGOING"
    INCOMING = "INCOMING"


ModalityList = Annotated[
    list[Modality] | None,  # type: ignore[valid-type]
    strawberry.argument(description="Only claims of these modalities."),
]
DateArgument = Annotated[
    str | None, strawberry.argument(description="A date as YYYY, YYYY-MM or YYYY-MM-DD, inclusive.")
]


def claim_filter(
    *,
    anonymous: bool | None = None,
    modality: list[Any] | None = None,
    since: str | None = None,
    until: str | None = None,
    about: str | None = None,
    attributed_to: str | None = None,
    reported_in: str | None = None,
) -> ClaimFilter:
    return ClaimFilter(
        about=about,
        attributed_to=attributed_to,
        anonymous=anonymous,
        modality=tuple(m.value for m in modality) if modality is not None else None,
        reported_in=reported_in,
        since=partial_date(since, "since"),
        until=partial_date(until, "until"),
    )


async def claim_connection(
    info: Info,
    anchor: str,
    parent_id: str,
    where: ClaimFilter,
    sort: ClaimSort,
    first: int,
    after: str | None,
) -> Connection[Claim]:
    first, after_key = page_arguments(info, first, after)
    rows = selected(info, "edges", "node")
    include = (("shape", row_shape(rows)),)
    page = await info.context.loaders.claim_pages.load(
        (parent_id, (anchor, where, sort.order(), first, freeze(after_key), wants_total(info), include))
    )
    connection = Connection[Claim].from_page(page, after_key, Claim.from_record)
    await prefetch_claims(info, [edge.node for edge in connection.edges], rows)  # what the page did not bring
    return connection


async def event_connection(
    info: Info, anchor: str, parent_id: str, where: EventFilter, sort: EventSort, first: int, after: str | None
) -> Connection[Event]:
    first, after_key = page_arguments(info, first, after)
    page = await info.context.loaders.event_pages.load(
        (parent_id, (anchor, where, sort.order(), first, freeze(after_key), wants_total(info), ()))
    )
    return Connection[Event].from_page(page, after_key, Event.from_record)


def claims_field(anchor: str, description: str) -> Any:
    """A paged ``claims`` field for a report or an event: one resolver for both."""

    async def resolve(
        root: Any,
        info: Info,
        anonymous: bool | None = None,
        modality: ModalityList = None,
        sort: ClaimSort = ClaimSort.ID,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Claim]:
        where = claim_filter(anonymous=anonymous, modality=modality)
        return await claim_connection(info, anchor, root.key, where, sort, first, after)

    return strawberry.field(resolver=resolve, description=description)


BACKGROUND = (
    "What the seed states here that its report does not (a date, a name, a description), and where that comes "
    "from; null when all of it rests on the report."
)


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    key: strawberry.Private[str]  # the stored id

    @strawberry.field(description="Global, opaque id.")
    def id(self) -> strawberry.ID:
        """``Type:key`` encoded, made when asked for (most queries never ask); the class is named as the type."""
        return strawberry.ID(to_global_id(type(self).__name__, self.key))


@strawberry.type(description="A person, organisation, state, government, armed group or media outlet.")
class Actor(Node):
    slug: str = strawberry.field(description="The stable id used in seed files.")
    name: str = strawberry.field(description="Canonical name.")
    kind: ActorKind = strawberry.field(description="What sort of actor it is.")  # type: ignore[valid-type]
    aliases: list[str] = strawberry.field(description="Every other name the sources use.")
    description: str | None = strawberry.field(description="A line on who the actor is, where the seed gives one.")
    anonymous: bool = strawberry.field(description="True for a source the reports do not name.")
    descriptor: str | None = strawberry.field(description="How the reports describe an anonymous source.")
    background: str | None = strawberry.field(description=BACKGROUND)

    @classmethod
    def from_record(cls, record: Record) -> Actor:
        return cls(key=record["id"], slug=record["id"], **stored_values("Actor", record))

    @strawberry.field(description="Claims ABOUT this actor. Retracted claims are hidden.")
    async def claims(
        self,
        info: Info,
        anonymous: Annotated[
            bool | None, strawberry.argument(description="Only claims whose source is (or is not) anonymous.")
        ] = None,
        modality: ModalityList = None,
        since: DateArgument = None,
        until: DateArgument = None,
        sort: ClaimSort = ClaimSort.ID,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Claim]:
        where = claim_filter(anonymous=anonymous, modality=modality, since=since, until=until)
        return await claim_connection(info, "about_actor", self.key, where, sort, first, after)

    @strawberry.field(description="Claims attributed TO this actor (what it said).")
    async def claims_made(
        self,
        info: Info,
        modality: ModalityList = None,
        since: DateArgument = None,
        until: DateArgument = None,
        sort: ClaimSort = ClaimSort.ID,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Claim]:
        where = claim_filter(modality=modality, since=since, until=until)
        return await claim_connection(info, "made_by_actor", self.key, where, sort, first, after)

    @strawberry.field(description="Events this actor took part in, in date order.")
    async def events(
        self,
        info: Info,
        sort: EventSort = EventSort.DATE_ASC,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Event]:
        return await event_connection(info, "of_actor", self.key, EventFilter(), sort, first, after)

    @strawberry.field(description="Relations with other actors, oldest first; with `asOf`, only those valid then.")
    async def relations(
        self,
        info: Info,
        kind: Annotated[
            list[str] | None, strawberry.argument(description="Only these kinds, e.g. normalized_relations_with.")
        ] = None,
        as_of: Annotated[
            str | None,
            strawberry.argument(description="YYYY[-MM[-DD]]: since <= asOf < until, at the precision given."),
        ] = None,
    ) -> list[Relation]:
        key = (tuple(kind) if kind is not None else None, partial_date(as_of, "asOf"))
        records = await info.context.loaders.relations.load((self.key, key))
        return [Relation.from_record(self, r) for r in records]

    @strawberry.field(description=f"Actors within `depth` relations (1 to {MAX_NEIGHBOR_DEPTH}), nearest first.")
    async def neighbors(
        self,
        info: Info,
        depth: int = 1,
        kinds: Annotated[list[str] | None, strawberry.argument(description="Follow only these kinds.")] = None,
        first: int = 50,
    ) -> list[Neighbor]:
        bounded(depth, "depth", 1, MAX_NEIGHBOR_DEPTH)
        bounded(first, "first", 0, info.context.settings.max_page_size)
        key = (depth, tuple(kinds) if kinds is not None else None, first)
        records = await info.context.loaders.neighbors.load((self.key, key))
        return [Neighbor(actor=Actor.from_record(r["actor"]), distance=r["distance"]) for r in records]

    @strawberry.field(description="What this actor is affiliated with (employer, government, state).")
    async def affiliations(self, info: Info) -> list[Affiliation]:
        records = await info.context.loaders.actor_affiliations.load(self.key)
        return [
            Affiliation(actor=Actor.from_record(r["actor"]), role=r["role"], since=r["since"], until=r["until"])
            for r in records
        ]


@strawberry.type(description="An affiliation of an actor with another.")
class Affiliation:
    actor: Actor = strawberry.field(description="The actor this one is affiliated with.")
    role: str | None = strawberry.field(description="e.g. 'government of', 'spokesman for'.")
    since: str | None = strawberry.field(description="YYYY, YYYY-MM or YYYY-MM-DD, as precise as known.")
    until: str | None = strawberry.field(description="Null while the affiliation holds.")


@strawberry.type(description="An actor near another, and how many relations away.")
class Neighbor:
    actor: Actor = strawberry.field(description="The actor reached.")
    distance: int = strawberry.field(description="Relations between the two: 1 is a direct relation.")


@strawberry.type(description="A relation between two actors, valid from `since` until `until`, with its evidence.")
class Relation:
    key: strawberry.Private[str]
    evidence_ids: strawberry.Private[list[str]]
    kind: str = strawberry.field(description="e.g. normalized_relations_with, controls, overthrew, brokered.")
    direction: RelationDirection = strawberry.field(description="Which way it points from the actor asked about.")
    source: Actor = strawberry.field(description="The actor the relation points from.", name="from")
    target: Actor = strawberry.field(description="The actor the relation points to.", name="to")
    other: Actor = strawberry.field(description="The actor at the other end from the one asked about.")
    since: str | None = strawberry.field(description="YYYY, YYYY-MM or YYYY-MM-DD, as precise as known.")
    until: str | None = strawberry.field(description="Null while the relation holds.")
    background: str | None = strawberry.field(description=BACKGROUND)

    @classmethod
    def from_record(cls, actor: Actor, record: Record) -> Relation:
        relation, other = record["relation"], Actor.from_record(record["other"])
        outgoing = bool(record["outgoing"])
        return cls(
            key=relation["id"],
            evidence_ids=list(relation.get("evidence") or []),
            kind=relation["kind"],
            direction=RelationDirection.OUTGOING if outgoing else RelationDirection.INCOMING,
            source=actor if outgoing else other,
            target=other if outgoing else actor,
            other=other,
            since=relation.get("since"),
            until=relation.get("until"),
            background=relation.get("background"),
        )

    @strawberry.field(description="The relation's id in seed files.")
    def slug(self) -> str:
        return self.key

    @strawberry.field(description="The claims that evidence the relation.")
    async def evidence(self, info: Info) -> list[Claim]:
        records = await info.context.loaders.claim.load_many(self.evidence_ids)
        return [Claim.from_record(r) for r in records if r is not None]


@strawberry.type(description="An article or broadcast.")
class Report(Node):
    slug: str = strawberry.field(description="The stable id used in seed files.")
    title: str | None = strawberry.field(description="The headline or title.")
    url: str | None = strawberry.field(description="Where the report is published, if known.")
    published_at: dt.datetime | None = strawberry.field(description="When it was published, if known.")
    kind: ReportKind = strawberry.field(description="Article, broadcast or other.")  # type: ignore[valid-type]
    # Fields loaded ahead for a whole list of reports (see prefetch_reports), by field name.
    pre: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Record) -> Report:
        pre = _report_included(record) if "_publisher" in record else {}
        return cls(key=record["id"], slug=record["id"], pre=pre, **stored_values("Report", record))

    @strawberry.field(description="The outlet that published the report.", graphql_type=Actor | None)
    def publisher(self, info: Info) -> Actor | Awaitable[Actor | None] | None:
        return _ahead(self.pre, "publisher", self._publisher, info)

    async def _publisher(self, info: Info) -> Actor | None:
        return _actor(await info.context.loaders.report_publisher.load(self.key))

    @strawberry.field(description="The report's authors, in byline order.")
    async def authors(self, info: Info) -> list[Actor]:
        return [Actor.from_record(r) for r in await info.context.loaders.report_authors.load(self.key)]

    @strawberry.field(description="Reports this one relays or quotes, oldest first.")
    async def cites(self, info: Info) -> list[Report]:
        if "cites" in self.pre:
            return cast(list[Report], self.pre["cites"])
        return [Report.from_record(r) for r in await info.context.loaders.report_cites.load(self.key)]

    @strawberry.field(description="Reports that relay or quote this one, oldest first.")
    async def cited_by(self, info: Info) -> list[Report]:
        return [Report.from_record(r) for r in await info.context.loaders.report_cited_by.load(self.key)]

    claims: Connection[Claim] = claims_field("in_report", "Claims the report carried.")


@strawberry.type(description="An actor's part in an event.")
class Participant:
    actor: Actor = strawberry.field(description="The actor who took part.")
    role: str = strawberry.field(description="e.g. host, signatory, perpetrator.")


@strawberry.type(description="Something that happened, or is said to be planned or rumoured.")
class Event(Node):
    slug: str = strawberry.field(description="The stable id used in seed files.")
    name: str = strawberry.field(description="What the event is called.")
    kind: str = strawberry.field(description="e.g. meeting, agreement, coup.")
    start_date: str | None = strawberry.field(description="YYYY, YYYY-MM or YYYY-MM-DD, as precise as known.")
    end_date: str | None = strawberry.field(description="YYYY, YYYY-MM or YYYY-MM-DD; null if ongoing or unknown.")
    place: str | None = strawberry.field(description="Where it happened, if known.")
    status: EventStatus = strawberry.field(description="Occurred, planned or rumoured.")  # type: ignore[valid-type]
    description: str | None = strawberry.field(description="A line on the event, where the seed gives one.")
    background: str | None = strawberry.field(description=BACKGROUND)

    @classmethod
    def from_record(cls, record: Record) -> Event:
        return cls(key=record["id"], slug=record["id"], **stored_values("Event", record))

    @strawberry.field(description="Who took part, and in what role.")
    async def participants(self, info: Info) -> list[Participant]:
        records = await info.context.loaders.event_participants.load(self.key)
        return [Participant(actor=Actor.from_record(r["actor"]), role=r["role"]) for r in records]

    claims: Connection[Claim] = claims_field("about_event", "Claims about the event.")


@strawberry.type(description="How one report came to carry a claim: citations back to the original source.")
class ProvenanceChain:
    reports: list[Report] = strawberry.field(
        description="From the report in hand, through the reports it cites, to the earliest that carried the claim."
    )
    source: Actor | None = strawberry.field(description="Who the claim is attributed to: the end of the chain.")

    @strawberry.field(description="The report the chain starts from.")
    def report(self) -> Report:
        return self.reports[0]

    @strawberry.field(description="The earliest report in the chain: where the claim was first carried.")
    def origin(self) -> Report:
        return self.reports[-1]


@strawberry.type(description="How independently a claim is supported.")
class Corroboration:
    claims: int = strawberry.field(description="Claims stating the same proposition, this one included.")
    independent_sources: int = strawberry.field(
        description="Distinct actors asserting it; reports relaying one source count it once."
    )
    reports: int = strawberry.field(description="Distinct reports carrying any of those claims.")
    sources: list[Actor] = strawberry.field(description="The distinct actors the claims are attributed to.")
    denied_by: list[Actor] = strawberry.field(description="Actors who deny it.")


@strawberry.type(description="One statement attributed to one source.")
class Claim(Node):
    slug: str = strawberry.field(description="The stable id used in seed files.")
    text: str = strawberry.field(description="A faithful paraphrase.")
    quote: str | None = strawberry.field(description="The verbatim words, where a report gives them.")
    evidence: list[str] = strawberry.field(
        description="The words the claim rests on, verbatim from the text of a report that carried it: what to "
        "check the claim against."
    )
    modality: Modality = strawberry.field(description="How the source put it: asserted, alleged, speculated or denied.")  # type: ignore[valid-type]
    retracted: bool = strawberry.field(
        description="True once retracted: hidden from every list and search, still found by node(id)."
    )
    proposition: str | None = strawberry.field(description="Claims sharing it state the same thing.")
    first_reported_at: dt.datetime | None = strawberry.field(description="When a report first carried it.")
    # Fields loaded ahead for a whole page of claims (see prefetch_claims), by field name.
    pre: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Record) -> Claim:
        pre = _claim_included(record) if "_source" in record or "_reports" in record else {}
        return cls(key=record["id"], slug=record["id"], pre=pre, **stored_values("Claim", record))

    @strawberry.field(description="The actor the claim is attributed to.", graphql_type=Actor | None)
    def source(self, info: Info) -> Actor | Awaitable[Actor | None] | None:
        return _ahead(self.pre, "source", self._source, info)

    async def _source(self, info: Info) -> Actor | None:
        return _actor(await info.context.loaders.claim_source.load(self.key))

    @strawberry.field(description="The actors the claim is about.")
    async def about(self, info: Info) -> list[Actor]:
        subjects = await info.context.loaders.claim_subjects.load(self.key)
        return [Actor.from_record(r) for r in (subjects or {}).get("actors", [])]

    @strawberry.field(description="The events the claim is about.")
    async def about_events(self, info: Info) -> list[Event]:
        subjects = await info.context.loaders.claim_subjects.load(self.key)
        return [Event.from_record(r) for r in (subjects or {}).get("events", [])]

    @strawberry.field(
        description="The reports that carried the claim, oldest first.",
        graphql_type=list[Report],
    )
    def reports(self, info: Info) -> list[Report] | Awaitable[list[Report]]:
        return _ahead(self.pre, "reports", self._reports, info)

    async def _reports(self, info: Info) -> list[Report]:
        return [Report.from_record(r) for r in await info.context.loaders.claim_reports.load(self.key)]

    @strawberry.field(description="One chain per report that carried the claim, longest first.")
    async def provenance(self, info: Info) -> list[ProvenanceChain]:
        chains = await info.context.loaders.claim_provenance.load(self.key)
        actor = await self._source(info) if "source" not in self.pre else cast(Actor | None, self.pre["source"])
        return [ProvenanceChain(reports=[Report.from_record(r) for r in chain], source=actor) for chain in chains]

    @strawberry.field(description="How many independent sources assert the same thing.")
    async def corroboration(self, info: Info) -> Corroboration:
        record = await info.context.loaders.claim_corroboration.load(self.key) or {}
        sources = [Actor.from_record(r) for r in record.get("sources", [])]
        return Corroboration(
            claims=int(record.get("claims", 1)),
            independent_sources=len(sources),
            reports=int(record.get("reports", 0)),
            sources=sources,
            denied_by=[Actor.from_record(r) for r in record.get("deniedBy", [])],
        )


# -- look-ahead ------------------------------------------------------------------------------------
# A page of claims knows from the query which of their fields will be asked for. It loads those for the
# whole page before it returns, through the same loaders (so with the same queries), independent ones
# at once; the fields' resolvers then answer from what was loaded. Without it every row's field is a
# coroutine, a loader future and a task of its own, which costs more than the Cypher for a page of 100.


# The stored property each field of a page's nodes reads (from_record): the property a row can bring
# (claims.PROPERTIES) of the field's own name. And the fields that read none (answered from the key, or
# loaded by it). A field in neither makes its node bring every property, so a new field is never answered
# from a property left out; tests/api/test_lookahead.py checks every field of the schema is in one of the two.
KEYED: dict[str, frozenset[str]] = {
    "Claim": frozenset(
        {"id", "slug", "source", "about", "aboutEvents", "reports", "provenance", "corroboration", "__typename"}
    ),
    "Actor": frozenset(
        {"id", "slug", "claims", "claimsMade", "events", "relations", "neighbors", "affiliations", "__typename"}
    ),
    "Report": frozenset({"id", "slug", "claims", "publisher", "authors", "cites", "citedBy", "__typename"}),
}


def row_shape(rows: list[Any] | None) -> RowShape:
    """What a page of claims brings back with its rows in the same statement (see claims.claim_projection),
    from what the query selects of its rows: their source, and their reports with or without publishers, and
    of each node the properties its selected fields read.

    A row's source also answers its ``provenance { source }`` (Claim.provenance), so both selections count.
    """
    brings: set[str] = set()
    own_source = below(rows, "source")
    if own_source is not None:
        brings.add("source")
    reports = below(rows, "reports")
    publisher = below(reports, "publisher")
    if reports is not None:
        brings.add("reports.publisher" if publisher is not None else "reports")
    return RowShape(
        brings=frozenset(brings),
        claim=_reads("Claim", rows),
        source=_reads("Actor", _both(own_source, below(rows, "provenance", "source"))),
        reports=_reads("Report", reports),
        publisher=_reads("Actor", publisher),
    )


def _reads(type_name: str, selections: list[Any] | None) -> frozenset[str] | None:
    """The stored properties the fields ``selections`` select of a ``type_name`` read; None for all of them."""
    reads, keyed = READS[type_name], KEYED[type_name]
    properties: set[str] = set()
    for name in field_names(selections or []):
        if name in reads:
            properties.add(reads[name])
        elif name not in keyed:
            return None
    return frozenset(properties)


def _both(one: list[Any] | None, other: list[Any] | None) -> list[Any] | None:
    return None if one is None and other is None else [*(one or []), *(other or [])]


async def prefetch_claims(info: Info, claims: Sequence[Claim], selections: list[Any] | None) -> None:
    """Load, for all ``claims`` at once, the ``source`` and ``reports`` that ``selections`` ask for and
    their page did not bring already; then what is asked of the reports."""
    source, reports = below(selections, "source"), below(selections, "reports")
    no_source = [claim for claim in claims if "source" not in claim.pre] if source is not None else []
    no_reports = [claim for claim in claims if "reports" not in claim.pre] if reports is not None else []
    if no_source or no_reports:
        loaders = info.context.loaders
        sources, carried = await asyncio.gather(
            load_all(loaders.claim_source, [claim.key for claim in no_source]) if no_source else _nothing(),
            load_all(loaders.claim_reports, [claim.key for claim in no_reports]) if no_reports else _nothing(),
        )
        for claim, record in zip(no_source, sources or [], strict=True):
            claim.pre["source"] = _actor(record)
        for claim, records in zip(no_reports, carried or [], strict=True):
            claim.pre["reports"] = [Report.from_record(r) for r in records]
    if reports is not None:
        await prefetch_reports(info, [report for claim in claims for report in claim.pre["reports"]], reports)


async def prefetch_reports(info: Info, reports: Sequence[Report], selections: list[Any] | None) -> None:
    """Load, for all ``reports`` at once, the ``publisher`` and ``cites`` that ``selections`` ask for and
    they do not hold already."""
    publisher, cites = below(selections, "publisher"), below(selections, "cites")
    no_publisher = [report for report in reports if "publisher" not in report.pre] if publisher is not None else []
    no_cites = [report for report in reports if "cites" not in report.pre] if cites is not None else []
    if no_publisher or no_cites:
        loaders = info.context.loaders
        publishers, cited = await asyncio.gather(
            load_all(loaders.report_publisher, [report.key for report in no_publisher]) if no_publisher else _nothing(),
            load_all(loaders.report_cites, [report.key for report in no_cites]) if no_cites else _nothing(),
        )
        for report, record in zip(no_publisher, publishers or [], strict=True):
            report.pre["publisher"] = _actor(record)
        for report, records in zip(no_cites, cited or [], strict=True):
            report.pre["cites"] = [Report.from_record(r) for r in records]
    if cites is not None:
        await prefetch_reports(info, [cited for report in reports for cited in report.pre["cites"]], cites)


def _ahead(pre: dict[str, Any], name: str, load: Callable[[Info], Awaitable[T]], info: Info) -> T | Awaitable[T]:
    """A field's value loaded ahead (as is, no await), or else ``load``'s awaitable for graphql-core to await."""
    return cast(T, pre[name]) if name in pre else load(info)


async def _nothing() -> None:
    return None


NODE_BUILDERS = {"Actor": Actor.from_record, "Claim": Claim.from_record, "Report": Report.from_record}
NODE_BUILDERS_WITH_EVENTS: dict[str, Any] = {**NODE_BUILDERS, "Event": Event.from_record}


def node_from(type_name: str, record: Record) -> Node:
    """A GraphQL node of the given type from its stored properties."""
    built: Node = NODE_BUILDERS_WITH_EVENTS[type_name](record)
    return built


def _claim_included(record: Record) -> dict[str, Any]:
    """What a claim's record brought of its related nodes (see row_shape), as Claim.pre."""
    pre: dict[str, Any] = {}
    if "_source" in record:
        pre["source"] = _actor(record["_source"])
    if "_reports" in record:
        pre["reports"] = [Report.from_record(r) for r in record["_reports"]]
    return pre


def _report_included(record: Record) -> dict[str, Any]:
    """What a report's record brought of its publisher (see row_shape), as Report.pre."""
    return {"publisher": _actor(record["_publisher"])}


def _actor(record: Record | None) -> Actor | None:
    return Actor.from_record(record) if record else None


def _parse_datetime(value: Any) -> dt.datetime | None:
    return None if value is None else _datetime(str(value))


@lru_cache(maxsize=8192)
def _datetime(text: str) -> dt.datetime:
    """A stored timestamp, parsed once per process (0.85 µs each): dates repeat (a report's, on all its claims), and a
    datetime is immutable."""
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _enum(kind: type[E]) -> Callable[[str], E]:
    """``kind(value)``, through a dict of its members: 50 ns where Enum's own lookup takes 320."""
    members: dict[str, E] = {member.value: member for member in kind}
    return lambda value: members.get(value) or kind(value)


_actor_kind, _report_kind = _enum(vocabulary.ActorKind), _enum(vocabulary.ReportKind)
_event_status, _modality = _enum(vocabulary.EventStatus), _enum(vocabulary.Modality)


# -- stored fields ----------------------------------------------------------------------------------
# The one mapping from a stored node to the scalars of its GraphQL type: each field's stored property, the
# Python attribute of the Strawberry type, and how the value is read from the record (defaults included).
# from_record builds objects with it; the compiler (service.api.compiler) reads its projections with it;
# the look-ahead (READS) knows from it which properties a selection reads.


@dataclass(frozen=True)
class StoredField:
    graphql: str  # the GraphQL field
    attribute: str  # the Strawberry type's attribute
    property: str  # the stored property it reads
    read: Callable[[Record], Any]  # the value, as the type holds it, from a record


def _field(graphql: str, read: Callable[[Record], Any], property: str | None = None) -> StoredField:
    return StoredField(graphql, re.sub(r"(?<!^)(?=[A-Z])", "_", graphql).lower(), property or graphql, read)


def _plain(name: str) -> StoredField:
    return _field(name, lambda r: r.get(name))


STORED_FIELDS: dict[str, tuple[StoredField, ...]] = {
    "Actor": (
        _field("name", lambda r: r.get("name") or r["id"]),
        _field("kind", lambda r: _actor_kind(r.get("kind") or "other")),
        _field("aliases", lambda r: list(r.get("aliases") or [])),
        _plain("description"),
        _field("anonymous", lambda r: bool(r.get("anonymous"))),
        _plain("descriptor"),
        _plain("background"),
    ),
    "Claim": (
        _field("text", lambda r: r.get("text") or ""),
        _plain("quote"),
        _field("evidence", lambda r: list(r.get("evidence") or [])),
        _field("modality", lambda r: _modality(r.get("modality") or "asserted")),
        _field("retracted", lambda r: bool(r.get("retracted"))),
        _plain("proposition"),
        _field("firstReportedAt", lambda r: _parse_datetime(r.get("firstReportedAt"))),
    ),
    "Report": (
        _plain("title"),
        _plain("url"),
        _field("publishedAt", lambda r: _parse_datetime(r.get("publishedAt"))),
        _field("kind", lambda r: _report_kind(r.get("kind") or "other")),
    ),
    "Event": (
        _field("name", lambda r: r.get("name") or r["id"]),
        _field("kind", lambda r: r.get("kind") or ""),
        _field("startDate", lambda r: r.get("startDate")),
        _field("endDate", lambda r: r.get("endDate")),
        _plain("place"),
        _field("status", lambda r: _event_status(r.get("status") or "occurred")),
        _plain("description"),
        _plain("background"),
    ),
}


def stored_values(type_name: str, record: Record) -> dict[str, Any]:
    """The stored scalars of a ``type_name`` object, by attribute, from its record."""
    return {field.attribute: field.read(record) for field in STORED_FIELDS[type_name]}


# The property each stored field of a page's nodes reads (see KEYED above for the fields that read none).
READS: dict[str, dict[str, str]] = {
    type_name: {f.graphql: f.property for f in STORED_FIELDS[type_name]} for type_name in PROPERTIES
}
