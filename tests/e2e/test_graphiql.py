"""GraphiQL in a real headless Chromium: it loads from this server alone and runs the headline query."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Request, async_playwright

from service.api.graphiql import ASSETS, EXAMPLES
from service.graph.driver import Database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium (installed by set-up), driven by Playwright; no browser is downloaded."""
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.fail("chromium is not installed: run `make install` (it installs Debian's chromium package)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def test_graphiql_runs_the_headline_query_without_leaving_loopback(
    seeded: Database, server: str, browser: Browser
) -> None:
    requests: list[str] = []
    page = await browser.new_page()

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    # Anything bound elsewhere is stopped and remembered, so the test fails rather than hangs.
    await page.route(
        lambda url: urlsplit(url).hostname not in LOOPBACK and not url.startswith("data:"),
        lambda route: route.abort(),
    )

    await page.goto(f"{server}/graphql")
    await page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    await result.get_by_text('"totalCount": 6').wait_for(timeout=20_000)
    text = await result.inner_text()

    assert '"name": "Israel"' in text
    assert "Anonymous former Afghan official" in text
    tabs = await page.locator(".graphiql-tab").count()
    assert tabs == len(EXAMPLES)
    await page.close()
    outside = [url for url in requests if not url.startswith("data:") and urlsplit(url).hostname not in LOOPBACK]
    assert outside == []
    assert {urlsplit(url).path for url in requests} >= {f"/graphiql/{name}" for name in ASSETS} | {"/graphql"}


async def test_the_page_and_its_files(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        script = await client.get("/graphiql/graphiql.js")
        unknown = await client.get("/graphiql/package.json")
        escape = await client.get("/graphiql/..%2Fpackage.json")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "https://" not in page.text.split('id="kb-examples"')[0]
    examples = json.loads(page.text.split('type="application/json">')[1].split("</script>")[0])
    assert examples[0]["variables"] == {"name": "the Jewish State"}
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert (unknown.status_code, escape.status_code) == (404, 404)
