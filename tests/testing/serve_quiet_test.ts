// What a user's test output shows: a served mock with delays prints nothing, in particular
// not Deno's "request.signal aborts on successful responses" warning, which Deno prints
// once per process when a Deno.serve handler reads request.signal and then answers.
import assert from "node:assert/strict";

const MOD = new URL("../../src/testing/mod.ts", import.meta.url).href;
const ROOT = new URL("../../", import.meta.url).pathname;

/** A user's test run, as a child Deno process: serves the mock, delays, answers. */
const SCRIPT = `
import { DEFAULT_MOCK_USER, serveMockArmorApi } from "${MOD}";
const served = await serveMockArmorApi({
  users: [{ ...DEFAULT_MOCK_USER, mfaDelayMs: 20 }],
});
served.mock.inject({ path: "/me", delayMs: 20, times: 3 });
served.mock.inject({ path: "/accounts", delayMs: 20, status: 503 });
for (let i = 0; i < 3; i++) {
  const res = await fetch(served.baseUrl + "/me");
  await res.body?.cancel();
}
const accounts = await fetch(served.baseUrl + "/accounts");
await accounts.body?.cancel();
const login = await fetch(served.baseUrl + "/auth/authorize", {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ username: "demo@example.com", password: "demo-password" }),
});
await login.body?.cancel();
// Give Deno time to finish the answers, when it would print the warning.
await new Promise((resolve) => setTimeout(resolve, 100));
await served.close();
console.log(JSON.stringify(served.mock.requests.map((request) => request.status)));
`;

Deno.test("a served mock with delays prints no Deno warning into the user's output", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-net=127.0.0.1", "--allow-read", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(SCRIPT));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, err);
  assert.deepEqual(JSON.parse(out.trim()), [401, 401, 401, 503, 200]);
  assert.doesNotMatch(err, /request\.signal/);
  assert.equal(err.trim(), "", `nothing on stderr, got: ${err}`);
});
