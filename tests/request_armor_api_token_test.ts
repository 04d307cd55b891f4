import assert from "node:assert/strict";
import {
  ArmorApiError,
  ArmorCancelledError,
  type ArmorLogRecord,
  type ArmorRequestPlan,
  ArmorSession,
  requestArmorApiToken,
} from "../mod.ts";
import {
  DEFAULT_MOCK_USER,
  type MockArmorApi,
  MockClock,
  type MockFault,
  type ServedMockArmorApi,
  serveMockArmorApi,
} from "../src/testing/mod.ts";
import {
  assertErrorHides as assertNoSecret,
  errorViews,
  expectArmorError,
  snapshot,
} from "./_errors.ts";

const FIFTEEN_MINUTES = 15 * 60_000;
const VALID_TOKEN = "0123456789abcdef0123456789abcdef";
// Looks like an Armor code: base64 of 32 bytes.
const FAKE_CODE = "+8oaKtcO9kuVbjUXlfnlHCY3HmXXCidHjzOBGwr+iTo=";

/** Logs in as the mock's default user and returns a fresh one-time code. */
async function freshCode(server: ServedMockArmorApi): Promise<string> {
  const res = await fetch(`${server.baseUrl}/auth/authorize`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      username: DEFAULT_MOCK_USER.username,
      password: DEFAULT_MOCK_USER.password,
    }),
  });
  assert.equal(res.status, 200);
  const { code } = await res.json();
  assert.equal(typeof code, "string");
  return code;
}

function tokenRequests(mock: MockArmorApi) {
  return mock.requests.filter((request) => request.path === "/auth/token");
}

/** A fetch that records that it was called and never reaches the network. */
function spyFetch(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input: RequestInfo | URL) => {
      calls.push(String(input));
      return Promise.reject(new Error("must not be called"));
    },
  };
}

// ---- success -------------------------------------------------------------------

Deno.test("requestArmorApiToken redeems a code for an ArmorApiToken with the wire fields", async () => {
  const clock = new MockClock(Date.UTC(2026, 10, 23, 10, 0));
  await using server = await serveMockArmorApi({ clock, dialect: "powershell" });
  const code = await freshCode(server);

  const token = await requestArmorApiToken(code, { baseUrl: server.url, now: clock.now });

  assert.match(token.access_token, /^[0-9a-f]{32}$/);
  assert.equal(token.access_token, server.mock.issuedTokens.at(-1));
  assert.ok(server.mock.isTokenValid(token.access_token));
  assert.equal(typeof token.id_token, "string");
  assert.ok(token.id_token!.length > 0);
  assert.equal(token.expires_in, 15);
  assert.equal(token.token_type, "Bearer");
  assert.equal(token.issuedAt.toISOString(), "2026-11-23T10:00:00.000Z");
  assert.equal(token.expiresAt.toISOString(), "2026-11-23T10:15:00.000Z");
  assert.equal(token.expiresAt.getTime() - token.issuedAt.getTime(), FIFTEEN_MINUTES);
});

Deno.test("requestArmorApiToken sends exactly POST /auth/token {code, grant_type} as JSON", async () => {
  await using server = await serveMockArmorApi();
  const code = await freshCode(server);

  await requestArmorApiToken(code, { baseUrl: server.baseUrl });

  const sent = tokenRequests(server.mock);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].method, "POST");
  assert.equal(sent[0].path, "/auth/token");
  assert.deepEqual(sent[0].body, { code, grant_type: "authorization_code" });
  assert.equal(sent[0].headers.accept, "application/json");
  assert.equal(sent[0].headers["content-type"], "application/json");
  assert.equal(sent[0].headers.authorization, undefined);
  assert.equal(sent[0].status, 200);
});

Deno.test("requestArmorApiToken accepts the documented grantType and both API versions", async () => {
  await using server = await serveMockArmorApi();
  for (const apiVersion of ["v1.0", "internal"] as const) {
    const code = await freshCode(server);
    const token = await requestArmorApiToken(code, {
      baseUrl: server.url,
      grantType: "authorization_code",
      apiVersion,
    });
    assert.ok(server.mock.isTokenValid(token.access_token));
  }
  assert.equal(tokenRequests(server.mock).length, 2);
});

