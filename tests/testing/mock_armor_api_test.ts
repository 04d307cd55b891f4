import assert from "node:assert/strict";
import {
  createMockArmorApi,
  DEFAULT_MOCK_USER,
  MockArmorApi as MockArmorApiClass,
  MockClock,
} from "../../src/testing/mod.ts";
import {
  assertError,
  authorize,
  DEMO,
  fixedMock,
  get,
  JSON_HEADERS,
  login,
  MINUTE,
  post,
  redeem,
  reissue,
} from "./_mock.ts";

Deno.test("MockClock stands still until advanced or set", () => {
  const clock = new MockClock(1_000);
  const now = clock.now;
  assert.equal(now(), 1_000);
  assert.equal(now(), 1_000);
  clock.advance(250);
  assert.equal(now(), 1_250);
  clock.set(10);
  assert.equal(now(), 10);
  assert.throws(() => clock.advance(-1), RangeError);
  assert.throws(() => clock.advance(Number.NaN), RangeError);
  assert.throws(() => clock.set(Infinity), RangeError);
  assert.throws(() => new MockClock(Number.NaN), RangeError);
});

Deno.test("MockClock defaults to the time it was made", () => {
  const before = Date.now();
  const clock = new MockClock();
  assert.ok(clock.now() >= before && clock.now() <= Date.now());
});

Deno.test("authorize answers a base64 code of 32 bytes for the right password", async () => {
  const { mock } = fixedMock({ dialect: "powershell" });
  const res = await post(mock, "/auth/authorize", DEMO);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), ["code", "redirect_uri", "success"]);
  assert.equal(body.redirect_uri, null);
  assert.equal(body.success, true);
  assert.match(body.code, /^[A-Za-z0-9+/]+=*$/);
  assert.equal(atob(body.code).length, 32);
  assert.notEqual(await authorize(mock), body.code);
});

Deno.test("authorize refuses wrong credentials with 401", async () => {
  const { mock } = fixedMock({ dialect: "openapi" });
  for (const credentials of [{ ...DEMO, password: "nope" }, { ...DEMO, username: "x@y.z" }]) {
    const res = await post(mock, "/auth/authorize", credentials);
    await assertError(res, "openapi", 401, "invalid_credentials");
  }
});

Deno.test("authorize refuses malformed bodies with 400 and other media types with 415", async () => {
  const { mock } = fixedMock();
  for (
    const body of ["[]", "null", '"text"', "{not json", JSON.stringify({ ...DEMO, password: 1 })]
  ) {
    const res = await post(mock, "/auth/authorize", body);
    assert.equal(res.status, 400, body);
    assert.equal(res.headers.get("content-type"), "application/json");
    await res.body?.cancel();
  }
  const plain = await post(mock, "/auth/authorize", DEMO, {
    headers: { "Content-Type": "text/plain" },
  });
  assert.equal(plain.status, 415);
  await plain.body?.cancel();
  const missing = await mock.app.request("/auth/authorize", {
    method: "POST",
    body: new Blob([JSON.stringify(DEMO)]),
  });
  assert.equal(missing.status, 415);
  await missing.body?.cancel();
  const withCharset = await post(mock, "/auth/authorize", DEMO, {
    headers: { "content-type": "Application/JSON; charset=utf-8" },
  });
  assert.equal(withCharset.status, 200);
  await withCharset.body?.cancel();
});

Deno.test("token redeems a code for a 32-hex access token", async () => {
  const { mock } = fixedMock({ dialect: "powershell" });
  const res = await redeem(mock, await authorize(mock));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), [
    "access_token",
    "expires_in",
    "id_token",
    "token_type",
  ]);
  assert.match(body.access_token, /^[0-9a-f]{32}$/);
  assert.equal(typeof body.id_token, "string");
  assert.doesNotThrow(() => atob(body.id_token));
  assert.equal(body.expires_in, 15);
  assert.equal(body.token_type, "Bearer");
  assert.deepEqual(mock.issuedTokens, [body.access_token]);
  assert.equal(mock.isTokenValid(body.access_token), true);
});

