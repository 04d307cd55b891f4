// A call is a value (issue 16): what `session.fetch` sends (account context, headers,
// body) is fixed when it is called, whatever the session does afterwards; every wait a
// call makes (renewal, store, resend) runs under its one deadline and its caller's signal.

import assert from "node:assert/strict";
import {
  ArmorApiError,
  ArmorSession,
  type ArmorTokenStore,
  KvTokenStore,
  MemoryTokenStore,
  requestArmorApiToken,
} from "../mod.ts";
import { MUST_RENEW_MS } from "../src/renewal.ts";
import { MockClock, type ServedMockArmorApi } from "../src/testing/mod.ts";
import { connect, MINUTE, REISSUE, RENEW_AFTER_MS, serve, SESSION_MS, START } from "./_session.ts";
import { ACCOUNTS, connectPartner, connectPartnerWithKey, servePartner } from "./_partner.ts";

const TOKEN = "2261bac252204c2ea93ed32ea1ffd3ab";

/**
 * The fan-out of the issue: switch account, call, for each account, then await all. Each
 * call goes to `/users/<the account it was made in>/keys` (an authenticated route: 200
 * for a token, 403 for an API key), so the request log tells which call carried which
 * account context. Resolves with the statuses.
 */
async function fanOut(session: ArmorSession): Promise<number[]> {
  const calls: Promise<Response>[] = [];
  for (const account of session.accounts) {
    session.useAccount(account.id);
    calls.push(session.fetch(`/users/${account.id}/keys`));
  }
  const answers = await Promise.all(calls);
  for (const answer of answers) await answer.body?.cancel();
  return answers.map((answer) => answer.status);
}

/** Each fan-out call's path account and the `X-Account-Context` it was sent with. */
function sentContexts(server: ServedMockArmorApi): [string, string | undefined][] {
  return server.mock.requests.filter((r) => /^\/users\/\d+\/keys$/.test(r.path))
    .map((r) => [r.path.split("/")[2], r.headers["x-account-context"]]);
}

