// API-key bodies signed as Armor documents (issue 17 part 2): the raw body by default, its
// SHA-512 digest with `bodySigning: "sha512"`, honoured by `ArmorSession.connect({ apiKey })`
// on what it really sends, checked against node:crypto on the bytes the server received;
// bad `bodySigning` and key ids refused before anything is sent.
//
// The tests marked MOCK below also need the mock to verify each key by its own
// `bodySigning` (mock `apiKeys` entries `{ id, secret, bodySigning }`, default "raw").

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import { type ArmorApiKey, armorPskAuthorization, armorPskSigner, ArmorSession } from "../mod.ts";
import { type MockApiKey, MockClock, serveMockArmorApi } from "../src/testing/mod.ts";
import { findSecret } from "./_leaks.ts";

const ID = "20a37099-4a0b-432f-bf46-5fa690a0405c";
const SECRET = "psk-secret-do-not-show-8f3a";

/** The header Armor's formula gives, on node:crypto, for what the server received. */
function expected(
  key: ArmorApiKey,
  method: string,
  path: string,
  nonce: string,
  timestamp: string,
  body: Uint8Array,
): string {
  const head = Buffer.from(key.id + method + path + nonce + timestamp, "utf8");
  const part = body.length === 0
    ? Buffer.alloc(0)
    : (key.bodySigning ?? "raw") === "raw"
    ? Buffer.from(body)
    : Buffer.from(createHash("sha512").update(body).digest("base64"), "utf8");
  const signature = createHmac("sha512", Buffer.from(key.secret, "utf8"))
    .update(Buffer.concat([head, part]))
    .digest("base64");
  return `ARMOR-PSK ${key.id}:${signature}:${nonce}:${timestamp}`;
}

/** What a session sent, as the server got it. */
interface Seen {
  method: string;
  path: string;
  authorization: string;
  body: Uint8Array;
}

/**
 * A session with `key` on a loopback server that records each request's bytes and answers
 * `/me` with a minimal OpenAPI identity.
 */
async function recordingSession(key: ArmorApiKey) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: url.pathname,
      authorization: request.headers.get("authorization") ?? "",
      body: new Uint8Array(await request.arrayBuffer()),
    });
    if (url.pathname === "/me") {
      return Response.json({
        user: { type: "user", username: "key@example.com", firstName: "", lastName: "" },
        accounts: [{ id: 7, name: "Seven", currency: "USD", status: "Claimed", parent: null }],
        permissions: {},
        features: [],
      });
    }
    return Response.json({ ok: true });
  });
  const session = await ArmorSession.connect({
    apiKey: key,
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
  });
  return {
    seen,
    session,
    async [Symbol.asyncDispose]() {
      await session.disconnect();
      await server.shutdown();
    },
  };
}

/** Checks the last request's header against node:crypto over the bytes that arrived. */
function assertSignedAsSent(key: ArmorApiKey, seen: Seen): void {
  const [, , nonce, timestamp] = seen.authorization.slice("ARMOR-PSK ".length).split(":");
  assert.equal(
    seen.authorization,
    expected(key, seen.method, seen.path, nonce, timestamp, seen.body),
    `${key.bodySigning ?? "default"} ${seen.method} ${seen.path}`,
  );
}

const BODIES: [string, string | Uint8Array<ArrayBuffer>][] = [
  ["ASCII JSON", JSON.stringify({ note: "hello" })],
  ["non-ASCII text", JSON.stringify({ name: "Grüße, мир 🌍", tag: "ü" })],
  ["bytes that are not UTF-8", new Uint8Array([0, 1, 2, 250, 255, 0x7f, 0x80, 0xc3])],
];

for (const bodySigning of [undefined, "raw", "sha512"] as const) {
  const key: ArmorApiKey = bodySigning === undefined
    ? { id: ID, secret: SECRET }
    : { id: ID, secret: SECRET, bodySigning };
  Deno.test(`bodySigning ${bodySigning ?? "(default)"}: session.fetch signs the bytes it sends`, async () => {
    await using run = await recordingSession(key);
    for (const [name, body] of BODIES) {
      for (const method of ["POST", "PUT", "PATCH"]) {
        const res = await run.session.fetch("/accounts/7/notes", { method, body });
        assert.equal(res.status, 200, name);
        await res.body?.cancel();
        const seen = run.seen.at(-1)!;
        const sent = typeof body === "string" ? new TextEncoder().encode(body) : body;
        assert.deepEqual(seen.body, sent, name);
        assertSignedAsSent(key, seen);
      }
    }
    // GET /me (at connect) and a GET: no body part in either mode.
    for (const seen of run.seen.filter((s) => s.method === "GET")) {
      assert.equal(seen.body.length, 0);
      assertSignedAsSent(key, seen);
    }
  });
}

