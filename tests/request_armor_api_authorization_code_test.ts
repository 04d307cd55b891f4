// requestArmorApiAuthorizationCode (issue 17 part 1): the authorize step as a public call,
// end to end against the mock Armor API over loopback, with the conventions of the two
// token calls (whatIf, confirm, signal, timeout, logger, sent once) and the code kept
// secret in every view.

import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  ArmorApiAuthorizationCode,
  ArmorApiError,
  ArmorCancelledError,
  type ArmorLogRecord,
  type ArmorRequestPlan,
  ArmorSession,
  requestArmorApiAuthorizationCode,
  requestArmorApiToken,
  updateArmorApiToken,
} from "../mod.ts";
import { DEFAULT_AUTHORIZE_TIMEOUT_MS } from "../src/renewal.ts";
import {
  DEFAULT_MOCK_USER,
  MockClock,
  type MockDialect,
  type ServedMockArmorApi,
  serveMockArmorApi,
} from "../src/testing/mod.ts";
import { assertErrorHides, errorViews, expectArmorError } from "./_errors.ts";

const START = Date.UTC(2026, 10, 23, 10, 0);
const { username: USERNAME, password: PASSWORD } = DEFAULT_MOCK_USER;

function serve(dialect?: MockDialect): Promise<ServedMockArmorApi> {
  return serveMockArmorApi({ clock: new MockClock(START), ...(dialect ? { dialect } : {}) });
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

/** Every way a person or a log could see a value. */
function views(value: unknown): string[] {
  return [
    JSON.stringify(value),
    Deno.inspect(value, { depth: Infinity }),
    inspect(value, { depth: Infinity, showHidden: true }),
    String(value),
    `${value}`,
    JSON.stringify({ ...(value as object) }),
  ];
}

for (const dialect of ["powershell", "openapi"] as const) {
  Deno.test(`authorize (${dialect}): authorize → requestArmorApiToken → updateArmorApiToken, no session`, async () => {
    await using server = await serve(dialect);
    const now = server.mock.clock.now;
    const result = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
      baseUrl: server.baseUrl,
      now,
    });
    assert.ok(result instanceof ArmorApiAuthorizationCode);
    assert.equal(typeof result.code, "string");
    assert.ok(result.code.length > 20);
    // Two minutes, whether the answer says so (openapi: expiresIn 120) or not (powershell).
    assert.equal(result.expiresAt.getTime(), START + 120_000);
    const sent = server.mock.requests.find((r) => r.path === "/auth/authorize")!;
    assert.equal(sent.method, "POST");
    assert.deepEqual(sent.body, { username: USERNAME, password: PASSWORD });
    assert.equal(sent.headers["content-type"], "application/json");
    assert.equal(sent.headers.accept, "application/json");

    const token = await requestArmorApiToken(result.code, { baseUrl: server.baseUrl, now });
    assert.ok(server.mock.isTokenValid(token.access_token));
    const renewed = await updateArmorApiToken(token.access_token, { baseUrl: server.baseUrl, now });
    assert.notEqual(renewed.access_token, token.access_token);
    assert.ok(server.mock.isTokenValid(renewed.access_token));
    assert.equal(server.mock.count("/auth/authorize"), 1);
    assert.equal(server.mock.count("/auth/token"), 1);
    assert.equal(server.mock.count("/auth/token/reissue"), 1);
    // The code is single-use: a second redemption fails.
    await expectArmorError(
      requestArmorApiToken(result.code, { baseUrl: server.baseUrl, now }),
      "HTTP_STATUS",
      400,
    );
  });

  Deno.test(`authorize (${dialect}): a wrong password is 401 with the server's reason, no secret`, async () => {
    await using server = await serve(dialect);
    const wrong = "not-the-password-4711";
    const error = await expectArmorError(
      requestArmorApiAuthorizationCode(USERNAME, wrong, { baseUrl: server.baseUrl }),
      "HTTP_STATUS",
      401,
    );
    if (dialect === "openapi") {
      assert.equal(error.serverCode, "invalid_credentials");
      assert.equal(error.serverMessage, "Invalid username or password");
      assert.match(
        error.message,
        /^POST \/auth\/authorize: the Armor API answered 401 invalid_credentials: Invalid username or password/,
      );
    } else {
      // The PowerShell module's fixture: {"errorCode": "access_denied", "badLogonCount"}.
      assert.equal(error.serverCode, "access_denied");
    }
    assertErrorHides(error, wrong);
    assert.equal(server.mock.count("/auth/authorize"), 1);
  });
}

