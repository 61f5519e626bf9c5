"""graphql-codegen against the live server: it introspects /graphql over HTTP, as a project pointed at our
endpoint does, and writes TypeScript for the schema and for two of GraphiQL's examples.

The clients' graphql is 16.11.0 (as GraphiQL's, and the major Apollo Client 3 accepts): codegen prints the
schema it was given and parses it again with that version, so the test also fails when introspection shows
something graphql-js 16 cannot read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from service.api.graphiql import EXAMPLES
from service.config import PROJECT_ROOT
from tests.e2e.clients import installed, run

# docs/frontend.md's configuration, and the lines it says codegen writes (runs of lines between "..." lines).
PAGE = (PROJECT_ROOT / "docs" / "frontend.md").read_text()
[DOCUMENTED_CONFIG] = re.findall(r"<!-- codegen config -->\n```json\n(.*?)\n```", PAGE, re.S)
[DOCUMENTED_OUTPUT] = re.findall(r"<!-- codegen output -->\n```ts\n(.*?)\n```", PAGE, re.S)


async def test_codegen_writes_typescript_for_the_schema_and_operations(server: str, tmp_path: Path) -> None:
    documents = tmp_path / "operations.graphql"
    documents.write_text("\n".join(example.query for example in EXAMPLES[:2]))
    output = tmp_path / "generated.ts"
    # The page's configuration, pointed at this server, these documents and this output.
    documented = json.loads(DOCUMENTED_CONFIG)
    [generates] = documented["generates"].values()
    config = {
        **documented,
        "schema": f"{server}/graphql",
        "documents": str(documents),
        "generates": {str(output): generates},
    }
    (tmp_path / "codegen.json").write_text(json.dumps(config))

    done = await run(installed("@graphql-codegen/cli/esm/bin.js"), "--config", tmp_path / "codegen.json")

    assert done.returncode == 0, f"graphql-codegen exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    generated = output.read_text()
    # What the page shows of the output.
    for lines in DOCUMENTED_OUTPUT.split("\n...\n"):
        assert lines in generated, lines
    # The schema's types.
    assert "export type Actor = Node & {" in generated
    assert "export type Claim = Node & {" in generated
    assert "export type Query = {" in generated
    assert "export type Mutation = {" in generated
    assert "export enum Modality {" in generated
    # The config's `scalars` took (without it DateTime would be `unknown`).
    assert "  DateTime: { input: string; output: string; }\n" in generated
    assert "  publishedAt?: Maybe<Scalars['DateTime']['output']>;\n" in generated
    # The operations' types.
    assert "export type AnonymousClaimsAboutQueryVariables = Exact<{\n  name: string;\n}>;" in generated
    headline = next(
        line for line in generated.splitlines() if line.startswith("export type AnonymousClaimsAboutQuery =")
    )
    assert headline.startswith("export type AnonymousClaimsAboutQuery = { actor: { id: string, name: string, claims: {")
    assert "publishedAt: string | null" in headline
    assert "export type ProvenanceQueryVariables = Exact<{ [key: string]: never; }>;" in generated
    assert "export type ProvenanceQuery = { actor: { claims: {" in generated
