"""Cursors keep the form clients already hold: base64 of json.dumps(["c", sort key, id])."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from service.api.ids import from_cursor, to_cursor


@given(sort_key=st.text(), key=st.text())
def test_a_cursor_is_what_json_dumps_wrote_and_reads_back(sort_key: str, key: str) -> None:
    cursor = to_cursor(sort_key, key)

    assert cursor == base64.urlsafe_b64encode(json.dumps(["c", sort_key, key]).encode()).decode()
    assert from_cursor(cursor) == [sort_key, key]