Deno.test("a code is single-use", async () => {
  const { mock } = fixedMock({ dialect: "openapi" });
  const code = await authorize(mock);
  assert.equal((await redeem(mock, code)).status, 200);
  await assertError(await redeem(mock, code), "openapi", 400, "invalid_grant");
  assert.equal(mock.issuedTokens.length, 1);
});

Deno.test("a code expires after two minutes by the mock clock", async () => {
  const { clock, mock } = fixedMock({ dialect: "openapi" });
  const onTime = await authorize(mock);
  clock.advance(2 * MINUTE);
  assert.equal((await redeem(mock, onTime)).status, 200);

  const late = await authorize(mock);
  clock.advance(2 * MINUTE + 1);
  await assertError(await redeem(mock, late), "openapi", 400, "invalid_grant");
});

Deno.test("codeLifetimeMs changes how long a code lives", async () => {
  const { clock, mock } = fixedMock({ codeLifetimeMs: 1_000 });
  const code = await authorize(mock);
  clock.advance(1_001);
  assert.equal((await redeem(mock, code)).status, 400);
});

Deno.test("token refuses unknown codes, wrong grant types, missing and non-string fields", async () => {
  const { mock } = fixedMock({ dialect: "openapi" });
  await assertError(await redeem(mock, "bm90IGEgY29kZQ=="), "openapi", 400, "invalid_grant");

  const code = await authorize(mock);
  const cases: [unknown, string, string][] = [
    [{ code, grant_type: "password" }, "unsupported_grant_type", "authorization_code"],
    [{ code }, "invalid_request", "grant_type is missing"],
    [{ grant_type: "authorization_code" }, "invalid_request", "code is missing"],
    [{ code: 1, grant_type: "authorization_code" }, "invalid_request", "code must be a string"],
  ];
  for (const [body, error, message] of cases) {
    const refused = await assertError(await post(mock, "/auth/token", body), "openapi", 400, error);
    assert.match(String(refused.error_description), new RegExp(message));
  }
  // None of the refused calls used the code up.
  assert.equal((await redeem(mock, code)).status, 200);
});

Deno.test("reissue gives a new token with a null id_token; the old one lives on", async () => {
  const { mock } = fixedMock({ dialect: "powershell" });
  const first = await login(mock);
  const res = await reissue(mock, first);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.match(body.access_token, /^[0-9a-f]{32}$/);
  assert.notEqual(body.access_token, first);
  assert.equal(body.id_token, null);
  assert.equal(body.expires_in, 15);
  assert.equal(body.token_type, "Bearer");
  assert.deepEqual(mock.issuedTokens, [first, body.access_token]);
  assert.equal(mock.isTokenValid(first), true);
  assert.equal(mock.isTokenValid(body.access_token), true);
});

Deno.test("reissue refuses expired, revoked and unknown tokens with 401", async () => {
  const { clock, mock } = fixedMock();
  const expiring = await login(mock);
  clock.advance(15 * MINUTE);
  assert.equal(mock.isTokenValid(expiring), false);
  assert.equal((await reissue(mock, expiring)).status, 401);

  const revoked = await login(mock);
  mock.revokeToken(revoked);
  assert.equal((await reissue(mock, revoked)).status, 401);

  assert.equal((await reissue(mock, "0".repeat(32))).status, 401);
  const malformed = await post(mock, "/auth/token/reissue", { token: 42 });
  assert.equal(malformed.status, 400);
  await malformed.body?.cancel();
});

Deno.test("a reissued token lives its own full lifetime", async () => {
  const { clock, mock } = fixedMock();
  const first = await login(mock);
  clock.advance(10 * MINUTE);
  const second = (await (await reissue(mock, first)).json()).access_token;
  clock.advance(5 * MINUTE);
  assert.equal(mock.isTokenValid(first), false);
  assert.equal(mock.isTokenValid(second), true);
  clock.advance(10 * MINUTE - 1);
  assert.equal(mock.isTokenValid(second), true);
  clock.advance(1);
  assert.equal(mock.isTokenValid(second), false);
});

