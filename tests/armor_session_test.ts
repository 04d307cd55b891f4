import assert from "node:assert/strict";
import {
  ArmorApiError,
  type ArmorConnectOptions,
  ArmorSession,
  type ArmorTokenStore,
  MemoryTokenStore,
  updateArmorApiToken,
} from "../mod.ts";
import { DEFAULT_AUTHORIZE_TIMEOUT_MS } from "../src/renewal.ts";
import { DEFAULT_MOCK_USER, type MockUser } from "../src/testing/mod.ts";
import { connect, serve, SESSION_MS, START } from "./_session.ts";
import { armorError } from "./_errors.ts";

const MFA_USER: MockUser = {
  username: "mfa@example.com",
  password: "phone-approved-secret",
  accounts: [{ id: 7, name: "MFA" }],
  mfaDelayMs: 300,
};

/** Everything an error shows: message, stack, inspection (with causes), JSON. */
function shown(error: unknown): string {
  return [
    String(error),
    (error as Error).stack ?? "",
    Deno.inspect(error, { depth: Infinity, showHidden: true }),
    JSON.stringify(error),
  ].join("\n");
}

// ---- connect ---------------------------------------------------------------------

Deno.test("connect logs in with authorize, token and /me, in that order", async () => {
  await using server = await serve();
  const session = await connect(server);

  assert.deepEqual(server.mock.requests.map((r) => [r.method, r.path, r.status]), [
    ["POST", "/auth/authorize", 200],
    ["POST", "/auth/token", 200],
    ["GET", "/me", 200],
  ]);
  assert.deepEqual(server.mock.requests[0].body, {
    username: DEFAULT_MOCK_USER.username,
    password: DEFAULT_MOCK_USER.password,
  });
  assert.equal(session.isActive(), true);
  assert.equal(session.token, server.mock.issuedTokens.at(-1));
  assert.equal(session.issuedAt.getTime(), START);
  assert.equal(session.expiresAt.getTime(), START + SESSION_MS);
  assert.equal(session.baseUrl, `${server.baseUrl}/`);
});

Deno.test("connect acts on the first account unless told otherwise", async () => {
  await using server = await serve();
  const session = await connect(server);
  assert.equal(session.accountId, 1001);

  const res = await session.fetch("/me");
  await res.body?.cancel();
  assert.equal(server.mock.requests.at(-1)?.headers["x-account-context"], "1001");
});

Deno.test("connect acts on the account it is given", async () => {
  await using server = await serve();
  const session = await connect(server, { accountId: 1002 });
  assert.equal(session.accountId, 1002);

  const res = await session.fetch("/me");
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.equal(server.mock.requests.at(-1)?.headers["x-account-context"], "1002");
});

Deno.test("connect rejects an account the user does not have with UNKNOWN_ACCOUNT", async () => {
  await using server = await serve();
  const error = await connect(server, { accountId: 9999 }).catch((e) => e);
  armorError("UNKNOWN_ACCOUNT")(error);
  assert.match(error.message, /9999/);
  assert.match(error.message, /1001, 1002/);
  assert.ok(!shown(error).includes(DEFAULT_MOCK_USER.password));
});

Deno.test("connect with a wrong password fails with HTTP_STATUS 401 and hides the password", async () => {
  await using server = await serve();
  const password = "not-the-demo-password-4711";
  const error = await connect(server, { password }).catch((e) => e);
  armorError("HTTP_STATUS", 401)(error);
  assert.ok(!shown(error).includes(password));
  // Nothing after the failed authorize.
  assert.deepEqual(server.mock.requests.map((r) => r.path), ["/auth/authorize"]);
});

Deno.test("connect hides the password even when the server echoes it", async () => {
  await using server = await serve();
  server.mock.inject({
    path: "/auth/authorize",
    status: 500,
    body: { Message: `Bad password ${DEFAULT_MOCK_USER.password}` },
  });
  const error = await connect(server).catch((e) => e);
  armorError("HTTP_STATUS", 500)(error);
  assert.ok(!shown(error).includes(DEFAULT_MOCK_USER.password));
});

Deno.test("a connected session never shows the password (or the token)", async () => {
  await using server = await serve();
  const session = await connect(server);
  const token = session.token;
  for (
    const text of [
      JSON.stringify(session),
      Deno.inspect(session, { depth: Infinity, showHidden: true }),
      String(session),
    ]
  ) {
    assert.ok(!text.includes(DEFAULT_MOCK_USER.password), text);
    assert.ok(!text.includes(token), text);
  }
  assert.equal(JSON.parse(JSON.stringify(session)).accountId, 1001);
});

