"""Writes validated seed documents to Neo4j, many reports per transaction.

A write plans, then writes, inside one transaction. The plan is one read:
which of the batch's ids are stored, and with what hash (a digest of what
the document says about the entity). Then:

- an entity whose hash has not changed is not touched at all, so loading the
  same documents twice changes nothing, counters included;
- a new entity is CREATEd, and so are its own links, in flat UNWIND
  statements (one per kind of node or link): the fast path a bulk load takes.
  A new claim's links are made in the statement that creates it, from the
  node in hand (one small subquery per kind of link), not found again by id;
- a changed entity (or a placeholder an earlier forward reference made) has
  its own facts replaced (a claim's source and subjects, an actor's names and
  affiliations) through MERGE, which is safe against concurrent writers;
  links other documents contributed (a claim also carried by another report)
  are kept.

Two writers that both plan to create the same id collide on the uniqueness
constraint: the loser's transaction rolls back and is planned again, where it
finds the winner's entity. So concurrent ingests never duplicate anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, LiteralString

from neo4j.exceptions import ConstraintError

from service.graph.claims import MOVE_SOURCE_ANONYMITY, STANDING_LINK_TYPES, about_keys, standing_twin
from service.graph.driver import Database, Run
from service.ingest.models import ActorIn, SeedDocument
from service.observability import WRITE_RETRIES, WRITES

KINDS = ("actors", "reports", "events", "claims", "relations")
NODE_KINDS = ("actors", "reports", "events", "claims")
LABELS: dict[str, LiteralString] = {"actors": "Actor", "reports": "Report", "events": "Event", "claims": "Claim"}
ATTEMPTS = 5  # plans per write, when concurrent writers keep creating the ids it planned to create

Row = dict[str, Any]
State = Literal["new", "fill", "changed", "same"]

# -- the plan -----------------------------------------------------------------

PLAN: LiteralString = """
CALL () { MATCH (n:Actor) WHERE n.id IN $actors RETURN collect([n.id, n.hash]) AS actors }
CALL () { MATCH (n:Report) WHERE n.id IN $reports RETURN collect([n.id, n.hash]) AS reports }
CALL () { MATCH (n:Event) WHERE n.id IN $events RETURN collect([n.id, n.hash]) AS events }
CALL () { MATCH (n:Claim) WHERE n.id IN $claims RETURN collect([n.id, n.hash]) AS claims }
CALL () { MATCH ()-[r:RELATED_TO]->() WHERE r.id IN $relations RETURN collect([r.id, r.hash]) AS relations }
RETURN actors, reports, events, claims, relations
"""

# -- nodes: CREATE when new; SET and drop their own links when changed ----------

_ACTOR_PROPS: LiteralString = """
SET n.name = a.name, n.kind = a.kind, n.aliases = CASE WHEN size(a.aliases) > 0 THEN a.aliases END,
    n.aliasText = reduce(s = '', x IN a.aliases | s + ' ' + x),
    n.description = a.description, n.anonymous = a.anonymous, n.descriptor = a.descriptor,
    n.background = a.background, n.hash = a.hash
"""
_REPORT_PROPS: LiteralString = """
SET n.title = a.title, n.url = a.url, n.publishedAt = a.publishedAt, n.kind = a.kind, n.hash = a.hash
"""
_EVENT_PROPS: LiteralString = """
SET n.name = a.name, n.kind = a.kind, n.startDate = a.startDate, n.endDate = a.endDate,
    n.place = a.place, n.status = a.status, n.description = a.description, n.background = a.background,
    n.hash = a.hash
"""
_CLAIM_PROPS: LiteralString = """
SET n.text = a.text, n.quote = a.quote, n.modality = a.modality, n.proposition = a.proposition,
    n.evidence = CASE WHEN size(a.evidence) > 0 THEN a.evidence END,
    n.retracted = coalesce(n.retracted, false), n.hash = a.hash
