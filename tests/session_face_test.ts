// What a user reads off a session and its records: an API-key session's token, expiry
// and activity; the message for missing credentials; one form for a redacted
// Authorization header in every log record and plan.

import assert from "node:assert/strict";
import {
  ArmorApiError,
  type ArmorLogRecord,
  ArmorSession,
  requestArmorApiToken,
  updateArmorApiToken,
} from "../mod.ts";
import { MockClock, serveMockArmorApi } from "../src/testing/mod.ts";
import { connect, serve } from "./_session.ts";

const KEY = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "psk-secret-face-test-5c1d" };

Deno.test("an API-key session: no token, an expiry that never comes, active until disconnect", async () => {
  await using server = await serveMockArmorApi({
    apiKeys: [KEY],
    clock: new MockClock(Date.now()),
  });
  const session = await ArmorSession.connect({
    apiKey: KEY,
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
  });
  assert.equal(session.isActive(), true);
  assert.throws(() => session.token, (error: ArmorApiError) => {
    assert.ok(error instanceof ArmorApiError);
    assert.equal(error.code, "NOT_AUTHORIZED");
    assert.match(error.message, /^An API-key session has no token: each request is signed/);
    return true;
  });
  assert.equal(session.expiresAt.toISOString(), "+275760-09-13T00:00:00.000Z");
  assert.ok(session.expiresAt > new Date(server.mock.clock.now() + 10 * 365 * 86_400_000));
  server.mock.clock.advance(365 * 86_400_000); // a key does not expire
  assert.equal(session.isActive(), true);
  await session.disconnect();
  assert.equal(session.isActive(), false);
  assert.equal(session.expiresAt.getTime(), 0);
  assert.throws(() => session.token, { name: "ArmorApiError", code: "NOT_AUTHORIZED" });
});

Deno.test("missing credentials say what to give", async () => {
  await assert.rejects(
    ArmorSession.connect({ password: "pw" }),
    { name: "TypeError", message: "username is missing: give username and password, or apiKey" },
  );
  await assert.rejects(
    ArmorSession.connect({ username: "ops@example.com" }),
    { name: "TypeError", message: "password is missing: give username and password, or apiKey" },
  );
  await assert.rejects(
    ArmorSession.connect({}),
    { name: "TypeError", message: /^username is missing/ },
  );
  await assert.rejects(
    ArmorSession.connect({ username: 42 as unknown as string, password: "pw" }),
    (error: TypeError) => !/a undefined|a number, got/.test(error.message),
  );
});

Deno.test("every record and plan shows Authorization as '<scheme> [REDACTED]'", async () => {
  await using server = await serve();
  const records: ArmorLogRecord[] = [];
  const logger = (record: ArmorLogRecord) => void records.push(record);
  const session = await connect(server, { logger });
  await (await session.fetch("/accounts")).body?.cancel(); // the hot path
  await (await session.fetch("/accounts", { method: "GET", headers: { "x-note": "1" } })).body
    ?.cancel(); // the path with init
  await updateArmorApiToken(undefined, { session, logger });
  const plan = await updateArmorApiToken(undefined, { session, whatIf: true });
  await assert.rejects(
    requestArmorApiToken("not-a-live-code", { baseUrl: server.baseUrl, logger }),
  );
  await session.disconnect();

  const shown = records.flatMap((record) =>
    Object.entries(record.headers ?? {}).filter(([name]) => name.toLowerCase() === "authorization")
      .map(([, value]) =>
        `${record.method} ${new URL(record.url ?? "http://x/").pathname} ${value}`
      )
  );
  // /me at login, both session.fetch paths, and the reissue each carry one.
  assert.ok(shown.length >= 4, shown.join("\n"));
  for (const line of shown) assert.match(line, / FH-AUTH \[REDACTED\]$/, line);
  assert.ok(shown.some((line) => line.startsWith("GET /me ")));
  assert.ok(shown.some((line) => line.startsWith("GET /accounts ")));
  assert.ok(shown.some((line) => line.startsWith("POST /auth/token/reissue ")));
  const planned = Object.entries((plan as { headers: Record<string, string> }).headers)
    .find(([name]) => name.toLowerCase() === "authorization");
  assert.equal(planned?.[1], "FH-AUTH [REDACTED]");
});

Deno.test("an API-key session's records show 'ARMOR-PSK [REDACTED]'", async () => {
  await using server = await serveMockArmorApi({
    apiKeys: [KEY],
    clock: new MockClock(Date.now()),
  });
  const records: ArmorLogRecord[] = [];
  const session = await ArmorSession.connect({
    apiKey: KEY,
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    logger: (record) => void records.push(record),
  });
  await (await session.fetch("/accounts")).body?.cancel();
  const values = records.flatMap((record) =>
    Object.entries(record.headers ?? {}).filter(([name]) => name === "authorization").map((
      [, value],
    ) => value)
  );
  assert.ok(values.length >= 2, JSON.stringify(records));
  for (const value of values) assert.equal(value, "ARMOR-PSK [REDACTED]");
});