Deno.test("authorize: the code is redacted in JSON, Deno.inspect, util.inspect and strings", async () => {
  await using server = await serve();
  const result = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
  });
  for (const view of views(result)) {
    assert.ok(!view.includes(result.code), `the code shows in ${view}`);
  }
  assert.equal(
    JSON.stringify(result),
    `{"code":"[REDACTED]","expiresAt":"${new Date(START + 120_000).toISOString()}"}`,
  );
  assert.deepEqual(Object.keys(result), ["expiresAt"]);
  // Destructuring still reads it.
  const { code } = result;
  assert.equal(code, result.code);
});

Deno.test("authorize: code from authorization_code, expiresIn in seconds, success false refused", async () => {
  const answer = (body: unknown): typeof fetch => () => Promise.resolve(Response.json(body));
  const at = () => START;
  const base = "https://api.armor.com";
  const a = await requestArmorApiAuthorizationCode("u@example.com", "p", {
    baseUrl: base,
    now: at,
    fetch: answer({ authorization_code: "abc-123", redirect_uri: null }),
  });
  assert.equal(a.code, "abc-123");
  assert.equal(a.expiresAt.getTime(), START + 120_000);
  const b = await requestArmorApiAuthorizationCode("u@example.com", "p", {
    baseUrl: base,
    now: at,
    fetch: answer({ code: "xyz", expiresIn: 30 }),
  });
  assert.equal(b.code, "xyz");
  assert.equal(b.expiresAt.getTime(), START + 30_000);
  for (
    const body of [
      { success: false, code: "xyz" },
      { code: "" },
      { code: 42 },
      {},
      { authorization_code: "   " },
      { code: "x".repeat(8193) },
    ]
  ) {
    const error = await expectArmorError(
      requestArmorApiAuthorizationCode("u@example.com", "pw-secret-1", {
        baseUrl: base,
        fetch: answer(body),
      }),
      "INVALID_RESPONSE",
      200,
    );
    assert.match(error.message, /^POST \/auth\/authorize: /, JSON.stringify(body));
    assert.ok(!error.message.includes("xyz"));
    assertErrorHides(error, "pw-secret-1");
  }
});

Deno.test("authorize: the code's lifetime runs from the answer, not from the request", async () => {
  let clock = START;
  const fetchSlow: typeof fetch = () => {
    clock += 90_000; // a minute and a half waiting for the phone
    return Promise.resolve(Response.json({ code: "c0de", expiresIn: 120 }));
  };
  const result = await requestArmorApiAuthorizationCode("u@example.com", "p", {
    baseUrl: "https://api.armor.com",
    fetch: fetchSlow,
    now: () => clock,
  });
  assert.equal(result.expiresAt.getTime(), START + 90_000 + 120_000);
});

Deno.test("authorize: whatIf resolves with the plan, password redacted, nothing sent", async () => {
  const spy = spyFetch();
  const plan: ArmorRequestPlan = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
    whatIf: true,
    fetch: spy.fetch,
  });
  assert.deepEqual(plan, {
    method: "POST",
    url: "https://api.armor.com/auth/authorize",
    apiVersion: "v1.0",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: { username: USERNAME, password: "[REDACTED]" },
  });
  assert.ok(!JSON.stringify(plan).includes(PASSWORD));
  assert.deepEqual(spy.calls, []);
});

Deno.test("authorize: confirm sees the redacted plan; false cancels, nothing sent", async () => {
  await using server = await serve();
  const seen: ArmorRequestPlan[] = [];
  const error = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
    baseUrl: server.baseUrl,
    confirm: (plan) => {
      seen.push(plan);
      return false;
    },
  }).then(() => assert.fail("should be cancelled"), (e: unknown) => e);
  assert.ok(error instanceof ArmorCancelledError);
  assert.equal(error.message, "POST /auth/authorize was not confirmed: nothing was sent");
  assert.equal(seen.length, 1);
  assert.equal(seen[0].body?.password, "[REDACTED]");
  assert.equal(server.mock.count("/auth/authorize"), 0);
  const yes = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
    baseUrl: server.baseUrl,
    confirm: () => Promise.resolve(true),
  });
  assert.equal(typeof yes.code, "string");
  assert.equal(server.mock.count("/auth/authorize"), 1);
});

