"""Constraints and indexes from ``schema/*.cypher``, applied idempotently, and data migrations."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import LiteralString

from service.errors import QueryTimeout
from service.graph.claims import about_keys, standing_twin
from service.graph.driver import Database

_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)

# Derived properties a newer version keeps and an older one did not write, by
# migration name. Each statement takes the claims after ``$after`` in id order,
# ``$batch`` of them, fills what they lack, and returns the last id it took
# (null when none was left); it is run from the start until then, each batch in
# its own transaction, and the name is recorded on a (:Migration) node so later
# starts skip it. Running one twice is harmless. Walking the id index keeps each
# batch's cost to its own claims, however many are done.
MIGRATIONS: dict[str, LiteralString] = {
    "claim-source-anonymous": """
MATCH (c:Claim) WHERE c.id > $after
WITH c ORDER BY c.id LIMIT $batch
CALL (c) {
  MATCH (c)-[:ATTRIBUTED_TO]->(s:Actor)
  WITH c, s WHERE c.sourceAnonymous IS NULL
  SET c.sourceAnonymous = coalesce(s.anonymous, false)
}
RETURN max(c.id) AS last
""",
    # The keys of the index an actor's claims are paged from (claims.about_keys).
    "about-actor-keys": """
MATCH (c:Claim) WHERE c.id > $after
WITH c ORDER BY c.id LIMIT $batch
CALL (c) {
  MATCH (c)-[r:ABOUT]->(a:Actor)
  WHERE r.actorId IS NULL
  """
    + about_keys(claim="c", link="r", actor="a")
    + """
}
RETURN max(c.id) AS last
""",
    # The twins an actor's standing claims are counted by (claims.standing_twin), from the keys above.
    "standing-claim-twins": """
MATCH (c:Claim) WHERE c.id > $after
WITH c ORDER BY c.id LIMIT $batch
CALL (c) {
  MATCH (c)-[r:ABOUT]->(a:Actor)
 """
    + standing_twin(claim="c", link="r", actor="a", fresh=False)
    + """
}
RETURN max(c.id) AS last
""",
}
MIGRATION_BATCH = 10_000
# How long applying the schema waits for its indexes to be online (the full-text index, rebuilt over a million
# claims, took 14 to 19 s here).
SCHEMA_WAIT_S = 300.0


def schema_statements(schema_dir: Path) -> list[str]:
    """The statements of every ``*.cypher`` file in ``schema_dir``, in file-name order."""
    statements: list[str] = []
    for path in sorted(schema_dir.glob("*.cypher")):
        text = _COMMENT.sub("", path.read_text())
        statements.extend(s.strip() for s in text.split(";") if s.strip())
    return statements


async def apply_schema(db: Database, schema_dir: Path) -> int:
    """Create every constraint and index that does not exist yet, then wait for them to be online.

    Every statement uses IF NOT EXISTS, so applying twice changes nothing.
    Returns the number of statements run.
    """
    statements = schema_statements(schema_dir)
    # A database made before the full-text index became eventually consistent has it strict: CREATE ... IF
    # NOT EXISTS would keep that one, so it is dropped here and built again below. Asked of the leader, where
    # the DDL runs; IF EXISTS, since another process starting at the same time may have dropped it first.
    if (await db.write(STRICT_SEARCH_INDEX, {}))[0]["n"]:
        await db.write("DROP INDEX kb_search IF EXISTS", {})
    for statement in statements:
        # DDL from the repository's own files: no user input reaches it.
        await db.write(statement, {})
    # Polled: an index built again over a large graph takes longer than one query may.
    try:
        await wait_for_indexes(db, SCHEMA_WAIT_S)
    except TimeoutError as error:
        raise QueryTimeout(SCHEMA_WAIT_S) from error
    await migrate(db)
    return len(statements)


STRICT_SEARCH_INDEX: LiteralString = """
SHOW FULLTEXT INDEXES YIELD name, options
WHERE name = 'kb_search' AND NOT coalesce(options.indexConfig.`fulltext.eventually_consistent`, false)
RETURN count(*) AS n
"""

INDEX_STATES: LiteralString = "SHOW INDEXES YIELD name, state, populationPercent RETURN name, state, populationPercent"


async def wait_for_indexes(db: Database, timeout_s: float, on_progress: Callable[[float], None] | None = None) -> None:
    """Return once every index is online; raise TimeoutError after ``timeout_s``, RuntimeError if one failed.

    Polled rather than ``db.awaitIndexes``, whose transaction the server's transaction timeout would stop
    while a large graph's indexes are still being built. ``on_progress`` gets the mean population percent.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        indexes = await db.read(INDEX_STATES, {})
        failed = [i["name"] for i in indexes if i["state"] == "FAILED"]
        if failed:
            raise RuntimeError(f"index(es) failed to build: {', '.join(failed)}")
        if all(i["state"] == "ONLINE" for i in indexes):
            return
        if on_progress is not None and indexes:
            on_progress(sum(float(i["populationPercent"]) for i in indexes) / len(indexes))
        if time.monotonic() > deadline:
            waiting = [i["name"] for i in indexes if i["state"] != "ONLINE"]
            raise TimeoutError(f"indexes not online after {timeout_s:.0f} s: {', '.join(waiting)}")
        await asyncio.sleep(0.5)


async def migrate(db: Database) -> list[str]:
    """Run the migrations not recorded as done; the names of those run."""
    done = {r["name"] for r in await db.read("MATCH (m:Migration) RETURN m.name AS name", {})}
    ran = []
    for name, statement in MIGRATIONS.items():
        if name in done:
            continue
        after: str | None = ""
        while after is not None:
            after = (await db.write(statement, {"after": after, "batch": MIGRATION_BATCH}))[0]["last"]
        await db.write("MERGE (m:Migration {name: $name}) SET m.appliedAt = toString(datetime())", {"name": name})
        ran.append(name)
    return ran