Deno.test("with a session, requestArmorApiToken uses its base URL and clock and authorizes it", async () => {
  const clock = new MockClock(Date.UTC(2026, 10, 23, 10, 0));
  await using server = await serveMockArmorApi({ clock });
  const session = new ArmorSession({ baseUrl: server.url, now: clock.now });
  assert.equal(session.isActive(), false);
  const code = await freshCode(server);

  // No baseUrl: the session's must be used, or the call would go to api.armor.com.
  const token = await requestArmorApiToken(code, { session });

  assert.equal(tokenRequests(server.mock).length, 1);
  assert.equal(session.isActive(), true);
  assert.equal(session.token, token.access_token);
  assert.equal(session.expiresAt.toISOString(), "2026-11-23T10:15:00.000Z");
  assert.equal(session.expiresAt.getTime(), token.expiresAt.getTime());
  assert.equal(session.issuedAt.getTime(), clock.now());
});

Deno.test("with a session, requestArmorApiToken replaces the token it held", async () => {
  await using server = await serveMockArmorApi();
  const session = new ArmorSession({ baseUrl: server.url });
  session.authorize(VALID_TOKEN, 15);

  const token = await requestArmorApiToken(await freshCode(server), { session });

  assert.notEqual(token.access_token, VALID_TOKEN);
  assert.equal(session.token, token.access_token);
});

// ---- bad input: TypeError before any request ------------------------------------

