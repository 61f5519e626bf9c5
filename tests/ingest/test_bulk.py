"""`kb seed --bulk`: the same files loaded with Neo4j's importer give the graph `kb seed` builds.

The bulk load needs a local server it may stop and whose database it replaces, so these tests start one of
their own (never the session's) and compare it, node by node and relationship by relationship, properties
included, with the session's database loaded by the transactional loader.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from service.config import Settings
from service.graph.driver import Database
from service.graph.schema import MIGRATIONS, schema_statements
from service.ingest.bulk import bulk_seed
from service.ingest.generate import GraphShape, generate
from service.ingest.import_set import ARRAY_DELIMITER, CHUNK, NotImportable, write_import_set
from service.ingest.loader import load_documents
from service.ingest.validation import iter_documents
from service.local_neo4j import LocalNeo4j
from tests.conftest import SEEDS, free_port
from tests.ingest.test_kb_seed import kb

PASSWORD = "kb-bulk-test-password"

# Every node with its labels and properties, every relationship with its type, its ends' keys and its properties.
NODES = """
MATCH (n) WHERE NOT n:Migration
RETURN labels(n) AS labels, properties(n) AS properties
"""
RELATIONSHIPS = """
MATCH (a)-[r]->(b)
RETURN type(r) AS type, coalesce(a.id, a.key) AS start, coalesce(b.id, b.key) AS end, properties(r) AS properties
"""


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


async def dump(db: Database) -> tuple[list[str], list[str]]:
    """The whole graph (less Migration markers) as sorted, comparable lines."""
    nodes = sorted(_key(record) for record in await db.read(NODES, {}))
    relationships = sorted(_key(record) for record in await db.read(RELATIONSHIPS, {}))
    return nodes, relationships


def tricky_documents() -> list[dict[str, Any]]:
    """Documents that exercise what CSV and the importer could get wrong, and what only the end of a load knows:
    quotes, commas, line breaks and accents in values; absent and empty values; forward references; ids defined
    again, the same, by a later document (defined again with other content is invalid input); a claim carried
    by a later report dated earlier."""
    outlet = {"id": "t-outlet", "name": 'Outlet, "The"', "kind": "media_outlet"}
    p1 = {"id": "t-p1", "name": "Jérôme Dupont", "kind": "person", "aliases": ['JJ "the, first"', "Jérôme"]}
    c2 = {"id": "t-c2", "text": "First version", "source": "t-p1", "about": ["t-org"]}
    return [
        {
            "report": {
                "id": "t-r1",
                "title": 'Report "one",\nwith a line break',
                "url": "https://example.org/a?b=1,2",
                "publishedAt": "2021-05-01",
                "kind": "broadcast",
                "publisher": "t-outlet",
                "authors": ["t-p1", "t-p2"],
                "cites": ["t-r2"],
            },
            "actors": [
                outlet,
                p1,
                {
                    "id": "t-p2",
                    "name": "Second Person",
                    "kind": "person",
                    "affiliations": [{"actor": "t-org", "role": "adviser", "since": "2020"}, {"actor": "t-org"}],
                },
                {"id": "t-org", "name": "Org", "kind": "organisation", "description": "line one\r\nline two"},
                {"id": "t-anon", "name": "Anon", "kind": "person", "anonymous": True, "descriptor": 'a "source"'},
            ],
            "events": [
                {
                    "id": "t-e1",
                    "name": "Meeting",
                    "kind": "meeting",
                    "startDate": "2021-04",
                    "place": "Doha",
                    "status": "rumoured",
                    "participants": [{"actor": "t-p1", "role": "host"}, {"actor": "t-org", "role": "guest"}],
                },
            ],
            "claims": [
                {
                    "id": "t-c1",
                    "text": 'They met; "secretly", he says',
                    "quote": "we met\nin secret",
                    "modality": "alleged",
                    "source": "t-anon",
                    "about": ["t-p1", "t-org", "t-p1"],
                    "aboutEvents": ["t-e1"],
                    "reportedIn": ["t-r2"],
                    "proposition": "t-meeting",
                },
                c2,
                {"id": "t-c3", "text": "By the second person", "source": "t-p2", "about": ["t-p1"]},
            ],
            "relations": [
                {
                    "id": "t-rel1",
                    "kind": "allied_with",
                    "from": "t-p1",
                    "to": "t-org",
                    "since": "2020",
                    "until": "2021",
                    "evidence": ["t-c1"],
                },
                {"id": "t-rel2", "kind": "hostile_to", "from": "t-org", "to": "t-p2"},
            ],
        },
        {
            "report": {"id": "t-r2", "title": "Report two", "publishedAt": "2020-01-01T08:30:00Z"},
            "actors": [outlet, p1],
            "claims": [c2],
            "carriedClaims": ["t-c3"],
        },
        {
            "report": {"id": "t-r3", "title": "Report three, undated", "publisher": "t-outlet", "cites": ["t-r1"]},
            "relations": [{"id": "t-rel3", "kind": "controls", "from": "t-org", "to": "t-p1", "evidence": []}],
            "carriedClaims": ["t-c1", "t-c2"],
        },
    ]


@pytest.fixture
def seed_files(tmp_path: Path) -> list[Path]:
    tricky = tmp_path / "tricky.jsonl"
    tricky.write_text("".join(json.dumps(d) + "\n" for d in tricky_documents()))
    generated = tmp_path / "generated.jsonl"
    shape = GraphShape(actors=60, reports=150, seed=5)
    generated.write_text("".join(json.dumps(d) + "\n" for d in generate(shape)))
    return [SEEDS, tricky, generated]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    """A local Neo4j of this module's own, which the bulk load stops, replaces and starts again."""
    local = LocalNeo4j(
        home=tmp_path_factory.mktemp("bulk-neo4j"),
        bolt_port=free_port(),
        user="neo4j",
        password=PASSWORD,
        heap="512m",
        pagecache="64m",
    )
    try:
        yield local
    finally:
        local.stop()


