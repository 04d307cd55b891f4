// ARMOR-PSK sessions: ArmorSession.connect({ apiKey }) against the mock's API keys. No
// token calls, every request signed, no way to reach the token functions, the secret
// never shown, a clock that is off named as such, and many signed calls at once.

import assert from "node:assert/strict";
import {
  ArmorApiError,
  type ArmorConnectOptions,
  type ArmorLogRecord,
  ArmorSession,
  requestArmorApiToken,
  updateArmorApiToken,
} from "../mod.ts";
import { MockClock, serveMockArmorApi } from "../src/testing/mod.ts";
import { assertNoSecret } from "./_leaks.ts";

const KEY = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "psk-secret-do-not-show-8f3a" };

function serveWithKey() {
  return serveMockArmorApi({ apiKeys: [KEY], clock: new MockClock(Date.now()) });
}

/** Connects to `server` with the key, on the mock's clock; `options` add to or override it. */
function connectWithKey(
  server: { baseUrl: string; mock: { clock: MockClock } },
  options: Partial<ArmorConnectOptions> = {},
): Promise<ArmorSession> {
  return ArmorSession.connect({
    apiKey: KEY,
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    ...options,
  });
}

Deno.test("api key: connect signs GET /me and makes no call to /auth/*", async () => {
  await using server = await serveWithKey();
  const records: ArmorLogRecord[] = [];
  const session = await connectWithKey(server, { logger: (record) => void records.push(record) });
  assert.equal(session.scheme, "ARMOR-PSK");
  assert.equal(session.isActive(), true);
  assert.equal(session.identity?.username, "demo@example.com");
  assert.equal(session.accountId, 1001);
  const res = await session.fetch("/accounts");
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.ok(server.mock.requests.every((r) => !r.path.startsWith("/auth/")));
  assert.equal(server.mock.requests.length, 2);
  for (const request of server.mock.requests) {
    assert.ok(request.headers.authorization.startsWith(`ARMOR-PSK ${KEY.id}:`));
    assert.equal(request.status, 200);
  }
  assert.equal(server.mock.requests[1].headers["x-account-context"], "1001");
  assertNoSecret(records, [KEY.secret], "log records");
});

Deno.test("api key: connect with accountId picks that account", async () => {
  await using server = await serveWithKey();
  const session = await connectWithKey(server, { accountId: 1002 });
  await (await session.fetch("/me")).body?.cancel();
  assert.equal(server.mock.requests.at(-1)!.headers["x-account-context"], "1002");
});

Deno.test("api key: a POST string body is signed (raw, the default) and accepted", async () => {
  await using server = await serveWithKey();
  const session = await connectWithKey(server);
  // The mock checks the signature over the body, then refuses keys here with 403.
  const res = await session.fetch("/users/setpassword", {
    method: "POST",
    body: JSON.stringify({ password: "x" }),
  });
  assert.equal(res.status, 403);
  await res.body?.cancel();
  const sent = server.mock.requests.at(-1)!;
  assert.equal(sent.method, "POST");
  assert.equal(sent.headers["content-type"], "application/json");
  assert.ok(sent.headers.authorization.startsWith(`ARMOR-PSK ${KEY.id}:`));
});

Deno.test("api key: a ReadableStream body is a TypeError, nothing sent", async () => {
  await using server = await serveWithKey();
  const session = await connectWithKey(server);
  const before = server.mock.requests.length;
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{}"));
      controller.close();
    },
  });
  await assert.rejects(() => session.fetch("/me", { method: "POST", body }), TypeError);
  assert.equal(server.mock.requests.length, before);
});

Deno.test("api key: authorize, updateArmorApiToken and requestArmorApiToken are TypeErrors", async () => {
  await using server = await serveWithKey();
  const session = await connectWithKey(server);
  assert.throws(() => session.authorize("2261bac252204c2ea93ed32ea1ffd3ab", 15), TypeError);
  await assert.rejects(() => updateArmorApiToken(undefined, { session }), TypeError);
  await assert.rejects(() => requestArmorApiToken("x", { session }), TypeError);
  assert.throws(() => session.token, ArmorApiError);
  assert.equal(server.mock.requests.filter((r) => r.path.startsWith("/auth/")).length, 0);
});