Deno.test("requestArmorApiToken rejects a missing, empty, blank or non-string code before sending", async () => {
  await using server = await serveMockArmorApi();
  const bad: unknown[] = [undefined, null, "", " ", "\t\n ", 42, {}, ["code"], true];
  for (const code of bad) {
    await assert.rejects(
      requestArmorApiToken(code as string, { baseUrl: server.url }),
      TypeError,
      `code ${Deno.inspect(code)} must be refused`,
    );
  }
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("requestArmorApiToken rejects an oversized code with a message that does not quote it", async () => {
  await using server = await serveMockArmorApi();
  const code = "c0de".repeat(5_000);
  const error = await requestArmorApiToken(code, { baseUrl: server.url }).catch((e) => e);
  assert.ok(error instanceof RangeError || error instanceof TypeError);
  assert.ok(!error.message.includes("c0dec0de"));
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("requestArmorApiToken rejects a grantType other than authorization_code before sending", async () => {
  await using server = await serveMockArmorApi();
  for (const grantType of ["client_credentials", "password", "AUTHORIZATION_CODE", "", 1]) {
    await assert.rejects(
      requestArmorApiToken(FAKE_CODE, {
        baseUrl: server.url,
        grantType: grantType as "authorization_code",
      }),
      TypeError,
    );
  }
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("requestArmorApiToken rejects an apiVersion other than v1.0 or internal before sending", async () => {
  await using server = await serveMockArmorApi();
  for (const apiVersion of ["v2.0", "V1.0", "1.0", "", "Internal", null, 1]) {
    await assert.rejects(
      requestArmorApiToken(FAKE_CODE, {
        baseUrl: server.url,
        apiVersion: apiVersion as "v1.0",
      }),
      TypeError,
      `apiVersion ${Deno.inspect(apiVersion)} must be refused`,
    );
  }
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("requestArmorApiToken refuses an unsafe or malformed baseUrl before sending", async () => {
  const spy = spyFetch();
  const bad = [
    "http://api.armor.com",
    "http://10.0.0.5:8080",
    "http://localhost.example.com",
    "http://127.0.0.1.nip.io",
    "ftp://127.0.0.1/",
    "ws://127.0.0.1/",
    "file:///etc/passwd",
    "not a url",
    "api.armor.com",
    "",
    "https://user:pass@api.armor.com",
    "http://user:pass@127.0.0.1:8080",
    "https://api.armor.com/?debug=1",
    "https://api.armor.com/#x",
  ];
  for (const baseUrl of bad) {
    await assert.rejects(
      requestArmorApiToken(FAKE_CODE, { baseUrl, fetch: spy.fetch }),
      TypeError,
      `baseUrl ${baseUrl} must be refused`,
    );
  }
  assert.deepEqual(spy.calls, []);
});

Deno.test("requestArmorApiToken's TypeError for a URL with credentials does not show the password", async () => {
  const error = await requestArmorApiToken(FAKE_CODE, {
    baseUrl: "https://ops:hunter2-secret@api.armor.com",
    fetch: spyFetch().fetch,
  }).catch((e) => e);
  assert.ok(error instanceof TypeError);
  assert.ok(!error.message.includes("hunter2-secret"));
  assert.ok(!error.message.includes(FAKE_CODE));
});

// ---- whatIf and confirm -----------------------------------------------------------

Deno.test("whatIf resolves with the redacted plan and sends nothing", async () => {
  await using server = await serveMockArmorApi();

  const plan = await requestArmorApiToken(FAKE_CODE, { baseUrl: server.url, whatIf: true });

  assert.deepEqual(plan, {
    method: "POST",
    url: `${server.baseUrl}/auth/token`,
    apiVersion: "v1.0",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: { code: "[REDACTED]", grant_type: "authorization_code" },
  });
  assert.ok(!JSON.stringify(plan).includes(FAKE_CODE));
  assert.ok(!Deno.inspect(plan).includes(FAKE_CODE));
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("whatIf keeps a base URL's path and takes the session's server without changing it", async () => {
  await using server = await serveMockArmorApi();
  const session = new ArmorSession({ baseUrl: `${server.baseUrl}/armor`, apiVersion: "internal" });

  const plan = await requestArmorApiToken(FAKE_CODE, { session, whatIf: true });

  assert.equal(plan.url, `${server.baseUrl}/armor/auth/token`);
  assert.equal(plan.apiVersion, "internal");
  assert.equal(session.isActive(), false);
  assert.deepEqual(server.mock.requests, []);

  const explicit = await requestArmorApiToken(FAKE_CODE, {
    session,
    apiVersion: "v1.0",
    whatIf: true,
  });
  assert.equal(explicit.url, `${server.baseUrl}/armor/auth/token`);
  assert.equal(explicit.apiVersion, "v1.0");
  // The session's server only: another base URL is refused.
  await assert.rejects(
    requestArmorApiToken(FAKE_CODE, { session, baseUrl: "https://api.armor.com", whatIf: true }),
    TypeError,
  );
});

Deno.test("confirm returning false rejects with ArmorCancelledError and sends nothing", async () => {
  await using server = await serveMockArmorApi();
  for (const confirm of [() => false, () => Promise.resolve(false)]) {
    const error = await requestArmorApiToken(FAKE_CODE, { baseUrl: server.url, confirm })
      .catch((e) => e);
    assert.ok(error instanceof ArmorCancelledError);
    assert.ok(!(error instanceof ArmorApiError));
    assert.equal(error.code, "CANCELLED");
    assertNoSecret(error, FAKE_CODE);
  }
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("confirm receives the redacted plan, and true sends the real code", async () => {
  await using server = await serveMockArmorApi();
  const code = await freshCode(server);
  const seen: ArmorRequestPlan[] = [];

  const token = await requestArmorApiToken(code, {
    baseUrl: server.url,
    confirm: async (plan) => {
      seen.push(structuredClone(plan));
      // Editing the plan it was shown must not change what is sent.
      plan.url = "https://elsewhere.example/";
      plan.body!.code = "tampered";
      return await Promise.resolve(true);
    },
  });

  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0].body, { code: "[REDACTED]", grant_type: "authorization_code" });
  assert.equal(seen[0].url, `${server.baseUrl}/auth/token`);
  assert.ok(!JSON.stringify(seen[0]).includes(code));
  const sent = tokenRequests(server.mock);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].body, { code, grant_type: "authorization_code" });
  assert.ok(server.mock.isTokenValid(token.access_token));
});

Deno.test("a logger sees the call but never the code", async () => {
  await using server = await serveMockArmorApi();
  const code = await freshCode(server);
  const records: ArmorLogRecord[] = [];
  await requestArmorApiToken(code, { baseUrl: server.url, logger: (r) => records.push(r) });
  server.mock.inject({ path: "/auth/token", status: 500 });
  await requestArmorApiToken(code, { baseUrl: server.url, logger: (r) => records.push(r) })
    .catch(() => {});

  assert.deepEqual(records.map((r) => r.event), [
    "request",
    "response",
    "request",
    "response",
    "error",
  ]);
  assert.ok(!JSON.stringify(records).includes(code));
  assert.ok(!Deno.inspect(records, { depth: Infinity }).includes(code));
});

// ---- failures after sending --------------------------------------------------------

Deno.test("any status but 200 is HTTP_STATUS with that status", async () => {
  await using server = await serveMockArmorApi();
  for (const status of [400, 401, 403, 404, 500, 502, 503]) {
    server.mock.inject({ path: "/auth/token", status });
    await expectArmorError(
      requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
      "HTTP_STATUS",
      status,
    );
  }
  assert.equal(tokenRequests(server.mock).length, 7);
});

Deno.test("the mock's own 400 for a spent code is HTTP_STATUS 400", async () => {
  await using server = await serveMockArmorApi();
  const code = await freshCode(server);
  await requestArmorApiToken(code, { baseUrl: server.url });
  await expectArmorError(requestArmorApiToken(code, { baseUrl: server.url }), "HTTP_STATUS", 400);
});

Deno.test("a 201 or 204 with a valid token body is not a success", async () => {
  await using server = await serveMockArmorApi();
  server.mock.inject({
    path: "/auth/token",
    status: 201,
    body: { access_token: VALID_TOKEN, id_token: "x", expires_in: 15, token_type: "Bearer" },
  });
  await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
    "HTTP_STATUS",
    201,
  );
  server.mock.inject({ path: "/auth/token", status: 204 });
  await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
    "HTTP_STATUS",
    204,
  );
});

Deno.test("429 with Retry-After: 7 is HTTP_STATUS with retryAfter 7", async () => {
  await using server = await serveMockArmorApi();
  server.mock.inject({ path: "/auth/token", status: 429, headers: { "Retry-After": "7" } });
  const error = await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
    "HTTP_STATUS",
    429,
  );
  assert.equal(error.retryAfter, 7);

  server.mock.inject({ path: "/auth/token", status: 500, headers: { "Retry-After": "7" } });
  const plain = await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
    "HTTP_STATUS",
    500,
  );
  assert.equal(plain.retryAfter, undefined);
});

Deno.test("a redirect is REDIRECT with its status and is never followed", async () => {
  await using server = await serveMockArmorApi();
  for (const status of [301, 302, 303, 307, 308]) {
    server.mock.reset();
    server.mock.inject({
      path: "/auth/token",
      status,
      headers: { location: `${server.baseUrl}/auth/token` },
      body: null,
    });
    await expectArmorError(
      requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
      "REDIRECT",
      status,
    );
    assert.equal(server.mock.requests.length, 1, `${status} must not be followed`);
  }
});

Deno.test("a 200 body that is not a JSON object is INVALID_RESPONSE", async () => {
  await using server = await serveMockArmorApi();
  const json = { "content-type": "application/json" };
  const faults: MockFault[] = [
    { body: "<html>Gateway</html>", headers: { "content-type": "text/html" } },
    { body: "not json" },
    { body: [1, 2, 3] },
    { body: "null", headers: json },
    { body: '"a string"', headers: json },
    { body: "15", headers: json },
    { body: null },
  ];
  for (const fault of faults) {
    server.mock.inject({ ...fault, path: "/auth/token", status: 200 });
    await expectArmorError(
      requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
      "INVALID_RESPONSE",
      200,
    );
  }
});

Deno.test("a 200 token body with a wrong field is INVALID_RESPONSE", async () => {
  await using server = await serveMockArmorApi();
  const good = {
    access_token: VALID_TOKEN,
    id_token: "aWQtdG9rZW4=",
    expires_in: 15,
    token_type: "Bearer",
  };
  const bodies: [string, Record<string, unknown>][] = [
    ["access_token 31 chars", { ...good, access_token: VALID_TOKEN.slice(1) }],
    ["access_token 33 chars", { ...good, access_token: VALID_TOKEN + "0" }],
    ["access_token upper case", { ...good, access_token: VALID_TOKEN.toUpperCase() }],
    ["access_token with a dash", { ...good, access_token: VALID_TOKEN.slice(1) + "-" }],
    ["access_token a number", { ...good, access_token: 12345 }],
    ["access_token missing", { ...good, access_token: undefined }],
    ["token_type empty", { ...good, token_type: "" }],
    ["token_type a number", { ...good, token_type: 1 }],
    ["token_type null", { ...good, token_type: null }],
    ["token_type missing", { ...good, token_type: undefined }],
    ["expires_in 0", { ...good, expires_in: 0 }],
    ["expires_in negative", { ...good, expires_in: -15 }],
    ["expires_in a string", { ...good, expires_in: "15" }],
    ["expires_in null", { ...good, expires_in: null }],
    ["expires_in missing", { ...good, expires_in: undefined }],
    ["id_token a number", { ...good, id_token: 7 }],
  ];
  for (const [what, body] of bodies) {
    server.mock.inject({ path: "/auth/token", status: 200, body });
    const error = await expectArmorError(
      requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
      "INVALID_RESPONSE",
      200,
    ).catch((e) => assert.fail(`${what}: ${e.message}`));
    assert.ok(error instanceof ArmorApiError, what);
  }
});

Deno.test("expires_in that JSON reads as Infinity is INVALID_RESPONSE", async () => {
  await using server = await serveMockArmorApi();
  server.mock.inject({
    path: "/auth/token",
    status: 200,
    headers: { "content-type": "application/json" },
    body:
      `{"access_token":"${VALID_TOKEN}","id_token":null,"expires_in":1e400,"token_type":"Bearer"}`,
  });
  await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
    "INVALID_RESPONSE",
    200,
  );
});

Deno.test("a body larger than MAX_RESPONSE_BYTES is BODY_TOO_LARGE", async () => {
  await using server = await serveMockArmorApi();
  server.mock.inject({ path: "/auth/token", status: 200, body: "x".repeat(1_048_577) });
  await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url }),
    "BODY_TOO_LARGE",
    200,
  );
});

