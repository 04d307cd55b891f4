// The request shapes of the real clients of api.armor.com that armor-api.md names (RC),
// replayed against the mock in-process and over a socket, in both dialects: form-encoded
// logins (armorcli, Armor staff scripts), `userName` (armorapi), `Username`/`Password`
// (the PowerShell module), an extra `redirect_uri` (@armor/api), no Accept or `*/*`,
// and ARMOR-PSK nonces with dashes (Armor staff) or of 10 letters and digits (a Go client).
// Then the module's own calls against both dialects.
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { ArmorSession, requestArmorApiToken, updateArmorApiToken } from "../../mod.ts";
import {
  createMockArmorApi,
  type MockArmorApi,
  MockClock,
  type MockDialect,
  serveMockArmorApi,
} from "../../src/testing/mod.ts";
import { DEMO, DIALECTS, START } from "./_mock.ts";

const FORM = "application/x-www-form-urlencoded";
const KEY = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "go-client-secret" };

/** One HTTP request as a client sends it: the exact headers and body text. */
interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Sends a request: in-process through `app.request`, or over a socket. */
type Transport = (request: Sent) => Promise<Response>;

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** A client's login: how it sends authorize, token and reissue. */
interface Client {
  name: string;
  authorize: (username: string, password: string) => Sent;
  token: (code: string) => Sent;
  reissue: (token: string) => Sent;
}

const post = (path: string, headers: Record<string, string>, body: string): Sent => ({
  method: "POST",
  path,
  headers,
  body,
});

const CLIENTS: Client[] = [
  {
    // ScriptMyJob/armorcli (Python requests, 2017): `data=` dicts, form-encoded.
    name: "armorcli (form-encoded, Accept */*)",
    authorize: (username, password) =>
      post(
        "/auth/authorize",
        { "Content-Type": FORM, Accept: "*/*" },
        form({ username, password }),
      ),
    token: (code) =>
      post(
        "/auth/token",
        { "Content-Type": FORM, Accept: "*/*" },
        form({ code, grant_type: "authorization_code" }),
      ),
    reissue: (token) =>
      post("/auth/token/reissue", { "Content-Type": FORM, Accept: "*/*" }, form({ token })),
  },
  {
    // Armor staff scripts (2021, run against production): form bodies, no Accept.
    name: "Armor staff scripts (form-encoded with charset, no Accept)",
    authorize: (username, password) =>
      post(
        "/auth/authorize",
        { "Content-Type": `${FORM}; charset=utf-8` },
        form({ username, password }),
      ),
    token: (code) =>
      post(
        "/auth/token",
        { "Content-Type": `${FORM}; charset=utf-8` },
        form({ code, grant_type: "authorization_code" }),
      ),
    reissue: (token) =>
      post("/auth/token/reissue", { "Content-Type": `${FORM}; charset=utf-8` }, form({ token })),
  },
  {
    // armorapi (Python, 2021): JSON with `userName`.
    name: "armorapi (JSON, userName)",
    authorize: (username, password) =>
      post(
        "/auth/authorize",
        { "Content-Type": "application/json", Accept: "application/json" },
        JSON.stringify({ userName: username, password }),
      ),
    token: (code) =>
      post(
        "/auth/token",
        { "Content-Type": "application/json", Accept: "application/json" },
        JSON.stringify({ code, grant_type: "authorization_code" }),
      ),
    reissue: (token) =>
      post(
        "/auth/token/reissue",
        { "Content-Type": "application/json", Accept: "application/json" },
        JSON.stringify({ token }),
      ),
  },
  {
    // The ArmorPowerShell module: `Username`/`Password`, reissue with its session headers.
    name: "ArmorPowerShell (JSON, Username/Password)",
    authorize: (username, password) =>
      post(
        "/auth/authorize",
        { "Content-Type": "application/json", Accept: "application/json" },
        JSON.stringify({ Username: username, Password: password }),
      ),
    token: (code) =>
      post(
        "/auth/token",
        { "Content-Type": "application/json", Accept: "application/json" },
        JSON.stringify({ code, grant_type: "authorization_code" }),
      ),
    reissue: (token) =>
      post(
        "/auth/token/reissue",
        {
          "Content-Type": "application/json",
          Accept: "application/json",
          Authorization: `FH-AUTH ${token}`,
          "X-Account-Context": "1001",
        },
        JSON.stringify({ token }),
      ),
  },
  {
    // @armor/api (Armor's Angular library): an extra redirect_uri, Accept with a list.
    name: "@armor/api (JSON, extra redirect_uri)",
    authorize: (username, password) =>
      post(
        "/auth/authorize",
        { "Content-Type": "application/json", Accept: "application/json, text/plain, */*" },
        JSON.stringify({ username, password, redirect_uri: "https://amp.armor.com/" }),
      ),
    token: (code) =>
      post(
        "/auth/token",
        { "Content-Type": "application/json", Accept: "application/json, text/plain, */*" },
        JSON.stringify({ code, grant_type: "authorization_code", redirect_uri: "" }),
      ),
    reissue: (token) =>
      post(
        "/auth/token/reissue",
        { "Content-Type": "application/json", Accept: "application/json, text/plain, */*" },
        JSON.stringify({ token }),
      ),
  },
];

