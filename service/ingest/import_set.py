"""Seed documents as the input of Neo4j's offline importer (``neo4j-admin database import full``).

The import set is a directory of CSV files, one per label and per kind of
relationship, that gives the same graph as loading the same documents with
``kb seed`` into an empty database: the same nodes, relationships and
properties, derived ones included (``hash``, ``aliasText``,
``sourceAnonymous``, ``firstReportedAt``, the keys on ``ABOUT`` links, the
``Name`` nodes, the ``Migration`` nodes that say the derived properties are
filled). The rows come from the writer's own ``batch_of``, so the two loads
cannot disagree on what a document means.

Documents are streamed: rows are written as documents arrive, and memory
holds only what the end needs (per claim the reports that carried it, per
report its date, per actor its anonymity, the relations, and the later
definitions of ids a document had already defined, which win, as they do in
``kb seed``); a claim's source rides in its temporary row.
"""

from __future__ import annotations

import resource
import shlex
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

from service.graph.claims import STANDING_TYPES
from service.graph.schema import MIGRATIONS
from service.ingest.models import SeedDocument
from service.ingest.seed_files import check_files
from service.ingest.writer import Batch, batch_of

ARRAY_DELIMITER = "\x1f"  # the ASCII unit separator, between list items; a list item holding it is refused
CHUNK = 500  # documents per call of batch_of

# Node files: label -> header. The first column is the node's id in its ID space.
NODE_HEADERS: dict[str, str] = {
    "Actor": "id:ID(Actor),name,kind,aliases:string[],aliasText,description,anonymous:boolean,descriptor,background,"
    "hash",
    "Report": "id:ID(Report),title,url,publishedAt,kind,hash",
    "Event": "id:ID(Event),name,kind,startDate,endDate,place,status,description,background,hash",
    "Claim": "id:ID(Claim),text,quote,modality,proposition,evidence:string[],retracted:boolean,hash,firstReportedAt,"
    "sourceAnonymous:boolean",
    "Name": "key:ID(Name)",
    "Migration": "name:ID(Migration),appliedAt",
}

# Relationship files: file name -> (type, header, owner kind). The first column is always the owner's id (the
# entity whose definition states the link), so a later definition can drop an earlier one's rows.
REL_FILES: dict[str, tuple[str, str, str | None]] = {
    "names": ("NAMES", ":END_ID(Actor),:START_ID(Name)", "actors"),
    "affiliated": ("AFFILIATED_WITH", ":START_ID(Actor),:END_ID(Actor),role,since,until", "actors"),
    "published": ("PUBLISHED_BY", ":START_ID(Report),:END_ID(Actor)", "reports"),
    "authored": ("AUTHORED_BY", ":START_ID(Report),:END_ID(Actor),position:long", "reports"),
    "cites": ("CITES", ":START_ID(Report),:END_ID(Report)", "reports"),
    "participants": ("PARTICIPATED_IN", ":END_ID(Event),:START_ID(Actor),role", "events"),
    "source": ("ATTRIBUTED_TO", ":START_ID(Claim),:END_ID(Actor)", "claims"),
    "about": ("ABOUT", ":START_ID(Claim),:END_ID(Actor),actorId,liveClaimId,sourceAnonymous:boolean", "claims"),
    "aboutEvents": ("ABOUT", ":START_ID(Claim),:END_ID(Event)", "claims"),
    # The twins an actor's standing claims are counted by (service.graph.claims.standing_twin), from about.
    "aboutAnonymous": (STANDING_TYPES[True], ":START_ID(Claim),:END_ID(Actor)", None),
    "aboutNamed": (STANDING_TYPES[False], ":START_ID(Claim),:END_ID(Actor)", None),
    "reportedIn": ("REPORTED_IN", ":START_ID(Claim),:END_ID(Report)", None),
    "relations": (
        "RELATED_TO",
        ":START_ID(Actor),:END_ID(Actor),id,kind,since,until,evidence:string[],background,hash",
        None,
    ),
}
LABEL_OF = {"actors": "Actor", "reports": "Report", "events": "Event", "claims": "Claim"}
EVENT_COLUMNS = ("id", "name", "kind", "startDate", "endDate", "place", "status", "description", "background", "hash")


class NotImportable(ValueError):
    """A value the importer's CSV cannot carry faithfully (a list item holding the array delimiter)."""


