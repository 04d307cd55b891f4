// Hostile or careless inputs (issue 10), one test per attack: each must fail cleanly,
// before anything is sent, or be survived with the session intact.

import assert from "node:assert/strict";
import {
  ArmorSession,
  type ArmorStoredSession,
  MemoryTokenStore,
  requestArmorApiToken,
} from "../mod.ts";
import { MockClock, serveMockArmorApi } from "../src/testing/mod.ts";

const START = Date.UTC(2026, 10, 23, 10, 0);
const MINUTE = 60_000;
const TOKEN = "2261bac252204c2ea93ed32ea1ffd3ab";
const CODE = "VGhpcyBpcyBzb21lIHRleHQgdG8gY29udmVydCB2aWEgQ3J5cHQu=";
const USER = { username: "demo@example.com", password: "demo-password" };

/** A fetch that counts its calls and answers 200 `{}`. */
function spy() {
  const calls: string[] = [];
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(new Request(input, init).url);
    return Promise.resolve(Response.json({}));
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

/** A session holding a token, on a spy fetch. */
function authorized() {
  const api = spy();
  const session = new ArmorSession({ fetch: api.fetch, now: () => START, accountId: 1001 });
  session.authorize(TOKEN, 15);
  return { session, calls: api.calls };
}

Deno.test("attack: header injection with \\r\\n in a header value", async () => {
  const { session, calls } = authorized();
  const value = "evil\r\nX-Injected: owned-9f2c";
  let pending: Promise<Response> | undefined;
  assert.doesNotThrow(() => {
    pending = session.fetch("/me", { headers: { "x-note": value } });
  });
  const error = await pending!.then(() => assert.fail("should have failed"), (e: unknown) => e);
  assert.ok(error instanceof TypeError, String(error));
  assert.equal(error.message.includes("owned-9f2c"), false);
  assert.equal(error.message.includes(value), false);
  assert.equal(calls.length, 0);
});

Deno.test("attack: init.signal that is not an AbortSignal", async () => {
  const { session, calls } = authorized();
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => session.fetch("/me", { signal: {} as any }),
    TypeError,
  );
  assert.equal(calls.length, 0);
});

