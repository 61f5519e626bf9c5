"""Full-text search over actor names and aliases, claim texts and quotes, report titles."""

from __future__ import annotations

import re
from typing import LiteralString

from service.graph.driver import Database, Record


def searchable(node: LiteralString) -> LiteralString:
    """The condition a hit ``node`` must meet. Retracted claims are hidden here as everywhere else. The labels
    are checked too: until the eventually consistent index has caught up with a deletion, it may still hold
    the entry of a node whose id Neo4j has since given to another node."""
    return (
        "(" + node + ":Actor OR " + node + ":Report OR " + node + ":Claim"
        " AND NOT coalesce(" + node + ".retracted, false))"
    )  # fmt: skip


SEARCH: LiteralString = (
    """
CALL db.index.fulltext.queryNodes('kb_search', $query, {limit: $limit * 2}) YIELD node, score
WHERE """
    + searchable("node")
    + """
WITH node, score ORDER BY score DESC, node.id LIMIT $limit
RETURN collect({type: [l IN labels(node) WHERE l IN ['Actor', 'Claim', 'Report']][0], node: node {.*}, score: score})
       AS rows
"""
)

_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)')
_OPERATORS = re.compile(r"\b(AND|OR|NOT|TO)\b")


def lucene_terms(text: str) -> str:
    """The user's text as plain Lucene terms: every operator and special character escaped."""
    escaped = _LUCENE_SPECIAL.sub(r"\\\1", text.strip())
    return _OPERATORS.sub(lambda m: m.group(1).lower(), escaped)


# Returns once the full-text index holds every change committed before the call (it is eventually consistent:
# schema/002_indexes.cypher).
CAUGHT_UP: LiteralString = "CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()"


async def search_caught_up(db: Database) -> None:
    """Wait until search sees every write committed so far (on the server the driver writes to)."""
    await db.write(CAUGHT_UP, {})


async def search(db: Database, text: str, limit: int) -> list[Record]:
    """Best matches first: [{type, node, score}]."""
    return await db.read_rows(SEARCH, {"query": lucene_terms(text), "limit": limit})
