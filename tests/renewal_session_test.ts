import assert from "node:assert/strict";
import { MUST_RENEW_MS, RETRY_MIN_MS, retryDelay } from "../src/renewal.ts";
import {
  callMe,
  connect,
  MINUTE,
  REISSUE,
  RENEW_AFTER_MS,
  serve,
  SESSION_MS,
  START,
} from "./_session.ts";

Deno.test("no reissue before a third of the session has passed", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);
  const first = session.token;

  for (const step of [0, MINUTE, 3 * MINUTE, RENEW_AFTER_MS - 1]) {
    clock.set(START + step);
    assert.equal(await callMe(server, session), first);
    await session.idle();
  }
  assert.equal(mock.count(REISSUE), 0);
  assert.equal(session.token, first);
});

Deno.test("just after the renewal point one call renews in the background", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);
  const first = session.token;
  // The reissue takes half a second of real time.
  mock.inject({ path: REISSUE, delayMs: 500 });

  clock.set(START + RENEW_AFTER_MS + 1);
  const started = performance.now();
  assert.equal(await callMe(server, session), first);
  const took = performance.now() - started;
  // The call went out with the current token without waiting for the reissue.
  assert.ok(took < 400, `the call waited ${Math.round(took)} ms for the renewal`);
  assert.equal(session.token, first);

  await session.idle();
  assert.equal(mock.count(REISSUE), 1);
  assert.deepEqual(mock.requests.find((r) => r.path === REISSUE)?.body, { token: first });
  const second = mock.issuedTokens.at(-1)!;
  assert.notEqual(second, first);
  assert.equal(session.token, second);
  assert.equal(session.issuedAt.getTime(), clock.now());
  assert.equal(session.expiresAt.getTime(), clock.now() + SESSION_MS);

  assert.equal(await callMe(server, session), second);
  assert.equal(mock.count(REISSUE), 1);
});

Deno.test("the renewed session renews again a third into its new lifetime", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);

  clock.set(START + RENEW_AFTER_MS + 1);
  await callMe(server, session);
  await session.idle();
  const renewedAt = clock.now();
  assert.equal(mock.count(REISSUE), 1);

  clock.set(renewedAt + RENEW_AFTER_MS - 1);
  await callMe(server, session);
  await session.idle();
  assert.equal(mock.count(REISSUE), 1);

  clock.set(renewedAt + RENEW_AFTER_MS + 1);
  await callMe(server, session);
  await session.idle();
  assert.equal(mock.count(REISSUE), 2);
  assert.equal(session.token, mock.issuedTokens.at(-1));
});

Deno.test("a storm of 1,000 calls at the renewal point makes exactly one reissue", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);
  const before = mock.count("/me");

  clock.set(START + RENEW_AFTER_MS + 1);
  const statuses = await Promise.all(
    Array.from({ length: 1_000 }, async () => {
      const res = await session.fetch("/me");
      await res.body?.cancel();
      return res.status;
    }),
  );
  await session.idle();

  assert.equal(statuses.length, 1_000);
  assert.ok(statuses.every((status) => status === 200));
  assert.equal(mock.count("/me"), before + 1_000);
  assert.equal(mock.count(REISSUE), 1);
  assert.equal(session.token, mock.issuedTokens.at(-1));
});

Deno.test("a failed reissue: calls go on with the current token, retried with backoff", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);
  const first = session.token;
  mock.inject({ path: REISSUE, status: 500, times: Infinity });

  clock.set(START + RENEW_AFTER_MS + 1);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 1);
  assert.equal(session.isActive(), true);

  // Within the first backoff window: calls succeed, no new attempt.
  for (let i = 0; i < 20; i++) assert.equal(await callMe(server, session), first);
  clock.advance(RETRY_MIN_MS - 1);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 1);

  // Past it: the next call retries, once.
  clock.advance(1);
  assert.equal(await callMe(server, session), first);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 2);

  // The wait doubles: nothing after one more RETRY_MIN_MS, a retry after two.
  clock.advance(RETRY_MIN_MS);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 2);
  clock.advance(RETRY_MIN_MS);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 3);

  // Then four times RETRY_MIN_MS; once the API recovers, the session renews.
  assert.equal(retryDelay(3), 4 * RETRY_MIN_MS);
  mock.clearFaults();
  clock.advance(4 * RETRY_MIN_MS - 1);
  await callMe(server, session);
  await session.idle();
  assert.equal(mock.count(REISSUE), 3);
  clock.advance(1);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 4);
  assert.equal(session.token, mock.issuedTokens.at(-1));
  assert.equal(await callMe(server, session), mock.issuedTokens.at(-1));
});

Deno.test("a 429 with Retry-After: 30 holds the next reissue for 30 seconds", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);
  const first = session.token;
  mock.inject({ path: REISSUE, status: 429, headers: { "Retry-After": "30" } });

  clock.set(START + RENEW_AFTER_MS + 1);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 1);

  clock.advance(30_000 - 1);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 1);

  clock.advance(1);
  assert.equal(await callMe(server, session), first);
  await session.idle();
  assert.equal(mock.count(REISSUE), 2);
  assert.notEqual(session.token, first);
  assert.equal(session.token, mock.issuedTokens.at(-1));
});

Deno.test("within MUST_RENEW_MS of expiry the caller waits and sends the new token", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);
  const first = session.token;
  mock.inject({ path: REISSUE, delayMs: 100 });

  clock.set(START + SESSION_MS - MUST_RENEW_MS + 1_000);
  const sent = await callMe(server, session);
  assert.equal(mock.count(REISSUE), 1);
  const second = mock.issuedTokens.at(-1)!;
  assert.notEqual(second, first);
  assert.equal(sent, second);
  assert.equal(session.token, second);
  assert.equal(session.expiresAt.getTime(), clock.now() + SESSION_MS);
  // The reissue was answered before the call went out.
  const order = mock.requests.slice(-2).map((r) => r.path);
  assert.deepEqual(order, [REISSUE, "/me"]);
});

Deno.test("within MUST_RENEW_MS, concurrent callers share one reissue", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);

  clock.set(START + SESSION_MS - 10_000);
  const sent = await Promise.all(Array.from({ length: 20 }, () => callMe(server, session)));
  assert.equal(mock.count(REISSUE), 1);
  const second = mock.issuedTokens.at(-1)!;
  assert.ok(sent.every((token) => token === second));
});

Deno.test("within MUST_RENEW_MS a failed reissue still lets the call through on the good token", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);
  const first = session.token;
  mock.inject({ path: REISSUE, status: 503 });

  clock.set(START + SESSION_MS - 10_000);
  assert.equal(await callMe(server, session), first);
  assert.equal(mock.count(REISSUE), 1);
  assert.equal(session.isActive(), true);
  assert.equal(session.token, first);
});

Deno.test("a session that was never renewed expires: SESSION_EXPIRED, nothing sent", async () => {
  await using server = await serve();
  const mock = server.mock;
  const clock = mock.clock;
  const session = await connect(server);
  mock.inject({ path: REISSUE, status: 500, times: Infinity });

  clock.set(START + RENEW_AFTER_MS + 1);
  await callMe(server, session);
  await session.idle();

  clock.set(START + SESSION_MS);
  const before = mock.requests.length;
  await assert.rejects(session.fetch("/me"), {
    name: "ArmorApiError",
    code: "SESSION_EXPIRED",
    message: new RegExp(`${new Date(START + SESSION_MS).toISOString()}.*log in again`),
  });
  assert.equal(mock.requests.length, before);
});
