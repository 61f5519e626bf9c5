"""Input types of the write mutations. They mirror the seed format field for field,
and are validated by the same pydantic models as seed files."""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry
from pydantic import BaseModel, ValidationError

from service.api.types import ActorKind, EventStatus, Modality, ReportKind
from service.errors import BadUserInput

M = TypeVar("M", bound=BaseModel)


@strawberry.input(description="An affiliation of the actor with another actor, by slug.")
class AffiliationInput:
    actor: str
    role: str | None = None
    since: str | None = None
    until: str | None = None


@strawberry.input(description="An actor, keyed by its slug; upserting replaces what it says.")
class ActorInput:
    id: str = strawberry.field(description="Slug: lower-case letters, digits, . _ : -")
    name: str
    kind: ActorKind  # type: ignore[valid-type]
    aliases: list[str] = strawberry.field(default_factory=list)
    description: str | None = None
    anonymous: bool = False
    descriptor: str | None = None
    affiliations: list[AffiliationInput] = strawberry.field(default_factory=list)


@strawberry.input
class ReportInput:
    id: str
    title: str
    url: str | None = None
    published_at: str | None = strawberry.field(default=None, description="ISO date or date-time.")
    kind: ReportKind = ReportKind.ARTICLE  # type: ignore[valid-type]
    publisher: str | None = None
    authors: list[str] = strawberry.field(default_factory=list)
    cites: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class ParticipantInput:
    actor: str
    role: str


@strawberry.input
class EventInput:
    id: str
    name: str
    kind: str
    start_date: str | None = None
    end_date: str | None = None
    place: str | None = None
    status: EventStatus = EventStatus.OCCURRED  # type: ignore[valid-type]
    description: str | None = None
    participants: list[ParticipantInput] = strawberry.field(default_factory=list)


@strawberry.input
class ClaimInput:
    id: str
    text: str
    quote: str | None = None
    modality: Modality = Modality.ASSERTED  # type: ignore[valid-type]
    source: str
    proposition: str | None = None
    about: list[str] = strawberry.field(default_factory=list)
    about_events: list[str] = strawberry.field(default_factory=list)
    reported_in: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="A relation between two actors, by slug, with the claims that evidence it.")
class RelationInput:
    id: str
    kind: str
    source: str = strawberry.field(name="from")
    target: str = strawberry.field(name="to")
    since: str | None = None
    until: str | None = None
    evidence: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="One report with everything it says: the seed format as GraphQL input.")
class IngestReportInput:
    report: ReportInput
    actors: list[ActorInput] = strawberry.field(default_factory=list)
    events: list[EventInput] = strawberry.field(default_factory=list)
    claims: list[ClaimInput] = strawberry.field(default_factory=list)
    relations: list[RelationInput] = strawberry.field(default_factory=list)
    carried_claims: list[str] = strawberry.field(default_factory=list)


def validated(model: type[M], given: Any, argument: str = "input") -> M:
    """The input checked by the seed model; BAD_USER_INPUT listing every problem otherwise."""
    try:
        return model.model_validate(strawberry.asdict(given))
    except ValidationError as error:
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in error.errors()]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        raise BadUserInput(f"invalid {argument}: {summary}", argument=argument, problems=problems) from error
