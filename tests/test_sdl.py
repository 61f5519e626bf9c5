"""schema/schema.graphql is the SDL the code defines; `kb schema export` rewrites it."""

from __future__ import annotations

from service.api.schema import schema
from service.config import PROJECT_ROOT


def test_exported_sdl_matches_the_code() -> None:
    exported = (PROJECT_ROOT / "schema" / "schema.graphql").read_text()

    assert exported == schema.as_str() + "\n", "run `.venv/bin/kb schema export` and commit schema/schema.graphql"