/** Asserts that every fan-out call was sent in the account it was made in, `times` each. */
function assertOwnAccounts(server: ServedMockArmorApi, times = 1): void {
  const sent = sentContexts(server);
  assert.equal(sent.length, ACCOUNTS.length * times);
  for (const [made, context] of sent) assert.equal(context, made, JSON.stringify(sent));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store whose reads answer after `ms` (real time). */
function slowStore(inner: ArmorTokenStore, ms: number): ArmorTokenStore & { slow: boolean } {
  const store = {
    slow: false,
    get: async (key: string) => {
      if (store.slow) await sleep(ms);
      return inner.get(key);
    },
    set: (key: string, value: Parameters<ArmorTokenStore["set"]>[1], version: string | null) =>
      inner.set(key, value, version),
  };
  return store;
}

async function rejectsWith(
  pending: Promise<unknown>,
  code: string,
): Promise<ArmorApiError> {
  const error = await pending.then(
    () => assert.fail(`should have failed with ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ArmorApiError, `${error}`);
  assert.equal(error.code, code, error.message);
  return error;
}

// Item 1: the fan-out sends each call in the account it was made in.

Deno.test("fan-out: an API-key session sends each call in the account it was made in", async () => {
  await using server = await servePartner({ clock: new MockClock(Date.now()) });
  const session = await connectPartnerWithKey(server);
  assert.deepEqual(await fanOut(session), [403, 403, 403]); // keys may not list keys
  assertOwnAccounts(server);
});

Deno.test("fan-out: a password session at its renewal point", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  assert.deepEqual(await fanOut(session), [200, 200, 200]);
  await session.idle();
  assertOwnAccounts(server);
  assert.equal(server.mock.count(REISSUE), 1);
});

Deno.test("fan-out: at the renewal point, on a server that revokes the old token on reissue", async () => {
  await using server = await servePartner({ revokeOnReissue: true });
  const session = await connectPartner(server);
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  // Sent with the old token while the renewal runs, held until the reissue revoked it:
  // each gets 401 and is sent again with the new token.
  for (const id of ACCOUNTS) server.mock.inject({ path: `/users/${id}/keys`, delayMs: 150 });
  assert.deepEqual(await fanOut(session), [200, 200, 200]);
  await session.idle();
  assertOwnAccounts(server, 2);
  assert.equal(server.mock.count(REISSUE), 1);
});

Deno.test("fan-out: a password session in its token's last 30 s", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  server.mock.clock.set(START + SESSION_MS - MUST_RENEW_MS + 1_000);
  assert.deepEqual(await fanOut(session), [200, 200, 200]);
  assertOwnAccounts(server);
  assert.equal(server.mock.count(REISSUE), 1);
});

for (
  const [name, open] of [
    ["MemoryTokenStore", () => Promise.resolve({ store: new MemoryTokenStore(), close() {} })],
    ["KvTokenStore", async () => {
      const kv = await Deno.openKv(":memory:");
      return { store: new KvTokenStore(kv), close: () => kv.close() };
    }],
  ] as const
) {
  Deno.test(`fan-out: two sessions sharing a ${name}, at the renewal point`, async () => {
    await using server = await servePartner();
    const { store, close } = await open();
    try {
      const a = await connectPartner(server, { store });
      const b = await connectPartner(server, { store });
      server.mock.clock.advance(RENEW_AFTER_MS + 1);
      assert.deepEqual(await fanOut(a), [200, 200, 200]);
      assert.deepEqual(await fanOut(b), [200, 200, 200]);
      await Promise.all([a.idle(), b.idle()]);
      assertOwnAccounts(server, 2);
    } finally {
      close();
    }
  });
}

// Item 2: the resend after a 401 sends the call as it was made.

Deno.test("a POST resent after a 401 keeps the account it was made in", async () => {
  await using server = await servePartner({ revokeOnReissue: true });
  const session = await connectPartner(server);
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  // Sent with the old token while the renewal runs; held until the reissue revoked it.
  server.mock.inject({ path: "/users/setpassword", delayMs: 150 });
  const pending = session.fetch("/users/setpassword", {
    method: "POST",
    body: JSON.stringify({ password: "x" }),
  });
  session.useAccount(1002);
  const res = await pending;
  await res.body?.cancel();
  await session.idle();
  const sent = server.mock.requests.filter((r) => r.path === "/users/setpassword");
  assert.deepEqual(sent.map((r) => r.status), [401, 204]);
  assert.deepEqual(sent.map((r) => r.headers["x-account-context"]), ["1001", "1001"]);
  assert.deepEqual(sent[1].body, { password: "x" });
  assert.equal(sent[1].headers["content-type"], "application/json");
});

Deno.test("the method, headers and body are those of the call, whatever the caller changes after", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  server.mock.clock.set(START + SESSION_MS - MUST_RENEW_MS + 1_000); // the call waits
  const bytes = new TextEncoder().encode('{"n":1}');
  const headers = new Headers({ "x-trace": "one" });
  const form = new URLSearchParams({ n: "1" });
  const init: RequestInit = { method: "POST", body: bytes, headers };
  const calls = [
    session.fetch("/users/setpassword", init),
    session.fetch("/users/resetpassword", { method: "POST", body: form }),
  ];
  bytes.set(new TextEncoder().encode('{"n":2}'));
  headers.set("x-trace", "two");
  init.method = "PUT";
  form.set("n", "2");
  for (const res of await Promise.all(calls)) await res.body?.cancel();
  const [sent, sentForm] = server.mock.requests.slice(-2);
  assert.equal(sent.method, "POST");
  assert.equal(sent.headers["x-trace"], "one");
  assert.deepEqual(sent.body, { n: 1 });
  assert.equal(sentForm.body, "n=1");
  assert.equal(sentForm.headers["content-type"], "application/x-www-form-urlencoded;charset=UTF-8");
});

// Item 4: the renewal wait in a token's last 30 s, and store waits, under the call's
// deadline and signal.

Deno.test("last 30 s: an abort ends a call waiting for the renewal within milliseconds", async () => {
  await using server = await serve();
  const session = await connect(server);
  const first = session.token;
  server.mock.clock.set(START + SESSION_MS - 10_000);
  server.mock.inject({ path: REISSUE, delayMs: 1_500 });
  const started = performance.now();
  const pending = session.fetch("/me", { signal: AbortSignal.timeout(100) });
  await rejectsWith(pending, "ABORTED");
  const ms = performance.now() - started;
  assert.ok(ms < 600, `settled after ${Math.round(ms)} ms`);
  // The shared renewal was not cancelled: it still replaces the token.
  await session.idle();
  assert.notEqual(session.token, first);
  assert.equal(server.mock.count(REISSUE), 1);
});

Deno.test("last 30 s: the session's timeout covers the renewal wait and the send", async () => {
  await using server = await serve();
  const session = await connect(server, { timeout: 1_000 });
  server.mock.clock.set(START + SESSION_MS - 10_000);
  server.mock.inject({ path: REISSUE, delayMs: 700 });
  server.mock.inject({ path: "/me", delayMs: 700 });
  const started = performance.now();
  await rejectsWith(session.fetch("/me"), "TIMEOUT");
  const ms = performance.now() - started;
  assert.ok(ms < 1_400, `settled after ${Math.round(ms)} ms`);
  await session.idle();
});

Deno.test("last 30 s: a reissue slower than half the timeout lets the call through on the good token", async () => {
  await using server = await serve();
  const session = await connect(server, { timeout: 1_000 });
  const first = session.token;
  server.mock.clock.set(START + SESSION_MS - 10_000);
  server.mock.inject({ path: REISSUE, delayMs: 3_000 });
  const started = performance.now();
  const res = await session.fetch("/me");
  const ms = performance.now() - started;
  await res.body?.cancel();
  assert.equal(res.status, 200);
  assert.ok(ms < 900, `answered after ${Math.round(ms)} ms`);
  assert.equal(server.mock.requests.at(-1)!.headers.authorization, `FH-AUTH ${first}`);
  await session.idle(); // the reissue times out; the token is kept
  assert.equal(session.token, first);
});

Deno.test("shared store: an abort ends a call waiting for the store at the renewal point", async () => {
  await using server = await serve();
  const store = slowStore(new MemoryTokenStore(), 1_500);
  const session = await connect(server, { store });
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  store.slow = true;
  const started = performance.now();
  await rejectsWith(session.fetch("/me", { signal: AbortSignal.timeout(100) }), "ABORTED");
  const ms = performance.now() - started;
  assert.ok(ms < 600, `settled after ${Math.round(ms)} ms`);
  await session.idle();
});

Deno.test("shared store: an abort ends the store read of a session with no token, or an expired one", async () => {
  const store = slowStore(new MemoryTokenStore(), 1_000);
  let now = START;
  const session = new ArmorSession({ store, now: () => now });
  store.slow = true;
  for (const what of ["no token", "an expired token"]) {
    if (what === "an expired token") {
      store.slow = false;
      session.authorize(TOKEN, 15);
      await sleep(50); // shared, best effort
      store.slow = true;
      now += 16 * MINUTE;
    }
    const started = performance.now();
    await rejectsWith(session.fetch("/me", { signal: AbortSignal.timeout(100) }), "ABORTED");
    const ms = performance.now() - started;
    assert.ok(ms < 600, `${what}: settled after ${Math.round(ms)} ms`);
    await sleep(1_000); // the store's read ends
  }
});

for (const [how, code] of [["timeout", "TIMEOUT"], ["abort", "ABORTED"]] as const) {
  Deno.test(`api key: a slow signature stops at the call's ${how}`, async () => {
    await using server = await servePartner({ clock: new MockClock(Date.now()) });
    const session = await connectPartnerWithKey(server, {
      timeout: how === "timeout" ? 300 : 30_000,
    });
    // Web Crypto takes 1 s to sign from now on.
    const subtle = crypto.subtle;
    const sign = subtle.sign;
    Object.defineProperty(subtle, "sign", {
      configurable: true,
      value: (...args: Parameters<SubtleCrypto["sign"]>) =>
        sleep(1_000).then(() => sign.apply(subtle, args)),
    });
    try {
      const before = server.mock.requests.length;
      const started = performance.now();
      const init = how === "abort" ? { signal: AbortSignal.timeout(100) } : undefined;
      await rejectsWith(session.fetch("/accounts", init), code);
      const ms = performance.now() - started;
      assert.ok(ms < 800, `settled after ${Math.round(ms)} ms`);
      await sleep(1_000); // the signature ends
      assert.equal(server.mock.requests.length, before);
    } finally {
      delete (subtle as { sign?: unknown }).sign;
    }
  });
}

// Item 5: the resend after a 401 stays within the call's deadline and signal.

Deno.test("a resend after a 401 does not start a fresh deadline", async () => {
  await using server = await serve({ revokeOnReissue: true });
  const session = await connect(server, { timeout: 1_000 });
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  server.mock.inject({ path: "/me", delayMs: 600 }); // 401: the reissue revoked it meanwhile
  server.mock.inject({ path: "/me", delayMs: 700 }); // the resend
  const started = performance.now();
  await rejectsWith(session.fetch("/me"), "TIMEOUT");
  const ms = performance.now() - started;
  assert.ok(ms < 1_400, `settled after ${Math.round(ms)} ms`);
  await session.idle();
});

for (const [how, code] of [["timeout", "TIMEOUT"], ["abort", "ABORTED"]] as const) {
  Deno.test(`shared store: looking for another session's token after a 401 stops at the ${how}`, async () => {
    await using server = await serve();
    const store = new MemoryTokenStore();
    const session = await connect(server, { store, timeout: how === "timeout" ? 400 : 30_000 });
    // Another session holds the renewal claim, and the server no longer takes our token.
    const entry = (await store.get(session.storeKey))!;
    const claim = { owner: "another-session", purpose: "renew" as const, until: START + MINUTE };
    await store.set(session.storeKey, { ...entry.value, claim }, entry.version);
    server.mock.revokeToken(session.token);
    const started = performance.now();
    const init = how === "abort" ? { signal: AbortSignal.timeout(100) } : undefined;
    await rejectsWith(session.fetch("/me", init), code);
    const ms = performance.now() - started;
    assert.ok(ms < 800, `settled after ${Math.round(ms)} ms`);
    await sleep(300); // a look at the store in flight ends
  });
}

// Item 13: a 401 for a token whose renewal is in flight waits for it.

/** A fetch whose reissue answers reach the session `ms` after the server sent them. */
function reissueAnswerLate(ms: number): typeof globalThis.fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) =>
    globalThis.fetch(input, init).then(async (response) => {
      if (String(input).endsWith(REISSUE)) await sleep(ms);
      return response;
    })) as typeof globalThis.fetch;
}