Deno.test("authorize: bad input is a TypeError before anything is sent, no secret shown", async () => {
  const spy = spyFetch();
  const secret = "s3cret-password-value";
  const cases: [unknown, unknown, unknown][] = [
    ["", secret, {}],
    ["   ", secret, {}],
    [undefined, secret, {}],
    [42, secret, {}],
    [USERNAME, "", {}],
    [USERNAME, " \t ", {}],
    [USERNAME, undefined, {}],
    [USERNAME, secret, { baseUrl: "http://api.armor.com" }],
    [USERNAME, secret, { apiVersion: "v2" }],
    [USERNAME, secret, { session: {} }],
  ];
  for (const [user, password, options] of cases) {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      (requestArmorApiAuthorizationCode as any)(user, password, {
        fetch: spy.fetch,
        ...options as object,
      }),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, `${user}/${options}: ${error}`);
        for (const view of errorViews(error)) assert.ok(!view.includes(secret));
        return true;
      },
    );
  }
  await assert.rejects(
    requestArmorApiAuthorizationCode(USERNAME, secret, { timeout: 0, fetch: spy.fetch }),
    RangeError,
  );
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    (requestArmorApiAuthorizationCode as any)(USERNAME, secret, "options"),
    TypeError,
  );
  assert.deepEqual(spy.calls, []);
});

Deno.test("authorize: an abort ends the wait for the phone with ABORTED, sent once", async () => {
  await using server = await serveMockArmorApi({
    users: [{ ...DEFAULT_MOCK_USER, mfaDelayMs: 10_000 }],
  });
  const controller = new AbortController();
  const pending = requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
    baseUrl: server.baseUrl,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(new Error("user gave up")), 50);
  const error = await expectArmorError(pending, "ABORTED", undefined);
  assert.equal(error.message, "POST /auth/authorize was aborted by the caller");
  assertErrorHides(error, PASSWORD);
  assert.equal(server.mock.count("/auth/authorize"), 1);
  // An already aborted signal sends nothing.
  const before = server.mock.requests.length;
  await expectArmorError(
    requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
      baseUrl: server.baseUrl,
      signal: AbortSignal.abort(),
    }),
    "ABORTED",
    undefined,
  );
  assert.equal(server.mock.requests.length, before);
});

Deno.test("authorize: timeout gives TIMEOUT; the default is three minutes", async () => {
  await using server = await serveMockArmorApi({
    users: [{ ...DEFAULT_MOCK_USER, mfaDelayMs: 10_000 }],
  });
  const error = await expectArmorError(
    requestArmorApiAuthorizationCode(USERNAME, PASSWORD, { baseUrl: server.baseUrl, timeout: 80 }),
    "TIMEOUT",
    undefined,
  );
  assert.equal(error.message, "POST /auth/authorize timed out after 80 ms");
  assertErrorHides(error, PASSWORD);
  assert.equal(DEFAULT_AUTHORIZE_TIMEOUT_MS, 180_000);
});

Deno.test("authorize: the logger sees the password redacted, never the code", async () => {
  await using server = await serve();
  const records: ArmorLogRecord[] = [];
  const result = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
    baseUrl: server.baseUrl,
    logger: (record) => records.push(record),
  });
  assert.deepEqual(records.map((r) => r.event), ["request", "response"]);
  assert.deepEqual(records[0].body, { username: USERNAME, password: "[REDACTED]" });
  const text = JSON.stringify(records);
  assert.ok(!text.includes(PASSWORD));
  assert.ok(!text.includes(result.code));
});

Deno.test("authorize: sent on a connection of its own (the password is never resent)", async () => {
  await using server = await serve();
  const inits: RequestInit[] = [];
  await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
    baseUrl: server.baseUrl,
    fetch: (input, init) => {
      inits.push(init!);
      return fetch(input, init);
    },
  });
  assert.equal(inits.length, 1);
  assert.equal(inits[0].redirect, "manual");
  const client = (inits[0] as { client?: Deno.HttpClient }).client;
  assert.ok(client !== undefined, "no client of its own");
});

Deno.test("authorize: ArmorSession.connect logs in through it (a 401 reads the same)", async () => {
  await using server = await serve("openapi");
  const direct = await expectArmorError(
    requestArmorApiAuthorizationCode(USERNAME, "wrong-pass-1", { baseUrl: server.baseUrl }),
    "HTTP_STATUS",
    401,
  );
  const viaConnect = await expectArmorError(
    ArmorSession.connect({ baseUrl: server.baseUrl, username: USERNAME, password: "wrong-pass-1" }),
    "HTTP_STATUS",
    401,
  );
  assert.equal(viaConnect.message, direct.message);
  const session = await ArmorSession.connect({
    baseUrl: server.baseUrl,
    username: USERNAME,
    password: PASSWORD,
  });
  assert.ok(session.isActive());
  await session.disconnect();
});

