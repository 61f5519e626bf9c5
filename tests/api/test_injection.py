"""Hostile strings through every string argument of every query: nothing changes, nothing leaks.

The arguments are found by walking the schema (root query fields, their String
and ID arguments, and the String and ID fields of their filter inputs), so a
new argument is attacked without anyone adding it here.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from service.api.ids import to_global_id
from service.graph.driver import Database, recorded_statements
from tests.conftest import Execute

PAYLOADS = [
    "' OR 1=1 //",
    '"}) MATCH (n) DETACH DELETE n //',
    "x'}) DETACH DELETE n RETURN 1 AS ok //",
    "`) CALL db.labels() YIELD label RETURN label //",
    "$name} RETURN 1 //",
    "*:*",
    "name:* OR text:* AND NOT x~ [a TO z] /re.*/",
    '\\\\" \u0000 \ud7ff \U0001f4a3',
    base64.b64encode(json.dumps(["' OR 1=1 //", "' OR 1=1 //"]).encode()).decode(),
    base64.b64encode(b"Claim:' OR 1=1 //").decode(),
    "A" * 5_000,
]
# What a failure inside the driver or Neo4j would show (user input echoed back is not a leak).
LEAKS = ("Neo.ClientError", "Neo.DatabaseError", "neo4j.exceptions", "SyntaxError", "Traceback", 'File "')
COUNTS = "RETURN COUNT { () } AS nodes, COUNT { ()-[]->() } AS relationships"

INTROSPECT = """{ __schema { queryType { fields { name args { name type { ...T } } } }
                  types { name kind inputFields { name type { ...T } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""


def named(type_: dict[str, Any]) -> tuple[str, str, bool]:
    """(kind, name, is a list) of a wrapped type."""
    listed = False
    while type_["ofType"] is not None:
        listed = listed or type_["kind"] == "LIST"
        type_ = type_["ofType"]
    return type_["kind"], type_["name"], listed


async def string_arguments(execute: Execute) -> list[tuple[str, list[str], bool]]:
    """(root field, path to a String or ID argument or input field, is a list) for every one there is."""
    schema = (await execute(INTROSPECT))["data"]["__schema"]
    inputs = {t["name"]: t["inputFields"] for t in schema["types"] if t["kind"] == "INPUT_OBJECT"}
    found = []
    for field in schema["queryType"]["fields"]:
        for arg in field["args"]:
            kind, name, listed = named(arg["type"])
            if kind == "SCALAR" and name in ("String", "ID"):
                found.append((field["name"], [arg["name"]], listed))
            elif kind == "INPUT_OBJECT":
                for sub in inputs[name]:
                    sub_kind, sub_name, sub_listed = named(sub["type"])
                    if sub_kind == "SCALAR" and sub_name in ("String", "ID"):
                        found.append((field["name"], [arg["name"], sub["name"]], sub_listed))
    return found


# Arguments a field cannot go without, besides the one under attack.
REQUIRED = {
    "search": {"text": "Israel"},
    "path": {"from": to_global_id("Actor", "israel"), "to": to_global_id("Actor", "uae")},
}


def request(field: str, path: list[str], listed: bool, payload: str) -> str:
    value: Any = [payload] if listed else payload
    for key in reversed(path[1:]):
        value = {key: value}
    arguments = {**REQUIRED.get(field, {}), path[0]: value}
    literal = ", ".join(
        f"{k}: {json.dumps(v) if not isinstance(v, dict) else _object(v)}" for k, v in arguments.items()
    )
    return "{ " + field + "(" + literal + ") { __typename } }"


def _object(value: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in value.items()) + "}"


async def test_the_walk_finds_the_string_arguments(execute: Execute) -> None:
    found = {(field, ".".join(path)) for field, path, _ in await string_arguments(execute)}

    # A floor, not the list: the walk is what covers new arguments.
    assert {("actor", "name"), ("actor", "id"), ("search", "text"), ("claims", "after"), ("node", "id"),
            ("claims", "filter.about"), ("actors", "filter.nameContains"), ("path", "from")} <= found  # fmt: skip
    assert len(found) >= 20


async def test_hostile_strings_change_nothing_and_leak_nothing(seeded: Database, execute: Execute) -> None:
    [before] = await seeded.read(COUNTS, {})
    answers = []
    for field, path, listed in await string_arguments(execute):
        for payload in PAYLOADS:
            result = await execute(request(field, path, listed, payload))
            answers.append((field, path, payload, result))
    [after] = await seeded.read(COUNTS, {})

    assert after == before
    for field, path, payload, result in answers:
        codes = {e["extensions"]["code"] for e in result["errors"]}
        assert "INTERNAL" not in codes, (field, path, payload, result)
        text = json.dumps(result["errors"])
        assert not [leak for leak in LEAKS if leak in text], (field, path, payload, result["errors"])
    assert len(answers) >= 20 * len(PAYLOADS)


@pytest.mark.parametrize("payload", PAYLOADS[:5])
async def test_a_crafted_name_reaches_neo4j_only_as_a_parameter(
    seeded: Database, execute: Execute, payload: str
) -> None:
    query = "query($name: String!) { actor(name: $name) { name claims { totalCount } relations { kind } } }"
    with recorded_statements() as plain:
        await execute(query, name="Israel")
    with recorded_statements() as crafted:
        result = await execute(query, name=payload)

    assert result["data"] == {"actor": None}
    assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"]
    # The same statements; the name is in the parameters, never in the text.
    assert [text for text, _ in crafted] == [text for text, _ in plain[: len(crafted)]]
    assert all(payload not in text for text, _ in crafted)
    assert any(payload.strip() in strings(params) for _, params in crafted)


def strings(value: Any) -> list[str]:
    """Every string inside a statement's parameters."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []
