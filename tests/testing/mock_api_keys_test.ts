// ARMOR-PSK: requests signed with an API key, the signatures computed here with node:crypto
// from the documented formula.
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import {
  createMockArmorApi,
  DEFAULT_MOCK_USER,
  type MockArmorApi,
  type MockArmorApiOptions,
  MockClock,
  type MockUser,
  serveMockArmorApi,
} from "../../src/testing/mod.ts";
import { assertError, DIALECTS, get, login, MINUTE, START } from "./_mock.ts";

const KEY = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "pUcqBzCw+4Aa/0Yq==key" };
const OPS: MockUser = {
  username: "ops@example.com",
  password: "pw",
  accounts: [{ id: 7, name: "Ops" }],
};

interface Signed {
  method?: string;
  path?: string;
  body?: string;
  nonce?: string;
  /** Unix seconds; defaults to the mock clock's. */
  timestamp?: number | string;
  id?: string;
  secret?: string;
  /** Sign this path instead of the one requested. */
  signedPath?: string;
  /** Leave the body out of the signature. */
  unsignedBody?: boolean;
  /** How the body is signed: raw bytes (the default) or base64(SHA-512(bytes)). */
  bodySigning?: "raw" | "sha512";
  headers?: Record<string, string>;
}

let nonces = 0;

function sign(secret: string, message: string): string {
  return createHmac("sha512", Buffer.from(secret, "utf8")).update(message).digest("base64");
}

function signedHeader(mock: MockArmorApi, options: Signed = {}): string {
  const {
    method = "GET",
    path = "/me",
    body,
    nonce = `n${++nonces}x${crypto.randomUUID().replaceAll("-", "")}`,
    timestamp = Math.floor(mock.clock.now() / 1000),
    id = KEY.id,
    secret = KEY.secret,
    signedPath = path,
    unsignedBody = false,
    bodySigning = "raw",
  } = options;
  const bodyPart = body === undefined || unsignedBody
    ? ""
    : bodySigning === "raw"
    ? body
    : createHash("sha512").update(body).digest("base64");
  const signature = sign(secret, id + method + signedPath + nonce + timestamp + bodyPart);
  return `ARMOR-PSK ${id}:${signature}:${nonce}:${timestamp}`;
}

function signed(mock: MockArmorApi, options: Signed = {}): Promise<Response> {
  const { method = "GET", path = "/me", body, headers = {} } = options;
  return Promise.resolve(mock.app.request(path, {
    method,
    headers: {
      Authorization: signedHeader(mock, options),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body,
  }));
}

function keyMock(options: MockArmorApiOptions = {}) {
  const clock = new MockClock(START);
  return { clock, mock: createMockArmorApi({ clock, apiKeys: [KEY], ...options }) };
}

Deno.test("a signed request reaches /me and /accounts as the key's user, in both dialects", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = keyMock({ dialect });
    const me = await signed(mock, { headers: { "X-Account-Context": "1001" } });
    assert.equal(me.status, 200);
    const body = await me.json();
    const name = dialect === "powershell" ? body.User[0].UserName : body.user.username;
    assert.equal(name, "demo@example.com");
    const accounts = await signed(mock, { path: "/accounts" });
    assert.equal(accounts.status, 200);
    assert.deepEqual((await accounts.json()).map((a: { id: number }) => a.id), [1001, 1002]);
    assert.deepEqual(mock.issuedTokens, []);
  }
});

Deno.test("a key acts for its own user; X-Account-Context is still checked", async () => {
  const { mock } = keyMock({
    users: [DEFAULT_MOCK_USER, OPS],
    apiKeys: [KEY, { id: "ops-key", secret: "ops-secret", username: OPS.username }],
  });
  const ops = await signed(mock, { id: "ops-key", secret: "ops-secret" });
  assert.equal((await ops.json()).user.username, "ops@example.com");
  const foreign = await signed(mock, {
    id: "ops-key",
    secret: "ops-secret",
    headers: { "X-Account-Context": "1001" },
  });
  await assertError(foreign, "openapi", 403, "invalid_account_context");
  const own = await signed(mock, { headers: { "X-Account-Context": "1001" } });
  assert.equal(own.status, 200);
  await own.body?.cancel();
});