Deno.test("authorize: an error never shows the code of the answer", async () => {
  // The token call fails after the code came; its error must not show the code either.
  await using server = await serve();
  const result = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
    baseUrl: server.baseUrl,
  });
  server.mock.inject({ path: "/auth/token", status: 500, body: { Message: result.code } });
  const error = await requestArmorApiToken(result.code, { baseUrl: server.baseUrl }).then(
    () => assert.fail("should fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ArmorApiError);
  assertErrorHides(error, result.code);
});

Deno.test("authorize: a clock that throws is a TypeError before the password is sent", async () => {
  const spy = spyFetch();
  await assert.rejects(
    requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
      fetch: spy.fetch,
      now: () => {
        throw new Error("broken clock");
      },
    }),
    TypeError,
  );
  await assert.rejects(
    requestArmorApiAuthorizationCode(USERNAME, PASSWORD, { fetch: spy.fetch, now: () => NaN }),
    TypeError,
  );
  assert.deepEqual(spy.calls, []);
});

Deno.test("authorize: an expiresIn that is no sane number of seconds reads as two minutes", async () => {
  for (const expiresIn of [0, -5, 3_601, 1e12, Infinity, NaN, "120", null, true]) {
    const result = await requestArmorApiAuthorizationCode("u@example.com", "p", {
      baseUrl: "https://api.armor.com",
      now: () => START,
      fetch: () => Promise.resolve(Response.json({ code: "c0de", expiresIn })),
    });
    assert.equal(result.expiresAt.getTime(), START + 120_000, String(expiresIn));
    // Every view still works.
    assert.equal(JSON.parse(JSON.stringify(result)).code, "[REDACTED]");
  }
  const hour = await requestArmorApiAuthorizationCode("u@example.com", "p", {
    baseUrl: "https://api.armor.com",
    now: () => START,
    fetch: () => Promise.resolve(Response.json({ code: "c0de", expiresIn: 3_600 })),
  });
  assert.equal(hour.expiresAt.getTime(), START + 3_600_000);
});

Deno.test("authorize: an ArmorApiAuthorizationCode made with a bad date still prints, redacted", () => {
  const made = new ArmorApiAuthorizationCode("secret-code-123", NaN);
  assert.equal(JSON.stringify(made), '{"code":"[REDACTED]","expiresAt":null}');
  for (const view of views(made)) assert.ok(!view.includes("secret-code-123"));
});

Deno.test("authorize: a password the server echoes form-encoded (+ for space) is redacted", async () => {
  // The mock and Armor take form bodies; a server quoting one echoes the password as
  // application/x-www-form-urlencoded writes it, which encodeURIComponent does not match.
  const password = "correct horse & battery=staple!";
  const logs: ArmorLogRecord[] = [];
  await using server = await serveMockArmorApi({
    users: [{ username: USERNAME, password }],
  });
  const echoed = new URLSearchParams({ username: USERNAME, password }).toString();
  server.mock.inject({
    path: "/auth/authorize",
    status: 401,
    body: { error: "invalid_credentials", error_description: `Refused ${echoed}` },
  });
  const error = await expectArmorError(
    requestArmorApiAuthorizationCode(USERNAME, password, {
      baseUrl: server.baseUrl,
      logger: (record) => void logs.push(record),
    }),
    "HTTP_STATUS",
    401,
  );
  const formEncoded = echoed.slice(echoed.indexOf("password=") + "password=".length);
  assertErrorHides(error, formEncoded);
  assert.match(error.serverMessage ?? "", /password=\[REDACTED\]/);
  assert.equal(JSON.stringify(logs).includes(formEncoded), false);
});

Deno.test('authorize: only a confirm that answers true sends; a prompt\'s "n" sends nothing', async () => {
  // `confirm: () => prompt("Send? [y/n]")` answers a string: "n" is truthy, and the
  // password went out. Anything but a boolean is a TypeError, nothing sent.
  await using server = await serve();
  for (const answer of ["n", "no", 1, {}, undefined, null]) {
    const error = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
      baseUrl: server.baseUrl,
      confirm: () => answer as unknown as boolean,
    }).then(() => assert.fail(`sent on ${String(answer)}`), (e: unknown) => e);
    assert.ok(error instanceof TypeError, `${String(answer)}: ${error}`);
    assert.match(error.message, /^confirm must answer true or false/);
    assert.match(error.message, /nothing was sent$/);
  }
  const declined = await updateArmorApiToken("0123456789abcdef0123456789abcdef", {
    baseUrl: server.baseUrl,
    confirm: () => Promise.resolve("n" as unknown as boolean),
  }).then(() => assert.fail("sent"), (e: unknown) => e);
  assert.ok(declined instanceof TypeError);
  assert.equal(server.mock.count("/auth/authorize"), 0);
  assert.equal(server.mock.count("/auth/token/reissue"), 0);
});
