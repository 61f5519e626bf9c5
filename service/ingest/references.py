"""References between documents by id: what a document names, what is defined, what is missing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import LiteralString

from service.graph.driver import Database
from service.ingest.models import SeedDocument


@dataclass
class Ids:
    """Ids by kind."""

    actors: set[str] = field(default_factory=set)
    reports: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    claims: set[str] = field(default_factory=set)

    def add(self, other: Ids) -> None:
        self.actors |= other.actors
        self.reports |= other.reports
        self.events |= other.events
        self.claims |= other.claims

    def minus(self, other: Ids) -> Ids:
        return Ids(
            self.actors - other.actors,
            self.reports - other.reports,
            self.events - other.events,
            self.claims - other.claims,
        )

    def __bool__(self) -> bool:
        return bool(self.actors or self.reports or self.events or self.claims)


def defined_by(documents: Iterable[SeedDocument]) -> Ids:
    ids = Ids()
    for document in documents:
        ids.actors.update(a.id for a in document.actors)
        ids.reports.add(document.report.id)
        ids.events.update(e.id for e in document.events)
        ids.claims.update(c.id for c in document.claims)
    return ids


def referenced_by(document: SeedDocument) -> Ids:
    return Ids(
        actors=document.referenced_actor_ids(),
        reports=set(document.report.cites) | {r for c in document.claims for r in c.reported_in},
        events={e for c in document.claims for e in c.about_events},
        claims={c for r in document.relations for c in r.evidence} | set(document.carried_claims),
    )


EXISTING: LiteralString = """
RETURN [id IN $actors WHERE EXISTS { (:Actor {id: id}) }] AS actors,
       [id IN $reports WHERE EXISTS { (:Report {id: id}) }] AS reports,
       [id IN $events WHERE EXISTS { (:Event {id: id}) }] AS events,
       [id IN $claims WHERE EXISTS { (:Claim {id: id}) }] AS claims
"""


async def existing(db: Database, wanted: Ids) -> Ids:
    """Which of ``wanted`` are already in the database (one round trip)."""
    if not wanted:
        return Ids()
    [record] = await db.read(
        EXISTING,
        {
            "actors": sorted(wanted.actors),
            "reports": sorted(wanted.reports),
            "events": sorted(wanted.events),
            "claims": sorted(wanted.claims),
        },
    )
    return Ids(set(record["actors"]), set(record["reports"]), set(record["events"]), set(record["claims"]))


def dangling_message(kinds: str, key: str) -> str:
    """What is said of an id of ``kinds`` (actors, reports, ...) that nothing defines."""
    return f"{kinds[:-1]} '{key}' is referred to but defined nowhere"


def dangling_messages(document: SeedDocument, known: Ids) -> list[tuple[str, str]]:
    """(field, message) for each id the document refers to that is not in ``known``."""
    missing = referenced_by(document).minus(known)
    messages: list[tuple[str, str]] = []
    for kinds in ("actors", "reports", "events", "claims"):
        messages.extend((kinds, dangling_message(kinds, i)) for i in sorted(getattr(missing, kinds)))
    return messages