def local_settings(local: LocalNeo4j) -> Settings:
    return Settings(
        NEO4J_URI=None,
        NEO4J_USER=local.user,
        NEO4J_PASSWORD=local.password,
        KB_NEO4J_HOME=local.home,
        KB_NEO4J_BOLT_PORT=local.bolt_port,
        KB_NEO4J_HEAP=local.heap,
        KB_NEO4J_PAGECACHE=local.pagecache,
    )


@pytest_asyncio.fixture
async def local_db(local_server: LocalNeo4j) -> AsyncIterator[Database]:
    local_server.start()
    db = Database.connect(local_settings(local_server))
    yield db
    await db.close()


async def test_a_bulk_load_builds_the_graph_kb_seed_builds(
    graph: Database, local_server: LocalNeo4j, seed_files: list[Path]
) -> None:
    await load_documents(graph, iter_documents(seed_files))
    expected = await dump(graph)

    result = await bulk_seed(local_settings(local_server), seed_files)

    assert result.outcome == "loaded", result.validation.problems
    db = Database.connect(local_settings(local_server))
    try:
        nodes, relationships = await dump(db)
        # Compared as differences first, so that a failure names the rows that differ.
        assert (sorted(set(nodes) - set(expected[0])), sorted(set(expected[0]) - set(nodes))) == ([], [])
        assert (sorted(set(relationships) - set(expected[1])), sorted(set(expected[1]) - set(relationships))) == (
            [],
            [],
        )
        assert (nodes, relationships) == expected
        # Every index online, and the derived properties marked as filled: the migrations have nothing to do.
        indexes = await db.read("SHOW INDEXES YIELD name, state RETURN name, state", {})
        assert {i["state"] for i in indexes} == {"ONLINE"}
        assert len(indexes) >= len(schema_statements(Settings().schema_dir))
        migrations = await db.read("MATCH (m:Migration) RETURN m.name AS name", {})
        assert sorted(m["name"] for m in migrations) == sorted(MIGRATIONS)
    finally:
        await db.close()
    assert set(result.phases) >= {"validate_and_convert", "import", "restart_server", "indexes", "total"}
    assert not (local_server.home / "import" / "kb-bulk").exists()  # the import set is removed once loaded