Deno.test("expiresIn above 120 is sent as is and read as seconds", async () => {
  const { clock, mock } = fixedMock({ expiresIn: 1800 });
  const res = await redeem(mock, await authorize(mock));
  const { access_token, expires_in } = await res.json();
  assert.equal(expires_in, 1800);
  clock.advance(30 * MINUTE - 1);
  assert.equal(mock.isTokenValid(access_token), true);
  clock.advance(1);
  assert.equal(mock.isTokenValid(access_token), false);
});

Deno.test("expiresIn of 120 or less is read as minutes", async () => {
  const { clock, mock } = fixedMock({ expiresIn: 120 });
  const token = await login(mock);
  clock.advance(120 * MINUTE - 1);
  assert.equal(mock.isTokenValid(token), true);
  assert.throws(() => createMockArmorApi({ expiresIn: Number.NaN }), RangeError);
  assert.throws(() => createMockArmorApi({ codeLifetimeMs: -1 }), RangeError);
});

Deno.test("/me and /accounts answer for the user who logged in", async () => {
  const { mock } = fixedMock({
    users: [
      DEFAULT_MOCK_USER,
      {
        username: "ops@example.com",
        password: "pw",
        accounts: [{ id: 7, name: "Ops", currency: "EUR", status: "Active", parent: 1001 }],
      },
    ],
  });
  const code = await authorize(mock, { username: "ops@example.com", password: "pw" });
  const token = (await (await redeem(mock, code)).json()).access_token;
  const me = await (await get(mock, "/me", token)).json();
  assert.equal(me.user.username, "ops@example.com");
  assert.equal(me.user.firstName, "");
  assert.deepEqual(me.accounts.map((account: { id: number }) => account.id), [7]);
  const accounts = await get(mock, "/accounts", token);
  assert.equal(accounts.status, 200);
  assert.deepEqual(await accounts.json(), [{
    id: 7,
    name: "Ops",
    currency: "EUR       ",
    status: "Active",
    parent: 1001,
    products: { "AA-CORE": ["Monitoring", "Log Monitoring and Management", "Invoicing"] },
    accountType: "Direct",
    isSynced: false,
    isFreeTrial: false,
  }]);
});

Deno.test("authenticated routes refuse missing, malformed, revoked and expired tokens", async () => {
  const { clock, mock } = fixedMock();
  const token = await login(mock);
  const refused = [
    await get(mock, "/me"),
    await get(mock, "/me", "0".repeat(32)),
    await mock.app.request("/me", { headers: { Authorization: `Bearer ${token}` } }),
  ];
  for (const res of refused) {
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error, "invalid_token");
  }
  assert.equal((await get(mock, "/me", token)).status, 200);
  mock.revokeToken(token);
  assert.equal((await get(mock, "/me", token)).status, 401);

  const other = await login(mock);
  clock.advance(15 * MINUTE);
  assert.equal((await get(mock, "/accounts", other)).status, 401);
});

Deno.test("revokeAll ends every session", async () => {
  const { mock } = fixedMock();
  const tokens = [await login(mock), await login(mock)];
  mock.revokeAll();
  for (const token of tokens) {
    assert.equal(mock.isTokenValid(token), false);
    assert.equal((await get(mock, "/me", token)).status, 401);
  }
  assert.equal(mock.isTokenValid(await login(mock)), true);
});

Deno.test("X-Account-Context must name one of the user's accounts", async () => {
  const { mock } = fixedMock();
  const token = await login(mock);
  assert.equal((await get(mock, "/me", token, { "X-Account-Context": "1002" })).status, 200);
  assert.equal((await get(mock, "/accounts", token, { "X-Account-Context": "1001" })).status, 200);
  for (const context of ["9999", "abc", "", "-1001"]) {
    const res = await get(mock, "/me", token, { "X-Account-Context": context });
    assert.equal(res.status, 403, context);
    await res.body?.cancel();
  }
});

Deno.test("unknown routes get 404 and wrong methods 405, both as JSON", async () => {
  const { mock } = fixedMock();
  const missing = await mock.app.request("/v2/nothing");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-type"), "application/json");
  assert.equal((await missing.json()).error, "not_found");

  const wrong = await mock.app.request("/auth/token");
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "POST");
  assert.equal((await wrong.json()).error, "method_not_allowed");
  const deleteMe = await mock.app.request("/me", { method: "DELETE" });
  assert.equal(deleteMe.status, 405);
  await deleteMe.body?.cancel();
});

Deno.test("the request log keeps method, path, headers, body, time and status", async () => {
  const { clock, mock } = fixedMock();
  const start = clock.now();
  await post(mock, "/auth/authorize", DEMO);
  clock.advance(1_000);
  await post(mock, "/auth/authorize", "{broken", {
    headers: { "Content-Type": "application/json" },
  });
  await mock.app.request("/me?x=1", { headers: { "X-Account-Context": "1001" } });

  assert.equal(mock.requests.length, 3);
  const [first, second, third] = mock.requests;
  assert.deepEqual(first, {
    method: "POST",
    path: "/auth/authorize",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: DEMO,
    time: start,
    status: 200,
  });
  assert.equal(second.body, "{broken");
  assert.equal(second.status, 400);
  assert.equal(second.time, start + 1_000);
  assert.equal(third.method, "GET");
  assert.equal(third.path, "/me");
  assert.equal(third.body, undefined);
  assert.equal(third.headers["x-account-context"], "1001");
  assert.equal(third.status, 401);
  assert.equal(mock.count("/auth/authorize"), 2);
  assert.equal(mock.count("/me"), 1);
  assert.equal(mock.count("/accounts"), 0);
});

Deno.test("a fault answers with its status, JSON body and headers, once by default", async () => {
  const { mock } = fixedMock();
  mock.inject({ status: 503, body: { Message: "Busy" }, headers: { "Retry-After": "3" } });
  const faulted = await post(mock, "/auth/authorize", DEMO);
  assert.equal(faulted.status, 503);
  assert.equal(faulted.headers.get("content-type"), "application/json");
  assert.equal(faulted.headers.get("retry-after"), "3");
  assert.deepEqual(await faulted.json(), { Message: "Busy" });
  assert.equal((await post(mock, "/auth/authorize", DEMO)).status, 200);
  assert.deepEqual(mock.requests.map((request) => request.status), [503, 200]);
  assert.deepEqual(mock.requests[0].body, DEMO);
});

Deno.test("a fault without a body sends a default JSON message; status defaults to 500", async () => {
  const { mock } = fixedMock();
  mock.inject({ headers: { "X-Fault": "yes" } });
  const res = await mock.app.request("/me");
  assert.equal(res.status, 500);
  assert.equal(res.headers.get("x-fault"), "yes");
  assert.equal((await res.json()).error, "injected_fault");
});

Deno.test("a fault sends string and byte bodies raw and null as no body", async () => {
  const { mock } = fixedMock();
  mock.inject({ status: 200, body: '{"access_token": ' });
  mock.inject({
    status: 502,
    body: new TextEncoder().encode("<html>Bad gateway</html>"),
    headers: { "Content-Type": "text/html" },
  });
  mock.inject({ status: 401, body: null });
  mock.inject({ status: 204 });

  const truncated = await redeem(mock, "any");
  assert.equal(truncated.status, 200);
  assert.equal(await truncated.text(), '{"access_token": ');
  const html = await mock.app.request("/me");
  assert.equal(html.status, 502);
  assert.equal(html.headers.get("content-type"), "text/html");
  assert.equal(await html.text(), "<html>Bad gateway</html>");
  const empty = await mock.app.request("/me");
  assert.equal(empty.status, 401);
  assert.equal(await empty.text(), "");
  const noContent = await mock.app.request("/me");
  assert.equal(noContent.status, 204);
  assert.equal(await noContent.text(), "");
});

