"""Repository functions for claims. Each is one Cypher round trip, whatever the row count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, LiteralString

from service.graph.driver import Database, Record
from service.graph.paging import Direction, Page, fetch_pages, page_query

# Each condition a list of claims can be filtered on, by the parameter it reads.
# A query holds only the conditions a request sets: a condition left out costs
# nothing, where one written as "$x IS NULL OR ..." was still evaluated on
# every row (a sixth of the headline query's time on a popular actor).
CONDITIONS: dict[str, LiteralString] = {
    "excludeRetracted": "(n.retracted IS NULL OR n.retracted = false)",
    "anonymous": "n.sourceAnonymous = $anonymous",
    "modality": "n.modality IN $modality",
    "since": "substring(n.firstReportedAt, 0, size($since)) >= $since",
    "until": "substring(n.firstReportedAt, 0, size($until)) <= $until",
    "about": "EXISTS { (n)-[:ABOUT]->(:Actor {id: $about}) }",
    "attributedTo": "EXISTS { (n)-[:ATTRIBUTED_TO]->(:Actor {id: $attributedTo}) }",
    "reportedIn": "EXISTS { (n)-[:REPORTED_IN]->(:Report {id: $reportedIn}) }",
}


@dataclass(frozen=True)
class ClaimFilter:
    """Conditions on claims; None means "any". Dates compare at the precision given."""

    about: str | None = None
    attributed_to: str | None = None
    anonymous: bool | None = None
    modality: tuple[str, ...] | None = None
    reported_in: str | None = None
    since: str | None = None
    until: str | None = None
    include_retracted: bool = False

    def params(self) -> dict[str, Any]:
        """The parameters of the conditions set, by name (a key of CONDITIONS)."""
        params = {
            "excludeRetracted": True if not self.include_retracted else None,
            "about": self.about,
            "attributedTo": self.attributed_to,
            "anonymous": self.anonymous,
            "modality": list(self.modality) if self.modality is not None else None,
            "reportedIn": self.reported_in,
            "since": self.since,
            "until": self.until,
        }
        return {name: value for name, value in params.items() if value is not None}


class ClaimOrder(Enum):
    """Sort orders: (sort key expression, direction)."""

    ID = ("''", Direction.ASC)
    FIRST_REPORTED_ASC = ("n.firstReportedAt", Direction.ASC)
    FIRST_REPORTED_DESC = ("n.firstReportedAt", Direction.DESC)


# Where each list of claims starts: (parent match, pattern binding n).
ANCHORS: dict[str, tuple[LiteralString, LiteralString]] = {
    "root": ("", "(n:Claim)"),
    "about_actor": ("MATCH (p:Actor {id: parentId})", "(p)<-[:ABOUT]-(n:Claim)"),
    "made_by_actor": ("MATCH (p:Actor {id: parentId})", "(p)<-[:ATTRIBUTED_TO]-(n:Claim)"),
    "in_report": ("MATCH (p:Report {id: parentId})", "(p)<-[:REPORTED_IN]-(n:Claim)"),
    "about_event": ("MATCH (p:Event {id: parentId})", "(p)<-[:ABOUT]-(n:Claim)"),
}


# What a page of claims can bring back with each row, in the same statement, instead of a round trip
# per field after it: the row's node gains the key named (a name no stored property has). Reports are
# ordered as REPORTS_OF_CLAIMS orders them.
_REPORTS: LiteralString = (
    "MATCH (n)-[:REPORTED_IN]->(r:Report) WITH r ORDER BY r.publishedAt IS NULL, r.publishedAt, r.id"
)

# The stored properties a row can bring of each kind of node, by name, as map projection items. `id` always
# comes. Names only ever come from here, never from a request.
PROPERTIES: dict[str, dict[str, LiteralString]] = {
    "Claim": {
        "text": ".text",
        "quote": ".quote",
        "modality": ".modality",
        "retracted": ".retracted",
        "proposition": ".proposition",
        "firstReportedAt": ".firstReportedAt",
        "evidence": ".evidence",
    },
    "Actor": {
        "name": ".name",
        "kind": ".kind",
        "aliases": ".aliases",
        "description": ".description",
        "anonymous": ".anonymous",
        "descriptor": ".descriptor",
        "background": ".background",
    },
    "Report": {"title": ".title", "url": ".url", "publishedAt": ".publishedAt", "kind": ".kind"},
}


@dataclass(frozen=True)
class RowShape:
    """What each row of a page of claims brings: the names in ``brings`` (``source``, and ``reports`` or
    ``reports.publisher``: the reports with each one's publisher), and of the claim and each node brought,
    the properties named (keys of PROPERTIES; None: every stored property)."""

    brings: frozenset[str] = frozenset()
    claim: frozenset[str] | None = None
    source: frozenset[str] | None = None
    reports: frozenset[str] | None = None
    publisher: frozenset[str] | None = None


def claim_projection(shape: RowShape) -> LiteralString:
    """The map projection of a row of ``shape``, its claim bound to ``n``."""
    items = _items("Claim", shape.claim)
    if "source" in shape.brings:
        source = _map("s", "Actor", shape.source, [])
        items.append("_source: COLLECT { MATCH (n)-[:ATTRIBUTED_TO]->(s:Actor) RETURN " + source + " }[0]")
    if "reports" in shape.brings or "reports.publisher" in shape.brings:
        extra: list[LiteralString] = []
        if "reports.publisher" in shape.brings:
            publisher = _map("a", "Actor", shape.publisher, [])
            extra.append("_publisher: COLLECT { MATCH (r)-[:PUBLISHED_BY]->(a:Actor) RETURN " + publisher + " }[0]")
        items.append("_reports: COLLECT { " + _REPORTS + " RETURN " + _map("r", "Report", shape.reports, extra) + " }")
    return "n {" + ", ".join(items) + "}"


def _items(label: str, properties: frozenset[str] | None) -> list[LiteralString]:
    if properties is None:
        return [".*"]
    known = PROPERTIES[label]
    return [".id", *(known[name] for name in sorted(properties))]


def _map(
    variable: LiteralString, label: str, properties: frozenset[str] | None, extra: list[LiteralString]
) -> LiteralString:
    return variable + " {" + ", ".join(_items(label, properties) + extra) + "}"


# -- an actor's standing claims, from the index about_actor_claims -------------------------------------------
#
# A popular actor is the subject of a quarter of a million claims. Walking them all to count those with an
# anonymous source and keep the first 20 by id cost 250 ms; the index (schema/002_indexes.cypher) holds each
# ABOUT link to an actor under (actor id, source anonymous, claim id), the claim id only while the claim is
# not retracted. A page is then a seek that stops after it, per anonymity asked for.
#
# The count is not read from that index: counting its entries took 45 ms for an actor with 74,000 anonymous
# claims, and grew with them. Each ABOUT link from a standing claim to an actor has a twin, of a type that
# says the source's anonymity (STANDING_TYPES), kept by the same writes that keep the link's keys. The count is
# then the actor's degree in those types, which Neo4j keeps itself: one read, whatever the number of claims
# (1.6 ms for the same actor, round trip included).

# The twin of an ABOUT link to an actor while its claim stands, by the anonymity of the claim's source.
STANDING_TYPES: dict[bool, LiteralString] = {True: "ANONYMOUS_CLAIM_ABOUT", False: "NAMED_CLAIM_ABOUT"}
# Both, as a relationship pattern's type: ``-[:ANONYMOUS_CLAIM_ABOUT|NAMED_CLAIM_ABOUT]->``.
STANDING_LINK_TYPES: LiteralString = STANDING_TYPES[True] + "|" + STANDING_TYPES[False]


def about_keys(*, claim: LiteralString, link: LiteralString, actor: LiteralString) -> LiteralString:
    """The SET clause every write that makes or moves an ABOUT link from ``claim`` to ``actor`` (variable
    names) ends with, keeping the link's index keys. A write that changes the claim's anonymity or
    retraction sets the one key that moved."""
    return (
        "SET " + link + ".actorId = " + actor + ".id, " + link + ".sourceAnonymous = " + claim + ".sourceAnonymous, "
        + link + ".liveClaimId = CASE WHEN " + claim + ".retracted THEN null ELSE " + claim + ".id END"
    )  # fmt: skip


def standing_twin(*, claim: LiteralString, link: LiteralString, actor: LiteralString, fresh: bool) -> LiteralString:
    """The clauses that follow ``about_keys`` (same variable names): they give the ABOUT link ``link`` the twin
    its keys call for (STANDING_TYPES), none once the claim is retracted.

    ``fresh``: the link was just created with its claim, so there is no earlier twin, and the twin is
    CREATEd. Otherwise the right twin is MERGEd first, which locks both ends, so that two writers (two
    processes running the migration at once) cannot both add one; then any twin of the wrong type, or any
    at all for a link that no longer stands, is deleted."""
    verb = "CREATE" if fresh else "MERGE"
    made = "".join(
        " FOREACH (_ IN CASE WHEN " + link + ".liveClaimId IS NOT NULL AND " + link + ".sourceAnonymous = "
        + ("true" if anonymous else "false") + " THEN [1] ELSE [] END | " + verb + " (" + claim + ")-[:" + twin
        + "]->(" + actor + "))"
        for anonymous, twin in STANDING_TYPES.items()
    )  # fmt: skip
    if fresh:
        return made
    return (
        made + " WITH * CALL (" + claim + ", " + actor + ", " + link + ") { MATCH (" + claim + ")-[old:"
        + STANDING_LINK_TYPES + "]->(" + actor + ") WHERE " + link + ".liveClaimId IS NULL OR "
        + link + ".sourceAnonymous IS NULL OR type(old) <> CASE WHEN " + link + ".sourceAnonymous THEN '"
        + STANDING_TYPES[True] + "' ELSE '" + STANDING_TYPES[False] + "' END DELETE old }"
    )  # fmt: skip


def standing_count(actor: LiteralString, anonymities: LiteralString) -> LiteralString:
    """An expression: how many standing claims about the actor node ``actor`` have a source of one of the
    ``anonymities`` (an expression for a list of booleans): its degree in their twins' types, which Neo4j
    reads without visiting a claim."""
    return " + ".join(
        "CASE WHEN " + ("true" if a else "false") + " IN " + anonymities + " THEN COUNT { (" + actor + ")<-[:"
        + twin + "]-() } ELSE 0 END"
        for a, twin in STANDING_TYPES.items()
    )  # fmt: skip


# Where a claim ``c`` takes the anonymity ``anonymous`` of its source (a new source, or the source's own
# anonymity written), when that moved: on the claim, and on its ABOUT links to actors, whose index key it is,
# with their twins.
MOVE_SOURCE_ANONYMITY: LiteralString = (
    """
WHERE c.sourceAnonymous IS NULL OR c.sourceAnonymous <> anonymous
SET c.sourceAnonymous = anonymous
WITH c
MATCH (c)-[r:ABOUT]->(subject:Actor)
SET r.sourceAnonymous = c.sourceAnonymous"""
    + standing_twin(claim="c", link="r", actor="subject", fresh=False)
    + "\n"
)


# The conditions the index answers: not retracted, and optionally the source's anonymity.
INDEXED_CONDITIONS = frozenset({"excludeRetracted", "anonymous"})


def indexed(anchor: str, order: ClaimOrder, conditions: frozenset[str]) -> bool:
    """Whether a list is an actor's standing claims in id order, filtered at most on anonymity."""
    return (
        anchor == "about_actor"
        and order is ClaimOrder.ID
        and "excludeRetracted" in conditions
        and conditions <= INDEXED_CONDITIONS
    )


def _indexed_page_query(shape: RowShape, with_total: bool) -> LiteralString:
    """The page query of ``indexed`` lists: ``$anonymities`` is ``[true]``, ``[false]`` or both, and each is
    a seek in id order from ``$afterId`` that stops at the page's end. The seeks are hinted: on a small
    graph the planner otherwise chose to scan the whole index, which on a large one reads every entry
    before the actor's. The total is the actor's degree in the twins' types (``standing_count``); without
    ``with_total`` no count is made at all."""
    total: LiteralString = "0 AS total"
    count: LiteralString = ""
    if with_total:
        total = "total"
        count = (
            """
CALL (parentId) {
  OPTIONAL MATCH (p:Actor {id: parentId})
  RETURN coalesce("""
            + standing_count("p", "$anonymities")
            + """, 0) AS total
}"""
        )
    return (
        """
UNWIND $parentIds AS parentId
CALL (parentId) {
  UNWIND $anonymities AS anonymous
  CALL (parentId, anonymous) {
    MATCH (n:Claim)-[r:ABOUT]->()
    USING INDEX SEEK r:ABOUT(actorId, sourceAnonymous, liveClaimId)
    WHERE r.actorId = parentId AND r.sourceAnonymous = anonymous AND r.liveClaimId > $afterId
    WITH n, r ORDER BY r.actorId, r.sourceAnonymous, r.liveClaimId LIMIT $limit
    RETURN n
  }
  WITH n ORDER BY n.id LIMIT $limit
  RETURN collect({k: '', node: """
        + claim_projection(shape)
        + """}) AS rows
}"""
        + count
        + """
RETURN parentId, """
        + total
        + """, rows
"""
    )


@cache
def claim_page_query(
    anchor: str,
    order: ClaimOrder,
    conditions: frozenset[str],
    shape: RowShape = RowShape(),
    with_total: bool = True,
) -> LiteralString:
    """The page query of one anchor and order, holding the conditions named (keys of CONDITIONS), its rows
    of the ``shape`` given."""
    if indexed(anchor, order, conditions):
        return _indexed_page_query(shape, with_total)
    parent, pattern = ANCHORS[anchor]
    filter = " AND ".join([CONDITIONS[name] for name in CONDITIONS if name in conditions] or ["true"])
    return page_query(
        parent=parent,
        pattern=pattern,
        filter=filter,
        sort_key=order.value[0],
        direction=order.value[1],
        projection=claim_projection(shape),
    )


async def claim_pages(
    db: Database,
    anchor: str,
    parent_ids: Sequence[str],
    *,
    where: ClaimFilter,
    order: ClaimOrder,
    first: int,
    after: list[str] | None,
    with_total: bool = True,
    shape: RowShape = RowShape(),
) -> dict[str, Page]:
    """A page of claims for each parent (an actor, report or event; ``""`` for the root list), its rows of
    the ``shape`` given."""
    params = where.params()
    conditions = frozenset(params)
    if indexed(anchor, order, conditions):
        params["anonymities"] = [where.anonymous] if where.anonymous is not None else [False, True]
        params["afterId"] = after[1] if after else ""  # ids are never empty
    return await fetch_pages(
        db,
        claim_page_query(anchor, order, conditions, shape, with_total),
        parent_ids,
        first=first,
        after=after,
        direction=order.value[1],
        params=params,
        with_total=with_total,
    )


CLAIMS_BY_IDS: LiteralString = """
UNWIND $ids AS id
MATCH (c:Claim {id: id})
RETURN collect(c {.*}) AS rows
"""

SOURCES_OF_CLAIMS: LiteralString = """
UNWIND $claimIds AS claimId
MATCH (:Claim {id: claimId})-[:ATTRIBUTED_TO]->(s:Actor)
RETURN collect({claimId: claimId, source: s {.*}}) AS rows
"""

SUBJECTS_OF_CLAIMS: LiteralString = """
UNWIND $claimIds AS claimId
MATCH (:Claim {id: claimId})-[:ABOUT]->(x)
WITH claimId, x ORDER BY x.name, x.id
WITH claimId, collect(x) AS xs
RETURN collect({claimId: claimId,
                actors: [v IN xs WHERE v:Actor | v {.*}],
                events: [v IN xs WHERE v:Event | v {.*}]}) AS rows
"""

# For each report that carried the claim, the longest chain of citations
# through reports that carried it too (a cycle of citations cannot loop: a
# path repeats no relationship, and its length is bounded).
PROVENANCE_OF_CLAIMS: LiteralString = """
UNWIND $claimIds AS claimId
MATCH (c:Claim {id: claimId})-[:REPORTED_IN]->(start:Report)
CALL (c, start) {
  MATCH path = (start)-[:CITES]->{0,12}(:Report)
  WITH path, nodes(path) AS ns
  WHERE all(r IN ns WHERE (c)-[:REPORTED_IN]->(r))
    AND all(i IN range(0, size(ns) - 1) WHERE NOT ns[i] IN ns[i + 1..])
  RETURN ns ORDER BY size(ns) DESC LIMIT 1
}
WITH claimId, start, [r IN ns | r {.*}] AS chain
ORDER BY size(chain) DESC, start.publishedAt, start.id
WITH claimId, collect(chain) AS chains
RETURN collect({claimId: claimId, chains: chains}) AS rows
"""

# Claims stating the same proposition (the claim alone when it has none).
# Independent sources are distinct actors, so reports relaying one anonymous
# source count it once.
CORROBORATION_OF_CLAIMS: LiteralString = """
UNWIND $claimIds AS claimId
MATCH (c:Claim {id: claimId})
CALL (c) {
  OPTIONAL MATCH (other:Claim {proposition: c.proposition})
  WHERE other.retracted IS NULL OR other.retracted = false
  WITH c, collect(other) AS others
  RETURN CASE WHEN size(others) = 0 THEN [c] ELSE others END AS group
}
CALL (group) {
  UNWIND group AS g
  MATCH (g)-[:ATTRIBUTED_TO]->(s:Actor)
  RETURN collect(DISTINCT CASE WHEN g.modality <> 'denied' THEN s {.*} END) AS sources,
         collect(DISTINCT CASE WHEN g.modality = 'denied' THEN s {.*} END) AS deniedBy
}
CALL (group) {
  UNWIND group AS g
  OPTIONAL MATCH (g)-[:REPORTED_IN]->(r:Report)
  RETURN count(DISTINCT r) AS reports
}
RETURN collect({claimId: claimId, claims: size(group), sources: sources, deniedBy: deniedBy, reports: reports}) AS rows
"""


async def claims_by_ids(db: Database, ids: Sequence[str]) -> dict[str, Record]:
    rows = await db.read_rows(CLAIMS_BY_IDS, {"ids": list(ids)})
    return {r["id"]: r for r in rows}


async def sources_of_claims(db: Database, claim_ids: Sequence[str]) -> dict[str, Record]:
    """The actor each claim is attributed to, keyed by claim id."""
    records = await db.read_rows(SOURCES_OF_CLAIMS, {"claimIds": list(claim_ids)})
    return {r["claimId"]: r["source"] for r in records}


async def subjects_of_claims(db: Database, claim_ids: Sequence[str]) -> dict[str, Record]:
    """The actors and events each claim is about: {claimId: {"actors": [...], "events": [...]}}."""
    records = await db.read_rows(SUBJECTS_OF_CLAIMS, {"claimIds": list(claim_ids)})
    return {r["claimId"]: {"actors": r["actors"], "events": r["events"]} for r in records}


async def provenance_of_claims(db: Database, claim_ids: Sequence[str]) -> dict[str, list[list[Record]]]:
    """Per claim, one chain of reports per carrying report, longest first."""
    records = await db.read_rows(PROVENANCE_OF_CLAIMS, {"claimIds": list(claim_ids)})
    return {r["claimId"]: r["chains"] for r in records}


async def corroboration_of_claims(db: Database, claim_ids: Sequence[str]) -> dict[str, Record]:
    """Per claim: how many claims state the same, by which sources, carried by how many reports."""
    records = await db.read_rows(CORROBORATION_OF_CLAIMS, {"claimIds": list(claim_ids)})
    return {r["claimId"]: r for r in records}
