import assert from "node:assert/strict";
import {
  ArmorApiError,
  ArmorCancelledError,
  type ArmorLogRecord,
  type ArmorRequestPlan,
  ArmorSession,
  requestArmorApiToken,
  updateArmorApiToken,
} from "../mod.ts";
import {
  DEFAULT_MOCK_USER,
  type MockArmorApi,
  MockClock,
  type MockFault,
  type ServedMockArmorApi,
  serveMockArmorApi,
} from "../src/testing/mod.ts";
import { errorViews, expectArmorError, snapshot } from "./_errors.ts";

const FIFTEEN_MINUTES = 15 * 60_000;
const VALID_TOKEN = "0123456789abcdef0123456789abcdef";

/** Logs in against the mock over the socket and returns a live access token. */
async function liveToken(server: ServedMockArmorApi, session?: ArmorSession): Promise<string> {
  const res = await fetch(`${server.baseUrl}/auth/authorize`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      username: DEFAULT_MOCK_USER.username,
      password: DEFAULT_MOCK_USER.password,
    }),
  });
  const { code } = await res.json();
  const token = await requestArmorApiToken(code, { baseUrl: server.url, session });
  return token.access_token;
}

function reissueRequests(mock: MockArmorApi) {
  return mock.requests.filter((request) => request.path === "/auth/token/reissue");
}

// ---- success -------------------------------------------------------------------

Deno.test("updateArmorApiToken exchanges a live token for a new one with no ID token", async () => {
  const clock = new MockClock(Date.UTC(2026, 10, 23, 10, 0));
  await using server = await serveMockArmorApi({ clock, dialect: "powershell" });
  const old = await liveToken(server);
  clock.advance(6 * 60_000);

  const fresh = await updateArmorApiToken(old, { baseUrl: server.url, now: clock.now });

  assert.match(fresh.access_token, /^[0-9a-f]{32}$/);
  assert.notEqual(fresh.access_token, old);
  assert.equal(fresh.access_token, server.mock.issuedTokens.at(-1));
  assert.ok(server.mock.isTokenValid(fresh.access_token));
  assert.equal(fresh.id_token, null);
  assert.equal(fresh.expires_in, 15);
  assert.equal(fresh.token_type, "Bearer");
  assert.equal(fresh.issuedAt.toISOString(), "2026-11-23T10:06:00.000Z");
  assert.equal(fresh.expiresAt.toISOString(), "2026-11-23T10:21:00.000Z");
});

Deno.test("updateArmorApiToken sends POST /auth/token/reissue {token} with the PowerShell session headers", async () => {
  await using server = await serveMockArmorApi();
  const old = await liveToken(server);

  await updateArmorApiToken(old, { baseUrl: server.baseUrl });

  const sent = reissueRequests(server.mock);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].method, "POST");
  assert.deepEqual(sent[0].body, { token: old });
  assert.equal(sent[0].headers.accept, "application/json");
  assert.equal(sent[0].headers["content-type"], "application/json");
  // As the PowerShell module sends it: the token being reissued as FH-AUTH, beside the body.
  assert.equal(sent[0].headers.authorization, `FH-AUTH ${old}`);
  assert.equal(sent[0].headers["x-account-context"], undefined); // no session, no account
  assert.equal(sent[0].status, 200);
});

Deno.test("with a session, updateArmorApiToken sends its token and re-authorizes it", async () => {
  const clock = new MockClock(Date.UTC(2026, 10, 23, 10, 0));
  await using server = await serveMockArmorApi({ clock });
  const session = new ArmorSession({ baseUrl: server.url, now: clock.now });
  const old = await liveToken(server, session);
  assert.equal(session.token, old);
  clock.advance(6 * 60_000);

  // No token and no baseUrl: both come from the session.
  const fresh = await updateArmorApiToken(undefined, { session });

  assert.deepEqual(reissueRequests(server.mock).map((r) => r.body), [{ token: old }]);
  assert.equal(session.isActive(), true);
  assert.equal(session.token, fresh.access_token);
  assert.notEqual(session.token, old);
  assert.equal(fresh.id_token, null);
  assert.equal(session.issuedAt.toISOString(), "2026-11-23T10:06:00.000Z");
  assert.equal(session.expiresAt.toISOString(), "2026-11-23T10:21:00.000Z");
  assert.equal(session.expiresAt.getTime(), clock.now() + FIFTEEN_MINUTES);
});