Deno.test("a fault applies as many times as asked", async () => {
  const { mock } = fixedMock();
  mock.inject({ status: 429, times: 3 });
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const res = await mock.app.request("/nowhere");
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assert.deepEqual(statuses, [429, 429, 429, 404]);

  mock.inject({ status: 500, times: Infinity });
  for (let i = 0; i < 5; i++) {
    const res = await mock.app.request("/me");
    assert.equal(res.status, 500);
    await res.body?.cancel();
  }
  mock.clearFaults();
  assert.equal((await mock.app.request("/me")).status, 401);
});

Deno.test("a fault with a path hits only that path; faults apply in order", async () => {
  const { mock } = fixedMock();
  const token = await login(mock);
  mock.inject({ path: "/auth/token/reissue", status: 500 });
  mock.inject({ path: "/auth/token/reissue", status: 502 });
  mock.inject({ path: "/me", status: 504 });

  assert.equal((await get(mock, "/accounts", token)).status, 200);
  assert.equal((await get(mock, "/me", token)).status, 504);
  assert.equal((await get(mock, "/me", token)).status, 200);
  assert.equal((await reissue(mock, token)).status, 500);
  assert.equal((await reissue(mock, token)).status, 502);
  assert.equal((await reissue(mock, token)).status, 200);
});

Deno.test("a delay-only fault lets the real route answer after the delay", async () => {
  const { mock } = fixedMock();
  mock.inject({ path: "/auth/authorize", delayMs: 60 });
  const started = performance.now();
  const res = await post(mock, "/auth/authorize", DEMO);
  const elapsed = performance.now() - started;
  assert.equal(res.status, 200);
  assert.equal(typeof (await res.json()).code, "string");
  assert.ok(elapsed >= 55, `answered after ${elapsed} ms`);

  const quick = performance.now();
  await (await post(mock, "/auth/authorize", DEMO)).body?.cancel();
  assert.ok(performance.now() - quick < 55);
});

Deno.test("a delayed fault answers with its status after the delay", async () => {
  const { mock } = fixedMock();
  mock.inject({ delayMs: 40, status: 504 });
  const started = performance.now();
  const res = await mock.app.request("/me");
  assert.equal(res.status, 504);
  await res.body?.cancel();
  assert.ok(performance.now() - started >= 35);
});

Deno.test("a delay ends when the client aborts, and is logged as 499", async () => {
  const { mock } = fixedMock();
  mock.inject({ delayMs: 10_000 });
  const controller = new AbortController();
  const started = performance.now();
  const pending = mock.app.request(
    new Request("http://mock.test/me", { signal: controller.signal }),
  );
  setTimeout(() => controller.abort(), 20);
  const res = await pending;
  assert.equal(res.status, 499);
  await res.body?.cancel();
  assert.ok(performance.now() - started < 5_000);
  assert.equal(mock.requests[0].status, 499);
});

Deno.test("abortPending releases requests held by a delay with 503", async () => {
  const { mock } = fixedMock();
  mock.inject({ delayMs: 10_000, times: 2 });
  const pending = [mock.app.request("/me"), mock.app.request("/accounts")];
  mock.abortPending();
  for (const res of await Promise.all(pending)) {
    assert.equal(res.status, 503);
    await res.body?.cancel();
  }
  // Later delays are not affected.
  mock.inject({ delayMs: 10 });
  assert.equal((await mock.app.request("/me")).status, 401);
});

Deno.test("abortPending also stops requests that have not started waiting yet", async () => {
  const { mock } = fixedMock({ users: [{ ...DEFAULT_MOCK_USER, mfaDelayMs: 10_000 }] });
  // The body is still being read when abortPending runs: the MFA wait starts later.
  const pending = post(mock, "/auth/authorize", DEMO);
  mock.abortPending();
  const started = performance.now();
  const res = await pending;
  assert.equal(res.status, 503);
  await res.body?.cancel();
  assert.ok(performance.now() - started < 5_000);
});