Deno.test("a 401 while the reissue's answer is in transit takes the new token", async () => {
  await using server = await serve({ revokeOnReissue: true });
  // The reissue's answer reaches the session 300 ms after the server revoked the old token.
  const session = await connect(server, { fetch: reissueAnswerLate(300) });
  const old = session.token;
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  server.mock.inject({ path: "/me", delayMs: 100 }); // arrives after the revocation
  const res = await session.fetch("/me");
  await res.body?.cancel();
  await session.idle();
  assert.equal(res.status, 200);
  const mes = server.mock.requests.filter((r) => r.path === "/me").slice(1);
  assert.deepEqual(mes.map((r) => r.status), [401, 200]);
  assert.equal(mes[0].headers.authorization, `FH-AUTH ${old}`);
  assert.equal(session.isActive(), true);
  assert.notEqual(session.token, old);
  assert.equal(mes[1].headers.authorization, `FH-AUTH ${session.token}`);
  assert.equal(server.mock.count(REISSUE), 1);
});

Deno.test("a 401 while a renewal that then fails is in flight: the 401 is returned, the session ends", async () => {
  await using server = await serve();
  const session = await connect(server);
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  server.mock.inject({ path: REISSUE, delayMs: 200, status: 503 });
  server.mock.revokeToken(session.token); // revoked elsewhere: no renewal can replace it
  const started = performance.now();
  const res = await session.fetch("/me");
  await res.body?.cancel();
  assert.equal(res.status, 401);
  assert.ok(performance.now() - started >= 150, "the call waited for the renewal");
  await session.idle();
  assert.equal(session.isActive(), false);
  assert.equal(server.mock.requests.filter((r) => r.path === "/me").length, 2); // login, call
});

