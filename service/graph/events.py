"""Repository functions for events. Each is one Cypher round trip, whatever the row count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, LiteralString

from service.graph.driver import Database, Record
from service.graph.paging import Direction, Page, fetch_pages, page_query

EVENTS_BY_IDS: LiteralString = """
UNWIND $ids AS id
MATCH (e:Event {id: id})
RETURN collect(e {.*}) AS rows
"""

PARTICIPANTS_OF_EVENTS: LiteralString = """
UNWIND $eventIds AS eventId
MATCH (:Event {id: eventId})<-[p:PARTICIPATED_IN]-(a:Actor)
WITH eventId, p, a ORDER BY a.name, p.role
WITH eventId, collect({role: p.role, actor: a {.*}}) AS participants
RETURN collect({eventId: eventId, participants: participants}) AS rows
"""


@dataclass(frozen=True)
class EventFilter:
    kind: str | None = None
    status: str | None = None
    participant: str | None = None
    since: str | None = None
    until: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "participant": self.participant,
            "since": self.since,
            "until": self.until,
        }


class EventOrder(Enum):
    """Events in time order; undated events come last either way."""

    DATE_ASC = ("coalesce(n.startDate, n.endDate)", Direction.ASC)
    DATE_DESC = ("coalesce(n.startDate, n.endDate)", Direction.DESC)


EVENT_FILTER: LiteralString = """
($kind IS NULL OR n.kind = $kind)
AND ($status IS NULL OR n.status = $status)
AND ($participant IS NULL OR EXISTS { (n)<-[:PARTICIPATED_IN]-(:Actor {id: $participant}) })
AND ($since IS NULL OR substring(coalesce(n.endDate, n.startDate), 0, size($since)) >= $since)
AND ($until IS NULL OR substring(coalesce(n.startDate, n.endDate), 0, size($until)) <= $until)
"""

ANCHORS: dict[str, tuple[LiteralString, LiteralString]] = {
    "root": ("", "(n:Event)"),
    "of_actor": ("MATCH (p:Actor {id: parentId})", "(p)-[:PARTICIPATED_IN]->(n:Event)"),
}

EVENT_PAGES: dict[tuple[str, EventOrder], LiteralString] = {
    (anchor, order): page_query(
        parent=parent, pattern=pattern, filter=EVENT_FILTER, sort_key=order.value[0], direction=order.value[1]
    )
    for anchor, (parent, pattern) in ANCHORS.items()
    for order in EventOrder
}


async def events_by_ids(db: Database, ids: Sequence[str]) -> dict[str, Record]:
    rows = await db.read_rows(EVENTS_BY_IDS, {"ids": list(ids)})
    return {r["id"]: r for r in rows}


async def participants_of_events(db: Database, event_ids: Sequence[str]) -> dict[str, list[Record]]:
    """Per event: [{role, actor}], by actor name."""
    records = await db.read_rows(PARTICIPANTS_OF_EVENTS, {"eventIds": list(event_ids)})
    return {r["eventId"]: r["participants"] for r in records}


async def event_pages(
    db: Database,
    anchor: str,
    parent_ids: Sequence[str],
    *,
    where: EventFilter,
    order: EventOrder,
    first: int,
    after: list[str] | None,
    with_total: bool = True,
) -> dict[str, Page]:
    """A page of events per parent (an actor; ``""`` for the root list), in date order."""
    return await fetch_pages(
        db,
        EVENT_PAGES[(anchor, order)],
        parent_ids,
        first=first,
        after=after,
        direction=order.value[1],
        params=where.params(),
        with_total=with_total,
    )