def _field(value: Any) -> str:
    """One CSV field: strings always quoted (so "" is an empty string), None empty (no property)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        for item in value:
            if ARRAY_DELIMITER in item:
                raise NotImportable(f"the list item {item!r} holds U+001F, which separates list items in the import")
        value = ARRAY_DELIMITER.join(value)
    return '"' + str(value).replace('"', '""') + '"'


def _text(value: str | None) -> str:
    """A string field, always quoted (so "" is an empty string); None is an empty field (no property)."""
    return "" if value is None else '"' + value.replace('"', '""') + '"'


def _line(values: Iterable[Any]) -> str:
    return ",".join(map(_field, values)) + "\n"


@dataclass
class ImportSet:
    """A directory of CSV files and the arguments that make the importer load them."""

    directory: Path
    nodes: dict[str, Path]
    relationships: list[tuple[str, Path]]
    multiline: list[Path]
    counts: dict[str, int] = field(default_factory=dict)

    def arguments(self, relative: bool = False) -> list[str]:
        """The importer's options for this set (``relative``: paths relative to the set's directory)."""

        def where(path: Path) -> str:
            return path.name if relative else str(path)

        args = [f"--nodes={label}={where(path)}" for label, path in self.nodes.items()]
        args += [f"--relationships={rel_type}={where(path)}" for rel_type, path in self.relationships]
        args += [
            "--array-delimiter=U+001F",
            "--id-type=string",
            "--ignore-empty-strings=false",
            "--normalize-types=true",
            "--skip-duplicate-nodes=false",
            "--skip-bad-relationships=false",
            "--bad-tolerance=0",
            "--strict=true",
        ]
        if self.multiline:
            # Only the files that hold a line break pay for multi-line parsing.
            args += ["--multiline-fields-format=v2", "--multiline-fields=" + ",".join(where(p) for p in self.multiline)]
        return args

    def write_script(self, database: str = "neo4j") -> Path:
        """``import.sh`` in the set's directory: the exact command to run on the database host."""
        command = ["neo4j-admin", "database", "import", "full", "--overwrite-destination=true"]
        command += [*self.arguments(relative=True), database]
        script = self.directory / "import.sh"
        script.write_text(
            "#!/bin/sh\n"
            "# Load this import set into an empty database with Neo4j's own importer, on the database host,\n"
            "# while the database is stopped (`neo4j stop`, or STOP DATABASE on Enterprise). Then start it and\n"
            "# run `kb schema apply` against it: the constraints and indexes are built from the loaded data.\n"
            "# --overwrite-destination replaces whatever the database held.\n"
            'set -e\ncd "$(dirname "$0")"\n'
            + " ".join(map(shlex.quote, command[:5]))
            + "".join(" \\\n  " + shlex.quote(part) for part in command[5:])
            + "\n"
        )
        script.chmod(0o755)
        return script