Deno.test("unknown keys, bad signatures, stale timestamps and replays: 401, each its code", async () => {
  for (const dialect of DIALECTS) {
    const { clock, mock } = keyMock({ dialect });
    const unknown = await signed(mock, { id: "0b0e2a52-0000-4000-8000-000000000000" });
    assert.equal(unknown.headers.get("www-authenticate"), "ARMOR-PSK");
    await assertError(unknown, dialect, 401, "unknown_key");

    for (
      const bad of [
        { secret: "wrong" },
        { signedPath: "/accounts" },
        { signedPath: "/me?x=1" },
        { method: "GET", headers: {}, signedPath: "/ME" },
      ]
    ) {
      await assertError(await signed(mock, bad), dialect, 401, "invalid_signature");
    }
    const now = Math.floor(clock.now() / 1000);
    for (const timestamp of [now - 301, now + 301]) {
      await assertError(await signed(mock, { timestamp }), dialect, 401, "stale_timestamp");
    }
    for (const timestamp of [now - 300, now + 300]) {
      const res = await signed(mock, { timestamp });
      assert.equal(res.status, 200, String(timestamp));
      await res.body?.cancel();
    }

    const nonce = "8jbj872s2h";
    assert.equal((await signed(mock, { nonce })).status, 200);
    await assertError(await signed(mock, { nonce }), dialect, 401, "replayed_nonce");
    clock.advance(5 * 60_000 + 1);
    const later = await signed(mock, { nonce });
    assert.equal(later.status, 200, "a nonce may come back once it is older than 5 minutes");
    await later.body?.cancel();
  }
});

Deno.test("a malformed ARMOR-PSK header is refused with 401", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = keyMock({ dialect });
    const good = signedHeader(mock);
    const [id, signature, nonce, timestamp] = good.slice("ARMOR-PSK ".length).split(":");
    const headers = [
      "ARMOR-PSK",
      `ARMOR-PSK ${id}:${signature}:${nonce}`,
      `ARMOR-PSK ${id}:${signature}:${nonce}:${timestamp}:extra`,
      `ARMOR-PSK ${id}:${signature}::${timestamp}`,
      `ARMOR-PSK ${id}:${signature}:${"n".repeat(129)}:${timestamp}`,
      `ARMOR-PSK ${id}:${signature}:${nonce}:soon`,
    ];
    for (const Authorization of headers) {
      const res = await mock.app.request("/me", { headers: { Authorization } });
      await assertError(res, dialect, 401, "invalid_token");
    }
    // A 128-character nonce is fine.
    const longest = await signed(mock, { nonce: "n".repeat(128) });
    assert.equal(longest.status, 200);
    await longest.body?.cancel();
  }
});

Deno.test("the timestamp is checked against the mock clock", async () => {
  const { clock, mock } = keyMock();
  const stamp = Math.floor(clock.now() / 1000);
  clock.advance(10 * 60_000);
  const stale = await signed(mock, { timestamp: stamp });
  assert.equal(stale.status, 401);
  assert.match((await stale.json()).error_description, /5 minutes/);
  clock.set(stamp * 1000);
  const res = await signed(mock, { timestamp: stamp });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("a body is signed as its raw bytes by default; keys get 403 on user-security endpoints", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = keyMock({ dialect });
    const body = JSON.stringify({ username: "demo@example.com" });
    const requests: Signed[] = [
      { method: "GET", path: "/users/1/keys" },
      { method: "POST", path: "/users/1/keys", body: JSON.stringify({ name: "ci" }) },
      { method: "PUT", path: "/users/1/keys", body: JSON.stringify({ name: "ci2" }) },
      { method: "DELETE", path: "/users/1/keys/20a37099" },
      { method: "POST", path: "/users/resetpassword", body },
      { method: "POST", path: "/users/setpassword", body },
      { method: "PUT", path: "/usersecurity/challengephrase", body },
    ];
    for (const request of requests) {
      const label = `${request.method} ${request.path}`;
      const res = await signed(mock, request);
      assert.equal(res.status, 403, label);
      await assertError(res, dialect, 403, "insufficient_scope");
    }
    const unsigned = await signed(mock, { ...requests[4], unsignedBody: true });
    await assertError(unsigned, dialect, 401, "invalid_signature");
    const token = await login(mock);
    const list = await get(mock, "/users/1/keys", token);
    assert.equal(list.status, 200);
    assert.deepEqual(await list.json(), []);
    const reset = await mock.app.request("/users/resetpassword", {
      method: "POST",
      headers: { Authorization: `FH-AUTH ${token}`, "Content-Type": "application/json" },
      body,
    });
    assert.equal(reset.status, 204);
    const anonymous = await get(mock, "/usersecurity/challengephrase");
    await assertError(anonymous, dialect, 401, "invalid_token");
  }
});

