"""The seed document: one report with its actors, events, claims and relations.

The same models validate seed files and (later) the ``ingestReport`` mutation,
so a file that loads and a mutation that succeeds mean the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from service.vocabulary import ActorKind, EventStatus, Id, Modality, Name, PartialDate, ReportKind, Text

# -- dates ---------------------------------------------------------------------------
#
# JSON has no dates, so a JSON Lines record spells them as strings; YAML reads an unquoted 2024-03-12 as a date
# (and 2024-03-12T10:00:00Z as a date-time). Both are accepted, as the same ISO text. A bare year is read by YAML
# as a number: that gets a hint rather than "should be a valid string".

_YEAR = r"(?:\d{3}[1-9]|\d{2}[1-9]\d|\d[1-9]\d{2}|[1-9]\d{3})"
# A calendar date, 0001-01-01 to 9999-12-31, leap years included: exactly what datetime.date.fromisoformat takes.
_CALENDAR_DATE = (
    r"(?:" + _YEAR + r"-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
    r"|02-(?:0[1-9]|1\d|2[0-8]))|\d{2}(?:0[48]|[2468][048]|[13579][26])-02-29"
    r"|(?:[02468][48]|[13579][26]|[2468]0)00-02-29)"
)
_TIME = r"T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?"
# publishedAt as JSON spells it; the JSON Schema publishes this same pattern.
ISO_INSTANT = r"^" + _CALENDAR_DATE + r"(?:" + _TIME + r")?$"
_ISO_INSTANT = re.compile(ISO_INSTANT)
_INSTANT_EXPECTED = "should be an ISO date (2024-03-12) or date-time (2024-03-12T10:00:00Z)"


def _instant(value: object) -> dt.date | dt.datetime:
    if isinstance(value, dt.date):  # a date or date-time YAML read
        return value
    if isinstance(value, str) and _ISO_INSTANT.match(value):
        return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError("iso_instant", _INSTANT_EXPECTED + ", not a number")
    raise PydanticCustomError("iso_instant", _INSTANT_EXPECTED)


def _partial_date(value: object) -> object:
    if isinstance(value, dt.datetime):
        raise PydanticCustomError(
            "partial_date", "should be a date as precise as the source (2021, 2021-08 or 2021-08-15), not a date-time"
        )
    if isinstance(value, dt.date):  # YAML read an unquoted 2021-08-15 as a date
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10_000:
        raise PydanticCustomError(
            "partial_date",
            'a year alone must be quoted, as text: "{year}" (YAML reads it as a number)',
            {"year": value},
        )
    return value


# A date-time, or a date (kept as a date: "2024-03-12" is stored so, not as midnight).
Instant = Annotated[
    dt.datetime | dt.date,
    BeforeValidator(_instant),
    WithJsonSchema({"type": "string", "pattern": ISO_INSTANT, "description": "An ISO date or date-time."}),
]
Date = Annotated[PartialDate, BeforeValidator(_partial_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


BACKGROUND = (
    "What this entry states that its report does not (a date, a name, a description) and where that comes "
    "from; absent when everything in it rests on the report."
)


class AffiliationIn(_Strict):
    actor: Id = Field(description="The actor this one is affiliated with.")
    role: Name | None = None
    since: Date | None = None
    until: Date | None = None


# The one rule between fields of a node, in the JSON Schema too.
def _anonymous_needs_descriptor(schema: dict[str, Any]) -> None:
    schema["if"] = {"properties": {"anonymous": {"const": True}}, "required": ["anonymous"]}
    schema["then"] = {"required": ["descriptor"], "properties": {"descriptor": {"type": "string"}}}


class ActorIn(_Strict):
    model_config = ConfigDict(json_schema_extra=_anonymous_needs_descriptor)

    id: Id
    name: Name = Field(description="Canonical name; for an anonymous source, a short label.")
    kind: ActorKind
    aliases: list[Name] = Field(default_factory=list, description="Every other name the sources use.")
    description: Text | None = None
    anonymous: StrictBool = False
    descriptor: Text | None = Field(default=None, description="How the sources describe an unnamed source.")
    affiliations: list[AffiliationIn] = Field(default_factory=list)
    background: Text | None = Field(default=None, description=BACKGROUND)

    @model_validator(mode="after")
    def _anonymous_needs_descriptor(self) -> ActorIn:
        if self.anonymous and not self.descriptor:
            raise PydanticCustomError(
                "anonymous_descriptor", "an anonymous actor needs a descriptor saying how the sources describe it"
            )
        return self


class ReportIn(_Strict):
    id: Id
    title: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    published_at: Instant | None = Field(default=None, alias="publishedAt")
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
    start_date: Date | None = Field(default=None, alias="startDate")
    end_date: Date | None = Field(default=None, alias="endDate")
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
    since: Date | None = None
    until: Date | None = None
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
                raise PydanticCustomError(
                    "repeated_ids",
                    "{label} ids repeated in one document: {ids}",
                    {"label": label, "ids": ", ".join(duplicates)},
                )
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
        "repeated in a document, ids defined again elsewhere with other content, and references defined nowhere.",
    }