Deno.test("bodySigning: the modes differ only for a request with a body", async () => {
  const request = { method: "GET", path: "/me", nonce: "n0nce", timestamp: 1_700_000_000 };
  const raw = await armorPskAuthorization({ id: ID, secret: SECRET, bodySigning: "raw" }, request);
  const digest = await armorPskAuthorization(
    { id: ID, secret: SECRET, bodySigning: "sha512" },
    request,
  );
  assert.equal(raw, digest);
  const post = { ...request, method: "POST", body: "{}" };
  assert.notEqual(
    await armorPskAuthorization({ id: ID, secret: SECRET }, post),
    await armorPskAuthorization({ id: ID, secret: SECRET, bodySigning: "sha512" }, post),
  );
  // The cache of imported keys keeps one entry per id: switching modes is honoured.
  assert.equal(
    await armorPskAuthorization({ id: ID, secret: SECRET, bodySigning: "sha512" }, post),
    expected(
      { id: ID, secret: SECRET, bodySigning: "sha512" },
      "POST",
      "/me",
      "n0nce",
      "1700000000",
      new TextEncoder().encode("{}"),
    ),
  );
  assert.equal(
    await armorPskAuthorization({ id: ID, secret: SECRET }, post),
    expected(
      { id: ID, secret: SECRET },
      "POST",
      "/me",
      "n0nce",
      "1700000000",
      new TextEncoder().encode("{}"),
    ),
  );
});

Deno.test("bodySigning: an unknown mode or a key id with a colon is a TypeError, nothing sent", async () => {
  const bad: unknown[] = ["SHA512", "sha-512", "digest", "", null, 512, true, {}, SECRET];
  for (const bodySigning of bad) {
    const key = { id: ID, secret: SECRET, bodySigning } as unknown as ArmorApiKey;
    const check = (error: unknown) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, /^key\.bodySigning must be "raw" .* or "sha512", got /);
      assert.equal(findSecret(error, [SECRET]), undefined);
      return true;
    };
    await assert.rejects(armorPskAuthorization(key, { method: "GET", path: "/me" }), check);
    assert.throws(() => armorPskSigner(key), check);
    let sent = 0;
    await assert.rejects(
      ArmorSession.connect({
        apiKey: key,
        baseUrl: "https://api.armor.com",
        fetch: () => {
          sent++;
          return Promise.reject(new Error("must not be called"));
        },
      }),
      check,
    );
    assert.equal(sent, 0);
  }
  for (const id of ["a:b", `${ID}:`, ":x"]) {
    let sent = 0;
    await assert.rejects(
      ArmorSession.connect({
        apiKey: { id, secret: SECRET },
        baseUrl: "https://api.armor.com",
        fetch: () => {
          sent++;
          return Promise.reject(new Error("must not be called"));
        },
      }),
      (error: unknown) =>
        error instanceof TypeError && error.message === "key.id must not contain a colon" &&
        findSecret(error, [SECRET]) === undefined,
    );
    assert.equal(sent, 0);
  }
});

// ---- MOCK: against the mock's per-key verification ------------------------------------

/** The mock's key entries, `bodySigning` per the mock's contract (default "raw"). */
function mockKeys(bodySigning?: "raw" | "sha512"): MockApiKey[] {
  const entry = bodySigning === undefined
    ? { id: ID, secret: SECRET }
    : { id: ID, secret: SECRET, bodySigning };
  return [entry];
}

for (
  const [client, server, accepted] of [
    [undefined, undefined, true],
    ["raw", "raw", true],
    ["sha512", "sha512", true],
    ["raw", "sha512", false],
    ["sha512", undefined, false],
  ] as const
) {
  Deno.test(`MOCK: a ${client ?? "default"} key against a mock key ${server ?? "(default)"}: ${accepted ? "accepted" : "refused"}`, async () => {
    await using mock = await serveMockArmorApi({
      apiKeys: mockKeys(server),
      clock: new MockClock(Date.now()),
    });
    const key: ArmorApiKey = client === undefined
      ? { id: ID, secret: SECRET }
      : { id: ID, secret: SECRET, bodySigning: client };
    const session = await ArmorSession.connect({ apiKey: key, baseUrl: mock.baseUrl });
    for (const [name, body] of BODIES) {
      // The mock checks the signature over the body, then refuses keys on this path (403).
      const res = await session.fetch("/users/setpassword", { method: "POST", body });
      await res.body?.cancel();
      assert.equal(res.status, accepted ? 403 : 401, name);
    }
    await session.disconnect();
  });
}