Deno.test("connect refuses a blank user name or password before sending anything", async () => {
  await using server = await serve();
  const blanks: Partial<ArmorConnectOptions>[] = [
    { username: "" },
    { username: "   " },
    { password: "" },
    { password: " \t" },
  ];
  for (const blank of blanks) {
    await assert.rejects(connect(server, blank), TypeError, JSON.stringify(blank));
  }
  assert.equal(server.mock.requests.length, 0);
});

Deno.test("authorize has its own, longer timeout for the multi-factor wait", async () => {
  await using server = await serve({ users: [MFA_USER] });
  const session = await connect(server, {
    username: MFA_USER.username,
    password: MFA_USER.password,
    timeout: 100,
    authorizeTimeout: 2_000,
  });
  assert.equal(session.isActive(), true);
  assert.equal(session.accountId, 7);
});

Deno.test("authorize waits DEFAULT_AUTHORIZE_TIMEOUT_MS by default, not the call timeout", async () => {
  assert.equal(DEFAULT_AUTHORIZE_TIMEOUT_MS, 180_000);
  await using server = await serve({ users: [MFA_USER] });
  const session = await connect(server, {
    username: MFA_USER.username,
    password: MFA_USER.password,
    timeout: 100,
  });
  assert.equal(session.isActive(), true);
});

Deno.test("a multi-factor wait longer than authorizeTimeout fails with TIMEOUT", async () => {
  await using server = await serve({ users: [MFA_USER] });
  const error = await connect(server, {
    username: MFA_USER.username,
    password: MFA_USER.password,
    authorizeTimeout: 100,
  }).catch((e) => e);
  armorError("TIMEOUT")(error);
  assert.ok(!shown(error).includes(MFA_USER.password));
  assert.equal(server.mock.count("/auth/token"), 0);
});

Deno.test("connect's signal aborts a pending multi-factor wait promptly", async () => {
  await using server = await serve({ users: [{ ...MFA_USER, mfaDelayMs: 10_000 }] });
  const controller = new AbortController();
  const started = performance.now();
  const timer = setTimeout(() => controller.abort(), 50);
  try {
    const error = await connect(server, {
      username: MFA_USER.username,
      password: MFA_USER.password,
      signal: controller.signal,
    }).catch((e) => e);
    armorError("ABORTED")(error);
  } finally {
    clearTimeout(timer);
  }
  assert.ok(performance.now() - started < 2_000, "the abort did not end the wait");
  assert.equal(server.mock.count("/auth/token"), 0);
});

// ---- fetch -----------------------------------------------------------------------

Deno.test("fetch resolves a path against the base URL and adds the session headers", async () => {
  await using server = await serve();
  const session = await connect(server);

  const res = await session.fetch("/me");
  assert.equal(res.status, 200);
  // The mock's default shape (Armor's OpenAPI contract): the user as an object.
  assert.equal((await res.json()).user.username, DEFAULT_MOCK_USER.username);

  const sent = server.mock.requests.at(-1)!;
  assert.equal(sent.method, "GET");
  assert.equal(sent.path, "/me");
  assert.equal(sent.headers.accept, "application/json");
  assert.equal(sent.headers.authorization, `FH-AUTH ${session.token}`);
  assert.equal(sent.headers["x-account-context"], "1001");
  assert.equal(sent.headers["content-type"], undefined);
});

Deno.test("fetch with a body sends Content-Type: application/json", async () => {
  await using server = await serve();
  const session = await connect(server);

  const res = await session.fetch("/accounts", {
    method: "POST",
    body: JSON.stringify({ name: "New" }),
  });
  await res.body?.cancel();

  const sent = server.mock.requests.at(-1)!;
  assert.equal(sent.method, "POST");
  assert.equal(sent.path, "/accounts");
  assert.equal(sent.headers["content-type"], "application/json");
  assert.equal(sent.headers.accept, "application/json");
  assert.equal(sent.headers.authorization, `FH-AUTH ${session.token}`);
  assert.equal(sent.headers["x-account-context"], "1001");
  assert.deepEqual(sent.body, { name: "New" });
});