"""

CREATE: dict[str, LiteralString] = {
    "actors": "UNWIND $rows AS a CREATE (n:Actor {id: a.id})" + _ACTOR_PROPS,
    "reports": "UNWIND $rows AS a CREATE (n:Report {id: a.id})" + _REPORT_PROPS,
    "events": "UNWIND $rows AS a CREATE (n:Event {id: a.id})" + _EVENT_PROPS,
    # A new claim comes with its own links (ids in the row: ``source``, ``about``, ``aboutEvents``,
    # ``reportedIn``), created from the node in hand rather than each found again by id: a claim is most of
    # a batch's rows, and the seeks of its id were the largest share of a load's time in Neo4j.
    # The source link is made first, so the claim's anonymity is known to the ABOUT links' keys.
    "claims": "UNWIND $rows AS a CREATE (n:Claim {id: a.id})"
    + _CLAIM_PROPS
    + ", n.firstReportedAt = a.first WITH n, a"
    + " CALL (n, a) { UNWIND a.source AS id MATCH (b:Actor {id: id}) CREATE (n)-[:ATTRIBUTED_TO]->(b)"
    + " SET n.sourceAnonymous = coalesce(b.anonymous, false) }"
    + " CALL (n, a) { UNWIND a.about AS id MATCH (b:Actor {id: id}) CREATE (n)-[x:ABOUT]->(b) "
    + about_keys(claim="n", link="x", actor="b")
    + standing_twin(claim="n", link="x", actor="b", fresh=True)
    + " }"
    + " CALL (n, a) { UNWIND a.aboutEvents AS id MATCH (b:Event {id: id}) CREATE (n)-[:ABOUT]->(b) }"
    + " CALL (n, a) { UNWIND a.reportedIn AS id MATCH (b:Report {id: id}) CREATE (n)-[:REPORTED_IN]->(b) }",
}
# The links a new claim's row carries, by link kind.
CLAIM_LINKS = ("source", "about", "aboutEvents")

UPDATE: dict[str, LiteralString] = {
    "actors": "UNWIND $rows AS a MATCH (n:Actor {id: a.id})"
    + _ACTOR_PROPS
    + "WITH n CALL (n) { MATCH (n)<-[old:NAMES]-() DELETE old } "
    + "CALL (n) { MATCH (n)-[old:AFFILIATED_WITH]->() DELETE old }",
    "reports": "UNWIND $rows AS a MATCH (n:Report {id: a.id})"
    + _REPORT_PROPS
    + "WITH n CALL (n) { MATCH (n)-[old:PUBLISHED_BY|AUTHORED_BY|CITES]->() DELETE old }",
    "events": "UNWIND $rows AS a MATCH (n:Event {id: a.id})"
    + _EVENT_PROPS
    + "WITH n CALL (n) { MATCH (n)<-[old:PARTICIPATED_IN]-() DELETE old }",
    "claims": "UNWIND $rows AS a MATCH (n:Claim {id: a.id})"
    + _CLAIM_PROPS
    + "WITH n CALL (n) { MATCH (n)-[old:ATTRIBUTED_TO|ABOUT|"
    + STANDING_LINK_TYPES
    + "]->() DELETE old }",
}

# Ids referred to before they are defined (a later batch defines them).
PLACEHOLDERS: dict[str, LiteralString] = {
    "actors": "UNWIND $rows AS id MERGE (:Actor {id: id})",
    "reports": "UNWIND $rows AS id MERGE (:Report {id: id})",
    "events": "UNWIND $rows AS id MERGE (:Event {id: id})",
    "claims": "UNWIND $rows AS id MERGE (:Claim {id: id})",
}

# -- links: rows are [start id, end id] or [start id, end id, properties] -------

# Whether a claim's source is anonymous is kept on the claim (``sourceAnonymous``),
# like its date: the headline question filters a popular actor's claims on it,
# and a property of the claim is read in the same pass that counts and orders
# them, where following each claim to its source cost twice as much. Set when
# the source link is written (``a`` the claim, ``b`` its source) and again on
# every claim of an actor whose own anonymity was written (SOURCE_ANONYMITY).
SET_SOURCE_ANONYMOUS: LiteralString = " SET a.sourceAnonymous = coalesce(b.anonymous, false)"

Verb = Literal["CREATE", "MERGE"]


def _link(
    verb: LiteralString, start: LiteralString, rel: LiteralString, end: LiteralString, then: LiteralString = ""
) -> LiteralString:
    return (
        "UNWIND $rows AS p MATCH (a:" + start + " {id: p[0]}) MATCH (b:" + end + " {id: p[1]}) "
        + verb + " (a)-[x:" + rel + "]->(b) SET x += coalesce(p[2], {})" + then
    )  # fmt: skip


@dataclass(frozen=True)
class LinkKind:
    owner: str  # whose own fact the link is: replaced when the owner changes
    points_at: str | None  # the kind of node a row's second id names (None: the owner itself)
    statements: dict[Verb, LiteralString]


def _plain(owner: str, start: LiteralString, rel: LiteralString, end: LiteralString) -> LinkKind:
    """A link from the owner (``start``) to a node of label ``end``: [owner id, end id] or [.., .., properties]."""
    points_at = next(kind for kind, label in LABELS.items() if label == end)
    return LinkKind(owner, points_at, {verb: _link(verb, start, rel, end) for verb in ("CREATE", "MERGE")})


LINKS: dict[str, LinkKind] = {
    "affiliated": _plain("actors", "Actor", "AFFILIATED_WITH", "Actor"),
    "published": _plain("reports", "Report", "PUBLISHED_BY", "Actor"),
    "authored": _plain("reports", "Report", "AUTHORED_BY", "Actor"),
    "cites": _plain("reports", "Report", "CITES", "Report"),
    # A claim keeps its source's anonymity (see SOURCE_ANONYMITY).
    "source": LinkKind(
        "claims",
        "actors",
        {verb: _link(verb, "Claim", "ATTRIBUTED_TO", "Actor", SET_SOURCE_ANONYMOUS) for verb in ("CREATE", "MERGE")},
    ),
    # An ABOUT link to an actor carries the keys of the index an actor's claims are paged from (about_keys),
    # and has the twin they are counted by (standing_twin); the source link is written first, so the claim's
    # anonymity is known.
    "about": LinkKind(
        "claims",
        "actors",
        {
            verb: _link(
                verb,
                "Claim",
                "ABOUT",
                "Actor",
                " "
                + about_keys(claim="a", link="x", actor="b")
                + standing_twin(claim="a", link="x", actor="b", fresh=False),
            )
            for verb in ("CREATE", "MERGE")
        },
    ),
    "aboutEvents": _plain("claims", "Claim", "ABOUT", "Event"),
    # [name key, actor id]: one Name node per lower-cased name, shared by the actors going by it.
    "names": LinkKind(
        "actors",
        None,
        {
            "CREATE": "UNWIND $rows AS p MERGE (k:Name {key: p[0]}) WITH k, p "
            "MATCH (n:Actor {id: p[1]}) CREATE (k)-[:NAMES]->(n)",
            "MERGE": "UNWIND $rows AS p MERGE (k:Name {key: p[0]}) WITH k, p "
            "MATCH (n:Actor {id: p[1]}) MERGE (k)-[:NAMES]->(n)",
        },
    ),
    # [event id, actor id, role]: an actor may take part in one event in several roles.
    "participants": LinkKind(
        "events",
        "actors",
        {
            "CREATE": "UNWIND $rows AS p MATCH (e:Event {id: p[0]}) MATCH (a:Actor {id: p[1]}) "
            "CREATE (a)-[:PARTICIPATED_IN {role: p[2]}]->(e)",
            "MERGE": "UNWIND $rows AS p MATCH (e:Event {id: p[0]}) MATCH (a:Actor {id: p[1]}) "
            "MERGE (a)-[:PARTICIPATED_IN {role: p[2]}]->(e)",
        },
    ),
}

# Which reports carried which claims, [claim id, report id]: only ever added,
# so a claim that several documents carried keeps them all.
REPORTED_IN: dict[Verb, LiteralString] = {v: _link(v, "Claim", "REPORTED_IN", "Report") for v in ("CREATE", "MERGE")}

# A claim's date is when it was first reported: kept on the claim so that
# filtering and sorting by it can use an index. Written only when it moves.
# New claims get it from the batch on creation; this is for the others.
DATE_CLAIMS: LiteralString = """
CALL () {
  UNWIND $claimIds AS claimId MATCH (c:Claim {id: claimId}) RETURN c
  UNION
  UNWIND $reportIds AS reportId MATCH (c:Claim)-[:REPORTED_IN]->(:Report {id: reportId}) RETURN c
}
CALL (c) {
  MATCH (c)-[:REPORTED_IN]->(r:Report)
  RETURN min(r.publishedAt) AS first
}
WITH c, first WHERE (c.firstReportedAt IS NULL) <> (first IS NULL) OR c.firstReportedAt <> first
SET c.firstReportedAt = first
"""

# Claims of the actors whose anonymity was written in this batch, and their ABOUT links, kept in step.
SOURCE_ANONYMITY: LiteralString = (
    """