async def test_a_database_with_data_is_refused(local_server: LocalNeo4j, local_db: Database, tmp_path: Path) -> None:
    # Whatever an earlier test left, this database now holds a report.
    await local_db.write("MERGE (:Report {id: 'already-here', title: 'Already here'})", {})
    seed = tmp_path / "one.jsonl"
    seed.write_text(json.dumps(tricky_documents()[0]) + "\n")

    result = await bulk_seed(local_settings(local_server), [seed], import_dir=tmp_path / "set")

    assert result.outcome == "not-empty"
    assert not (tmp_path / "set").exists()
    assert await local_db.read("MATCH (n:Report {id: 'already-here'}) RETURN count(n) AS n", {}) == [{"n": 1}]


async def test_an_invalid_file_changes_nothing_and_leaves_no_import_set(
    graph: Database, neo4j_settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(tricky_documents()[0]) + "\n" + '{"report": {"id": "Bad Id"}}\n')

    result = kb(neo4j_settings, "seed", "--bulk", "--import-dir", tmp_path / "set", bad)

    assert result.returncode == 1
    assert f"{bad}:line 2: report.id" in result.stderr
    assert "nothing was loaded" in result.stderr
    assert not (tmp_path / "set").exists()


async def test_a_remote_server_gets_the_import_set_and_the_command(
    graph: Database, neo4j_settings: Settings, seed_files: list[Path], tmp_path: Path
) -> None:
    target = tmp_path / "set"

    result = kb(neo4j_settings, "seed", "--bulk", "--import-dir", target, *seed_files)

    assert result.returncode == 1
    assert "is not the local server" in result.stderr
    assert str(target / "import.sh") in result.stderr.replace("\n", "")
    script = (target / "import.sh").read_text()
    command = [line.strip(" \\") for line in script.splitlines() if not line.startswith("#")]
    assert command[command.index("neo4j-admin database import full --overwrite-destination=true") + 1 :][:2] == [
        "--nodes=Actor=Actor.csv",
        "--nodes=Report=Report.csv",
    ]
    assert "--relationships=RELATED_TO=relations.csv" in command
    assert command[-1] == "neo4j"
    assert all((target / name).exists() for name in ("Actor.csv", "Claim.csv", "about.csv", "reportedIn.csv"))
    # The database was only read.
    assert await graph.read("MATCH (n) RETURN count(n) AS n", {}) == [{"n": 0}]


def test_a_list_item_holding_the_array_delimiter_is_refused(tmp_path: Path) -> None:
    from service.ingest.models import SeedDocument

    document = tricky_documents()[0]
    document["actors"][1]["aliases"] = [f"two{ARRAY_DELIMITER}parts"]

    with pytest.raises(NotImportable, match="U\\+001F"):
        write_import_set([SeedDocument.model_validate(document)], tmp_path / "set", "now")


def test_a_later_definition_s_anonymity_reaches_every_about_link(tmp_path: Path) -> None:
    """ABOUT links are written as claims arrive, with their source's anonymity as known then; an actor defined
    again with the other anonymity (which validation refuses, but the converter alone must still get right) has
    the last definition's, as `kb seed` would leave it."""
    from service.ingest.models import SeedDocument

    def document(number: int, anonymous: bool) -> dict[str, Any]:
        source = {"id": "x-src", "name": "Source", "kind": "person", "anonymous": anonymous}
        if anonymous:
            source["descriptor"] = "an official"
        return {
            "report": {"id": f"x-r{number}", "title": f"Report {number}"},
            "actors": [source, {"id": "x-about", "name": "About", "kind": "state"}],
            "claims": [{"id": f"x-c{number}", "text": "Said", "source": "x-src", "about": ["x-about"]}],
        }

    # The two definitions in different batches of the converter, so that the first one's links are written.
    fillers = [{"report": {"id": f"x-f{number}", "title": "Filler"}} for number in range(CHUNK)]
    documents = [document(1, False), *fillers, document(2, True)]
    import_set = write_import_set([SeedDocument.model_validate(d) for d in documents], tmp_path / "set", "now")

    about = (import_set.directory / "about.csv").read_text().splitlines()
    claims = (import_set.directory / "Claim.csv").read_text().splitlines()
    assert sorted(line.rsplit(",", 1)[1] for line in about[1:]) == ["true", "true"]
    assert sorted(line.rsplit(",", 1)[1] for line in claims[1:]) == ["true", "true"]