Deno.test("with a session, an explicit token is the one sent and the session takes the new one", async () => {
  await using server = await serveMockArmorApi();
  const session = new ArmorSession({ baseUrl: server.url });
  session.authorize(VALID_TOKEN, 15);
  const other = await liveToken(server);

  const fresh = await updateArmorApiToken(other, { session });

  assert.deepEqual(reissueRequests(server.mock).map((r) => r.body), [{ token: other }]);
  assert.equal(session.token, fresh.access_token);
});

Deno.test("a session can be renewed again and again, each time with the token it holds", async () => {
  const clock = new MockClock(0);
  await using server = await serveMockArmorApi({ clock });
  const session = new ArmorSession({ baseUrl: server.url, now: clock.now });
  await liveToken(server, session);
  const held: string[] = [];
  for (let i = 0; i < 3; i++) {
    held.push(session.token);
    clock.advance(10 * 60_000);
    await updateArmorApiToken(undefined, { session });
  }
  assert.deepEqual(
    reissueRequests(server.mock).map((r) => r.body),
    held.map((token) => ({ token })),
  );
  assert.ok(server.mock.isTokenValid(session.token));
  assert.equal(session.expiresAt.getTime(), 30 * 60_000 + FIFTEEN_MINUTES);
});

// ---- bad input -------------------------------------------------------------------

