// Runs GraphQL operations through Apollo Client with its persisted-queries link,
// configured as README.md shows, and reports what happened on the wire.
//
//   node apollo_client.mjs scenario.json
//
// scenario.json: {"clients": {"a": {"uri": "...", "token": "..."}},
//                 "steps": [{"client": "a", "query": "...", "variables": {...}},
//                           {"client": "a", "mutation": "...", "variables": {...}}]}
// Prints one JSON array: per step, its data, its error (GraphQL error codes, or the
// network error) and every HTTP request the step made (method, whether the document
// was sent, status and caching headers).
import { readFileSync } from "node:fs";

// README.md's imports, then what this script needs besides.
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { sha256 } from "crypto-hash";
import { CombinedGraphQLErrors, gql } from "@apollo/client";

const scenario = JSON.parse(readFileSync(process.argv[2], "utf8"));
const requests = [];

async function recordingFetch(input, init = {}) {
  const url = new URL(typeof input === "string" ? input : input.url);
  const method = (init.method || "GET").toUpperCase();
  const body = init.body ? JSON.parse(init.body) : {};
  const response = await fetch(input, init);
  requests.push({
    method,
    sentDocument: url.searchParams.has("query") || typeof body.query === "string",
    status: response.status,
    cacheControl: response.headers.get("cache-control"),
    etag: response.headers.get("etag"),
  });
  return response;
}

function makeClient({ uri, token }) {
  // As in README.md, "Persisted queries", plus a fetch that records each request.
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
      new HttpLink({
        uri,
        fetch: recordingFetch,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      }),
    ),
  });
}

function describe(error) {
  if (!error) return null;
  if (CombinedGraphQLErrors.is(error)) {
    return { codes: error.errors.map((e) => e.extensions?.code ?? null) };
  }
  // A non-2xx answer: Apollo keeps the body, whose errors carry the codes.
  let codes = null;
  try {
    codes = JSON.parse(error.bodyText).errors.map((e) => e.extensions?.code ?? null);
  } catch {}
  return { name: error.name, statusCode: error.statusCode ?? null, codes };
}

const clients = Object.fromEntries(
  Object.entries(scenario.clients).map(([name, options]) => [name, makeClient(options)]),
);
const results = [];
for (const step of scenario.steps) {
  const client = clients[step.client];
  const before = requests.length;
  let outcome;
  try {
    outcome = step.mutation
      ? await client.mutate({
          mutation: gql(step.mutation),
          variables: step.variables,
          errorPolicy: "all",
        })
      : await client.query({
          query: gql(step.query),
          variables: step.variables,
          fetchPolicy: "network-only",
          errorPolicy: "all",
        });
  } catch (error) {
    outcome = { error };
  }
  results.push({
    data: outcome.data ?? null,
    error: describe(outcome.error),
    requests: requests.slice(before),
  });
}
process.stdout.write(JSON.stringify(results));
