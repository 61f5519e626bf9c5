"""The graph written back in the seed format: `kb export DIR`.

The export is deterministic: the same graph gives the same bytes. Reports in
id order, one document each, holding the claims first reported in it (a claim
belongs to the document of the report, of those that carried it, with the
smallest id; the others list it in ``carriedClaims``). The first document also
holds every actor, event and relation, in id order, so actors no report
mentions are kept too. Within an entity, fields come in the seed format's
order and a field left at its default is left out.

What the seed format cannot say is found before anything is written, and
listed (``Unexpressible``): retracted claims, properties and labels the format
has no field for (a merged actor's ``mergedFrom``, say), ids referred to but
never defined, claims no report carried. Loading the export would lose them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, LiteralString

import yaml
from pydantic import BaseModel

from service.graph.claims import STANDING_TYPES
from service.graph.driver import Database
from service.ingest.models import ActorIn, ClaimIn, EventIn, RelationIn, ReportIn

Format = Literal["jsonl", "yaml"]
PAGE = 500  # reports per read

# -- what the format holds ------------------------------------------------------------------------------------------

# Fields of the seed models that are links in the graph, not properties of the node.
LINK_FIELDS: dict[str, set[str]] = {
    "Actor": {"affiliations"},
    "Report": {"publisher", "authors", "cites"},
    "Event": {"participants"},
    "Claim": {"source", "about", "aboutEvents", "reportedIn"},
    "RELATED_TO": {"from", "to"},
}
MODELS: dict[str, type[BaseModel]] = {
    "Actor": ActorIn,
    "Report": ReportIn,
    "Event": EventIn,
    "Claim": ClaimIn,
    "RELATED_TO": RelationIn,
}


def _aliases(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


# Properties the seed format states, by label or relationship type, in the format's order (a field added to a
# model is exported as soon as the writer stores it under the same name).
PROPERTIES: dict[str, list[str]] = {
    label: [name for name in _aliases(model) if name not in LINK_FIELDS[label]] for label, model in MODELS.items()
}
# Properties the writer derives from the rest (or keeps for itself): nothing to export.
DERIVED: dict[str, set[str]] = {
    "Actor": {"hash", "aliasText"},
    "Report": {"hash"},
    "Event": {"hash"},
    "Claim": {"hash", "firstReportedAt", "sourceAnonymous", "retracted"},
    "Name": {"key"},
    "Migration": {"name", "appliedAt"},
    "RELATED_TO": {"hash"},
    "AFFILIATED_WITH": {"role", "since", "until"},
    "PARTICIPATED_IN": {"role"},
    "AUTHORED_BY": {"position"},
    "ABOUT": {"actorId", "sourceAnonymous", "liveClaimId"},
    **{twin: set() for twin in STANDING_TYPES.values()},  # an ABOUT link's twin (claims.standing_twin)
    **{kind: set() for kind in ("PUBLISHED_BY", "CITES", "ATTRIBUTED_TO", "REPORTED_IN", "NAMES")},
}
KNOWN: dict[str, set[str]] = {
    kind: set(PROPERTIES.get(kind, [])) | DERIVED.get(kind, set()) for kind in {*PROPERTIES, *DERIVED}
}


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    return {
        f.alias or name: f.get_default(call_default_factory=True)
        for name, f in model.model_fields.items()
        if not f.is_required()
    }


DEFAULTS = {label: _defaults(model) for label, model in MODELS.items()}

# -- what it cannot hold ----------------------------------------------------------------------------------------------

PROPERTY_KEYS: LiteralString = """
CALL () { MATCH (n) UNWIND labels(n) AS kind UNWIND keys(n) AS key RETURN kind, key, count(*) AS count
          UNION ALL
          MATCH ()-[r]->() UNWIND keys(r) AS key RETURN type(r) AS kind, key, count(*) AS count
          UNION ALL
          MATCH (n) UNWIND labels(n) AS kind RETURN kind, null AS key, count(*) AS count
          UNION ALL
          MATCH ()-[r]->() RETURN type(r) AS kind, null AS key, count(*) AS count
          UNION ALL
          MATCH (n) WHERE size(labels(n)) = 0 RETURN '' AS kind, null AS key, count(*) AS count }