Deno.test("no token and no session is a TypeError and sends nothing", async () => {
  await using server = await serveMockArmorApi();
  await assert.rejects(updateArmorApiToken(), TypeError);
  await assert.rejects(updateArmorApiToken(undefined, { baseUrl: server.url }), TypeError);
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("an empty, blank or non-string token is a TypeError and sends nothing", async () => {
  await using server = await serveMockArmorApi();
  const session = new ArmorSession({ baseUrl: server.url });
  session.authorize(VALID_TOKEN, 15);
  for (const token of [null, "", "   ", 42, {}, [VALID_TOKEN]]) {
    await assert.rejects(
      updateArmorApiToken(token as string, { baseUrl: server.url }),
      TypeError,
      `token ${Deno.inspect(token)} must be refused`,
    );
    // A bad explicit token is refused even when a session could supply a good one.
    await assert.rejects(updateArmorApiToken(token as string, { session }), TypeError);
  }
  assert.deepEqual(server.mock.requests, []);
  assert.equal(session.token, VALID_TOKEN);
});

Deno.test("a bad apiVersion or baseUrl is a TypeError and sends nothing", async () => {
  await using server = await serveMockArmorApi();
  await assert.rejects(
    updateArmorApiToken(VALID_TOKEN, { baseUrl: server.url, apiVersion: "v2" as "v1.0" }),
    TypeError,
  );
  const calls: unknown[] = [];
  const spy: typeof fetch = (input) => {
    calls.push(input);
    return Promise.reject(new Error("must not be called"));
  };
  for (const baseUrl of ["http://api.armor.com", "ftp://127.0.0.1", "garbage"]) {
    await assert.rejects(updateArmorApiToken(VALID_TOKEN, { baseUrl, fetch: spy }), TypeError);
  }
  assert.deepEqual(calls, []);
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("a session with no token is NOT_AUTHORIZED and sends nothing", async () => {
  await using server = await serveMockArmorApi();
  const session = new ArmorSession({ baseUrl: server.url });
  await expectArmorError(updateArmorApiToken(undefined, { session }), "NOT_AUTHORIZED");
  assert.deepEqual(server.mock.requests, []);
  assert.equal(session.isActive(), false);
});

Deno.test("a session whose token expired is SESSION_EXPIRED and sends nothing", async () => {
  const clock = new MockClock(Date.UTC(2026, 10, 23, 10, 0));
  await using server = await serveMockArmorApi();
  const session = new ArmorSession({ baseUrl: server.url, now: clock.now });
  session.authorize(VALID_TOKEN, 15);
  clock.advance(FIFTEEN_MINUTES);
  const error = await expectArmorError(
    updateArmorApiToken(undefined, { session }),
    "SESSION_EXPIRED",
  );
  assert.match(error.message, /2026-11-23T10:15:00\.000Z/);
  assert.deepEqual(server.mock.requests, []);
});

// ---- whatIf and confirm -----------------------------------------------------------

Deno.test("whatIf resolves with the redacted plan, sends nothing and never changes the session", async () => {
  await using server = await serveMockArmorApi();
  const session = new ArmorSession({ baseUrl: server.url, apiVersion: "internal" });
  session.authorize(VALID_TOKEN, 15);
  const before = snapshot(session);

  const plans = [
    await updateArmorApiToken(undefined, { session, whatIf: true }),
    await updateArmorApiToken(VALID_TOKEN, { session, whatIf: true }),
  ];

  for (const plan of plans) {
    assert.deepEqual(plan, {
      method: "POST",
      url: `${server.baseUrl}/auth/token/reissue`,
      apiVersion: "internal",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        authorization: "FH-AUTH [REDACTED]",
      },
      body: { token: "[REDACTED]" },
    });
    assert.ok(!JSON.stringify(plan).includes(VALID_TOKEN));
    assert.ok(!Deno.inspect(plan).includes(VALID_TOKEN));
  }
  assert.deepEqual(snapshot(session), before);
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("confirm false is ArmorCancelledError, sends nothing and leaves the session", async () => {
  await using server = await serveMockArmorApi();
  const session = new ArmorSession({ baseUrl: server.url });
  session.authorize(VALID_TOKEN, 15);
  const before = snapshot(session);

  const error = await updateArmorApiToken(undefined, { session, confirm: () => false })
    .catch((e) => e);

  assert.ok(error instanceof ArmorCancelledError);
  assert.ok(!(error instanceof ArmorApiError));
  assert.ok(!errorViews(error).some((view) => view.includes(VALID_TOKEN)));
  assert.deepEqual(snapshot(session), before);
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("confirm receives the redacted plan; true sends the real token", async () => {
  await using server = await serveMockArmorApi();
  const old = await liveToken(server);
  const seen: ArmorRequestPlan[] = [];

  await updateArmorApiToken(old, {
    baseUrl: server.url,
    confirm: (plan) => {
      seen.push(structuredClone(plan));
      return true;
    },
  });

  assert.deepEqual(seen.map((plan) => plan.body), [{ token: "[REDACTED]" }]);
  assert.deepEqual(reissueRequests(server.mock).map((r) => r.body), [{ token: old }]);
});

// ---- failures ---------------------------------------------------------------------

Deno.test("a reissue with an expired or revoked token is HTTP_STATUS 401", async () => {
  const clock = new MockClock(0);
  await using server = await serveMockArmorApi({ clock });
  const expired = await liveToken(server);
  clock.advance(FIFTEEN_MINUTES);
  await expectArmorError(updateArmorApiToken(expired, { baseUrl: server.url }), "HTTP_STATUS", 401);

  const revoked = await liveToken(server);
  server.mock.revokeToken(revoked);
  await expectArmorError(updateArmorApiToken(revoked, { baseUrl: server.url }), "HTTP_STATUS", 401);
});

Deno.test("every failure kind is an ArmorApiError with its code and status", async () => {
  await using server = await serveMockArmorApi();
  const cases: [MockFault, string, number | undefined][] = [
    [{ status: 500 }, "HTTP_STATUS", 500],
    [{ status: 302, headers: { location: "/auth/token/reissue" }, body: null }, "REDIRECT", 302],
    [{ status: 200, body: "not json" }, "INVALID_RESPONSE", 200],
    [{ status: 200, body: [] }, "INVALID_RESPONSE", 200],
    [
      {
        status: 200,
        body: { access_token: VALID_TOKEN.toUpperCase(), expires_in: 15, token_type: "Bearer" },
      },
      "INVALID_RESPONSE",
      200,
    ],
    [
      {
        status: 200,
        body: { access_token: VALID_TOKEN, expires_in: 0, token_type: "Bearer" },
      },
      "INVALID_RESPONSE",
      200,
    ],
    [
      {
        status: 200,
        body: { access_token: VALID_TOKEN, expires_in: 15, token_type: "" },
      },
      "INVALID_RESPONSE",
      200,
    ],
  ];
  for (const [fault, code, status] of cases) {
    server.mock.inject({ ...fault, path: "/auth/token/reissue" });
    await expectArmorError(updateArmorApiToken(VALID_TOKEN, { baseUrl: server.url }), code, status);
  }
  server.mock.inject({ path: "/auth/token/reissue", status: 503, headers: { "retry-after": "7" } });
  const busy = await expectArmorError(
    updateArmorApiToken(VALID_TOKEN, { baseUrl: server.url }),
    "HTTP_STATUS",
    503,
  );
  assert.equal(busy.retryAfter, 7);
  assert.equal(reissueRequests(server.mock).length, cases.length + 1);
});

Deno.test("a slow reissue is TIMEOUT and an abort is ABORTED, both promptly", async () => {
  await using server = await serveMockArmorApi();
  server.mock.inject({ path: "/auth/token/reissue", delayMs: 5_000, times: 2 });
  let started = performance.now();
  await expectArmorError(
    updateArmorApiToken(VALID_TOKEN, { baseUrl: server.url, timeout: 200 }),
    "TIMEOUT",
  );
  let elapsed = performance.now() - started;
  assert.ok(elapsed >= 150 && elapsed < 1_000, `${elapsed} ms`);

  started = performance.now();
  await expectArmorError(
    updateArmorApiToken(VALID_TOKEN, { baseUrl: server.url, signal: AbortSignal.timeout(50) }),
    "ABORTED",
  );
  elapsed = performance.now() - started;
  assert.ok(elapsed < 1_000, `${elapsed} ms`);

  await expectArmorError(
    updateArmorApiToken(VALID_TOKEN, { baseUrl: server.url, signal: AbortSignal.abort() }),
    "ABORTED",
  );
  assert.equal(reissueRequests(server.mock).length, 2);
});

Deno.test("a refused connection is NETWORK", async () => {
  const server = await serveMockArmorApi();
  const port = server.url.port;
  await server.close();
  await expectArmorError(
    updateArmorApiToken(VALID_TOKEN, { baseUrl: `http://127.0.0.1:${port}` }),
    "NETWORK",
  );
});

Deno.test("every failure leaves the session exactly as it was", async () => {
  const mockClock = new MockClock(0);
  const sessionClock = new MockClock(0);
  await using server = await serveMockArmorApi({ clock: mockClock });
  const session = new ArmorSession({ baseUrl: server.url, now: sessionClock.now });
  const held = await liveToken(server, session);
  sessionClock.advance(6 * 60_000);
  const before = snapshot(session);
  const faults: [string, MockFault][] = [
    ["500", { status: 500 }],
    ["bad body", { status: 200, body: { access_token: "nope", expires_in: 15 } }],
    ["not JSON", { status: 200, body: "<html>" }],
    ["timeout", { delayMs: 2_000 }],
  ];
  for (const [what, fault] of faults) {
    server.mock.inject({ ...fault, path: "/auth/token/reissue" });
    const error = await updateArmorApiToken(undefined, { session, timeout: 100 }).catch((e) => e);
    assert.ok(error instanceof ArmorApiError, what);
    assert.deepEqual(snapshot(session), before, what);
  }

  // The API thinks the token expired (its clock ran ahead): 401, session untouched.
  mockClock.advance(FIFTEEN_MINUTES);
  await expectArmorError(updateArmorApiToken(undefined, { session }), "HTTP_STATUS", 401);
  assert.deepEqual(snapshot(session), before, "401");
  assert.equal(session.token, held);
  assert.equal(reissueRequests(server.mock).length, faults.length + 1);
});

// ---- secrets -------------------------------------------------------------------------

Deno.test("the token never shows in any view of an error, even when the server echoes it", async () => {
  await using server = await serveMockArmorApi();
  // Starts with a letter, so that it is a well-formed token_type when echoed as one.
  const token = "feedfacecafebeef0123456789abcdef";
  const echo = `Token ${token} has expired`;
  const faults: [string, MockFault][] = [
    ["401 JSON", { status: 401, body: { Message: echo } }],
    ["500 text", { status: 500, body: echo }],
    ["200 text", { status: 200, body: echo }],
    ["200 echoed as access_token", {
      status: 200,
      body: { access_token: token.toUpperCase(), expires_in: 15, token_type: "Bearer" },
    }],
    ["200 echoed as token_type", {
      status: 200,
      body: { access_token: VALID_TOKEN, expires_in: 15, token_type: token },
    }],
    ["200 echoed as id_token", {
      status: 200,
      body: {
        access_token: VALID_TOKEN,
        id_token: { token },
        expires_in: 15,
        token_type: "Bearer",
      },
    }],
  ];
  for (const [what, fault] of faults) {
    server.mock.inject({ ...fault, path: "/auth/token/reissue" });
    const error = await updateArmorApiToken(token, { baseUrl: server.url }).catch((e) => e);
    assert.ok(error instanceof ArmorApiError, what);
    for (const view of errorViews(error)) {
      assert.ok(!view.includes(token), `${what}: the token shows in ${view}`);
    }
  }

  const leaky: typeof fetch = () => Promise.reject(new Error(`reset while sending ${token}`));
  const error = await updateArmorApiToken(token, { baseUrl: server.url, fetch: leaky })
    .catch((e) => e);
  assert.equal(error.code, "NETWORK");
  assert.ok(!errorViews(error).some((view) => view.includes(token)));
});

Deno.test("a logger sees the reissue but never the old or new token", async () => {
  await using server = await serveMockArmorApi();
  const old = await liveToken(server);
  const records: ArmorLogRecord[] = [];
  const fresh = await updateArmorApiToken(old, {
    baseUrl: server.url,
    logger: (record) => records.push(record),
  });
  assert.deepEqual(records.map((r) => r.event), ["request", "response"]);
  assert.deepEqual(records[0].body, { token: "[REDACTED]" });
  const shown = JSON.stringify(records);
  assert.ok(!shown.includes(old));
  assert.ok(!shown.includes(fresh.access_token));
});

Deno.test("with a session, a baseUrl of another server is refused before anything is sent", async () => {
  let sent = 0;
  const session = new ArmorSession({
    baseUrl: "https://api.armor.com",
    fetch: (() => {
      sent++;
      return Promise.reject(new Error("must not be called"));
    }) as typeof fetch,
  });
  session.authorize("0123456789abcdef0123456789abcdef", 15);
  await assert.rejects(
    updateArmorApiToken(undefined, { session, baseUrl: "https://other.example" }),
    TypeError,
  );
  await assert.rejects(
    requestArmorApiToken("one-time-code", { session, baseUrl: "https://other.example" }),
    TypeError,
  );
  assert.equal(sent, 0);
  assert.equal(session.token, "0123456789abcdef0123456789abcdef");
});
