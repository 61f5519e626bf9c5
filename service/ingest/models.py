"""The seed document: one report with its actors, events, claims and relations.

The same models validate seed files and (later) the ``ingestReport`` mutation,
so a file that loads and a mutation that succeeds mean the same thing.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.vocabulary import ActorKind, EventStatus, Id, Modality, Name, PartialDate, ReportKind, Text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


BACKGROUND = (
    "What this entry states that its report does not (a date, a name, a description) and where that comes "
    "from; absent when everything in it rests on the report."
)


class AffiliationIn(_Strict):
    actor: Id = Field(description="The actor this one is affiliated with.")
    role: Name | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None


class ActorIn(_Strict):
    id: Id
    name: Name = Field(description="Canonical name; for an anonymous source, a short label.")
    kind: ActorKind
    aliases: list[Name] = Field(default_factory=list, description="Every other name the sources use.")
    description: Text | None = None
    anonymous: bool = False
    descriptor: Text | None = Field(default=None, description="How the sources describe an unnamed source.")
    affiliations: list[AffiliationIn] = Field(default_factory=list)
    background: Text | None = Field(default=None, description=BACKGROUND)

    @model_validator(mode="after")
    def _anonymous_needs_descriptor(self) -> ActorIn:
        if self.anonymous and not self.descriptor:
            raise ValueError("an anonymous actor needs a descriptor saying how the sources describe it")
        return self


class ReportIn(_Strict):
    id: Id
    title: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    published_at: dt.datetime | dt.date | None = Field(default=None, alias="publishedAt")
    kind: ReportKind = ReportKind.ARTICLE
    publisher: Id | None = None
    authors: list[Id] = Field(default_factory=list)
    cites: list[Id] = Field(default_factory=list, description="Ids of the reports this one relays or quotes.")


class ParticipantIn(_Strict):
    actor: Id
    role: Name


class EventIn(_Strict):
    id: Id
    name: Name
    kind: Name
    start_date: PartialDate | None = Field(default=None, alias="startDate")
    end_date: PartialDate | None = Field(default=None, alias="endDate")
    place: Name | None = None
    status: EventStatus = EventStatus.OCCURRED
    description: Text | None = None
    participants: list[ParticipantIn] = Field(default_factory=list)
    background: Text | None = Field(default=None, description=BACKGROUND)


class ClaimIn(_Strict):
    id: Id
    text: Text = Field(description="A faithful paraphrase of what was said.")
    quote: Text | None = Field(default=None, description="The verbatim words, where the report gives them.")
    modality: Modality = Modality.ASSERTED
    source: Id = Field(description="The actor the claim is attributed to.")
    proposition: Id | None = Field(
        default=None,
        description="Claims sharing a proposition id state the same thing; corroboration counts their sources.",
    )
    about: list[Id] = Field(default_factory=list, description="Actors the claim is about.")
    about_events: list[Id] = Field(default_factory=list, alias="aboutEvents")
    reported_in: list[Id] = Field(
        default_factory=list,
        alias="reportedIn",
        description="Other reports that carried the claim; the document's own report is implied.",
    )
    evidence: list[Text] = Field(
        default_factory=list,
        description="The words the claim rests on, verbatim from the text of a report that carried it.",
    )


class RelationIn(_Strict):
    id: Id
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,63}$")]
    source: Id = Field(alias="from")
    target: Id = Field(alias="to")
    since: PartialDate | None = None
    until: PartialDate | None = None
    evidence: list[Id] = Field(default_factory=list, description="Ids of the claims that evidence the relation.")
    background: Text | None = Field(default=None, description=BACKGROUND)


class SeedDocument(_Strict):
    """One report and everything it says."""

    report: ReportIn
    actors: list[ActorIn] = Field(default_factory=list)
    events: list[EventIn] = Field(default_factory=list)
    claims: list[ClaimIn] = Field(default_factory=list)
    relations: list[RelationIn] = Field(default_factory=list)
    carried_claims: list[Id] = Field(
        default_factory=list,
        alias="carriedClaims",
        description="Ids of claims defined in other documents that this report carried too.",
    )

    @model_validator(mode="after")
    def _ids_unique_within_document(self) -> SeedDocument:
        for label, items in (
            ("actor", self.actors),
            ("event", self.events),
            ("claim", self.claims),
            ("relation", self.relations),
        ):
            ids = [item.id for item in items]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"{label} ids repeated in one document: {', '.join(duplicates)}")
        return self

    def referenced_actor_ids(self) -> set[str]:
        ids = {a.id for a in self.actors}
        ids.update(f.actor for a in self.actors for f in a.affiliations)
        if self.report.publisher:
            ids.add(self.report.publisher)
        ids.update(self.report.authors)
        ids.update(p.actor for e in self.events for p in e.participants)
        for claim in self.claims:
            ids.add(claim.source)
            ids.update(claim.about)
        for relation in self.relations:
            ids.update((relation.source, relation.target))
        return ids


def seed_json_schema() -> dict[str, Any]:
    """The JSON Schema of one seed document (a YAML document or a JSON Lines record), from the models."""
    schema = SeedDocument.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "description": "One report with its actors, events, claims, relations and citations: one YAML document "
        "or one JSON Lines record of a seed file. References to other documents are by id. Generated from "
        "service/ingest/models.py by `kb schema export`; `kb seed` also checks what a schema cannot: ids "
        "repeated in a document and references defined nowhere.",
    }