Deno.test("a slow answer is TIMEOUT soon after the timeout", async () => {
  await using server = await serveMockArmorApi();
  server.mock.inject({ path: "/auth/token", delayMs: 5_000 });
  const started = performance.now();
  await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url, timeout: 200 }),
    "TIMEOUT",
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 150, `timed out too early: ${elapsed} ms`);
  assert.ok(elapsed < 1_000, `timed out too late: ${elapsed} ms`);
});

Deno.test("the caller's abort mid-flight is ABORTED at once, with the caller's reason", async () => {
  await using server = await serveMockArmorApi();
  server.mock.inject({ path: "/auth/token", delayMs: 5_000 });
  const controller = new AbortController();
  const reason = new Error("user pressed Ctrl-C");
  setTimeout(() => controller.abort(reason), 50);
  const started = performance.now();
  const error = await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url, signal: controller.signal }),
    "ABORTED",
  );
  assert.ok(performance.now() - started < 1_000);
  assert.equal(error.cause, reason);
  assert.equal(tokenRequests(server.mock).length, 1);
});

Deno.test("an already-aborted signal is ABORTED and sends nothing", async () => {
  await using server = await serveMockArmorApi();
  await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: server.url, signal: AbortSignal.abort() }),
    "ABORTED",
  );
  assert.deepEqual(server.mock.requests, []);
});