Deno.test("faults apply to key-signed requests as to any other", async () => {
  const { mock } = keyMock();
  mock.inject({ path: "/me", status: 503 });
  assert.equal((await signed(mock)).status, 503);
  assert.equal((await signed(mock)).status, 200);
  assert.deepEqual(mock.requests.map((r) => r.status), [503, 200]);
});

Deno.test("reset forgets the nonces seen", async () => {
  const { mock } = keyMock();
  assert.equal((await signed(mock, { nonce: "once" })).status, 200);
  mock.reset();
  assert.equal((await signed(mock, { nonce: "once" })).status, 200);
});

Deno.test("the secret never shows in answers, errors, JSON or inspection", async () => {
  const { mock } = keyMock({ dialect: "openapi" });
  const answers = [
    await signed(mock),
    await signed(mock, { secret: "wrong" }),
    await signed(mock, { timestamp: 1 }),
    await signed(mock, { path: "/users/1/keys" }),
  ];
  for (const res of answers) assert.ok(!(await res.text()).includes(KEY.secret));
  assert.ok(!JSON.stringify(mock).includes(KEY.secret));
  assert.ok(!Deno.inspect(mock, { depth: 10 }).includes(KEY.secret));
  assert.ok(!JSON.stringify(mock.requests).includes(KEY.secret));
  const errors: Error[] = [];
  for (
    const apiKeys of [
      [KEY, KEY],
      [{ ...KEY, username: "nobody@example.com" }],
      [{ ...KEY, id: "a:b" }],
      [{ ...KEY, secret: "" }],
    ]
  ) {
    try {
      createMockArmorApi({ apiKeys });
    } catch (error) {
      errors.push(error as Error);
    }
  }
  assert.equal(errors.length, 4);
  for (const error of errors) {
    assert.ok(error instanceof TypeError);
    assert.ok(!error.message.includes(KEY.secret));
    assert.match(error.message, /^[A-Z]/);
  }
});

Deno.test("each key's bodies are verified by its own bodySigning, non-ASCII bodies included", async () => {
  const RAW = { id: "raw-key", secret: "raw-s\u00e9cret", bodySigning: "raw" as const };
  const DIGEST = { id: "sha-key", secret: "sha-secret", bodySigning: "sha512" as const };
  for (const dialect of DIALECTS) {
    const { mock } = keyMock({ dialect, apiKeys: [KEY, RAW, DIGEST] });
    const bodies = [
      JSON.stringify({ name: "ci" }),
      JSON.stringify({ name: "caf\u00e9 \u2603 \u{1f600}" }),
      "name=a%20b&x=\u00fc",
    ];
    for (const body of bodies) {
      const post = (key: typeof KEY, bodySigning?: "raw" | "sha512") =>
        signed(mock, {
          method: "POST",
          path: "/users/1/keys",
          body,
          id: key.id,
          secret: key.secret,
          bodySigning,
        });
      // Signed right: past the signature check, refused for its scope.
      await assertError(await post(KEY), dialect, 403, "insufficient_scope");
      await assertError(await post(RAW, "raw"), dialect, 403, "insufficient_scope");
      await assertError(await post(DIGEST, "sha512"), dialect, 403, "insufficient_scope");
      // Signed the other way: refused.
      await assertError(await post(KEY, "sha512"), dialect, 401, "invalid_signature");
      await assertError(await post(RAW, "sha512"), dialect, 401, "invalid_signature");
      await assertError(await post(DIGEST, "raw"), dialect, 401, "invalid_signature");
    }
    // A GET has no body part in either mode.
    const get = await signed(mock, { id: DIGEST.id, secret: DIGEST.secret });
    assert.equal(get.status, 200);
    await get.body?.cancel();
  }
});