RETURN kind, key, sum(count) AS count ORDER BY kind, key
"""

# Each: how many, and the first ids.
SHAPE_PROBLEMS: dict[str, LiteralString] = {
    "ids referred to but never defined (placeholders)": """
        MATCH (n) WHERE (n:Actor AND n.name IS NULL) OR (n:Report AND n.title IS NULL)
                     OR (n:Event AND n.name IS NULL) OR (n:Claim AND n.text IS NULL)
        WITH n ORDER BY n.id RETURN count(n) AS count, collect(n.id)[..5] AS sample""",
    "retracted claims (the seed format has no retraction)": """
        MATCH (c:Claim) WHERE c.retracted = true
        WITH c ORDER BY c.id RETURN count(c) AS count, collect(c.id)[..5] AS sample""",
    "claims no report carried": """
        MATCH (c:Claim) WHERE c.text IS NOT NULL AND NOT EXISTS { (c)-[:REPORTED_IN]->(:Report) }
        WITH c ORDER BY c.id RETURN count(c) AS count, collect(c.id)[..5] AS sample""",
    "claims with no source, or more than one": """
        MATCH (c:Claim) WHERE c.text IS NOT NULL AND COUNT { (c)-[:ATTRIBUTED_TO]->(:Actor) } <> 1
        WITH c ORDER BY c.id RETURN count(c) AS count, collect(c.id)[..5] AS sample""",
    "reports with more than one publisher": """
        MATCH (r:Report) WHERE COUNT { (r)-[:PUBLISHED_BY]->() } > 1
        WITH r ORDER BY r.id RETURN count(r) AS count, collect(r.id)[..5] AS sample""",
    "relations whose evidence names claims not in the graph": """
        MATCH ()-[r:RELATED_TO]->() WHERE any(id IN coalesce(r.evidence, []) WHERE NOT EXISTS { (:Claim {id: id}) })
        WITH r ORDER BY r.id RETURN count(r) AS count, collect(r.id)[..5] AS sample""",
}


@dataclass(frozen=True)
class Unexpressible:
    """Something in the graph the seed format cannot say: how much of it, and an example or five."""

    what: str
    count: int
    sample: tuple[str, ...] = ()

    def __str__(self) -> str:
        example = f": {', '.join(self.sample)}{', ...' if self.count > len(self.sample) else ''}" if self.sample else ""
        return f"{self.count} {self.what}{example}"


async def unexpressible(db: Database) -> list[Unexpressible]:
    """Everything in the graph that an export would not carry (empty: the export is the whole graph)."""
    found: list[Unexpressible] = []
    for row in await db.read(PROPERTY_KEYS, {}):
        kind, key, count = row["kind"], row["key"], row["count"]
        if kind == "":
            found.append(Unexpressible("nodes without a label", count))
        elif kind not in KNOWN:
            if key is None:
                found.append(Unexpressible(f"nodes or relationships of kind {kind}", count))
        elif key is not None and key not in KNOWN[kind] and key != "id":
            found.append(Unexpressible(f"{kind} with a '{key}' property", count))
    for what, cypher in SHAPE_PROBLEMS.items():
        [row] = await db.read(cypher, {})
        if row["count"]:
            found.append(Unexpressible(what, row["count"], tuple(row["sample"])))
    return found


# -- reading the graph as documents -----------------------------------------------------------------------------------

ACTORS: LiteralString = """
MATCH (a:Actor) WHERE a.name IS NOT NULL
RETURN a {.*} AS props,
       [(a)-[f:AFFILIATED_WITH]->(b:Actor) | {actor: b.id, role: f.role, since: f.since, until: f.until}]
         AS affiliations
ORDER BY a.id
"""
EVENTS: LiteralString = """
MATCH (e:Event) WHERE e.name IS NOT NULL
RETURN e {.*} AS props, [(a:Actor)-[p:PARTICIPATED_IN]->(e) | {actor: a.id, role: p.role}] AS participants
ORDER BY e.id
"""
RELATIONS: LiteralString = """
MATCH (a:Actor)-[r:RELATED_TO]->(b:Actor)
RETURN r {.*} AS props, a.id AS from, b.id AS to
ORDER BY r.id
"""
# A page of reports, each with its links and the claims it is the first (by id) of its carriers to hold.
REPORTS: LiteralString = """
MATCH (r:Report) WHERE r.title IS NOT NULL AND r.id > $after
WITH r ORDER BY r.id LIMIT $page
RETURN r {.*} AS props,
       [(r)-[:PUBLISHED_BY]->(p:Actor) | p.id] AS publisher,
       [(r)-[a:AUTHORED_BY]->(x:Actor) | [a.position, x.id]] AS authors,
       [(r)-[:CITES]->(c:Report) | c.id] AS cites,
       COLLECT {
         MATCH (c:Claim)-[:REPORTED_IN]->(r)
         WHERE c.text IS NOT NULL AND NOT coalesce(c.retracted, false)
         RETURN {
           props: c {.*},
           first: NOT EXISTS { MATCH (c)-[:REPORTED_IN]->(o:Report) WHERE o.id < r.id AND o.title IS NOT NULL },
           source: [(c)-[:ATTRIBUTED_TO]->(s:Actor) | s.id],
           about: [(c)-[:ABOUT]->(x:Actor) | x.id],
           aboutEvents: [(c)-[:ABOUT]->(e:Event) | e.id]
         } AS claim
       } AS claims
