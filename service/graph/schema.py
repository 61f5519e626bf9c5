"""Constraints and indexes from ``schema/*.cypher``, applied idempotently."""

from __future__ import annotations

import re
from pathlib import Path

from service.graph.driver import Database

_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


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
    for statement in statements:
        # DDL from the repository's own files: no user input reaches it.
        await db.write(statement, {})
    await db.write("CALL db.awaitIndexes(300)", {})
    return len(statements)