Deno.test("inject refuses faults it cannot serve", () => {
  const { mock } = fixedMock();
  assert.throws(() => mock.inject({ status: 99 }), RangeError);
  assert.throws(() => mock.inject({ status: 600 }), RangeError);
  assert.throws(() => mock.inject({ status: 500.5 }), RangeError);
  assert.throws(() => mock.inject({ times: 0 }), RangeError);
  assert.throws(() => mock.inject({ times: 1.5 }), RangeError);
  assert.throws(() => mock.inject({ delayMs: -1 }), RangeError);
  assert.throws(() => mock.inject({ status: 204, body: "x" }), TypeError);
});

Deno.test("a user with mfaDelayMs waits before the code is issued", async () => {
  const { mock } = fixedMock({ users: [{ ...DEFAULT_MOCK_USER, mfaDelayMs: 60 }] });
  const started = performance.now();
  const code = await authorize(mock);
  assert.ok(performance.now() - started >= 55);
  assert.equal((await redeem(mock, code)).status, 200);

  const wrong = performance.now();
  const refused = await post(mock, "/auth/authorize", { ...DEMO, password: "nope" });
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  assert.ok(performance.now() - wrong < 55, "a wrong password is refused at once");
});

Deno.test("an MFA wait ends when the client gives up", async () => {
  const { mock } = fixedMock({ users: [{ ...DEFAULT_MOCK_USER, mfaDelayMs: 10_000 }] });
  const res = await mock.app.request(
    new Request("http://mock.test/auth/authorize", {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify(DEMO),
      signal: AbortSignal.timeout(20),
    }),
  );
  assert.equal(res.status, 499);
  await res.body?.cancel();
  assert.equal(mock.requests[0].status, 499);
});

Deno.test("reset forgets requests, codes, tokens and faults", async () => {
  const { mock } = fixedMock();
  const token = await login(mock);
  const code = await authorize(mock);
  mock.inject({ status: 500, times: Infinity });
  const requests = mock.requests;
  const issued = mock.issuedTokens;

  mock.reset();
  assert.equal(mock.requests, requests);
  assert.equal(mock.requests.length, 0);
  assert.equal(mock.count("/auth/token"), 0);
  assert.equal(issued.length, 0);
  assert.equal(mock.isTokenValid(token), false);
  assert.equal((await get(mock, "/me", token)).status, 401);
  assert.equal((await redeem(mock, code)).status, 400);
  assert.equal(mock.requests.length, 2);
});

Deno.test("constructor options: duplicate users are refused; the default user is frozen", () => {
  assert.throws(
    () => new MockArmorApiClass({ users: [DEFAULT_MOCK_USER, DEFAULT_MOCK_USER] }),
    TypeError,
  );
  assert.ok(Object.isFrozen(DEFAULT_MOCK_USER));
  assert.ok(Object.isFrozen(DEFAULT_MOCK_USER.accounts));
  assert.equal(DEFAULT_MOCK_USER.username, "demo@example.com");
  assert.equal(DEFAULT_MOCK_USER.password, "demo-password");
  assert.deepEqual(DEFAULT_MOCK_USER.accounts?.map((account) => account.id), [1001, 1002]);
});

Deno.test("mocks do not share state", async () => {
  const a = createMockArmorApi();
  const b = createMockArmorApi();
  const token = await login(a);
  assert.equal(b.isTokenValid(token), false);
  assert.equal((await get(b, "/me", token)).status, 401);
  assert.equal(a.requests.length, 2);
  assert.equal(b.requests.length, 1);
});

Deno.test("10,000 concurrent /me calls are answered and logged", async () => {
  const { mock } = fixedMock();
  const token = await login(mock);
  const started = performance.now();
  const responses = await Promise.all(
    Array.from({ length: 10_000 }, () => get(mock, "/me", token)),
  );
  for (const res of responses) {
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  const elapsed = performance.now() - started;
  assert.equal(mock.count("/me"), 10_000);
  assert.equal(mock.requests.length, 10_002);
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
});
