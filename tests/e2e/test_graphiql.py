"""GraphiQL in a real headless Chromium: it loads from this server alone, runs the headline query, and its
Docs and Explorer panels show the schema it fetched by introspection."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Request, Response, async_playwright

from service.api.gate import typed_schema
from service.api.graphiql import ASSETS, EXAMPLES
from service.api.schema import schema
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


async def loopback_page(browser: Browser, requests: list[str]) -> Page:
    """A new page that records the URL of every request in ``requests`` and stops any bound off loopback."""
    page = await browser.new_page()

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    # Anything bound elsewhere is stopped and remembered, so the test fails rather than hangs.
    await page.route(
        lambda url: urlsplit(url).hostname not in LOOPBACK and not url.startswith("data:"),
        lambda route: route.abort(),
    )
    return page


async def test_graphiql_runs_the_headline_query_without_leaving_loopback(
    seeded: Database, server: str, browser: Browser
) -> None:
    requests: list[str] = []
    page = await loopback_page(browser, requests)

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


def is_introspection(response: Response) -> bool:
    return response.request.method == "POST" and "IntrospectionQuery" in (response.request.post_data or "")


async def test_graphiql_docs_and_explorer_show_the_schema(server: str, browser: Browser) -> None:
    """GraphiQL's own introspection query is answered: the Docs panel lists the root types, Query's fields and
    Actor's, and the Explorer plugin lists every field of Query (an empty panel or "Error fetching schema" fails)."""
    query_type = typed_schema(schema).query_type
    assert query_type is not None
    query_fields = set(query_type.fields)
    requests: list[str] = []
    page = await loopback_page(browser, requests)

    async with page.expect_response(is_introspection) as introspection:
        await page.goto(f"{server}/graphql")
    answer = await (await introspection.value).text()

    await page.get_by_label("Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    await docs.locator(".graphiql-doc-explorer-root-type, .graphiql-doc-explorer-error").first.wait_for(timeout=20_000)
    error = docs.locator(".graphiql-doc-explorer-error")
    assert await error.count() == 0, f"Docs: {await error.inner_text()!r}; the server answered {answer[:500]}"
    roots = await docs.locator(".graphiql-doc-explorer-root-type").evaluate_all(
        "spans => spans.map(s => s.parentElement.textContent)"
    )
    assert roots == ["query: Query", "mutation: Mutation"]
    types = set(await docs.locator(".graphiql-doc-explorer-type-name").all_inner_texts())
    assert types >= {"Actor", "Claim", "Report", "Event", "DateTime", "ClaimConnection"}

    await docs.locator(".graphiql-doc-explorer-root-type + a", has_text="Query").click()
    await docs.locator(".graphiql-doc-explorer-title", has_text="Query").wait_for()
    assert set(await docs.locator(".graphiql-doc-explorer-field-name").all_inner_texts()) == query_fields
    actor = docs.locator(
        ".graphiql-doc-explorer-item", has=page.locator(".graphiql-doc-explorer-field-name", has_text="actor")
    )
    await actor.first.locator(".graphiql-doc-explorer-type-name", has_text="Actor").click()
    await docs.locator(".graphiql-doc-explorer-title", has_text="Actor").wait_for()
    actor_fields = set(await docs.locator(".graphiql-doc-explorer-field-name").all_inner_texts())
    assert actor_fields >= {"id", "name", "aliases", "claims", "claimsMade", "relations"}

    await page.get_by_label("Show GraphiQL Explorer").click()
    explorer = page.locator(".graphiql-plugin")
    await explorer.locator(".graphiql-explorer-root, .error-container").first.wait_for(timeout=20_000)
    error = explorer.locator(".error-container")
    assert await error.count() == 0, f"Explorer: {await error.inner_text()!r}; the server answered {answer[:500]}"
    # The open tab's query: its selected root fields sit one level further down than the unselected ones.
    operation = explorer.locator("[id^='query-']").first
    root_fields = ":scope > .graphiql-explorer-node > span, :scope > div > .graphiql-explorer-node > span"
    listed = await operation.locator(root_fields).evaluate_all(
        "spans => spans.map(s => [s.dataset.fieldName, s.dataset.fieldType])"
    )
    assert {name for name, _ in listed} == query_fields
    assert ["actor", "Actor"] in listed
    assert ["claims", "ClaimConnection"] in listed
    await page.close()
    outside = [url for url in requests if not url.startswith("data:") and urlsplit(url).hostname not in LOOPBACK]
    assert outside == []


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
