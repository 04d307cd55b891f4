// Run by serve_node_test.ts with Node (or Bun): serves the mock from a bundle of
// src/testing/mod.ts, logs in over the socket, and checks that close() ends a pending
// delay at once. Prints one JSON line with what it saw.
const [bundle] = process.argv.slice(2);
const { MockClock, serveMockArmorApi } = await import(bundle);

const seen = { deno: typeof globalThis.Deno };
const served = await serveMockArmorApi({ clock: new MockClock(0), dialect: "openapi" });
const post = (path, body) =>
  fetch(served.baseUrl + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });

seen.baseUrl = served.baseUrl;
const authorize = await post("/auth/authorize", {
  Username: "demo@example.com",
  Password: "demo-password",
});
const { code } = await authorize.json();
const token = await (await post("/auth/token", { code, grant_type: "authorization_code" })).json();
seen.tokenType = token.token_type;
const me = await fetch(`${served.baseUrl}/me`, {
  headers: { Authorization: `FH-AUTH ${token.access_token}`, "X-Account-Context": "1001" },
});
seen.me = [me.status, (await me.json()).user.username];

served.mock.inject({ path: "/accounts", status: 503, headers: { "Retry-After": "1" } });
const faulted = await fetch(`${served.baseUrl}/accounts`);
seen.fault = [faulted.status, faulted.headers.get("retry-after"), (await faulted.json()).error];

served.mock.inject({ delayMs: 60_000 });
const pending = fetch(`${served.baseUrl}/me`).then(async (res) => {
  await res.body?.cancel();
  return res.status;
});
while (served.mock.requests.length < 5) await new Promise((resolve) => setTimeout(resolve, 5));
const started = performance.now();
await served.close();
seen.closeMs = Math.round(performance.now() - started);
seen.pending = await pending;
seen.log = served.mock.requests.map((request) => request.status);
try {
  await fetch(`${served.baseUrl}/me`);
  seen.afterClose = "open";
} catch {
  seen.afterClose = "refused";
}
console.log(JSON.stringify(seen));
