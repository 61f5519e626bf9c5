"""The documentation's examples are true: each runs against the seed and gives the answer shown.

An example is marked ``<!-- example -->`` in README.md or a page of docs/, and is either a GraphQL document
or a ``curl`` command whose ``-d`` body is the request, followed by the answer as JSON. The marker may carry
the variables (``<!-- example {"name": "Israel"} -->``). An answer may be abridged: a list whose last item is
``"..."`` shows the first items of the real one, in order; everything shown must be what the server answers,
cursors and ids included. Links between the pages must lead to a file and a heading that exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from service.config import PROJECT_ROOT
from service.graph.driver import Database
from tests.conftest import Execute

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
EXAMPLE = re.compile(
    r"<!-- example(?P<variables> \{.*?\})? -->\n"
    r"```(?P<language>graphql|sh)\n(?P<request>.*?)\n```\n\n```json\n(?P<answer>.*?)\n```",
    re.DOTALL,
)
CURL_BODY = re.compile(r"-d '(.*?)'$", re.DOTALL)


def _examples() -> list[tuple[str, str, dict[str, Any], Any]]:
    """(where, query, variables, answer) of every example of every page."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in EXAMPLE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            variables = json.loads(match["variables"]) if match["variables"] else {}
            query = match["request"]
            if match["language"] == "sh":
                [body] = CURL_BODY.findall(query)
                request = json.loads(body)
                query, variables = request["query"], request.get("variables") or {}
            found.append((f"{page.relative_to(PROJECT_ROOT)}:{line}", query, variables, json.loads(match["answer"])))
    return found


EXAMPLES = _examples()


def matches(shown: Any, actual: Any) -> bool:
    """Whether ``shown`` is ``actual``, but for lists abridged with a last item of "..."."""
    if isinstance(shown, dict):
        return (
            isinstance(actual, dict)
            and shown.keys() == actual.keys()
            and all(matches(value, actual[key]) for key, value in shown.items())
        )
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return False
        if shown and shown[-1] == "...":
            shown = shown[:-1]
            actual = actual[: len(shown)]
        return len(shown) == len(actual) and all(matches(s, a) for s, a in zip(shown, actual, strict=True))
    return bool(shown == actual)


@pytest.mark.parametrize(
    ("shown", "actual", "expected"),
    [
        ({"a": [1, 2, "..."]}, {"a": [1, 2, 3]}, True),
        ({"a": [1, 3, "..."]}, {"a": [1, 2, 3]}, False),
        ({"a": [1, 2]}, {"a": [1, 2, 3]}, False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"cursor": "Y3Vyc29y"}, {"cursor": "b3RoZXI="}, False),
    ],
)
def test_an_abridged_answer_must_still_be_the_answer(shown: Any, actual: Any, expected: bool) -> None:
    assert matches(shown, actual) is expected


def test_every_page_has_examples() -> None:
    pages = {where.split(":")[0] for where, *_ in EXAMPLES}

    assert len(EXAMPLES) >= 16
    assert {"README.md", "docs/api.md", "docs/frontend.md"} <= pages


@pytest.mark.parametrize(("where", "query", "variables", "answer"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
async def test_example(
    seeded: Database, execute: Execute, where: str, query: str, variables: dict[str, Any], answer: Any
) -> None:
    result = await execute(query, **variables)

    assert result["errors"] == []
    assert matches(answer, {"data": result["data"]}), json.dumps(result["data"], indent=1)[:3000]


LINK = re.compile(r"\]\((?!https?://|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)")


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(PROJECT_ROOT)) for p in PAGES])
def test_links_lead_somewhere(page: Path) -> None:
    dead = []
    for target, anchor in LINK.findall(page.read_text()):
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            dead.append(target)
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            dead.append(f"{target}#{anchor}")
    assert dead == []
