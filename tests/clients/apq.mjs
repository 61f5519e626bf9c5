// Apollo Client 3 with its automatic persisted queries link, against a live kb server.
//
//   node apq.mjs <url of /graphql> <nonce>
//
// For each of POST and GET (useGETForHashedQueries), a new client runs one query three times (no cache, so each
// goes to the server). The nonce names the operations, so their hashes are new to the server. Prints JSON:
// {"POST": {"results": [...], "requests": [...]}, "GET": {...}}; each request as the link sent it (method,
// whether it carried the query, the hash) with the answer's status and error codes.
import { createHash } from "node:crypto";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";

const [url, nonce] = process.argv.slice(2);
if (!url || !nonce) {
  console.error("usage: node apq.mjs <url of /graphql> <nonce>");
  process.exit(2);
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function recordingFetch(requests) {
  return async (uri, options = {}) => {
    const method = options.method ?? "GET";
    const sent = new URL(uri);
    const body = typeof options.body === "string" ? JSON.parse(options.body) : {};
    const extensions = method === "GET" ? JSON.parse(sent.searchParams.get("extensions") ?? "{}") : body.extensions;
    const response = await fetch(uri, options);
    const answer = JSON.parse(await response.clone().text());
    requests.push({
      method,
      query: method === "GET" ? sent.searchParams.has("query") : typeof body.query === "string",
      hash: extensions?.persistedQuery?.sha256Hash ?? null,
      status: response.status,
      codes: (answer.errors ?? []).map((error) => error.extensions?.code ?? error.message),
    });
    return response;
  };
}

async function run(method) {
  const requests = [];
  const link = createPersistedQueryLink({ sha256, useGETForHashedQueries: method === "GET" }).concat(
    new HttpLink({ uri: url, fetch: recordingFetch(requests) }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const query = gql`
    query Actor_${method}_${nonce}($name: String!) {
      actor(name: $name) {
        name
      }
    }
  `;
  const results = [];
  for (let i = 0; i < 3; i += 1) {
    const { data, errors } = await client.query({ query, variables: { name: "UAE" }, fetchPolicy: "no-cache" });
    results.push({ data, errors: errors ?? null });
  }
  client.stop();
  return { results, requests };
}

const output = {};
for (const method of ["POST", "GET"]) {
  output[method] = await run(method);
}
console.log(JSON.stringify(output));