Deno.test("api key: the secret is never in JSON, inspect, errors or log records", async () => {
  await using server = await serveWithKey();
  const records: ArmorLogRecord[] = [];
  const session = await connectWithKey(server, { logger: (record) => void records.push(record) });
  assertNoSecret(session, [KEY.secret], "session");
  assert.equal(JSON.stringify(session).includes(KEY.secret), false);
  assert.equal(Deno.inspect(session, { showHidden: true, depth: 10 }).includes(KEY.secret), false);
  const errors: unknown[] = [];
  for (
    const attempt of [
      () => session.fetch("https://elsewhere.example/me"),
      () => session.fetch("/me", { method: "POST", body: new Blob(["x"]) }),
      () => updateArmorApiToken(undefined, { session }),
    ]
  ) {
    await attempt().then(() => assert.fail("should have failed"), (e) => errors.push(e));
  }
  // A wrong secret: the 401 is the server's, not ours.
  const wrong = { id: KEY.id, secret: "another-secret-of-some-length" };
  await ArmorSession.connect({ apiKey: wrong, baseUrl: server.baseUrl }).then(
    () => assert.fail("should have failed"),
    (e) => errors.push(e),
  );
  const failed = errors.at(-1);
  assert.ok(failed instanceof ArmorApiError);
  assert.equal(failed.status, 401);
  assertNoSecret(errors, [KEY.secret, wrong.secret], "errors");
  assertNoSecret(records, [KEY.secret], "log records");
});

Deno.test("api key: a clock 10 minutes ahead rejects a call with CLOCK_SKEW", async () => {
  await using server = await serveWithKey();
  let offset = 0;
  const session = await ArmorSession.connect({
    apiKey: KEY,
    baseUrl: server.baseUrl,
    now: () => Date.now() + offset,
  });
  offset = 600_000;
  const error = await session.fetch("/me").then(
    () => assert.fail("should have failed"),
    (e: unknown) => e,
  );
  assert.equal(server.mock.requests.at(-1)!.status, 401);
  assert.ok(error instanceof ArmorApiError, String(error));
  assert.equal(error.code, "CLOCK_SKEW");
  const seconds = Number(/(\d+) s/.exec(error.message)?.[1]);
  assert.ok(Math.abs(seconds - 600) <= 5, error.message);
});

Deno.test({
  name: "api key: a clock 10 minutes ahead fails connect with CLOCK_SKEW",
  fn: async () => {
    await using server = await serveWithKey();
    const error = await ArmorSession.connect({
      apiKey: KEY,
      baseUrl: server.baseUrl,
      now: () => Date.now() + 600_000,
    }).then(() => assert.fail("should have failed"), (e: unknown) => e);
    assert.ok(error instanceof ArmorApiError, String(error));
    assert.equal(error.code, "CLOCK_SKEW");
    assert.match(error.message, /\b(59\d|60\d) s\b/);
  },
});

Deno.test("api key: 10,000 signed calls at concurrency 100, none rejected", async () => {
  await using server = await serveWithKey();
  const session = await connectWithKey(server);
  const total = 10_000;
  let next = 0;
  const statuses = new Map<number, number>();
  const started = performance.now();
  await Promise.all(Array.from({ length: 100 }, async () => {
    while (next < total) {
      next++;
      const res = await session.fetch("/accounts");
      await res.body?.cancel();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }));
  const ms = performance.now() - started;
  console.log(`10,000 signed calls at concurrency 100: ${Math.round(ms)} ms`);
  assert.deepEqual([...statuses], [[200, total]]);
  assert.ok(ms < 30_000, `${Math.round(ms)} ms`);
});
