"""The last phase of `kb seed --bulk` (empty lists, constraints, indexes) in two orders, on a loaded graph.

    .venv/bin/python -m bench.seed --methods bulk --sizes 1000000 --ingests 0   # first: load the graph
    .venv/bin/python -m bench.bulk_indexes --rounds 2

Each round, for each order in turn: every constraint and index but the token lookups is dropped and the
empty lists the importer cannot write are removed again (untimed), as the importer leaves the graph; then
the phase runs and is timed until every index is online.

- sequential: the order before, the lists, then every statement of schema/ in file order (each constraint
  returns once built; the indexes build in the background, and are then waited for);
- overlapped: `finish_graph`, the indexes first (they build in the background), then the lists and the
  constraints.

Figures are medians over the rounds; the machine's load average is recorded beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any, LiteralString

from bench.common import auto_commit, bench_neo4j, cypher, markdown_table, write_results
from service.config import Settings
from service.graph.driver import Database, Run
from service.graph.schema import schema_statements, wait_for_indexes
from service.ingest.bulk import INDEX_TIMEOUT_S, finish_graph
from service.ingest.import_set import EMPTY_LISTS
from service.local_neo4j import LocalNeo4j

# What the importer leaves: no list property where `kb seed` writes []. Batched, as it touches a million nodes.
UNDO_LISTS: tuple[LiteralString, ...] = (
    "MATCH (n:Actor) WHERE n.aliases = [] CALL (n) { REMOVE n.aliases } IN TRANSACTIONS OF 50000 ROWS",
    "MATCH ()-[r:RELATED_TO]->() WHERE r.evidence = [] CALL (r) { REMOVE r.evidence } IN TRANSACTIONS OF 50000 ROWS",
    "MATCH (n:Claim) WHERE n.evidence = [] CALL (n) { REMOVE n.evidence } IN TRANSACTIONS OF 50000 ROWS",
)


def reset(neo4j: LocalNeo4j) -> None:
    """Drop every constraint and index but the token lookups, and remove the empty lists again."""
    for record in cypher(neo4j, "SHOW CONSTRAINTS YIELD name RETURN name"):
        auto_commit(neo4j, f"DROP CONSTRAINT `{record['name']}`")
    for record in cypher(neo4j, "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name"):
        auto_commit(neo4j, f"DROP INDEX `{record['name']}`")
    for statement in UNDO_LISTS:
        auto_commit(neo4j, statement)


def _statement(cypher: str) -> Any:
    async def work(run: Run) -> object:
        return await run(cypher, {})  # DDL from the repository's schema/

    return work


async def sequential(db: Database, settings: Settings, neo4j: LocalNeo4j) -> None:
    for statement in EMPTY_LISTS:
        auto_commit(neo4j, statement)
    for statement in schema_statements(settings.schema_dir):
        await db.write_unit(_statement(statement), INDEX_TIMEOUT_S)
    await wait_for_indexes(db, INDEX_TIMEOUT_S)


async def overlapped(db: Database, settings: Settings, neo4j: LocalNeo4j) -> None:
    await finish_graph(db, settings.neo4j_database, settings.schema_dir)


async def run(rounds: int) -> dict[str, list[float]]:
    neo4j = bench_neo4j()
    neo4j.start()
    settings = Settings(
        NEO4J_URI=neo4j.uri,
        NEO4J_USER=neo4j.user,
        NEO4J_PASSWORD=neo4j.password,
        NEO4J_QUERY_TIMEOUT=INDEX_TIMEOUT_S,
    )
    db = Database.connect(settings)
    seconds: dict[str, list[float]] = {"sequential": [], "overlapped": []}
    try:
        for _ in range(rounds):
            for name, phase in (("sequential", sequential), ("overlapped", overlapped)):
                reset(neo4j)
                start = time.perf_counter()
                await phase(db, settings, neo4j)
                seconds[name].append(round(time.perf_counter() - start, 1))
                print(f"{name}: {seconds[name][-1]} s (load average {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        await db.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    seconds = asyncio.run(run(args.rounds))
    load = [round(x, 2) for x in os.getloadavg()]
    rows = [{"order": name, "median_s": statistics.median(s), "rounds_s": s} for name, s in seconds.items()]
    table = markdown_table(
        ["order", "median s", "rounds s"], [[r["order"], r["median_s"], r["rounds_s"]] for r in rows]
    )
    write_results("bulk-indexes", rows, table + f"\n\nload average {load}", {"load_average": load})


if __name__ == "__main__":
    main()
