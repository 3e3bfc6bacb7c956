// Runs graphql-http's GraphQL-over-HTTP audit (auditServer) against a gateway and prints one JSON
// line per audit: {id, name, status, reason?}. Every request carries the bearer token given, as
// any client of the gateway must.
//   node audit.mjs http://127.0.0.1:8000/graphql "<token>"
import { auditServer } from "graphql-http";

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node audit.mjs URL TOKEN");
  process.exit(2);
}

function withToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  // A deadline on every request: a server that never answers fails the audit, not the test run.
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(10_000) });
}

const results = await auditServer({ url, fetchFn: withToken });
for (const { id, name, status, reason } of results) {
  console.log(JSON.stringify({ id, name, status, ...(reason ? { reason } : {}) }));
}