Deno.test("attack: credentials in the URL (http://user:pw@host/me)", async () => {
  await using server = await serveMockArmorApi({ clock: new MockClock(START) });
  const session = await ArmorSession.connect({
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    ...USER,
  });
  const before = server.mock.requests.length;
  const port = new URL(server.baseUrl).port;
  const error = await session.fetch(`http://user:pw@127.0.0.1:${port}/me`).then(
    () => assert.fail("should have failed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TypeError, String(error));
  assert.equal(error.message.includes("pw@"), false);
  assert.equal(server.mock.requests.length, before);
  await session.disconnect();
});

Deno.test("attack: a GET with a body", async () => {
  const { session, calls } = authorized();
  await assert.rejects(() => session.fetch("/me", { body: "x" }), TypeError);
  await assert.rejects(() => session.fetch("/me", { method: "HEAD", body: "x" }), TypeError);
  assert.equal(calls.length, 0);
});

Deno.test("attack: a base URL with an empty query or fragment", async () => {
  for (const baseUrl of ["https://api.armor.com?", "https://api.armor.com/#"]) {
    const api = spy();
    assert.throws(() => new ArmorSession({ baseUrl, fetch: api.fetch }), TypeError, baseUrl);
    await assert.rejects(
      () => ArmorSession.connect({ baseUrl, fetch: api.fetch, ...USER }),
      TypeError,
      baseUrl,
    );
    await assert.rejects(
      () => requestArmorApiToken(CODE, { baseUrl, fetch: api.fetch }),
      TypeError,
    );
    assert.equal(api.calls.length, 0, baseUrl);
  }
});

Deno.test("attack: baseUrl null", () => {
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new ArmorSession({ baseUrl: null as any }), TypeError);
});

Deno.test("attack: a clock that returns NaN", async () => {
  const api = spy();
  const error = await requestArmorApiToken(CODE, {
    now: () => NaN,
    baseUrl: "https://api.armor.com",
    fetch: api.fetch,
  }).then(() => assert.fail("should have failed"), (e: unknown) => e);
  assert.ok(error instanceof TypeError, String(error));
  assert.equal(error.message.includes(CODE), false);
  assert.equal(api.calls.length, 0);
});

Deno.test("attack: an async logger that rejects", async () => {
  await using server = await serveMockArmorApi({ clock: new MockClock(START) });
  let calls = 0;
  const session = await ArmorSession.connect({
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    random: () => 0,
    logger: async () => {
      calls++;
      await Promise.resolve();
      throw new Error("logger failed");
    },
    ...USER,
  });
  await (await session.fetch("/me")).body?.cancel();
  server.mock.clock.advance(5 * MINUTE + 1);
  await (await session.fetch("/me")).body?.cancel();
  await session.idle();
  await (await session.fetch("/nowhere")).body?.cancel();
  await session.disconnect();
  // Give any unhandled rejection time to surface: the test fails if one does.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(calls > 5);
});

Deno.test("attack: a server that revokes the old token on reissue", async () => {
  await using server = await serveMockArmorApi({
    clock: new MockClock(START),
    revokeOnReissue: true,
  });
  const session = await ArmorSession.connect({
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    random: () => 0,
    ...USER,
  });
  const old = session.token;
  server.mock.clock.advance(5 * MINUTE + 1);
  // The call goes out with the old token while the renewal runs; held until the
  // reissue has revoked it.
  server.mock.inject({ path: "/me", delayMs: 150 });
  const res = await session.fetch("/me");
  assert.equal(res.status, 200);
  await res.body?.cancel();
  await session.idle();
  const mes = server.mock.requests.filter((r) => r.path === "/me").slice(1);
  assert.deepEqual(mes.map((r) => r.status), [401, 200]);
  assert.equal(mes[0].headers.authorization, `FH-AUTH ${old}`);
  assert.equal(mes[1].headers.authorization, `FH-AUTH ${session.token}`);
  assert.notEqual(session.token, old);
  assert.equal(server.mock.count("/auth/token/reissue"), 1);
  assert.equal(session.isActive(), true);
  await session.disconnect();
});

Deno.test("attack: a response body that never ends", async () => {
  const fetch = (() =>
    Promise.resolve(
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"partial":'));
          },
        }),
        { status: 200, headers: { "content-type": "application/json" } },
      ),
    )) as typeof globalThis.fetch;
  const session = new ArmorSession({ fetch, timeout: 300, now: () => START });
  session.authorize(TOKEN, 15);
  const started = performance.now();
  const res = await session.fetch("/me");
  await assert.rejects(() => res.text());
  const ms = performance.now() - started;
  assert.ok(ms < 1_000, `${Math.round(ms)} ms`);
});

Deno.test("attack: a stored record of the wrong shape under the session's key", async () => {
  await using server = await serveMockArmorApi({ clock: new MockClock(START) });
  const records: unknown[] = [
    { token: null },
    { token: "abc" },
    { token: { accessToken: 5, issuedAt: "x", expiresAt: null } },
    { server: 7, username: [], token: { accessToken: TOKEN, expiresAt: "never" } },
    { identity: "me", claim: "mine" },
  ];
  for (const record of records) {
    const store = new MemoryTokenStore();
    await store.set("shared-key", record as ArmorStoredSession, null);
    const session = await ArmorSession.connect({
      baseUrl: server.baseUrl,
      now: server.mock.clock.now,
      store,
      storeKey: "shared-key",
      ...USER,
    });
    assert.equal(session.isActive(), true, JSON.stringify(record));
    assert.ok(server.mock.isTokenValid(session.token));
    const res = await session.fetch("/me");
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await session.disconnect();
  }
});

Deno.test("attack: two users whose names differ only in case share a storeKey", async () => {
  await using server = await serveMockArmorApi({
    clock: new MockClock(START),
    users: [
      {
        username: "Alice@example.com",
        password: "upper-password",
        accounts: [{ id: 11, name: "Upper" }],
      },
      {
        username: "alice@example.com",
        password: "lower-password",
        accounts: [{ id: 22, name: "Lower" }],
      },
    ],
  });
  const store = new MemoryTokenStore();
  const common = {
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    random: () => 0,
    store,
    storeKey: "one-key",
  };
  const upper = await ArmorSession.connect({
    ...common,
    username: "Alice@example.com",
    password: "upper-password",
  });
  const lower = await ArmorSession.connect({
    ...common,
    username: "alice@example.com",
    password: "lower-password",
  });
  const check = async () => {
    assert.notEqual(upper.token, lower.token);
    assert.equal(upper.accountId, 11);
    assert.equal(lower.accountId, 22);
    for (
      const [session, name] of [[upper, "Alice@example.com"], [lower, "alice@example.com"]] as const
    ) {
      const res = await session.fetch("/me");
      assert.equal(res.status, 200, name);
      const body = await res.json();
      assert.equal(body.user.username, name);
      const sent = server.mock.requests.findLast((r) => r.path === "/me")!;
      assert.equal(sent.headers.authorization, `FH-AUTH ${session.token}`);
    }
  };
  await check();
  server.mock.clock.advance(5 * MINUTE + 1);
  await (await upper.fetch("/me")).body?.cancel();
  await (await lower.fetch("/me")).body?.cancel();
  await upper.idle();
  await lower.idle();
  await check();
  await upper.disconnect();
  await lower.disconnect();
});

