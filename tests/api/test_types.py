"""Nodes are made from records without calling their dataclass ``__init__`` (``_made``): each must come out
exactly as ``__init__`` makes it, with every attribute it sets and no other."""

from __future__ import annotations

from typing import Any

import pytest

from service.api.types import Actor, Claim, Event, Report

FULL: dict[type[Any], dict[str, Any]] = {
    Actor: {"id": "a", "name": "A", "kind": "person", "aliases": ["Ay"], "description": "d", "anonymous": True,
            "descriptor": "an aide"},
    Claim: {"id": "c", "text": "t", "quote": "q", "modality": "alleged", "retracted": True, "proposition": "p",
            "firstReportedAt": "2021-08-15T00:00:00Z", "_source": {"id": "a"},
            "_reports": [{"id": "r", "_publisher": {"id": "o"}}]},
    Report: {"id": "r", "title": "T", "url": "https://x", "publishedAt": "2021-08-15", "kind": "broadcast",
             "_publisher": {"id": "o", "name": "O"}},
    Event: {"id": "e", "name": "E", "kind": "coup", "startDate": "2021", "endDate": "2022", "place": "Kabul",
            "status": "rumoured", "description": "d"},
}  # fmt: skip


@pytest.mark.parametrize("cls", list(FULL))
@pytest.mark.parametrize("filled", [True, False], ids=["every property", "only the id"])
def test_a_node_made_from_a_record_is_what_its_init_makes(cls: type[Any], filled: bool) -> None:
    record = FULL[cls] if filled else {"id": "x"}

    made = cls.from_record(record)
    initialised = cls(**vars(made))

    assert type(made) is cls
    assert vars(made) == vars(initialised)
    assert made == initialised
