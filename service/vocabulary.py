"""The domain's words: the kinds of actors and reports, how a claim is put, an event's status, and the shapes
of ids, names, texts and dates. The seed format (service.ingest) and the API (service.api) both speak them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._:-]{0,127}$")]
# Whitespace around a text or name is dropped; the pattern (a character that is not a space) says in the JSON Schema
# what stripping then checking the length says here: all blank is empty.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000, pattern=r"\S")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=r"\S")]
# A date as precise as the source is: "2021", "2021-08" or "2021-08-15".
PartialDate = Annotated[str, StringConstraints(pattern=r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")]


class ActorKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    STATE = "state"
    GOVERNMENT = "government"
    ARMED_GROUP = "armed_group"
    MEDIA_OUTLET = "media_outlet"
    OTHER = "other"


class Modality(StrEnum):
    ASSERTED = "asserted"
    ALLEGED = "alleged"
    SPECULATED = "speculated"
    DENIED = "denied"


class EventStatus(StrEnum):
    OCCURRED = "occurred"
    PLANNED = "planned"
    RUMOURED = "rumoured"


class ReportKind(StrEnum):
    ARTICLE = "article"
    BROADCAST = "broadcast"
    OTHER = "other"