UNWIND $actorIds AS actorId
MATCH (s:Actor {id: actorId})<-[:ATTRIBUTED_TO]-(c:Claim)
WITH c, coalesce(s.anonymous, false) AS anonymous"""
    + MOVE_SOURCE_ANONYMITY
)

# Relations are relationships with ids. A changed one whose ends stay is updated in place: concurrent writers
# of the same relation then queue on its lock, where deleting and creating it again made them deadlock on the
# deletion (each holding the links it wrote before). One whose ends moved is deleted and created again.
WRITE_RELATIONS: LiteralString = """
UNWIND $rows AS x
MATCH (a:Actor {id: x.from})
MATCH (b:Actor {id: x.to})
CALL (x, a, b) {
  MATCH (a)-[kept:RELATED_TO {id: x.id}]->(b)
  RETURN kept AS r
  UNION
  WITH x, a, b WHERE NOT EXISTS { (a)-[:RELATED_TO {id: x.id}]->(b) }
  CALL (x) { MATCH ()-[old:RELATED_TO {id: x.id}]->() DELETE old }
  CREATE (a)-[made:RELATED_TO {id: x.id}]->(b)
  RETURN made AS r
}
SET r.kind = x.kind, r.since = x.since, r.until = x.until,
    r.evidence = CASE WHEN size(x.evidence) > 0 THEN x.evidence END, r.background = x.background, r.hash = x.hash