Deno.test("a refused connection is NETWORK with no status", async () => {
  const server = await serveMockArmorApi();
  const port = server.url.port;
  await server.close();
  const error = await expectArmorError(
    requestArmorApiToken(FAKE_CODE, { baseUrl: `http://127.0.0.1:${port}` }),
    "NETWORK",
  );
  assert.ok(error.cause !== undefined, "the network failure is kept as the cause");
});

// ---- secrets and sessions on failure ------------------------------------------------

Deno.test("the code never shows in any view of an error, even when the server echoes it", async () => {
  await using server = await serveMockArmorApi();
  const code = await freshCode(server);
  const echo = `The code ${code} is not valid`;
  const faults: [string, MockFault][] = [
    ["400 JSON", { status: 400, body: { error: "invalid_grant", error_description: echo } }],
    ["500 text", { status: 500, body: echo }],
    ["200 text", { status: 200, body: echo }],
    ["200 bad JSON", {
      status: 200,
      body: `{"code": "${code}"`,
      headers: { "content-type": "application/json" },
    }],
    ["200 code as access_token", {
      status: 200,
      body: { access_token: code, id_token: code, expires_in: 15, token_type: "Bearer" },
    }],
    ["200 code as expires_in", {
      status: 200,
      body: { access_token: VALID_TOKEN, id_token: null, expires_in: code, token_type: "Bearer" },
    }],
    ["302 to the code", {
      status: 302,
      headers: { location: `${server.baseUrl}/?code=${encodeURIComponent(code)}` },
      body: echo,
    }],
  ];
  for (const [what, fault] of faults) {
    server.mock.inject({ ...fault, path: "/auth/token" });
    const error = await requestArmorApiToken(code, { baseUrl: server.url }).catch((e) => e);
    assert.ok(error instanceof ArmorApiError, what);
    for (const view of errorViews(error)) {
      assert.ok(!view.includes(code), `${what}: the code shows in ${view}`);
    }
  }
});