Deno.test("the raw mode signs the exact bytes sent, not a re-encoding of them", async () => {
  const { clock, mock } = keyMock();
  const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22, 0x7d]); // {"a":"é"}
  const nonce = "bytes00001";
  const timestamp = Math.floor(clock.now() / 1000);
  const head = Buffer.from(KEY.id + "POST" + "/users/1/keys" + nonce + timestamp, "utf8");
  const signature = createHmac("sha512", KEY.secret).update(Buffer.concat([head, bytes]))
    .digest("base64");
  const res = await mock.app.request("/users/1/keys", {
    method: "POST",
    headers: { Authorization: `ARMOR-PSK ${KEY.id}:${signature}:${nonce}:${timestamp}` },
    body: bytes,
  });
  await assertError(res, "openapi", 403, "insufficient_scope");
});

Deno.test("an unknown bodySigning is refused when the mock is made", () => {
  assert.throws(
    () => createMockArmorApi({ apiKeys: [{ ...KEY, bodySigning: "md5" as "raw" }] }),
    (error: Error) =>
      error instanceof TypeError && /bodySigning/.test(error.message) &&
      !error.message.includes(KEY.secret),
  );
});

Deno.test("a header signed ahead of the clock cannot be replayed while it is still fresh (issue 16, 11)", async () => {
  for (const dialect of DIALECTS) {
    const { clock, mock } = keyMock({ dialect });
    const ahead = Math.floor(clock.now() / 1000) + 300; // the furthest ahead accepted
    const header = signedHeader(mock, { nonce: "8jbj872s2h", timestamp: ahead });
    const send = () => mock.app.request("/me", { headers: { Authorization: header } });
    const first = await send();
    assert.equal(first.status, 200);
    await first.body?.cancel();
    await assertError(await send(), dialect, 401, "replayed_nonce");
    // Five minutes and a second later the timestamp is only 1 s old: still fresh, and
    // the nonce is still remembered.
    clock.advance(5 * MINUTE + 1_000);
    await assertError(await send(), dialect, 401, "replayed_nonce");
    clock.advance(5 * MINUTE - 1_000); // the timestamp is now exactly 5 minutes old
    await assertError(await send(), dialect, 401, "replayed_nonce");
    clock.advance(1_000);
    await assertError(await send(), dialect, 401, "stale_timestamp");
  }
});

Deno.test("nonces are kept per key while fresh and forgotten after, over many requests", async () => {
  const { clock, mock } = keyMock();
  for (let i = 0; i < 300; i++) {
    const res = await signed(mock, { nonce: `bulk${i}` });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  await assertError(await signed(mock, { nonce: "bulk0" }), "openapi", 401, "replayed_nonce");
  await assertError(await signed(mock, { nonce: "bulk299" }), "openapi", 401, "replayed_nonce");
  clock.advance(5 * MINUTE + 1);
  for (const nonce of ["bulk0", "bulk299"]) {
    const again = await signed(mock, { nonce });
    assert.equal(again.status, 200, nonce);
    await again.body?.cancel();
  }
});

Deno.test("signatures cover the path as sent, percent-encoding kept (issue 16, 12)", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = keyMock({ dialect });
    for (
      const [path, decoded] of [
        ["/users/%C3%A9/keys", "/users/\u00e9/keys"],
        ["/users/a%20b/keys", "/users/a b/keys"],
        ["/users/a%2Fb/keys", "/users/a/b/keys"],
      ]
    ) {
      // Signed over the path as sent: the signature holds (403 is the key's scope).
      await assertError(await signed(mock, { path }), dialect, 403, "insufficient_scope");
      // Signed over the decoded path: refused.
      const wrong = await signed(mock, { path, signedPath: decoded });
      await assertError(wrong, dialect, 401, "invalid_signature");
    }
  }
});

Deno.test("over a socket, a percent-encoded path signed as sent is accepted", async () => {
  await using served = await serveMockArmorApi({ apiKeys: [KEY] });
  const path = "/users/%C3%A9/keys";
  const res = await fetch(`${served.baseUrl}${path}?q=%20`, {
    headers: { Authorization: signedHeader(served.mock, { path }) },
  });
  await assertError(res, "openapi", 403, "insufficient_scope");
});