function inProcess(mock: MockArmorApi): Transport {
  return async (request) =>
    await mock.app.request(request.path, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
}

/**
 * Sends a request over a plain TCP connection, byte for byte as written here (no header
 * added, so "no Accept" really sends none), and reads the HTTP/1.1 answer.
 */
function overSocket(port: number): Transport {
  return async (request) => {
    const body = new TextEncoder().encode(request.body ?? "");
    const head = [
      `${request.method} ${request.path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
      ...(request.body === undefined ? [] : [`Content-Length: ${body.length}`]),
      "Connection: close",
      "",
      "",
    ].join("\r\n");
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const bytes = new Uint8Array([...new TextEncoder().encode(head), ...body]);
      for (let written = 0; written < bytes.length;) {
        written += await connection.write(bytes.subarray(written));
      }
      const chunks: Uint8Array[] = [];
      const buffer = new Uint8Array(16_384);
      for (let n; (n = await connection.read(buffer)) !== null;) chunks.push(buffer.slice(0, n));
      return parseHttp(new Uint8Array(chunks.flatMap((chunk) => [...chunk])));
    } finally {
      connection.close();
    }
  };
}

function parseHttp(bytes: Uint8Array): Response {
  const text = new TextDecoder().decode(bytes);
  const end = text.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers = new Headers(lines.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()] as [string, string];
  }));
  let body = text.slice(end + 4);
  if (headers.get("transfer-encoding") === "chunked") {
    let plain = "";
    for (let rest = body;;) {
      const lineEnd = rest.indexOf("\r\n");
      const size = parseInt(rest.slice(0, lineEnd), 16);
      if (!size) break;
      plain += rest.slice(lineEnd + 2, lineEnd + 2 + size);
      rest = rest.slice(lineEnd + 2 + size + 2);
    }
    body = plain;
  }
  headers.delete("transfer-encoding");
  headers.delete("content-length");
  return new Response(body, { status, headers });
}

/** The account ids of a `/me` body, read the way each dialect's readers read them. */
function accountIds(dialect: MockDialect, me: Record<string, unknown>): number[] {
  if (dialect === "openapi") {
    // @armor/api and armorapi read accounts[i].id and the user as an object.
    assert.equal((me.user as { username: string }).username, DEMO.username);
    return (me.accounts as { id: number }[]).map((account) => account.id);
  }
  assert.equal((me.User as { UserName: string }[])[0].UserName, DEMO.username);
  return (me.Accounts as { ID: number }[]).map((account) => account.ID);
}

async function replayLogin(client: Client, send: Transport, dialect: MockDialect) {
  const label = `${client.name}, ${dialect}`;
  const authorized = await send(client.authorize(DEMO.username, DEMO.password));
  assert.equal(authorized.status, 200, `${label}: authorize`);
  const { code } = await authorized.json();
  assert.equal(typeof code, "string", label);
  const token = await send(client.token(code));
  assert.equal(token.status, 200, `${label}: token`);
  const { access_token } = await token.json();
  assert.match(access_token, /^[0-9a-f]{32}$/, label);
  const me = await send({
    method: "GET",
    path: "/me",
    headers: { Authorization: `FH-AUTH ${access_token}`, "X-Account-Context": "1001" },
  });
  assert.equal(me.status, 200, `${label}: /me`);
  assert.deepEqual(accountIds(dialect, await me.json()), [1001, 1002], label);
  const reissued = await send(client.reissue(access_token));
  assert.equal(reissued.status, 200, `${label}: reissue`);
  const fresh = await reissued.json();
  assert.match(fresh.access_token, /^[0-9a-f]{32}$/, label);
  assert.notEqual(fresh.access_token, access_token, label);
  assert.equal(fresh.id_token, null, label);
}

Deno.test("every real client's login is accepted in-process, in both dialects", async () => {
  for (const dialect of DIALECTS) {
    for (const client of CLIENTS) {
      const mock = createMockArmorApi({ dialect, clock: new MockClock(START) });
      await replayLogin(client, inProcess(mock), dialect);
      assert.deepEqual(mock.requests.map((r) => r.status), [200, 200, 200, 200], client.name);
    }
  }
});

Deno.test("every real client's login is accepted over a socket, bytes as the client sends them", async () => {
  for (const dialect of DIALECTS) {
    await using served = await serveMockArmorApi({ dialect, clock: new MockClock(START) });
    const send = overSocket(Number(served.url.port));
    for (const client of CLIENTS) await replayLogin(client, send, dialect);
    const noAccept = served.mock.requests.filter((r) => r.headers.accept === undefined);
    assert.ok(noAccept.length >= 4, "the staff scripts' requests went without Accept");
    assert.ok(served.mock.requests.some((r) => r.headers["content-type"]?.startsWith(FORM)));
  }
});

/** An ARMOR-PSK header computed here with node:crypto from armor-api.md's formula. */
function pskHeader(
  nonce: string,
  timestamp: number,
  request: { method: string; path: string; body?: string; bodySigning?: "raw" | "sha512" },
): string {
  const { method, path, body = "", bodySigning = "raw" } = request;
  const bodyPart = body === "" || bodySigning === "raw"
    ? body
    : createHash("sha512").update(body, "utf8").digest("base64");
  const signature = createHmac("sha512", Buffer.from(KEY.secret, "utf8"))
    .update(KEY.id + method + path + nonce + timestamp + bodyPart, "utf8")
    .digest("base64");
  return `ARMOR-PSK ${KEY.id}:${signature}:${nonce}:${timestamp}`;
}

Deno.test("API-key requests with every documented nonce shape are accepted, in-process and over a socket", async () => {
  const nonces = [
    crypto.randomUUID(), // Armor staff scripts: a UUID with dashes
    crypto.randomUUID().replaceAll("-", ""), // OA and KB: a UUID without dashes
    "8jbj872s2h", // a Go client: 10 random letters and digits (the KB example)
    "Z".repeat(128), // the longest allowed
  ];
  for (const dialect of DIALECTS) {
    await using served = await serveMockArmorApi({
      dialect,
      clock: new MockClock(START),
      apiKeys: [KEY],
    });
    const transports = [inProcess(served.mock), overSocket(Number(served.url.port))];
    const timestamp = Math.floor(START / 1000);
    for (const [t, send] of transports.entries()) {
      for (const nonce of nonces) {
        const res = await send({
          method: "GET",
          path: "/me",
          headers: {
            Authorization: pskHeader(`${nonce.slice(0, 127)}${t}`, timestamp, {
              method: "GET",
              path: "/me",
            }),
            "X-Account-Context": "1001",
          },
        });
        assert.equal(res.status, 200, `${dialect} ${nonce}`);
        assert.deepEqual(accountIds(dialect, await res.json()), [1001, 1002]);
      }
    }
  }
});

Deno.test("a Go client's digest-signed POST is accepted by a key set to sha512", async () => {
  await using served = await serveMockArmorApi({
    clock: new MockClock(START),
    apiKeys: [{ ...KEY, bodySigning: "sha512" }],
  });
  const body = JSON.stringify({ name: "compliance" });
  const timestamp = Math.floor(START / 1000);
  const res = await overSocket(Number(served.url.port))({
    method: "POST",
    path: "/users/1/keys",
    headers: {
      Authorization: pskHeader("a1B2c3D4e5", timestamp, {
        method: "POST",
        path: "/users/1/keys",
        body,
        bodySigning: "sha512",
      }),
      "Content-Type": "application/json",
    },
    body,
  });
  // The signature holds; API keys are refused on user-key endpoints (armor-api.md).
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error, "insufficient_scope");
});

Deno.test("a refused login body says what is wrong, in both dialects and both encodings", async () => {
  const cases: [string, string, string][] = [
    ["application/json", JSON.stringify({ password: "x" }), "username is missing"],
    ["application/json", JSON.stringify({ username: "x" }), "password is missing"],
    [
      "application/json",
      JSON.stringify({ username: "x", password: 1 }),
      "password must be a string",
    ],
    [
      "application/json",
      JSON.stringify({ UserName: ["x"], password: "y" }),
      "username must be a string",
    ],
    [FORM, form({ password: "x" }), "username is missing"],
    [FORM, form({ userName: "x" }), "password is missing"],
  ];
  for (const dialect of DIALECTS) {
    const mock = createMockArmorApi({ dialect });
    for (const [type, body, message] of cases) {
      const res = await mock.app.request("/auth/authorize", {
        method: "POST",
        headers: { "Content-Type": type },
        body,
      });
      assert.equal(res.status, 400, body);
      const answer = await res.json();
      assert.equal(dialect === "openapi" ? answer.error_description : answer.Message, message);
    }
    const reissue = await mock.app.request("/auth/token/reissue", {
      method: "POST",
      headers: { "Content-Type": FORM },
      body: "",
    });
    assert.equal(reissue.status, 400);
    assert.match(JSON.stringify(await reissue.json()), /token is missing/);
    const xml = await mock.app.request("/auth/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/xml" },
      body: "<login/>",
    });
    assert.equal(xml.status, 415);
    assert.match(JSON.stringify(await xml.json()), /x-www-form-urlencoded/);
  }
});

Deno.test("field names match in any case; the first spelling wins; form values are text", async () => {
  const mock = createMockArmorApi();
  for (
    const body of [
      { USERNAME: DEMO.username, PASSWORD: DEMO.password },
      { uSeRnAmE: DEMO.username, Password: DEMO.password, extra: { nested: true } },
      { username: DEMO.username, Username: "someone-else", password: DEMO.password },
    ]
  ) {
    const res = await mock.app.request("/auth/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, JSON.stringify(body));
    const { code } = await res.json();
    const token = await mock.app.request("/auth/token", {
      method: "POST",
      headers: { "Content-Type": FORM },
      body: form({ Code: code, GRANT_TYPE: "authorization_code", scope: "openid" }),
    });
    assert.equal(token.status, 200);
    await token.body?.cancel();
  }
  // A password with form-special characters survives the encoding.
  const special = createMockArmorApi({
    users: [{ username: "a+b@example.com", password: "p&ss=wörd %20", accounts: [] }],
  });
  const res = await special.app.request("/auth/authorize", {
    method: "POST",
    headers: { "Content-Type": FORM },
    body: form({ username: "a+b@example.com", password: "p&ss=wörd %20" }),
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("the module's own calls pass against both dialects", async () => {
  for (const dialect of DIALECTS) {
    const clock = new MockClock(START);
    await using served = await serveMockArmorApi({ dialect, clock, apiKeys: [KEY] });
    const session = await ArmorSession.connect({
      baseUrl: served.baseUrl,
      now: clock.now,
      username: DEMO.username,
      password: DEMO.password,
    });
    try {
      assert.equal(session.accountId, 1001, dialect);
      const me = await session.fetch("/me");
      assert.equal(me.status, 200, dialect);
      assert.deepEqual(accountIds(dialect, await me.json()), [1001, 1002]);
    } finally {
      await session.disconnect();
    }

    const code = (await (await served.mock.app.request("/auth/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(DEMO),
    })).json()).code;
    const token = await requestArmorApiToken(code, { baseUrl: served.url, now: clock.now });
    const fresh = await updateArmorApiToken(token.access_token, {
      baseUrl: served.url,
      now: clock.now,
    });
    assert.ok(served.mock.isTokenValid(fresh.access_token), dialect);

    const keyed = await ArmorSession.connect({
      baseUrl: served.baseUrl,
      now: clock.now,
      apiKey: { id: KEY.id, secret: KEY.secret },
    });
    const accounts = await keyed.fetch("/accounts");
    assert.equal(accounts.status, 200, dialect);
    assert.deepEqual((await accounts.json()).map((a: { id: number }) => a.id), [1001, 1002]);
    // The module signs percent-encoded paths as sent, and the mock checks them so (issue
    // 16, item 12): past the signature, a key is refused on user-key endpoints with 403.
    for (const path of ["/users/%C3%A9/keys", "/users/a%20b/keys"]) {
      const res = await keyed.fetch(path);
      assert.equal(res.status, 403, `${dialect} ${path}`);
      assert.match(JSON.stringify(await res.json()), /API keys cannot use this endpoint/);
    }
  }
});
