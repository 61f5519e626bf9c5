"""The seed says what its article says: every claim rests on the article's own words, quoted verbatim, and
every fact from outside the article is marked as background, with where it comes from."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator

import pytest

from service.config import PROJECT_ROOT
from service.ingest.models import ActorIn, ClaimIn, EventIn, RelationIn, SeedDocument
from service.ingest.seed_files import read_seed_files

SEED = PROJECT_ROOT / "seeds" / "001-taliban-israel.yaml"
ARTICLE_COPY = PROJECT_ROOT / "seeds" / "001-taliban-israel.txt"
SHARED_ARTICLE = PROJECT_ROOT.parent / "shared" / "seed-article.txt"

DOCUMENTS: list[SeedDocument] = read_seed_files([SEED])
ARTICLE = ARTICLE_COPY.read_text(encoding="utf-8")
CLAIMS: list[ClaimIn] = [claim for document in DOCUMENTS for claim in document.claims]


def test_the_copy_in_the_repository_is_the_article() -> None:
    if not SHARED_ARTICLE.exists():
        pytest.skip(f"{SHARED_ARTICLE} is not beside this clone")
    assert ARTICLE_COPY.read_bytes() == SHARED_ARTICLE.read_bytes()


def test_every_claim_of_the_seed_is_checked() -> None:
    assert len(CLAIMS) == 18


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_a_claim_rests_on_the_articles_words_verbatim(claim: ClaimIn) -> None:
    assert claim.evidence, "every claim carries the words it rests on"
    for passage in claim.evidence:
        assert passage in ARTICLE, f"not in the article, verbatim: {passage!r}"


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.quote], ids=[c.id for c in CLAIMS if c.quote])
def test_a_quote_is_the_articles_words_verbatim(claim: ClaimIn) -> None:
    assert claim.quote is not None
    assert claim.quote in ARTICLE


def _loosely(text: str) -> str:
    """Case and the article's typographic apostrophe aside: how a name is looked up (``actor(name:)``)."""
    return text.replace("\u2019", "'").lower()


def test_every_alias_is_the_articles_or_background() -> None:
    outside = [
        f"{actor.id}: {alias}"
        for document in DOCUMENTS
        for actor in document.actors
        for alias in actor.aliases
        if _loosely(alias) not in _loosely(ARTICLE) and f'"{alias}"' not in (actor.background or "")
    ]
    assert outside == []


def _dates() -> Iterator[tuple[str, str, str | None]]:
    """(where, date, the entry's background) for every date of the seed."""
    for document in DOCUMENTS:
        for event in document.events:
            for date in (event.start_date, event.end_date):
                if date:
                    yield f"event {event.id}", date, event.background
        for relation in document.relations:
            for date in (relation.since, relation.until):
                if date:
                    yield f"relation {relation.id}", date, relation.background
        for actor in document.actors:
            for affiliation in actor.affiliations:
                for date in (affiliation.since, affiliation.until):
                    if date:
                        yield f"actor {actor.id}", date, actor.background


def _in_article(date: str) -> bool:
    """Whether the article names this date at its precision: "2021", "August 2021", "August 15, 2021"."""
    parts = [int(p) for p in date.split("-")]
    if len(parts) == 1:
        return re.search(rf"\b{parts[0]}\b", ARTICLE) is not None
    month = calendar.month_name[parts[1]]
    if len(parts) == 2:
        return f"{month} {parts[0]}" in ARTICLE
    return f"{month} {parts[2]}, {parts[0]}" in ARTICLE or f"{parts[2]} {month} {parts[0]}" in ARTICLE


def test_every_date_is_the_articles_or_background() -> None:
    dates = list(_dates())
    outside = [f"{where}: {date}" for where, date, background in dates if not _in_article(date)]
    unmarked = [f"{where}: {date}" for where, date, background in dates
                if not _in_article(date) and date not in (background or "")]  # fmt: skip

    assert "event taliban-seizure-of-afghanistan: 2021-08" not in outside  # "in August 2021"
    assert "event sudan-coup: 2021-10-25" in outside
    assert unmarked == []


def test_background_says_where_it_comes_from() -> None:
    entries: list[ActorIn | EventIn | RelationIn] = []
    for document in DOCUMENTS:
        entries.extend([*document.actors, *document.events, *document.relations])
    backgrounds = [(entry.id, entry.background) for entry in entries if entry.background]
    assert backgrounds
    assert [key for key, background in backgrounds if "https://" not in background] == []
