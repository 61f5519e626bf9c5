"""The README's examples are true: each runs against the seed and gives the answer shown."""

from __future__ import annotations

import json
import re

import pytest

from service.config import PROJECT_ROOT
from service.graph.driver import Database
from tests.conftest import Execute

EXAMPLE = re.compile(r"<!-- example -->\n```graphql\n(.*?)\n```\n\n```json\n(.*?)\n```", re.DOTALL)
EXAMPLES = EXAMPLE.findall((PROJECT_ROOT / "README.md").read_text())


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 14


@pytest.mark.parametrize(("query", "answer"), EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
async def test_readme_example(seeded: Database, execute: Execute, query: str, answer: str) -> None:
    result = await execute(query)

    assert result["errors"] == []
    assert {"data": result["data"]} == json.loads(answer)
