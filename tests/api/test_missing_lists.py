"""Mutations, filters and search on actors and relations whose list property is missing (an empty list is
no property in the graph): they answer [] and never store one."""

from __future__ import annotations

from typing import Any

from service.api.auth import Role
from service.api.ids import to_global_id
from service.graph.driver import Database
from service.graph.search import search_caught_up
from service.ingest.loader import load_documents
from service.ingest.models import SeedDocument


async def test_aliases_merges_and_relations_on_missing_lists(graph: Database, execute: Any, resolve: Any) -> None:
    document = {
        "report": {"id": "m-r", "title": "Missing lists", "kind": "article"},
        "actors": [
            {"id": "m-a", "name": "Alpha", "kind": "person"},
            {"id": "m-b", "name": "alpha", "kind": "person"},
            {"id": "m-c", "name": "Gamma", "kind": "person"},
        ],
        "claims": [{"id": "m-c1", "text": "Said", "source": "m-a", "about": ["m-c"]}],
    }
    await load_documents(graph, [SeedDocument.model_validate(document)])
    a, b, c = (to_global_id("Actor", k) for k in ("m-a", "m-b", "m-c"))
    # an alias equal to the name: aliases stays missing, aliasText ''
    r = await execute('mutation($id: ID!) { addAlias(actor: $id, alias: "ALPHA") { aliases } }', Role.WRITER, id=a)
    assert r["errors"] == []
    assert r["data"]["addAlias"]["aliases"] == []
    # a real alias onto a missing list
    r = await execute('mutation($id: ID!) { addAlias(actor: $id, alias: "Gee") { aliases } }', Role.WRITER, id=c)
    assert r["errors"] == []
    assert r["data"]["addAlias"]["aliases"] == ["Gee"]
    # merge of two actors with missing aliases whose names differ only by case: nothing to add
    r = await execute(
        "mutation($k: ID!, $m: ID!) { mergeActors(keep: $k, merge: $m) { aliases } }", Role.ADMIN, k=a, m=b
    )
    assert r["errors"] == []
    assert r["data"]["mergeActors"]["aliases"] == []
    [row] = await graph.read("MATCH (n:Actor {id: 'm-a'}) RETURN n.aliases AS l, n.aliasText AS t", {})
    assert row == {"l": None, "t": ""}
    [row] = await graph.read("MATCH (n:Actor {id: 'm-c'}) RETURN n.aliases AS l, n.aliasText AS t", {})
    assert row == {"l": ["Gee"], "t": " Gee"}
    # a relation with no evidence
    r = await execute(
        'mutation { addRelation(input: {id: "m-rel", from: "m-a", to: "m-c", kind: "ally"}) { evidence { id } } }',
        Role.WRITER,
    )
    assert r["errors"] == []
    assert r["data"]["addRelation"]["evidence"] == []
    [row] = await graph.read("MATCH ()-[r:RELATED_TO {id: 'm-rel'}]->() RETURN r.evidence AS e", {})
    assert row == {"e": None}
    # filters: compiled and resolved answer alike
    q = '{ actors(filter: {nameContains: "lph"}) { edges { node { name aliases } } } }'
    for run in (execute, resolve):
        r = await run(q)
        assert r["errors"] == []
        assert r["data"]["actors"]["edges"] == [{"node": {"name": "Alpha", "aliases": []}}]
    await search_caught_up(graph)  # the mutations above are in the full-text index once this returns
    r = await execute('{ search(text: "Gee") { node { ... on Actor { name aliases } } } }')
    assert r["errors"] == [], r