"""


# -- the batch, as rows ----------------------------------------------------------


@dataclass
class Batch:
    """Documents as statement rows: node rows by kind and id (a later definition wins), links by owner."""

    nodes: dict[str, dict[str, Row]] = field(default_factory=lambda: {kind: {} for kind in NODE_KINDS})
    relations: dict[str, Row] = field(default_factory=dict)
    # link kind -> owner id -> rows
    links: dict[str, dict[str, list[list[Any]]]] = field(default_factory=lambda: {kind: {} for kind in LINKS})
    # (claim, report) -> the report whose document says so
    carried: dict[tuple[str, str], str] = field(default_factory=dict)

    def referenced(self) -> dict[str, set[str]]:
        """Ids by kind that the rows point at, defined here or not."""
        ids: dict[str, set[str]] = {kind: set() for kind in NODE_KINDS}
        for name, link in LINKS.items():
            if link.points_at is not None:
                for rows in self.links[name].values():
                    ids[link.points_at].update(row[1] for row in rows)
        for claim, report in self.carried:
            ids["claims"].add(claim)
            ids["reports"].add(report)
        for relation in self.relations.values():
            ids["actors"].update((relation["from"], relation["to"]))
            ids["claims"].update(relation["evidence"])
        return ids


def _digest(value: Any) -> str:
    return hashlib.blake2b(json.dumps(value, sort_keys=True).encode(), digest_size=12).hexdigest()


def _add_actor(batch: Batch, actor: Row) -> None:
    key = actor["id"]
    names = sorted({label.lower() for label in [actor["name"], *actor["aliases"]]})
    affiliations = [
        [key, f["actor"], {"role": f["role"], "since": f["since"], "until": f["until"]}] for f in actor["affiliations"]
    ]
    batch.nodes["actors"][key] = {
        "id": key,
        "name": actor["name"],
        "kind": actor["kind"],
        "aliases": actor["aliases"],
        "description": actor["description"],
        "anonymous": actor["anonymous"],
        "descriptor": actor["descriptor"],
        "background": actor["background"],
        "hash": _digest(actor),
    }
    batch.links["names"][key] = [[name, key] for name in names]
    batch.links["affiliated"][key] = affiliations


def batch_of(documents: Iterable[SeedDocument]) -> Batch:
    """The documents as rows for the batch statements."""
    batch = Batch()
    for document in documents:
        data = document.model_dump(mode="json", by_alias=True)
        report, report_id = data["report"], data["report"]["id"]
        carried: set[tuple[str, str]] = set()
        for actor in data["actors"]:
            _add_actor(batch, actor)
        for event in data["events"]:
            participants = event.pop("participants")
            batch.nodes["events"][event["id"]] = {**event, "hash": _digest([event, participants])}
            batch.links["participants"][event["id"]] = [[event["id"], p["actor"], p["role"]] for p in participants]
        for claim in data["claims"]:
            key = claim["id"]
            carried.update((key, r) for r in [report_id, *claim.pop("reportedIn")])
            batch.nodes["claims"][key] = {
                "id": key,
                "text": claim["text"],
                "quote": claim["quote"],
                "modality": claim["modality"],
                "proposition": claim["proposition"],
                "evidence": claim["evidence"],
                "hash": _digest(claim),
            }
            batch.links["source"][key] = [[key, claim["source"]]]
            # One link per subject, however often a document names it.
            batch.links["about"][key] = [[key, a] for a in dict.fromkeys(claim["about"])]
            batch.links["aboutEvents"][key] = [[key, e] for e in dict.fromkeys(claim["aboutEvents"])]
        carried.update((c, report_id) for c in data["carriedClaims"])
        for relation in data["relations"]:
            batch.relations[relation["id"]] = {**relation, "hash": _digest(relation)}
        # The report's hash covers the links its document states, so an unchanged report's are skipped.
        links = sorted(carried)
        batch.nodes["reports"][report_id] = {
            "id": report_id,
            "title": report["title"],
            "url": report["url"],
            "publishedAt": report["publishedAt"],
            "kind": report["kind"],
            "hash": _digest([report, links]),
        }
        batch.links["published"][report_id] = [[report_id, report["publisher"]]] if report["publisher"] else []
        batch.links["authored"][report_id] = [
            [report_id, author, {"position": i}] for i, author in enumerate(report["authors"])
        ]
        batch.links["cites"][report_id] = [[report_id, cited] for cited in report["cites"]]
        batch.carried.update((link, report_id) for link in links)
    return batch


# -- writing ----------------------------------------------------------------------


@dataclass
class WriteSummary:
    """Per kind of entity: how many were created, updated, and left as they were."""

    tally: dict[str, dict[str, int]] = field(
        default_factory=lambda: {kind: {"created": 0, "updated": 0, "unchanged": 0} for kind in KINDS}
    )

    def add(self, other: WriteSummary) -> None:
        for kind, counts in other.tally.items():
            for outcome, n in counts.items():
                self.tally[kind][outcome] += n

    # How many times the write's transaction ran: 1, plus one per retry (kb_write_retries_total).
    runs: int = 1

    def total(self, outcome: str) -> int:
        return sum(counts[outcome] for counts in self.tally.values())


OUTCOME: dict[State, str] = {"new": "created", "fill": "created", "changed": "updated", "same": "unchanged"}


def _state(stored: dict[str, str | None], key: str, digest: str) -> State:
    if key not in stored:
        return "new"
    if stored[key] is None:
        return "fill"
    return "same" if stored[key] == digest else "changed"


# -- one statement for every write of a batch -------------------------------------
#
# Each step is a unit subquery reading its own parameter (``$<step name>``); a
# step given no rows does nothing. Running them all as one statement makes a
# batch two round trips (plan, write) whatever it holds, which is what keeps a
# single ingestReport fast; Cypher runs the steps in order, so nodes exist
# before the links that need them.


def _steps() -> dict[LiteralString, LiteralString]:
    steps: dict[LiteralString, LiteralString] = {}
    for kind, label in LABELS.items():
        if kind != "claims":
            steps["create" + label] = CREATE[kind]
    for kind, label in LABELS.items():
        steps["placeholder" + label] = PLACEHOLDERS[kind]
    for kind, label in LABELS.items():
        steps["update" + label] = UPDATE[kind]
    # After every node its links may point at, and after the actors' updates (a source's anonymity).
    steps["createClaim"] = CREATE["claims"]
    for name, link in LINKS.items():
        steps[name + "Create"] = link.statements["CREATE"]
        steps[name + "Merge"] = link.statements["MERGE"]
    steps["reportedInCreate"] = REPORTED_IN["CREATE"]
    steps["reportedInMerge"] = REPORTED_IN["MERGE"]
    steps["dates"] = DATE_CLAIMS
    steps["sourceAnonymity"] = SOURCE_ANONYMITY
    steps["relations"] = WRITE_RELATIONS
    return steps


STEPS = _steps()
# The parameters a step reads, where they are not its own rows.
READS: dict[str, tuple[str, ...]] = {"dates": ("claimIds", "reportIds"), "sourceAnonymity": ("actorIds",)}


@lru_cache(maxsize=256)
def _statement(names: tuple[LiteralString, ...]) -> LiteralString:
    return "\n".join("CALL () {\n" + STEPS[name].replace("$rows", "$" + name) + "\n}" for name in names)


def write_statement(params: dict[str, Any]) -> tuple[LiteralString, dict[str, Any]]:
    """The one statement for a batch: only the steps given rows, in STEPS' order, and the parameters they read.

    A step given no rows would do nothing, but Neo4j would still plan it: the whole statement (every step)
    took 1 to 4 s to plan on a busy machine, and concurrent writers planning it at once ran past their
    timeouts. A batch shape (which steps) is planned once and cached by its text.
    """
    names = tuple(name for name in STEPS if any(params[key] for key in READS.get(name, (name,))))
    wanted = {key for name in names for key in READS.get(name, (name,))}
    return _statement(names), {key: value for key, value in params.items() if key in wanted}


class DanglingReferences(Exception):
    """A strict write refers to ids that are neither stored nor defined by the batch."""

    def __init__(self, missing: dict[str, list[str]]) -> None:
        super().__init__(f"{sum(map(len, missing.values()))} id(s) referred to but defined nowhere")
        self.missing = missing


async def _write(run: Run, batch: Batch, strict: bool) -> WriteSummary:
    referenced = batch.referenced()
    wanted = {kind: sorted(referenced[kind] | batch.nodes[kind].keys()) for kind in NODE_KINDS}
    [plan] = await run(PLAN, {**wanted, "relations": sorted(batch.relations)})
    stored = {kind: dict(plan[kind]) for kind in KINDS}
    dangling = {kind: sorted(referenced[kind] - stored[kind].keys() - batch.nodes[kind].keys()) for kind in NODE_KINDS}
    if strict and any(dangling.values()):
        raise DanglingReferences({kind: ids for kind, ids in dangling.items() if ids})
    states = {
        kind: {key: _state(stored[kind], key, row["hash"]) for key, row in batch.nodes[kind].items()}
        for kind in NODE_KINDS
    }
    relation_states = {key: _state(stored["relations"], key, row["hash"]) for key, row in batch.relations.items()}
    summary = WriteSummary()
    for kind, by_key in [*states.items(), ("relations", relation_states)]:
        for state in by_key.values():
            summary.tally[kind][OUTCOME[state]] += 1

    def rows_in(kind: str, *wanted_states: State) -> list[Row]:
        return [row for key, row in batch.nodes[kind].items() if states[kind][key] in wanted_states]

    def state_of(kind: str, key: str) -> State:
        return states[kind].get(key) or ("same" if key in stored[kind] else "new")

    written_links = [
        (claim, report)
        for (claim, report), by in batch.carried.items()
        if state_of("reports", by) != "same" or {state_of("claims", claim), state_of("reports", report)} - {"same"}
    ]
    dated_here = _dates_from_batch(batch, states["claims"], written_links)
    carried_by: dict[str, list[str]] = {}
    for claim, report in written_links:
        carried_by.setdefault(claim, []).append(report)

    params: dict[str, Any] = {name: [] for name in STEPS}
    for kind, label in LABELS.items():
        params["create" + label] = rows_in(kind, "new")
        params["placeholder" + label] = dangling[kind]
        params["update" + label] = rows_in(kind, "fill", "changed")
    params["createClaim"] = [
        {
            **row,
            "first": dated_here.get(row["id"]),
            **{name: [link[1] for link in batch.links[name][row["id"]]] for name in CLAIM_LINKS},
            "reportedIn": carried_by.get(row["id"], []),
        }
        for row in params["createClaim"]
    ]
    for name, link in LINKS.items():
        # A new owner has no links yet: CREATE them (a new claim's come with its row). A changed one's were
        # just deleted, but a concurrent writer may be adding them again: MERGE.
        owners = states[link.owner]
        for key, rows in batch.links[name].items():
            if owners[key] == "new" and name not in CLAIM_LINKS:
                params[name + "Create"].extend(rows)
            elif owners[key] in ("fill", "changed"):
                params[name + "Merge"].extend(rows)
    # A link with a new end cannot exist yet; any other might.
    for claim, report in written_links:
        if states["claims"].get(claim) == "new":
            continue  # with the claim's row
        fresh = "new" in (state_of("claims", claim), state_of("reports", report))
        params["reportedInCreate" if fresh else "reportedInMerge"].append([claim, report])
    params["claimIds"] = sorted({c for c, _ in written_links} - dated_here.keys())
    params["reportIds"] = sorted(key for key, state in states["reports"].items() if state in ("fill", "changed"))
    params["actorIds"] = sorted(key for key, state in states["actors"].items() if state in ("fill", "changed"))
    params["relations"] = [row for key, row in batch.relations.items() if relation_states[key] != "same"]
    if any(params.values()):
        await run(*write_statement(params))
    return summary


def _dates_from_batch(
    batch: Batch, claim_states: dict[str, State], links: Sequence[tuple[str, str]]
) -> dict[str, str | None]:
    """First-reported dates of new claims whose every report is in the batch (the others are asked of Neo4j)."""
    reports = batch.nodes["reports"]
    dates: dict[str, list[str]] = {}
    outside: set[str] = set()
    for claim, report in links:
        if claim_states.get(claim) != "new":
            continue
        if report not in reports:
            outside.add(claim)
        elif (published := reports[report]["publishedAt"]) is not None:
            dates.setdefault(claim, []).append(published)
    return {
        key: min(dates[key]) if key in dates else None
        for key, state in claim_states.items()
        if state == "new" and key not in outside
    }


async def write_batch(db: Database, batch: Batch, timeout_s: float | None = None, strict: bool = False) -> WriteSummary:
    """Write a batch in one transaction: all of it is stored, or none of it.

    An id referred to but not defined is normally stored as a placeholder that
    a later batch fills in; ``strict`` refuses the write instead
    (DanglingReferences), as the API does.
    """
    runs = 0  # of the transaction function, by db.write_unit's retries of transient errors and by this loop

    async def work(run: Run) -> WriteSummary:
        nonlocal runs
        runs += 1
        return await _write(run, batch, strict)

    WRITES.inc()
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                summary = await db.write_unit(work, timeout_s)
            except ConstraintError:
                # Another writer created an id this plan meant to create: plan again.
                if attempt == ATTEMPTS:
                    raise
            else:
                summary.runs = runs
                return summary
    finally:
        # Each pass of the loop after the first follows a ConstraintError; every other run followed a
        # transient error (a pass whose transaction never began ran its function no time at all).
        WRITE_RETRIES.labels(cause="constraint").inc(attempt - 1)
        WRITE_RETRIES.labels(cause="transient").inc(max(0, runs - attempt))


async def write_document(db: Database, document: SeedDocument) -> WriteSummary:
    """Write one report and everything in it in a single transaction; refuse dangling references."""
    return await write_batch(db, batch_of([document]), strict=True)


async def write_actor(db: Database, actor: ActorIn) -> WriteSummary:
    """Upsert one actor with its names and affiliations, in one transaction."""
    batch = Batch()
    _add_actor(batch, actor.model_dump(mode="json", by_alias=True))
    return await write_batch(db, batch, strict=True)