/** A loopback server that holds every request until it is closed: nothing ever answers. */
function silentServer() {
  const release = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async () => {
      await release.promise;
      return new Response(null, { status: 503 });
    },
  );
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      release.resolve();
      await server.shutdown();
    },
  };
}

Deno.test("attack: the wall clock stepped back 5 s does not stretch a 1 s timeout", async () => {
  const server = silentServer();
  const realNow = Date.now;
  try {
    const session = new ArmorSession({ baseUrl: server.baseUrl, timeout: 1_000 });
    session.authorize(TOKEN, 15);
    // Once the calls are under way, the wall clock jumps back five seconds.
    const started = performance.now();
    const calls = [
      session.fetch("/me").catch((error) => error),
      requestArmorApiToken(CODE, { baseUrl: server.baseUrl, timeout: 1_000 }).catch((e) => e),
    ];
    const offset = realNow() - 5_000;
    const base = performance.now();
    Date.now = () => offset + (performance.now() - base);
    const [fetchError, tokenError] = await Promise.all(calls);
    const took = performance.now() - started;
    Date.now = realNow;
    assert.equal(fetchError.code, "TIMEOUT");
    assert.equal(tokenError.code, "TIMEOUT");
    assert.ok(took < 3_000, `the 1 s timeouts fired after ${Math.round(took)} ms`);
  } finally {
    Date.now = realNow;
    await server.close();
  }
});

Deno.test("attack: a token store that never answers load()", async () => {
  const store = {
    get: () => new Promise<never>(() => {}),
    set: () => new Promise<never>(() => {}),
  };
  const session = new ArmorSession({ store, timeout: 200 });
  const started = performance.now();
  const error = await session.load().catch((e) => e);
  assert.equal(error.code, "STORE", String(error));
  assert.ok(performance.now() - started < 2_000, "load() must be bounded by the timeout");
});

Deno.test("attack: a token store that fails with a plain Error", async () => {
  await using server = await serveMockArmorApi({ clock: new MockClock(START) });
  const store = {
    get: () => Promise.reject(new Error("kv down")),
    set: () => Promise.reject(new Error("kv down")),
  };
  const error = await ArmorSession.connect({ ...USER, baseUrl: server.baseUrl, store }).catch((
    e,
  ) => e);
  assert.equal(error.code, "STORE", String(error));
  assert.equal(error.cause?.message, "kv down");
  assert.equal(server.mock.count("/auth/authorize"), 0, "nothing sent when the store is down");
});

Deno.test("attack: a server that reissues the same token makes one reissue per window", async () => {
  const clock = new MockClock(START);
  await using server = await serveMockArmorApi({ clock });
  const store = new MemoryTokenStore();
  const options = {
    ...USER,
    baseUrl: server.baseUrl,
    now: clock.now,
    random: () => 0,
    store,
  };
  const a = await ArmorSession.connect(options);
  const b = await ArmorSession.connect(options);
  assert.equal(server.mock.count("/auth/authorize"), 1);
  const same = a.token;
  server.mock.inject({
    path: "/auth/token/reissue",
    status: 200,
    body: { access_token: same, id_token: null, expires_in: 15, token_type: "Bearer" },
    times: Infinity,
  });
  for (const window of [1, 2]) {
    clock.set(START + window * 5 * MINUTE + 1_000);
    for (const session of [a, b, a, b]) {
      const response = await session.fetch("/me");
      await response.body?.cancel();
      await session.idle();
    }
    assert.equal(server.mock.count("/auth/token/reissue"), window, `window ${window}`);
  }
  assert.equal(a.token, same);
  assert.equal(b.token, same);
});

