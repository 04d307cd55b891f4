// API-key sessions sign a polled endpoint one call ahead: each signature is still used
// once, fresh, and by the session's clock.

import assert from "node:assert/strict";
import { ArmorSession } from "../mod.ts";
import { MockClock, serveMockArmorApi } from "../src/testing/mod.ts";

const KEY = { id: "3f0c2a8e-5b1d-4c7e-9a6f-0d2e4b8c1a35", secret: "ahead-secret-7c1e" };

function header(server: { mock: { requests: { headers: Record<string, string> }[] } }, i: number) {
  const [, , nonce, timestamp] = server.mock.requests[i].headers.authorization.split(":");
  return { nonce, timestamp: Number(timestamp) };
}

/** Connects to `server` with the key, on the mock's clock. */
function connectWithKey(server: { baseUrl: string; mock: { clock: MockClock } }) {
  return ArmorSession.connect({ apiKey: KEY, baseUrl: server.baseUrl, now: server.mock.clock.now });
}

/** Calls `GET /accounts` `times` times, dropping the bodies; the statuses. */
async function poll(session: ArmorSession, times: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) {
    const response = await session.fetch("/accounts");
    await response.body?.cancel();
    statuses.push(response.status);
  }
  return statuses;
}

Deno.test("a polled endpoint: every call accepted, every nonce used once", async () => {
  await using server = await serveMockArmorApi({
    apiKeys: [KEY],
    clock: new MockClock(Date.now()),
  });
  const session = await connectWithKey(server);
  assert.deepEqual(await poll(session, 50), Array(50).fill(200));
  const nonces = server.mock.requests.map((_, i) => header(server, i).nonce);
  assert.equal(new Set(nonces).size, nonces.length, "a nonce was sent twice");
});

Deno.test("a signature made ahead is not used once the session's clock has moved on", async () => {
  await using server = await serveMockArmorApi({
    apiKeys: [KEY],
    clock: new MockClock(Date.now()),
  });
  const clock = server.mock.clock;
  const session = await connectWithKey(server);
  await poll(session, 3);
  // Ten minutes later by the session's clock (and the server's): a signature made before
  // would be stale; the call is signed afresh and accepted.
  clock.advance(10 * 60_000);
  const response = await session.fetch("/accounts");
  await response.body?.cancel();
  assert.equal(response.status, 200);
  const last = header(server, server.mock.requests.length - 1);
  assert.ok(Math.abs(last.timestamp - Math.floor(clock.now() / 1000)) <= 1);
});
