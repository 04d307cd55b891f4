// The logger option: the whole flow (connect, fetch, renewal, update, failures) gives
// records for every call, and no record shows the password, a code, or any token.

import assert from "node:assert/strict";
import {
  ArmorApiError,
  type ArmorLogRecord,
  ArmorSession,
  requestArmorApiToken,
  updateArmorApiToken,
} from "../mod.ts";
import { MockClock, serveMockArmorApi } from "../src/testing/mod.ts";
import { assertNoSecret } from "./_leaks.ts";

const PASSWORD = "Pa55w0rd-l0gger-test";
const USER = {
  username: "ops@example.com",
  password: PASSWORD,
  accounts: [{ id: 2001, name: "Ops" }],
};
const EVENTS = new Set(["request", "response", "error", "renewal"]);

/** Collects records, and lets a test take the ones that arrived since it last looked. */
class Records {
  readonly all: ArmorLogRecord[] = [];
  #seen = 0;
  readonly logger = (record: ArmorLogRecord) => {
    // A logger gets its own copy to keep: the module must not hand it live state.
    this.all.push(structuredClone(record));
  };
  /** The records since the last call. */
  take(): ArmorLogRecord[] {
    const fresh = this.all.slice(this.#seen);
    this.#seen = this.all.length;
    return fresh;
  }
}

/** Asserts a request record and then a response (or error) record for `method path`. */
function assertCall(
  records: ArmorLogRecord[],
  method: string,
  path: string,
  outcome: { status: number } | { code: string; status?: number },
): void {
  const url = (record: ArmorLogRecord) => record.url && new URL(record.url).pathname;
  const request = records.findIndex((r) =>
    r.event === "request" && r.method === method && url(r) === path
  );
  assert.ok(request !== -1, `No request record for ${method} ${path}: ${JSON.stringify(records)}`);
  // A response, then (when the call fails on it) an error; or an error alone.
  const wanted = "code" in outcome ? "error" : "response";
  const end = records.findIndex((r, i) =>
    i > request && r.event === wanted && r.method === method && url(r) === path
  );
  assert.ok(end !== -1, `No ${wanted} record for ${method} ${path}: ${JSON.stringify(records)}`);
  const record = records[end];
  if ("code" in outcome) {
    assert.equal(record.event, "error", `${method} ${path}: ${JSON.stringify(record)}`);
    assert.equal(record.code, outcome.code);
    if (outcome.status !== undefined) assert.equal(record.status, outcome.status);
  } else {
    assert.equal(record.status, outcome.status, `${method} ${path}: ${JSON.stringify(record)}`);
  }
  assert.ok(typeof record.ms === "number" && record.ms >= 0);
}

Deno.test("logger: every call of the whole flow is logged, and no record shows a secret", async () => {
  const clock = new MockClock(Date.UTC(2026, 10, 23, 10, 0));
  const served = await serveMockArmorApi({ clock, users: [USER] });
  const { mock } = served;
  // Every secret the server hands out, as the client saw it.
  const handedOut = new Set<string>();
  const capture: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const path = new URL(String(input)).pathname;
    if (path.startsWith("/auth/") && response.status === 200) {
      const body = await response.clone().json();
      for (const field of ["code", "access_token", "id_token"]) {
        if (typeof body[field] === "string") handedOut.add(body[field]);
      }
    }
    return response;
  };
  const sessionLog = new Records();
  const callLog = new Records();
  try {
    // connect: authorize, token, /me.
    const session = await ArmorSession.connect({
      username: USER.username,
      password: PASSWORD,
      baseUrl: served.baseUrl,
      now: clock.now,
      fetch: capture,
      timeout: 2_000,
      logger: sessionLog.logger,
    });
    let records = sessionLog.take();
    assertCall(records, "POST", "/auth/authorize", { status: 200 });
    assertCall(records, "POST", "/auth/token", { status: 200 });
    assertCall(records, "GET", "/me", { status: 200 });
    const authorize = records.find((r) => r.event === "request" && r.url?.endsWith("authorize"));
    assert.deepEqual(authorize?.body, { username: USER.username, password: "[REDACTED]" });

    // fetch with the session.
    const me = await session.fetch("/me");
    assert.equal(me.status, 200);
    await me.body?.cancel();
    records = sessionLog.take();
    assertCall(records, "GET", "/me", { status: 200 });
    const sent = records.find((r) => r.event === "request")!;
    assert.match(sent.headers?.authorization ?? "", /REDACTED/);

    // renewal: due once a third of the session has passed; one reissue in the background.
    clock.advance(6 * 60_000);
    const accounts = await session.fetch("/accounts");
    await accounts.body?.cancel();
    await session.idle();
    records = sessionLog.take();
    assertCall(records, "GET", "/accounts", { status: 200 });
    assertCall(records, "POST", "/auth/token/reissue", { status: 200 });
    assert.ok(records.some((r) => r.event === "renewal" && r.outcome === "renewed"));
    assert.equal(mock.count("/auth/token/reissue"), 1);

    // update: by hand, with a call logger (it takes the place of the session's).
    await updateArmorApiToken(undefined, { session, logger: callLog.logger, fetch: capture });
    assertCall(callLog.take(), "POST", "/auth/token/reissue", { status: 200 });
    assert.deepEqual(sessionLog.take(), []);

    // request: a fresh code, redeemed with a call logger.
    const code = await (await capture(`${served.baseUrl}/auth/authorize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: USER.username, password: PASSWORD }),
    })).json();
    await requestArmorApiToken(code.code, {
      baseUrl: served.baseUrl,
      logger: callLog.logger,
      fetch: capture,
    });
    records = callLog.take();
    assertCall(records, "POST", "/auth/token", { status: 200 });
    assert.deepEqual(records[0].body, { code: "[REDACTED]", grant_type: "authorization_code" });

    // Failures. A code used twice: 400.
    await assert.rejects(
      requestArmorApiToken(code.code, { baseUrl: served.baseUrl, logger: callLog.logger }),
      ArmorApiError,
    );
    assertCall(callLog.take(), "POST", "/auth/token", { code: "HTTP_STATUS", status: 400 });

    // A reissue the server fails: 500.
    mock.inject({ path: "/auth/token/reissue", status: 500 });
    await assert.rejects(
      updateArmorApiToken(undefined, { session, logger: callLog.logger }),
      ArmorApiError,
    );
    assertCall(callLog.take(), "POST", "/auth/token/reissue", { code: "HTTP_STATUS", status: 500 });

    // A renewal the server fails: 503, logged as a failed renewal.
    const before = session.token;
    mock.inject({ path: "/auth/token/reissue", status: 503, headers: { "Retry-After": "5" } });
    clock.advance(6 * 60_000);
    const again = await session.fetch("/me");
    await again.body?.cancel();
    await session.idle();
    records = sessionLog.take();
    assertCall(records, "POST", "/auth/token/reissue", { code: "HTTP_STATUS", status: 503 });
    assert.ok(
      records.some((r) => r.event === "renewal" && r.outcome === "failed" && r.status === 503),
      JSON.stringify(records),
    );
    assert.equal(session.token, before, "A failed renewal keeps the token");

    // A session call that times out.
    mock.inject({ path: "/me", delayMs: 5_000 });
    const slow = new ArmorSession({
      baseUrl: served.baseUrl,
      now: clock.now,
      timeout: 200,
      logger: sessionLog.logger,
    });
    slow.authorize(session.token, 15);
    await assert.rejects(slow.fetch("/me"), ArmorApiError);
    assertCall(sessionLog.take(), "GET", "/me", { code: "TIMEOUT" });

    // No answer at all: a closed port.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closedPort = (listener.addr as Deno.NetAddr).port;
    listener.close();
    await assert.rejects(
      requestArmorApiToken("C0d3-n0b0dy-h0me", {
        baseUrl: `http://127.0.0.1:${closedPort}`,
        logger: callLog.logger,
      }),
      ArmorApiError,
    );
    assertCall(callLog.take(), "POST", "/auth/token", { code: "NETWORK" });

    // The API revokes the token: 401 on a call ends the session, and says so.
    mock.revokeAll();
    const denied = await session.fetch("/me");
    await denied.body?.cancel();
    assert.equal(denied.status, 401);
    records = sessionLog.take();
    assertCall(records, "GET", "/me", { status: 401 });
    assert.ok(records.some((r) => r.event === "renewal" && r.code === "NOT_AUTHORIZED"));

    // A login with a wrong password.
    await assert.rejects(
      ArmorSession.connect({
        username: USER.username,
        password: `${PASSWORD}-wrong`,
        baseUrl: served.baseUrl,
        logger: callLog.logger,
      }),
      ArmorApiError,
    );
    assertCall(callLog.take(), "POST", "/auth/authorize", { code: "HTTP_STATUS", status: 401 });

    // No record shows a secret: the password, any code, any token or ID token.
    const secrets = [
      PASSWORD,
      `${PASSWORD}-wrong`,
      "C0d3-n0b0dy-h0me",
      ...handedOut,
      ...mock.issuedTokens,
    ];
    for (const request of mock.requests) {
      const code = (request.body as { code?: unknown } | undefined)?.code;
      if (typeof code === "string") secrets.push(code);
    }
    assert.ok(handedOut.size >= 8, `Only ${handedOut.size} secrets seen`);
    const all = [...sessionLog.all, ...callLog.all];
    for (const record of all) {
      assert.ok(EVENTS.has(record.event), `Unknown event ${record.event}`);
      assertNoSecret(record, secrets, `A ${record.event} record`);
      if (record.url !== undefined) assert.match(record.url, /^http:\/\/127\.0\.0\.1:\d+\//);
    }
    console.log(
      `logger: ${all.length} records, ${secrets.length} secrets checked, none shown`,
    );
  } finally {
    await served.close();
  }
});

Deno.test("logger: a logger that throws does not break a call", async () => {
  const served = await serveMockArmorApi({ users: [USER] });
  try {
    let calls = 0;
    const session = await ArmorSession.connect({
      username: USER.username,
      password: PASSWORD,
      baseUrl: served.baseUrl,
      logger: () => {
        calls++;
        throw new Error("The log is full");
      },
    });
    const me = await session.fetch("/me");
    assert.equal(me.status, 200);
    await me.body?.cancel();
    assert.ok(calls >= 8, `${calls} records`);
  } finally {
    await served.close();
  }
});