"""
RETRACTED: LiteralString = "MATCH (c:Claim) WHERE c.retracted = true RETURN collect(c.id) AS ids"


def _entity(label: str, props: dict[str, Any], links: dict[str, Any] | None = None) -> dict[str, Any]:
    """An entity as the seed format writes it: id, then the format's fields in order, defaults left out."""
    values = {**props, **(links or {})}
    entity: dict[str, Any] = {"id": values["id"]}
    defaults = DEFAULTS[label]
    for name in _aliases(MODELS[label]):
        if name == "id" or name not in values:
            continue
        value = values[name]
        if name in defaults and value == defaults[name]:
            continue
        entity[name] = value
    return entity


def _sorted_dicts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Links the graph keeps unordered, in a stable order, their null fields left out."""
    cleaned = [{k: v for k, v in item.items() if v is not None} for item in items]
    return sorted(cleaned, key=lambda item: json.dumps(item, sort_keys=True))


class Exporter:
    """Reads the graph as seed documents, in a stable order."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.counts = dict.fromkeys(("reports", "actors", "events", "claims", "relations"), 0)

    async def first_entities(self) -> dict[str, list[dict[str, Any]]]:
        """Every actor, event and relation, for the first document."""
        retracted = set((await self.db.read(RETRACTED, {}))[0]["ids"])
        actors = [
            _entity("Actor", row["props"], {"affiliations": _sorted_dicts(row["affiliations"])})
            for row in await self.db.read(ACTORS, {})
        ]
        events = [
            _entity("Event", row["props"], {"participants": _sorted_dicts(row["participants"])})
            for row in await self.db.read(EVENTS, {})
        ]
        relations = []
        for row in await self.db.read(RELATIONS, {}):
            props = dict(row["props"])
            props["evidence"] = [c for c in props.get("evidence") or [] if c not in retracted]
            relations.append(_entity("RELATED_TO", props, {"from": row["from"], "to": row["to"]}))
        self.counts.update(actors=len(actors), events=len(events), relations=len(relations))
        return {"actors": actors, "events": events, "relations": relations}

    async def pages(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Documents, one per report, a page at a time (an async iterator of lists)."""
        after = ""
        while rows := await self.db.read(REPORTS, {"after": after, "page": PAGE}):
            yield [self._document(row) for row in rows]
            after = rows[-1]["props"]["id"]

    def _document(self, row: dict[str, Any]) -> dict[str, Any]:
        links = {
            "publisher": row["publisher"][0] if row["publisher"] else None,
            "authors": [key for _, key in sorted(row["authors"])],
            "cites": sorted(row["cites"]),
        }
        document: dict[str, Any] = {"report": _entity("Report", row["props"], links)}
        claims, carried = [], []
        for claim in sorted(row["claims"], key=lambda c: c["props"]["id"]):
            if claim["first"]:
                claims.append(
                    _entity(
                        "Claim",
                        claim["props"],
                        {
                            "source": claim["source"][0],
                            "about": sorted(claim["about"]),
                            "aboutEvents": sorted(claim["aboutEvents"]),
                        },
                    )
                )
            else:
                carried.append(claim["props"]["id"])
        if claims:
            document["claims"] = claims
        if carried:
            document["carriedClaims"] = carried
        self.counts["reports"] += 1
        self.counts["claims"] += len(claims)
        return document


def _dump(document: dict[str, Any], fmt: Format) -> str:
    if fmt == "jsonl":
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    return "---\n" + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


class ExportFile:
    """``directory``/graph.<fmt>, written whole or not at all: a temporary file beside it, renamed on success."""

    def __init__(self, directory: Path, fmt: Format) -> None:
        self.path = directory / f"graph.{fmt}"
        directory.mkdir(parents=True, exist_ok=True)
        # Beside the target (so the rename is atomic), made as any file is (so the umask sets its permissions).
        self._temporary = directory / f".graph.{fmt}.{os.getpid()}.{secrets.token_hex(4)}"
        self._out = self._temporary.open("x", encoding="utf-8")

    def write(self, text: str) -> None:
        self._out.write(text)

    def __enter__(self) -> ExportFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._out.close()
        if error is None:
            self._temporary.replace(self.path)
        else:
            self._temporary.unlink(missing_ok=True)


async def export_graph(
    db: Database, fmt: Format, write: Callable[[str], None], on_reports: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Write the graph as seed documents through ``write``; return how many of each kind were written."""
    exporter = Exporter(db)
    pending = await exporter.first_entities()
    if fmt == "yaml":
        write("# kb export: the graph in the seed format (kb seed loads it)\n")
    async for page in exporter.pages():
        for document in page:
            if pending:
                document.update({k: v for k, v in pending.items() if v})
                document = _in_format_order(document)
                pending = {}
            write(_dump(document, fmt))
        if on_reports is not None:
            on_reports(len(page))
    if pending and any(pending.values()):
        raise NoReport(sum(len(v) for v in pending.values()))
    return exporter.counts


DOCUMENT_ORDER = ("report", "actors", "events", "claims", "relations", "carriedClaims")


def _in_format_order(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document[key] for key in DOCUMENT_ORDER if key in document}


class NoReport(Exception):
    """Actors, events or relations but no report: a seed document cannot exist without one."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} actor(s), event(s) or relation(s) but no report to hold them: not exported")