// Item 9: a fetch that resolves with something that is not a Response.

Deno.test("an injected fetch that resolves with undefined after the deadline does not crash", async () => {
  const fetch =
    (() =>
      new Promise((resolve) =>
        setTimeout(() => resolve(undefined), 200)
      )) as unknown as typeof globalThis.fetch;
  const session = new ArmorSession({ fetch, timeout: 50, now: () => START });
  session.authorize(TOKEN, 15);
  await rejectsWith(session.fetch("/me"), "TIMEOUT");
  await rejectsWith(
    requestArmorApiToken("C0d3", { baseUrl: "https://api.armor.com", fetch, timeout: 50 }),
    "TIMEOUT",
  );
  // The late values arrive: the test fails on an uncaught error.
  await sleep(300);
});

Deno.test("an injected fetch that resolves with something that is not a Response is an error", async () => {
  for (const value of [undefined, null, 42, { status: 200 }]) {
    const fetch = (() => Promise.resolve(value)) as unknown as typeof globalThis.fetch;
    const session = new ArmorSession({ fetch, now: () => START });
    session.authorize(TOKEN, 15);
    const error = await rejectsWith(session.fetch("/me"), "INVALID_RESPONSE");
    assert.match(
      error.message,
      /^GET \/me failed: the fetch function resolved with .+, not a Response$/,
    );
    const token = await rejectsWith(
      requestArmorApiToken("C0d3", { baseUrl: "https://api.armor.com", fetch }),
      "INVALID_RESPONSE",
    );
    assert.match(token.message, /not a Response/);
  }
});

Deno.test("a call with a stream body that gets a 401 while the reissue's answer is in transit: its 401, and the session keeps the new token", async () => {
  await using server = await serve({ revokeOnReissue: true });
  // The reissue's answer reaches the session 300 ms after the server revoked the old token.
  const session = await connect(server, { fetch: reissueAnswerLate(300) });
  const old = session.token;
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  const renewing = session.fetch("/me"); // starts the renewal
  await sleep(100); // the server has revoked the old token; its answer is still on the way
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{}"));
      controller.close();
    },
  });
  const init = { method: "POST", body, duplex: "half" } as RequestInit;
  const res = await session.fetch("/users/setpassword", init);
  await res.body?.cancel();
  assert.equal(res.status, 401); // a stream is read once: it cannot be sent again
  await (await renewing).body?.cancel();
  await session.idle();
  assert.equal(session.isActive(), true, "the session ended and threw the new token away");
  assert.notEqual(session.token, old);
  assert.ok(server.mock.isTokenValid(session.token));
  assert.equal(server.mock.count(REISSUE), 1);
});