Deno.test("attack: a server that revokes on reissue, two sessions on one store renewing at once", async () => {
  const clock = new MockClock(START);
  await using server = await serveMockArmorApi({ clock, revokeOnReissue: true });
  const store = new MemoryTokenStore();
  const options = { ...USER, baseUrl: server.baseUrl, now: clock.now, random: () => 0, store };
  const a = await ArmorSession.connect(options);
  const b = await ArmorSession.connect(options);
  clock.advance(5 * MINUTE);
  // Both reach the renewal point together: one reissues (revoking the old token), the
  // other sends with the old one, gets 401, and must take the new token instead of ending.
  const answers = await Promise.all([a.fetch("/me"), b.fetch("/me")]);
  for (const answer of answers) await answer.body?.cancel();
  await Promise.all([a.idle(), b.idle()]);
  assert.deepEqual(answers.map((answer) => answer.status), [200, 200]);
  assert.equal(server.mock.count("/auth/token/reissue"), 1);
  assert.ok(a.isActive() && b.isActive());
  assert.equal(a.token, b.token);
});

Deno.test("a path with @ stays under the base URL's path", async () => {
  const api = spy();
  const session = new ArmorSession({
    baseUrl: "https://api.example.com/v2",
    fetch: api.fetch,
    now: () => START,
  });
  session.authorize(TOKEN, 15);
  for (const path of ["/accounts", "/users/a@b.com", "/accounts?x=@"]) {
    const response = await session.fetch(path);
    await response.body?.cancel();
  }
  assert.deepEqual(api.calls, [
    "https://api.example.com/v2/accounts",
    "https://api.example.com/v2/users/a@b.com",
    "https://api.example.com/v2/accounts?x=@",
  ]);
});

Deno.test("attack: /me permissions keyed like Object's own methods", async () => {
  // Written out: an object literal would take "__proto__" as the prototype, not a key.
  const body = '{"User":[{"UserName":"ops@example.com"}],"Accounts":[{"ID":1001,"Name":"Ops"}],' +
    '"Permissions":[{"constructor":"1 2","__proto__":"3","toString":"4"}]}';
  const answers: Record<string, unknown> = {
    "/auth/authorize": { code: "C0d3", expiresIn: 120 },
    "/auth/token": { access_token: TOKEN, id_token: null, expires_in: 900, token_type: "FH-AUTH" },
  };
  const fake = ((input: RequestInfo | URL) => {
    const path = new URL(String(input)).pathname;
    return Promise.resolve(
      path === "/me"
        ? new Response(body, { headers: { "content-type": "application/json" } })
        : Response.json(answers[path]),
    );
  }) as typeof fetch;
  const session = await ArmorSession.connect({ ...USER, fetch: fake, now: () => START });
  const permissions = session.identity!.permissions;
  assert.deepEqual(Object.keys(permissions).sort(), ["__proto__", "constructor", "toString"]);
  assert.deepEqual(permissions.constructor, ["1", "2"]);
  assert.equal(Object.getPrototypeOf(permissions), Object.prototype);
});

Deno.test("attack: a clock that throws", async () => {
  const api = spy();
  let broken = false;
  const session = new ArmorSession({
    fetch: api.fetch,
    now: () => {
      if (broken) throw new Error("clock broke");
      return START;
    },
  });
  session.authorize(TOKEN, 15);
  broken = true;
  const error = await session.fetch("/me").catch((e) => e);
  assert.ok(error instanceof TypeError, String(error));
  assert.equal(api.calls.length, 0, "nothing sent with a broken clock");
});

Deno.test("attack: a token store whose error quotes the stored token", async () => {
  const session = new ArmorSession({ now: () => START });
  session.authorize(TOKEN, 15);
  const leaky = {
    get: () => Promise.reject(new Error(`Schema check failed for {"accessToken":"${TOKEN}"}`)),
    set: () => Promise.resolve("1"),
  };
  const shared = new ArmorSession({ now: () => START, store: leaky });
  shared.authorize(TOKEN, 15);
  const error = await shared.load().catch((e) => e);
  assert.equal(error.code, "STORE");
  assert.ok(!Deno.inspect(error, { depth: Infinity }).includes(TOKEN));
  await session.disconnect();
});