Deno.test("a failure whose cause quotes the code has that cause withheld", async () => {
  const code = "secret-one-time-code-1234";
  const fetchThatLeaks: typeof fetch = () =>
    Promise.reject(
      new TypeError("connection reset", { cause: new Error(`while sending code=${code}`) }),
    );
  const error = await expectArmorError(
    requestArmorApiToken(code, { baseUrl: "https://api.armor.com", fetch: fetchThatLeaks }),
    "NETWORK",
  );
  assertNoSecret(error, code);
  assert.ok(error.cause instanceof Error, "a cause is still given");
});

Deno.test("a failed call leaves the session exactly as it was", async () => {
  await using server = await serveMockArmorApi();
  const authorized = new ArmorSession({ baseUrl: server.url });
  authorized.authorize(VALID_TOKEN, 15);
  const empty = new ArmorSession({ baseUrl: server.url });
  const faults: MockFault[] = [
    { status: 401 },
    { status: 500 },
    { status: 200, body: { access_token: "short", expires_in: 15, token_type: "Bearer" } },
    { status: 200, body: "not json" },
    { status: 302, headers: { location: "/" }, body: null },
    { delayMs: 2_000 },
  ];
  for (const session of [authorized, empty]) {
    const before = snapshot(session);
    for (const fault of faults) {
      server.mock.inject({ ...fault, path: "/auth/token" });
      const error = await requestArmorApiToken(FAKE_CODE, { session, timeout: 100 })
        .catch((e) => e);
      assert.ok(error instanceof ArmorApiError);
      assert.deepEqual(snapshot(session), before, `after ${error.code}`);
    }
    await requestArmorApiToken(FAKE_CODE, { session, confirm: () => false }).catch(() => {});
    assert.deepEqual(snapshot(session), before, "after a declined call");
  }
  assert.equal(authorized.token, VALID_TOKEN);
  assert.throws(
    () => empty.token,
    (e) => e instanceof ArmorApiError && e.code === "NOT_AUTHORIZED",
  );
});

Deno.test({
  name: "a host that --allow-net does not grant is the runtime's error, not NETWORK",
  ignore: Deno.permissions.querySync({ name: "net", host: "api.armor.com" }).state === "granted",
  async fn() {
    await assert.rejects(
      requestArmorApiToken("one-time-code", { baseUrl: "https://api.armor.com" }),
      Deno.errors.NotCapable,
    );
  },
});