class _Files:
    """The set's CSV files, each opened with its header, counting rows and noting which hold a line break."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.handles: dict[str, IO[str]] = {}
        self.multiline: set[str] = set()
        self.rows: dict[str, int] = {}

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.csv"

    def create(self, name: str, header: str) -> None:
        handle = self.path(name).open("w", encoding="utf-8", newline="")
        handle.write(header + "\n")
        self.handles[name] = handle
        self.rows[name] = 0

    def write(self, name: str, line: str) -> None:
        if line.find("\n") != len(line) - 1 or "\r" in line:
            self.multiline.add(name)
        self.handles[name].write(line)
        self.rows[name] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()

    def reopen(self) -> None:
        """Open the files again to append (after rows were dropped from them)."""
        for name in self.handles:
            self.handles[name] = self.path(name).open("a", encoding="utf-8", newline="")

    def rewrite(self, name: str, keep: Callable[[str], str | None], target: str, header: str | None = None) -> None:
        """Pass every record of the closed file ``name`` through ``keep`` (None drops it) into ``target``,
        under ``header`` if given."""
        source_path = self.path(name)
        temporary = self.path(target + ".new")
        rows, multiline = 0, False
        with (
            source_path.open(encoding="utf-8", newline="") as source,
            temporary.open("w", encoding="utf-8", newline="") as out,
        ):
            first = source.readline()
            out.write(first if header is None else header + "\n")
            for record in _records(source):
                line = keep(record)
                if line is not None:
                    out.write(line)
                    rows += 1
                    multiline = multiline or "\n" in line[:-1]
        temporary.replace(self.path(target))
        if target != name:
            source_path.unlink()
            del self.handles[name]
        self.multiline.discard(name)
        if multiline:
            self.multiline.add(target)
        self.rows.pop(name, None)
        self.rows[target] = rows

    def append(self, name: str, keep: Callable[[str], str], target: str) -> None:
        """Pass every record of the closed file ``name`` through ``keep`` onto the end of ``target``; remove
        ``name``."""
        source_path = self.path(name)
        with (
            source_path.open(encoding="utf-8", newline="") as source,
            self.path(target).open("a", encoding="utf-8", newline="") as out,
        ):
            source.readline()
            for record in _records(source):
                out.write(keep(record))
                self.rows[target] += 1
        source_path.unlink()
        del self.handles[name]
        self.rows.pop(name, None)


@dataclass
class _Later:
    """The latest definition of an id a document had already defined: its row and its own links."""

    row: dict[str, Any]
    links: dict[str, list[list[Any]]]


# Files written as documents stream, by kind of owner. Claim.partial holds what a claim's row has before the end;
# about.partial the ABOUT links of claims whose source no earlier document has defined (the rest go to about).
STREAMED: dict[str, str] = {
    "Actor": "actors",
    "Report": "reports",
    "Event": "events",
    "Claim.partial": "claims",
    "names": "actors",
    "affiliated": "actors",
    "published": "reports",
    "authored": "reports",
    "cites": "reports",
    "participants": "events",
    "source": "claims",
    "about": "claims",
    "about.partial": "claims",
    "aboutEvents": "claims",
}


class ImportSetWriter:
    """Turns seed documents, in load order, into an import set; ``finish`` writes what only the end knows."""

    def __init__(self, directory: Path, applied_at: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.applied_at = applied_at
        self.files = _Files(directory)
        for name in STREAMED:
            target = name.removesuffix(".partial")
            header = NODE_HEADERS[target] if target in NODE_HEADERS else REL_FILES[target][1]
            if name.endswith(".partial"):
                header = header.rsplit(",", 2 if target == "Claim" else 1)[0]
            self.files.create(name, header)
        self.seen: dict[str, set[str]] = {kind: set() for kind in LABEL_OF}
        self.later: dict[str, dict[str, _Later]] = {kind: {} for kind in LABEL_OF}
        self.name_keys: set[str] = set()
        self.anonymous: dict[str, bool] = {}
        self.published: dict[str, str | None] = {}
        self.carried: dict[str, list[str]] = {}  # claim -> the reports that carried it, no repeats
        self.relations: dict[str, dict[str, Any]] = {}
        self.pending: list[SeedDocument] = []
        self.anonymity_changed = False  # an actor defined again with the other anonymity: about is rewritten

    # -- streaming -------------------------------------------------------------

    def add(self, document: SeedDocument) -> None:
        self.pending.append(document)
        if len(self.pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self._write_batch(batch_of(self.pending))
            self.pending = []

    def _write_batch(self, batch: Batch) -> None:
        for kind, rows in batch.nodes.items():
            seen, later = self.seen[kind], self.later[kind]
            owned = [(name, by_owner) for name, by_owner in batch.links.items() if REL_FILES[name][2] == kind]
            for key, row in rows.items():
                links = {name: by_owner[key] for name, by_owner in owned if key in by_owner}
                if key in seen:
                    later[key] = _Later(row, links)
                else:
                    seen.add(key)
                    self._write_node(kind, row, links)
                if kind == "actors":
                    anonymous = bool(row["anonymous"])
                    if self.anonymous.setdefault(key, anonymous) != anonymous:
                        self.anonymous[key] = anonymous
                        self.anonymity_changed = True
                elif kind == "reports":
                    self.published[key] = row["publishedAt"]
        carried = self.carried
        for claim, report in batch.carried:
            reports = carried.get(claim)
            if reports is None:
                carried[claim] = [report]
            elif report not in reports:
                reports.append(report)
        self.relations.update(batch.relations)

    def _write_node(self, kind: str, row: dict[str, Any], links: dict[str, list[list[Any]]]) -> None:
        # Ids are slugs ([a-z0-9._:-]): written bare, they need no quoting. Other strings go through _text.
        write = self.files.write
        key = row["id"]
        if kind == "claims":
            [[_, source]] = links["source"]
            # The claim's source rides along after a tab, for the columns only the end can fill in.
            write(
                "Claim.partial",
                f"{key},{_text(row['text'])},{_text(row['quote'])},{row['modality']},{row['proposition'] or ''},"
                f"{_field(row['evidence'])},false,{row['hash']}\t{source}\n",
            )
            anonymous = self.anonymous.get(source)
            for _, actor in links.get("about", ()):
                if anonymous is None:
                    write("about.partial", f"{key},{actor},{actor},{key}\t{source}\n")
                else:
                    write("about", f"{key},{actor},{actor},{key},{'true' if anonymous else 'false'}\n")
            for _, event in links.get("aboutEvents", ()):
                write("aboutEvents", f"{key},{event}\n")
            write("source", f"{key},{source}\n")
            return
        if kind == "actors":
            aliases = row["aliases"]
            alias_text = "".join(" " + alias for alias in aliases)
            write(
                "Actor",
                f"{key},{_text(row['name'])},{row['kind']},{_field(aliases)},{_text(alias_text)},"
                f"{_text(row['description'])},{'true' if row['anonymous'] else 'false'},"
                f"{_text(row['descriptor'])},{_text(row['background'])},{row['hash']}\n",
            )
            for name_key, _ in links.get("names", ()):
                self.name_keys.add(name_key)
                write("names", f"{key},{_text(name_key)}\n")
            for _, actor, properties in links.get("affiliated", ()):
                role, since, until = properties["role"], properties["since"], properties["until"]
                write("affiliated", f"{key},{actor},{_text(role)},{since or ''},{until or ''}\n")
            return
        if kind == "reports":
            write(
                "Report",
                f"{key},{_text(row['title'])},{_text(row['url'])},{_text(row['publishedAt'])},{row['kind']},"
                f"{row['hash']}\n",
            )
            for _, publisher in links.get("published", ()):
                write("published", f"{key},{publisher}\n")
            for _, author, properties in links.get("authored", ()):
                write("authored", f"{key},{author},{properties['position']}\n")
            for _, cited in links.get("cites", ()):
                write("cites", f"{key},{cited}\n")
            return
        write("Event", _line(row[c] for c in EVENT_COLUMNS))
        for _, actor, role in links.get("participants", ()):
            write("participants", f"{key},{actor},{_text(role)}\n")

    def discard(self) -> None:
        """Close and remove everything written (the input was invalid, or the database not empty)."""
        self.files.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- the end ---------------------------------------------------------------

    def finish(self) -> ImportSet:
        """Write what needed every document (dates, anonymity, later definitions, relations); the set."""
        self._flush()
        self.files.close()
        superseded = {kind: set(later) for kind, later in self.later.items()}
        if any(superseded.values()):
            # A later definition wins, as in `kb seed`: drop the first one's rows, then write the later one's.
            for name, kind in STREAMED.items():
                if superseded[kind]:
                    self.files.rewrite(name, _dropping(superseded[kind]), target=name)
            self.files.reopen()
            for kind, later in self.later.items():
                for entry in later.values():
                    self._write_node(kind, entry.row, entry.links)
            self.files.close()
        self._finish_claims()
        self._write_names()
        self._write_reported_in()
        self._write_relations()
        self._write_migrations()
        self.files.close()
        return self._import_set()

    def _finish_claims(self) -> None:
        anonymous, published, carried = self.anonymous, self.published, self.carried

        def claim(record: str) -> str:
            line, source = record[:-1].rsplit("\t", 1)
            dates = [d for r in carried.get(_owner(line), ()) if (d := published.get(r)) is not None]
            return line + "," + (_field(min(dates)) if dates else "") + "," + _field(anonymous[source]) + "\n"

        def about(record: str) -> str:
            line, source = record[:-1].rsplit("\t", 1)
            return line + "," + _field(anonymous[source]) + "\n"

        self.files.rewrite("Claim.partial", claim, "Claim", NODE_HEADERS["Claim"])
        if self.anonymity_changed:
            # Rare: links written with an anonymity a later definition changed. Each gets its source's final one.
            with self.files.path("source").open(encoding="utf-8", newline="") as links:
                links.readline()
                sources = dict(line.rstrip("\n").split(",", 1) for line in links)

            def again(record: str) -> str:
                line = record[:-1].rsplit(",", 1)[0]
                return line + "," + _field(anonymous[sources[_owner(line)]]) + "\n"

            self.files.rewrite("about", again, "about")
        self.files.append("about.partial", about, "about")
        self._write_twins()

    def _write_twins(self) -> None:
        """A twin for each ABOUT link to an actor (a seed's claims all stand), by its source's anonymity."""
        names = {"true": "aboutAnonymous", "false": "aboutNamed"}
        for name in names.values():
            self.files.create(name, REL_FILES[name][1])
        with self.files.path("about").open(encoding="utf-8", newline="") as links:
            links.readline()
            for line in links:
                claim, actor, _, _, anonymous = line.rstrip("\n").split(",")
                self.files.write(names[anonymous], f"{claim},{actor}\n")

    def _write_names(self) -> None:
        keys = self.name_keys
        if self.later["actors"]:
            # Only the names of actors' final definitions, as a load that replaced an actor's names leaves them.
            keys = set()
            with self.files.path("names").open(encoding="utf-8", newline="") as source:
                source.readline()
                for record in _records(source):
                    keys.add(_unquote(record[:-1].split(",", 1)[1]))
        self.files.create("Name", NODE_HEADERS["Name"])
        for key in sorted(keys):
            self.files.write("Name", _line((key,)))

    def _write_reported_in(self) -> None:
        self.files.create("reportedIn", REL_FILES["reportedIn"][1])
        for claim, reports in self.carried.items():
            for report in reports:
                self.files.write("reportedIn", f"{claim},{report}\n")

    def _write_relations(self) -> None:
        self.files.create("relations", REL_FILES["relations"][1])
        for row in self.relations.values():
            values = (row["from"], row["to"], row["id"], row["kind"], row["since"], row["until"], row["evidence"])
            self.files.write("relations", _line((*values, row["background"], row["hash"])))

    def _write_migrations(self) -> None:
        self.files.create("Migration", NODE_HEADERS["Migration"])
        for name in MIGRATIONS:
            self.files.write("Migration", _line((name, self.applied_at)))

    def _import_set(self) -> ImportSet:
        path = self.files.path
        nodes = {label: path(label) for label in NODE_HEADERS}
        relationships = [(rel_type, path(name)) for name, (rel_type, _, _) in REL_FILES.items()]
        multiline = sorted(path(name) for name in self.files.multiline)
        counts = {name: self.files.rows[name] for name in [*NODE_HEADERS, *REL_FILES]}
        return ImportSet(self.directory, nodes, relationships, multiline, counts)


def _dropping(owners: set[str]) -> Callable[[str], str | None]:
    """Keeps a record unless its first field is one of ``owners``."""

    def keep(record: str) -> str | None:
        return None if _owner(record) in owners else record

    return keep


def _records(lines: IO[str]) -> Iterable[str]:
    """CSV records of a file, a record that spans lines (a quoted line break) joined into one."""
    pending = ""
    for line in lines:
        pending += line
        if pending.count('"') % 2 == 0:
            yield pending
            pending = ""
    if pending:
        yield pending


def _owner(record: str) -> str:
    """The first field of a record: always an id, which never needs quotes' escaping."""
    return _unquote(record[: record.index(",")] if "," in record else record.rstrip("\n"))


def _unquote(value: str) -> str:
    return value[1:-1].replace('""', '"') if value.startswith('"') else value


@dataclass(frozen=True)
class Converted:
    """What ``convert_files`` sends back: the import set (None: a document was invalid, so none was finished)
    or the error it met, and the converting process's own peak resident memory."""

    import_set: ImportSet | None
    error: BaseException | None
    peak_rss_mb: float


def convert_files(paths: Sequence[Path], directory: Path, applied_at: str, out: Connection) -> None:
    """Convert seed files into an import set, for a process of its own: sends one Converted down ``out``.

    It stops at the first document the models refuse: the validation that runs beside it reports that one,
    with every other problem, and the set is not used.
    """
    import_set: ImportSet | None = None
    error: BaseException | None = None
    try:
        writer = ImportSetWriter(directory, applied_at)
        for checked in check_files(paths):
            if checked.document is None:
                writer.files.close()
                break
            writer.add(checked.document)
        else:
            import_set = writer.finish()
    except (OSError, ValueError) as failure:  # NotImportable among them: sent back, raised again by the waiter
        error = failure
    out.send(Converted(import_set, error, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    out.close()


def write_import_set(documents: Iterable[SeedDocument], directory: Path, applied_at: str) -> ImportSet:
    """Convert the documents (already validated, in load order) into an import set in ``directory``."""
    writer = ImportSetWriter(directory, applied_at)
    for document in documents:
        writer.add(document)
    return writer.finish()
