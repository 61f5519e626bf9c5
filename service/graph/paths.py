"""Shortest connections between two actors, through relations, events, claims and affiliations.

Of several equally short paths, the one through direct relations is preferred.
"""

from __future__ import annotations

from typing import LiteralString

from service.graph.driver import Database, Record

MAX_HOPS = 8


def _shortest_path_query(max_hops: int) -> LiteralString:
    # Path length bounds cannot be parameters in Cypher: one query per bound.
    return f"""
MATCH (a:Actor {{id: $from}}), (b:Actor {{id: $to}})
MATCH path = allShortestPaths((a)-[:RELATED_TO|PARTICIPATED_IN|ABOUT|ATTRIBUTED_TO|AFFILIATED_WITH*..{max_hops}]-(b))
WHERE all(n IN nodes(path) WHERE NOT (n:Claim AND coalesce(n.retracted, false)))
// Among equally short paths, prefer direct relations, then affiliations,
// then shared events, then claims; then a stable order.
WITH path, reduce(w = 0, r IN relationships(path) |
       w + CASE type(r) WHEN 'RELATED_TO' THEN 0 WHEN 'AFFILIATED_WITH' THEN 1
                        WHEN 'PARTICIPATED_IN' THEN 2 ELSE 3 END) AS weight
ORDER BY weight, reduce(s = '', n IN nodes(path) | s + n.id + ' '),
         reduce(s = '', r IN relationships(path) | s + type(r) + ':' + coalesce(r.id, r.role, '') + ' ')
LIMIT 1
RETURN [n IN nodes(path) | {{type: [l IN labels(n) WHERE l IN ['Actor', 'Event', 'Claim', 'Report']][0],
                            node: n {{.*}}}}] AS nodes,
       [r IN relationships(path) | {{type: type(r), props: properties(r),
                                    start: startNode(r).id, end: endNode(r).id}}] AS steps
"""


SHORTEST_PATHS: dict[int, LiteralString] = {h: _shortest_path_query(h) for h in range(1, MAX_HOPS + 1)}


async def shortest_path(db: Database, from_id: str, to_id: str, max_hops: int) -> Record | None:
    """{nodes, steps} of one shortest path, or None when none is within ``max_hops``."""
    records = await db.read(SHORTEST_PATHS[max_hops], {"from": from_id, "to": to_id})
    return records[0] if records else None
