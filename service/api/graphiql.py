"""GraphiQL, with the explorer plugin, served entirely by this service: the page makes no other request.

The scripts and styles come from the npm registry at set-up (`web/package.json`,
exact versions, `make install`) and are served from /graphiql/<file>. The page
opens with the headline query of the design and other examples, each of which
answers against the seed (tests/api/test_graphiql_examples.py runs them).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

# The only files served: public name -> file under web/node_modules.
ASSETS: dict[str, str] = {
    "react.js": "react/umd/react.production.min.js",
    "react-dom.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.js": "graphiql/graphiql.min.js",
    "graphiql.css": "graphiql/graphiql.min.css",
    "explorer.js": "@graphiql/plugin-explorer/dist/index.umd.js",
    "explorer.css": "@graphiql/plugin-explorer/dist/style.css",
}
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Example:
    title: str
    query: str
    variables: dict[str, str] | None = None


EXAMPLES = [
    Example(
        "Headline: anonymous claims about an actor, with the reports that carried them",
        # DESIGN.md's headline query, as written there.
        """query AnonymousClaimsAbout($name: String!) {
  actor(name: $name) {            # canonical name or any alias, case-insensitive
    id
    name
    claims(anonymous: true, first: 20) {   # claims ABOUT the actor
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          text
          source { name anonymous descriptor }
          reports { title url publishedAt publisher { name } cites { title publisher { name } } }
        }
      }
    }
  }
}
""",
        {"name": "the Jewish State"},
    ),
    Example(
        "Provenance and corroboration of what is said about the Taliban",
        """# Alleged and speculated claims, where each came from, and who else says so.
query Provenance {
  actor(name: "Taliban") {
    claims(modality: [ALLEGED, SPECULATED]) {
      edges {
        node {
          text
          modality
          source { name anonymous }
          provenance { origin { title publisher { name } } reports { title } }
          corroboration { independentSources deniedBy { name } }
        }
      }
    }
  }
}
""",
    ),
    Example(
        "Relations as of a date",
        """# Sudan's relations before and after the military coup of October 2021.
query RelationsAsOf {
  actor(name: "Sudan") {
    before: relations(asOf: "2021-01") { kind direction other { name } }
    after: relations(asOf: "2022") { kind direction other { name } since until evidence { text } }
  }
}
""",
    ),
    Example(
        "Two-hop neighbourhood",
        """# Who is within two normalisation or cooperation relations of Israel.
query Neighbours {
  actor(name: "Israel") {
    neighbors(depth: 2, kinds: ["normalized_relations_with", "cooperates_with"]) { distance actor { name } }
  }
}
""",
    ),
    Example(
        "How two actors are connected",
        """# The shortest explained connection from the Taliban to Israel.
query Connection {
  path(from: "QWN0b3I6dGFsaWJhbg==", to: "QWN0b3I6aXNyYWVs") {
    length
    steps { link kind explanation }
  }
}
""",
    ),
    Example(
        "Full-text search",
        """# Actors, claims and reports matching words.
query Search {
  search(text: "secret talks") {
    node {
      __typename
      ... on Claim { text }
      ... on Report { title }
      ... on Actor { name }
    }
  }
}
""",
    ),
]

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>kb · GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/graphiql/graphiql.css">
  <link rel="stylesheet" href="/graphiql/explorer.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.js"></script>
  <script src="/graphiql/react-dom.js"></script>
  <script src="/graphiql/graphiql.js"></script>
  <script src="/graphiql/explorer.js"></script>
  <script id="kb-examples" type="application/json">__EXAMPLES__</script>
  <script>
    const examples = JSON.parse(document.getElementById("kb-examples").textContent);
    const json = (value) => (value ? JSON.stringify(value, null, 2) : undefined);
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    const explorer = GraphiQLPluginExplorer.explorerPlugin();
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {
        fetcher,
        plugins: [explorer],
        defaultEditorToolsVisibility: true,
        shouldPersistHeaders: false,
        defaultTabs: examples.map((e) => ({ query: e.query, variables: json(e.variables) })),
        // GraphiQL 3 does not take the first tab's variables from defaultTabs; give them outright.
        variables: json(examples[0].variables),
      }),
    );
  </script>
</body>
</html>
"""

MISSING = """GraphiQL's files are not installed: run `make install` (it runs `npm ci` in web/),
or query /graphql with POST from any client."""


class GraphiQL:
    """The page and its files, from ``root`` (a node_modules directory holding ASSETS)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def installed(self) -> bool:
        return all((self.root / path).is_file() for path in ASSETS.values())

    def page(self) -> Response:
        """The GraphiQL page, with the examples as its tabs."""
        if not self.installed():
            return PlainTextResponse(MISSING, status_code=503)
        examples = json.dumps([{"query": e.query, "variables": e.variables} for e in EXAMPLES])
        # Inside <script>, only "</" could end the element early.
        body = PAGE.replace("__EXAMPLES__", examples.replace("</", "<\\/"))
        return HTMLResponse(body, headers={"cache-control": "no-cache"})

    async def asset(self, request: Request) -> Response:
        """One of GraphiQL's files; anything else under /graphiql/ is 404."""
        name = request.path_params["name"]
        path = ASSETS.get(name)
        if path is None or not (self.root / path).is_file():
            return PlainTextResponse(f"no such file: {html.escape(name)}", status_code=404)
        return FileResponse(
            self.root / path,
            media_type=MEDIA_TYPES[Path(name).suffix],
            headers={"cache-control": "public, max-age=86400"},
        )