Deno.test("fetch keeps the caller's headers but always sends the session's token", async () => {
  await using server = await serve();
  const session = await connect(server);

  const res = await session.fetch("/me", {
    headers: { "X-Request-Id": "req-42", Authorization: "Bearer someone-else" },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();

  const sent = server.mock.requests.at(-1)!;
  assert.equal(sent.headers["x-request-id"], "req-42");
  assert.equal(sent.headers.authorization, `FH-AUTH ${session.token}`);
  assert.equal(sent.headers.accept, "application/json");
  assert.equal(sent.headers["x-account-context"], "1001");
});

Deno.test("fetch refuses to send the token to another origin", async () => {
  await using server = await serve();
  const session = await connect(server);
  const before = server.mock.requests.length;

  const elsewhere: (string | URL)[] = [
    "http://evil.example/x",
    "//evil.example/x",
    "/\\evil.example/x",
    new URL("https://evil.example"),
    `https://${server.url.host}/me`, // same host, other scheme: another origin
  ];
  for (const target of elsewhere) {
    await assert.rejects(session.fetch(target), TypeError, String(target));
  }
  assert.equal(server.mock.requests.length, before);
});

Deno.test("fetch accepts an absolute URL of the session's own origin", async () => {
  await using server = await serve();
  const session = await connect(server);

  for (const target of [`${server.baseUrl}/me`, new URL("/me", server.url)]) {
    const res = await session.fetch(target);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal(server.mock.requests.at(-1)?.headers.authorization, `FH-AUTH ${session.token}`);
  }
  assert.equal(server.mock.count("/me"), 3); // login + 2
});

Deno.test("fetch returns a redirect instead of following it", async () => {
  await using server = await serve();
  const session = await connect(server);
  const before = server.mock.requests.length;
  server.mock.inject({ path: "/me", status: 302, headers: { Location: "/accounts" }, body: null });

  const res = await session.fetch("/me");
  await res.body?.cancel();
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/accounts");
  assert.equal(server.mock.requests.length, before + 1);
  assert.equal(server.mock.count("/accounts"), 0);
  assert.equal(session.isActive(), true);
});

// ---- accounts ----------------------------------------------------------------------

Deno.test("useAccount switches the account context of later calls", async () => {
  await using server = await serve();
  const session = await connect(server);

  session.useAccount(1002);
  assert.equal(session.accountId, 1002);
  const res = await session.fetch("/accounts");
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.equal(server.mock.requests.at(-1)?.headers["x-account-context"], "1002");

  session.useAccount(1001);
  const again = await session.fetch("/accounts", { method: "POST", body: "{}" });
  await again.body?.cancel();
  assert.equal(server.mock.requests.at(-1)?.headers["x-account-context"], "1001");
});

Deno.test("useAccount refuses an unknown account and keeps the context", async () => {
  await using server = await serve();
  const session = await connect(server, { accountId: 1002 });

  assert.throws(() => session.useAccount(9999), armorError("UNKNOWN_ACCOUNT"));
  assert.throws(() => session.useAccount(0), TypeError);
  assert.equal(session.accountId, 1002);

  const res = await session.fetch("/me");
  await res.body?.cancel();
  assert.equal(server.mock.requests.at(-1)?.headers["x-account-context"], "1002");
});

Deno.test("identity holds the user's name and accounts from /me", async () => {
  await using server = await serve();
  const session = await connect(server);

  assert.equal(session.identity?.username, "demo@example.com");
  assert.equal(session.identity?.firstName, "Demo");
  assert.equal(session.identity?.lastName, "User");
  assert.deepEqual(session.accounts.map((a) => [a.id, a.name]), [
    [1001, "Demo Production"],
    [1002, "Demo Staging"],
  ]);
  assert.equal(session.identity?.accounts, session.accounts);
});

// ---- disconnect, expiry, revocation --------------------------------------------------

Deno.test("disconnect forgets the token and refuses later calls without sending", async () => {
  await using server = await serve();
  const session = await connect(server);
  const token = session.token;

  await session.disconnect();
  assert.equal(session.isActive(), false);
  assert.throws(() => session.token, armorError("NOT_AUTHORIZED"));
  assert.equal(session.expiresAt.getTime(), 0);
  assert.ok(!JSON.stringify(session).includes(token));

  const before = server.mock.requests.length;
  const error = await session.fetch("/me").catch((e) => e);
  armorError("NOT_AUTHORIZED")(error);
  assert.match(error.message, /log in again/);
  assert.equal(server.mock.requests.length, before);
});

Deno.test("an expired session refuses calls, naming the expiry time, without sending", async () => {
  await using server = await serve();
  const session = await connect(server);
  const before = server.mock.requests.length;

  server.mock.clock.advance(SESSION_MS + 1);
  assert.equal(session.isActive(), false);
  const error = await session.fetch("/me").catch((e) => e);
  armorError("SESSION_EXPIRED")(error);
  assert.ok(error.message.includes(new Date(START + SESSION_MS).toISOString()), error.message);
  assert.match(error.message, /log in again/);
  assert.equal(server.mock.requests.length, before);
  assert.equal(server.mock.count("/auth/token/reissue"), 0);
});

Deno.test("a session expires at the instant its lifetime ends", async () => {
  await using server = await serve();
  const session = await connect(server);
  server.mock.clock.advance(SESSION_MS);
  await assert.rejects(session.fetch("/me"), armorError("SESSION_EXPIRED"));
  assert.throws(() => session.token, armorError("SESSION_EXPIRED"));
});

Deno.test("a revoked token: the 401 is returned, then the session ends", async () => {
  await using server = await serve();
  const session = await connect(server);
  server.mock.revokeToken(session.token);

  const res = await session.fetch("/me");
  assert.equal(res.status, 401);
  await res.body?.cancel();
  assert.equal(session.isActive(), false);

  const before = server.mock.requests.length;
  const error = await session.fetch("/me").catch((e) => e);
  armorError("NOT_AUTHORIZED")(error);
  assert.match(error.message, /401/);
  assert.equal(server.mock.requests.length, before);
});

Deno.test("a token call that ends after disconnect() does not revive the session", async () => {
  await using server = await serve();
  const session = await connect(server);
  server.mock.inject({ delayMs: 150, path: "/auth/token/reissue" });
  const pending = updateArmorApiToken(undefined, { session });
  await new Promise((resolve) => setTimeout(resolve, 30));
  await session.disconnect();
  await pending; // the reissue itself succeeded
  assert.equal(session.isActive(), false);
  await assert.rejects(session.fetch("/me"), armorError("NOT_AUTHORIZED"));
});

Deno.test("a reissued token is kept when the store fails to save it", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  let failing = false;
  const store: ArmorTokenStore = {
    get: (key) => inner.get(key),
    set: (key, value, version) =>
      failing ? Promise.reject(new Error("store down")) : inner.set(key, value, version),
  };
  const session = await connect(server, { store });
  const before = session.token;
  failing = true;
  const token = await updateArmorApiToken(undefined, { session });
  assert.equal(session.token, token.access_token);
  assert.notEqual(session.token, before);
});

Deno.test("a stalled store does not hang session.fetch while the token is good", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  let stalled = false;
  const store: ArmorTokenStore = {
    get: (key) => stalled ? new Promise(() => {}) : inner.get(key),
    set: (key, value, version) => stalled ? new Promise(() => {}) : inner.set(key, value, version),
  };
  const session = await connect(server, { store, timeout: 200 });
  stalled = true;
  server.mock.clock.advance(SESSION_MS / 3 + 1); // renewal due: the store is asked first
  const started = Date.now();
  const response = await session.fetch("/me");
  await response.body?.cancel();
  assert.equal(response.status, 200);
  assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
  await session.idle();
});

Deno.test("a fetch that throws synchronously rejects with a scrubbed NETWORK error", async () => {
  await using server = await serve();
  const session = await connect(server);
  const token = session.token;
  const broken = new ArmorSession({
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    fetch: ((_url: string, init: RequestInit) => {
      throw new Error(`cannot send ${JSON.stringify(init.headers)}`);
    }) as unknown as typeof fetch,
  });
  broken.authorize(token, 15);
  const call = broken.fetch("/me");
  assert.ok(call instanceof Promise);
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof ArmorApiError);
    assert.equal(error.code, "NETWORK");
    assert.ok(!Deno.inspect(error, { depth: 10 }).includes(token));
    return true;
  });
});

Deno.test("session.fetch adds Content-Type: application/json only to string bodies", async () => {
  await using server = await serve();
  const session = await connect(server);
  const form = new FormData();
  form.set("a", "1");
  const response = await session.fetch("/me", { method: "POST", body: form });
  await response.body?.cancel();
  const sent = server.mock.requests.at(-1)!;
  assert.match(sent.headers["content-type"] ?? "", /^multipart\/form-data/);
});
