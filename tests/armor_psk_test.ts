// ARMOR-PSK signatures checked against an independent implementation on node:crypto
// (createHmac / createHash over Buffer), fixed vectors and arbitrary requests; the rules
// for keys, nonces, timestamps, paths and bodies; the secret kept out of everything.
//
// Property runs: FUZZ_RUNS (default 500) when --allow-env=FUZZ_RUNS is granted.

import fc from "fast-check";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import {
  type ArmorApiKey,
  armorPskAuthorization,
  type ArmorPskRequest,
  armorPskSigner,
} from "../mod.ts";
import { MAX_NONCE_LENGTH } from "../src/armor_psk.ts";
import { findSecret } from "./_leaks.ts";

// ---- the independent implementation --------------------------------------------------

/**
 * The header as Armor documents it, on node:crypto: `signedPath` is the path the test
 * expects to be signed (never derived here from the request's path). The body part, by
 * the key's `bodySigning`: the body's bytes (`"raw"`, the default: Armor's OpenAPI
 * contract and knowledge base), or base64(SHA-512(body bytes)) (`"sha512"`: the Go
 * client williamrhancock/ArmorCompliance). The message is built as bytes.
 */
function reference(
  key: ArmorApiKey,
  method: string,
  signedPath: string,
  nonce: string,
  timestamp: number,
  body?: string | Uint8Array,
): string {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const head = Buffer.from(key.id + method.toUpperCase() + signedPath + nonce + timestamp, "utf8");
  let message: Buffer = head;
  if (bytes !== undefined && bytes.length > 0) {
    message = (key.bodySigning ?? "raw") === "raw"
      ? Buffer.concat([head, bytes])
      : Buffer.concat([head, Buffer.from(createHash("sha512").update(bytes).digest("base64"))]);
  }
  const signature = createHmac("sha512", Buffer.from(key.secret, "utf8"))
    .update(message)
    .digest("base64");
  return `ARMOR-PSK ${key.id}:${signature}:${nonce}:${timestamp}`;
}

const KEY: ArmorApiKey = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "my-secret-key" };
const NON_ASCII_KEY: ArmorApiKey = {
  id: "8b1c44a2-6f0e-4d7e-9a51-0c2f3e4d5a6b",
  secret: "sécret-ключ-🔑",
};
const NONCE = "8jbj872s2h";
const TIME = 1528140529;

/** Splits a header into its four fields, checking its shape. */
function fields(header: string): { id: string; signature: string; nonce: string; time: number } {
  const match = /^ARMOR-PSK ([^:\s]+):([A-Za-z0-9+/]{86}==):([^:\s]+):(\d+)$/.exec(header);
  assert.ok(match, `Not an ARMOR-PSK header: ${header}`);
  return { id: match[1], signature: match[2], nonce: match[3], time: Number(match[4]) };
}

// ---- fixed vectors -------------------------------------------------------------------

Deno.test("armorPskAuthorization matches a literal vector", async () => {
  assert.equal(
    await armorPskAuthorization(KEY, {
      method: "GET",
      path: "/me",
      nonce: NONCE,
      timestamp: TIME,
    }),
    "ARMOR-PSK 20a37099-4a0b-432f-bf46-5fa690a0405c:" +
      "6+2+BeBa5QTDmkuPuy0BtILPF1yo7nJsHJDEqzyTAHMf5YCBKEYXwVNoTQMjLILXDG+CU/3MtDmm5IJc4uAZTA==" +
      ":8jbj872s2h:1528140529",
  );
  // Computed apart with Python's hmac and hashlib: HMAC-SHA512 over the UTF-8 bytes of
  // id + METHOD + path + nonce + timestamp, then the body part.
  const post = {
    method: "POST",
    path: "/accounts/2/notes",
    body: '{"note":"hello"}',
    nonce: NONCE,
    timestamp: TIME,
  };
  const raw = "ARMOR-PSK 20a37099-4a0b-432f-bf46-5fa690a0405c:" +
    "AJ/LW15TZGBk5FkADnpdrfybuzehUhBr4UBlP5fP+rB1uEEzOn5b8uXajdZFqw6TdbFKSpLkj7yK0wFbr8HQlQ==" +
    ":8jbj872s2h:1528140529";
  // The raw body is the default.
  assert.equal(await armorPskAuthorization(KEY, post), raw);
  assert.equal(await armorPskAuthorization({ ...KEY, bodySigning: "raw" }, post), raw);
  assert.equal(await armorPskSigner(KEY)(post), raw);
  // "sha512": base64(SHA-512(body)) in place of the body.
  const sha512 = "ARMOR-PSK 20a37099-4a0b-432f-bf46-5fa690a0405c:" +
    "8nVeGbqEh5AS6EHO1Y9UxEuJI+/XHMBmBhHo6if2j40dxV0XQ8eUWd9UKiCq4sH+DuRsfwwFEQjqUa377c5HxA==" +
    ":8jbj872s2h:1528140529";
  assert.equal(await armorPskAuthorization({ ...KEY, bodySigning: "sha512" }, post), sha512);
  assert.equal(await armorPskSigner({ ...KEY, bodySigning: "sha512" })(post), sha512);
  // Non-ASCII text (its UTF-8 bytes) and bytes that are not UTF-8, raw.
  assert.equal(
    await armorPskAuthorization(KEY, { ...post, body: '{"name":"Grüße, мир 🌍"}' }),
    "ARMOR-PSK 20a37099-4a0b-432f-bf46-5fa690a0405c:" +
      "nPq/OgqGLAJoQAPqaGlmM0PWER4T2O02dz/vzATHDSrgAjx3mqvb6JsIian/0kppYxdUhZ51XF7XpiOvf2sOiw==" +
      ":8jbj872s2h:1528140529",
  );
  assert.equal(
    await armorPskAuthorization(KEY, {
      ...post,
      body: new Uint8Array([0, 1, 2, 250, 255, 0x7f, 0x80]),
    }),
    "ARMOR-PSK 20a37099-4a0b-432f-bf46-5fa690a0405c:" +
      "prG7r5eXJJTd6Dw22Ytzh6J4YQEwCJkYXcQhCIGYcezvfKQjtekC/2NO+OvRkj2HSRoAgH2KQ+plCgLvOVw7cA==" +
      ":8jbj872s2h:1528140529",
  );
});

Deno.test("armorPskAuthorization matches node:crypto on fixed requests", async () => {
  const json = JSON.stringify({ name: "Grüße, мир 🌍", tags: ["a", "ü"] });
  const bytes = new Uint8Array([0, 1, 2, 250, 255, 0x7f, 0x80]);
  const cases: {
    name: string;
    key: ArmorApiKey;
    request: ArmorPskRequest;
    signedPath: string;
    body?: string | Uint8Array;
  }[] = [
    {
      name: "GET without a body",
      key: KEY,
      request: { method: "GET", path: "/me" },
      signedPath: "/me",
    },
    {
      name: "POST with a string body",
      key: KEY,
      request: { method: "POST", path: "/accounts/2/notes", body: '{"note":"hi"}' },
      signedPath: "/accounts/2/notes",
      body: '{"note":"hi"}',
    },
    {
      name: "PUT with a Uint8Array body",
      key: KEY,
      request: { method: "PUT", path: "/files/7", body: bytes },
      signedPath: "/files/7",
      body: bytes,
    },
    {
      name: "an ArrayBuffer body",
      key: KEY,
      request: { method: "PUT", path: "/files/7", body: bytes.slice().buffer },
      signedPath: "/files/7",
      body: bytes,
    },
    {
      name: "a DataView over part of a buffer",
      key: KEY,
      request: {
        method: "PUT",
        path: "/files/7",
        body: new DataView(new Uint8Array([9, 9, ...bytes, 9]).buffer, 2, bytes.length),
      },
      signedPath: "/files/7",
      body: bytes,
    },
    {
      name: "a non-ASCII secret",
      key: NON_ASCII_KEY,
      request: { method: "GET", path: "/accounts" },
      signedPath: "/accounts",
    },
    {
      name: "a non-ASCII secret and a non-ASCII string body",
      key: NON_ASCII_KEY,
      request: { method: "POST", path: "/accounts/2/tags", body: json },
      signedPath: "/accounts/2/tags",
      body: json,
    },
    {
      name: "a full URL with a port, a query and a fragment",
      key: KEY,
      request: { method: "GET", path: "https://api.armor.com:443/accounts/2?x=1&y=%3A#f" },
      signedPath: "/accounts/2",
    },
    {
      name: "an http URL (a loopback mock) with a port",
      key: KEY,
      request: { method: "GET", path: "http://127.0.0.1:8080/me?x=1" },
      signedPath: "/me",
    },
    {
      name: "a path with a query",
      key: KEY,
      request: { method: "GET", path: "/me?x=1" },
      signedPath: "/me",
    },
    {
      name: "a path with a fragment before a question mark",
      key: KEY,
      request: { method: "GET", path: "/me#a?b" },
      signedPath: "/me",
    },
    {
      name: "a lower-case method",
      key: KEY,
      request: { method: "delete", path: "/accounts/2/notes/5" },
      signedPath: "/accounts/2/notes/5",
    },
    {
      name: "a mixed-case method with a body",
      key: NON_ASCII_KEY,
      request: { method: "pAtCh", path: "/accounts/2", body: json },
      signedPath: "/accounts/2",
      body: json,
    },
  ];
  for (const c of cases) {
    for (const bodySigning of [undefined, "raw", "sha512"] as const) {
      const key: ArmorApiKey = bodySigning === undefined ? c.key : { ...c.key, bodySigning };
      const request = { ...c.request, nonce: NONCE, timestamp: TIME };
      const expected = reference(key, c.request.method, c.signedPath, NONCE, TIME, c.body);
      assert.equal(await armorPskAuthorization(key, request), expected, c.name);
      assert.equal(await armorPskSigner(key)(request), expected, c.name);
    }
  }
});

Deno.test("an empty body is signed as no body", async () => {
  const none = await armorPskAuthorization(KEY, {
    method: "POST",
    path: "/x",
    nonce: NONCE,
    timestamp: TIME,
  });
  assert.equal(none, reference(KEY, "POST", "/x", NONCE, TIME));
  for (
    const body of [
      null,
      "",
      new Uint8Array(0),
      new ArrayBuffer(0),
      new DataView(new ArrayBuffer(4), 4),
    ]
  ) {
    assert.equal(
      await armorPskAuthorization(KEY, {
        method: "POST",
        path: "/x",
        body,
        nonce: NONCE,
        timestamp: TIME,
      }),
      none,
    );
  }
});

Deno.test("a path is signed as fetch sends it", async () => {
  const cases: [string, string][] = [
    ["/", "/"],
    ["/a/./b/../c", "/a/c"],
    ["/a/%2e%2E/b", "/b"],
    ["/notes/é", "/notes/%C3%A9"],
    ["/a b?q", "/a%20b"],
    ["/a\\b", "/a/b"],
    ["/a//b/", "/a//b/"],
    ["/files/report.v2.json", "/files/report.v2.json"],
    ["/x/%41", "/x/%41"],
    ["https://api.armor.com", "/"],
    ["HTTPS://API.ARMOR.COM/Me", "/Me"],
  ];
  for (const [path, signedPath] of cases) {
    for (const check of [path, signedPath]) {
      assert.equal(new URL(check, "https://api.armor.com").pathname, signedPath, check);
    }
    assert.equal(
      await armorPskAuthorization(KEY, { method: "GET", path, nonce: NONCE, timestamp: TIME }),
      reference(KEY, "GET", signedPath, NONCE, TIME),
      path,
    );
  }
});

Deno.test("a SharedArrayBuffer body is signed like the same bytes", async () => {
  const shared = new Uint8Array(new SharedArrayBuffer(3));
  shared.set([1, 2, 3]);
  assert.equal(
    await armorPskAuthorization(KEY, {
      method: "PUT",
      path: "/x",
      body: shared,
      nonce: NONCE,
      timestamp: TIME,
    }),
    reference(KEY, "PUT", "/x", NONCE, TIME, new Uint8Array([1, 2, 3])),
  );
});

// ---- arbitrary requests --------------------------------------------------------------

function readRuns(): number {
  const allowed = Deno.permissions.querySync({ name: "env", variable: "FUZZ_RUNS" });
  const raw = allowed.state === "granted" ? Deno.env.get("FUZZ_RUNS") : undefined;
  if (raw === undefined || raw === "") return 500;
  const runs = Number(raw);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new RangeError(`FUZZ_RUNS must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return runs;
}

const visible = (max: number) => fc.stringMatching(new RegExp(`^[!-9;-~]{1,${max}}$`));
const segment = fc.stringMatching(/^[A-Za-z0-9\-._~!$&'()*+,;=:@]{0,12}$/)
  .filter((s) => s !== "." && s !== "..");
// A path-only "//host/..." is scheme-relative (refused), so the first segment is not empty
// when others follow; inside a full URL the path may start with "//".
const arbitraryPath = fc.array(segment, { minLength: 1, maxLength: 6 })
  .map((s) => `/${s.join("/")}`)
  .map((path) => path.startsWith("//") ? `/p${path}` : path);
const suffix = fc.stringMatching(/^[A-Za-z0-9=&%._~\-?/:@]{0,16}$/);

/** A path and a way of writing it: bare, with a query or fragment, or in a full URL. */
const written = fc.record({
  path: arbitraryPath,
  form: fc.constantFrom("bare", "query", "fragment", "both", "url"),
  host: fc.constantFrom("https://api.armor.com", "http://127.0.0.1:8080", "https://x.example:8443"),
  query: suffix,
  fragment: suffix,
}).map(({ path, form, host, query, fragment }) => {
  switch (form) {
    case "bare":
      return { path, as: path };
    case "query":
      return { path, as: `${path}?${query}` };
    case "fragment":
      return { path, as: `${path}#${fragment}` };
    case "both":
      return { path, as: `${path}?${query}#${fragment}` };
    default:
      return { path, as: `${host}${path}?${query}#${fragment}` };
  }
});

const body = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ unit: "binary", maxLength: 200 }).map((text) => ({ as: text, bytes: text })),
  fc.uint8Array({ maxLength: 300 }).chain((bytes) =>
    fc.constantFrom<string | Uint8Array | ArrayBuffer | ArrayBufferView>(
      bytes,
      bytes.slice().buffer,
      new DataView(bytes.slice().buffer),
      new Int16Array(bytes.slice(0, bytes.length & ~1).buffer),
    ).map((as) => ({
      as,
      bytes: as instanceof Int16Array ? bytes.slice(0, bytes.length & ~1) : bytes,
    }))
  ),
);

Deno.test("armorPskAuthorization matches node:crypto on arbitrary requests", async () => {
  const property = fc.asyncProperty(
    fc.record({
      id: fc.oneof(fc.uuid(), visible(40)),
      secret: fc.string({ unit: "binary", minLength: 1, maxLength: 100 })
        .filter((s) => s.trim() !== ""),
      method: fc.oneof(
        fc.constantFrom("GET", "post", "Put", "PATCH", "delete", "HEAD", "OPTIONS"),
        fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/),
      ),
      written,
      body,
      nonce: fc.option(visible(MAX_NONCE_LENGTH), { nil: undefined }),
      timestamp: fc.option(fc.integer({ min: 0, max: 99_999_999_999 }), { nil: undefined }),
      signer: fc.boolean(),
      bodySigning: fc.constantFrom(undefined, "raw" as const, "sha512" as const),
    }),
    async ({ id, secret, method, written, body, nonce, timestamp, signer, bodySigning }) => {
      const key: ArmorApiKey = bodySigning === undefined
        ? { id, secret }
        : { id, secret, bodySigning };
      const request = {
        method,
        path: written.as,
        body: body == null ? body : body.as,
        nonce,
        timestamp,
      };
      const header = signer
        ? await armorPskSigner(key)(request)
        : await armorPskAuthorization(key, request);
      const seen = fields(header);
      if (nonce !== undefined) assert.equal(seen.nonce, nonce);
      if (timestamp !== undefined) assert.equal(seen.time, timestamp);
      const bytes = body?.bytes;
      const expected = reference(
        key,
        method,
        written.path,
        seen.nonce,
        seen.time,
        bytes instanceof Uint8Array || typeof bytes === "string" ? bytes : undefined,
      );
      assert.equal(header, expected);
      if (secret.length >= 12) assert.equal(header.includes(secret), false);
    },
  );
  await fc.assert(property, { numRuns: readRuns() });
});

// ---- nonces and timestamps -----------------------------------------------------------

Deno.test("a nonce is 1 to 128 visible ASCII characters without a colon", async () => {
  const sign = (nonce: unknown) =>
    armorPskAuthorization(KEY, {
      method: "GET",
      path: "/me",
      nonce: nonce as string,
      timestamp: TIME,
    });
  const longest = "n".repeat(MAX_NONCE_LENGTH);
  assert.equal(await sign(longest), reference(KEY, "GET", "/me", longest, TIME));
  assert.equal(await sign("!~;"), reference(KEY, "GET", "/me", "!~;", TIME));
  const refused: [unknown, RegExp][] = [
    ["", /must not be empty/],
    ["q".repeat(MAX_NONCE_LENGTH + 1), /at most 128 characters/],
    ["abc:def", /must not contain a colon/],
    [":", /must not contain a colon/],
    ["has space", /visible ASCII/],
    ["tab\there", /visible ASCII/],
    ["line\r\nbreak", /visible ASCII/],
    ["ünï", /visible ASCII/],
    [42, /must be a string/],
    [null, /must be a string/],
  ];
  for (const [nonce, rule] of refused) {
    await assert.rejects(sign(nonce), (error: Error) => {
      assert.ok(error instanceof TypeError, String(nonce));
      assert.match(error.message, rule);
      if (typeof nonce === "string" && nonce.length > 1) {
        assert.equal(error.message.includes(nonce), false, "the nonce is echoed");
      }
      return true;
    });
  }
});

Deno.test("the default nonce is 32 hex digits, new for every request", async () => {
  const sign = armorPskSigner(KEY);
  const nonces = new Set<string>();
  for (let i = 0; i < 1_000; i++) {
    const { nonce } = fields(await sign({ method: "GET", path: "/me" }));
    assert.match(nonce, /^[0-9a-f]{32}$/);
    nonces.add(nonce);
  }
  assert.equal(nonces.size, 1_000);
  const { nonce } = fields(await armorPskAuthorization(KEY, { method: "GET", path: "/me" }));
  assert.match(nonce, /^[0-9a-f]{32}$/);
});

Deno.test("the default timestamp is now, in whole seconds", async () => {
  const before = Date.now() / 1000;
  const header = await armorPskAuthorization(KEY, { method: "GET", path: "/me", nonce: NONCE });
  const after = Date.now() / 1000;
  const { time } = fields(header);
  assert.ok(Number.isInteger(time));
  assert.ok(time >= Math.floor(before) - 2 && time <= after + 2, `${time} not within 2 s of now`);
  assert.equal(header, reference(KEY, "GET", "/me", NONCE, time));
});

Deno.test("a timestamp is whole non-negative seconds", async () => {
  const sign = (timestamp: unknown) =>
    armorPskAuthorization(KEY, {
      method: "GET",
      path: "/me",
      nonce: NONCE,
      timestamp: timestamp as number,
    });
  assert.equal(await sign(0), reference(KEY, "GET", "/me", NONCE, 0));
  assert.equal(await sign(99_999_999_999), reference(KEY, "GET", "/me", NONCE, 99_999_999_999));
  for (const bad of [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, "1528140529", null, 10n]) {
    await assert.rejects(sign(bad), TypeError, String(bad));
  }
  await assert.rejects(sign(Date.now()), /not milliseconds/);
});

// ---- keys, methods, paths, bodies ----------------------------------------------------

const SECRET = "s3cr3t-never-shown-ключ";

/** Every refused call with a key holding SECRET somewhere; each must reject. */
function refusedCalls(): [string, () => Promise<string>][] {
  const ok: ArmorPskRequest = { method: "GET", path: "/me" };
  const withKey = (key: unknown, request: unknown = ok) =>
    armorPskAuthorization(key as ArmorApiKey, request as ArmorPskRequest);
  const good = { id: "key-id", secret: SECRET };
  return [
    ["key null", () => withKey(null)],
    ["key is the secret", () => withKey(SECRET)],
    ["id missing", () => withKey({ secret: SECRET })],
    ["id empty", () => withKey({ id: "", secret: SECRET })],
    ["id with a colon", () => withKey({ id: "a:b", secret: SECRET })],
    ["id with a space", () => withKey({ id: "a b", secret: SECRET })],
    ["id with a newline", () => withKey({ id: "ab\n", secret: SECRET })],
    ["id non-ASCII", () => withKey({ id: "ключ", secret: SECRET })],
    ["id and secret swapped", () => withKey({ id: SECRET, secret: "key-id" })],
    ["secret missing", () => withKey({ id: "key-id" })],
    ["secret empty", () => withKey({ id: "key-id", secret: "" })],
    ["secret blank", () => withKey({ id: "key-id", secret: "   " })],
    ["secret as bytes", () => withKey({ id: "key-id", secret: new TextEncoder().encode(SECRET) })],
    ["request null", () => withKey(good, null)],
    ["method empty", () => withKey(good, { method: "", path: "/me" })],
    ["method with a space", () => withKey(good, { method: "GET /", path: "/me" })],
    ["method non-ASCII", () => withKey(good, { method: "GÉT", path: "/me" })],
    ["method missing", () => withKey(good, { path: "/me" })],
    ["path missing", () => withKey(good, { method: "GET" })],
    ["path relative", () => withKey(good, { method: "GET", path: "me" })],
    ["path empty", () => withKey(good, { method: "GET", path: "" })],
    ["path scheme-relative", () => withKey(good, { method: "GET", path: "//evil.example/me" })],
    ["path ftp", () => withKey(good, { method: "GET", path: "ftp://api.armor.com/me" })],
    ["path with the secret", () => withKey(good, { method: "GET", path: `${SECRET}/me` })],
    ["body an object", () => withKey(good, { method: "POST", path: "/me", body: { a: 1 } })],
    ["body a number", () => withKey(good, { method: "POST", path: "/me", body: 5 })],
    ["body a Blob", () => withKey(good, { method: "POST", path: "/me", body: new Blob(["x"]) })],
    [
      "body a stream",
      () => withKey(good, { method: "POST", path: "/me", body: new Blob(["x"]).stream() }),
    ],
    ["nonce with the secret", () => withKey(good, { ...ok, nonce: `${SECRET}:` })],
  ];
}

Deno.test("bad keys and requests are TypeErrors that never show the secret", async () => {
  for (const [name, call] of refusedCalls()) {
    await assert.rejects(call(), (error: Error) => {
      assert.ok(error instanceof TypeError, `${name}: ${error}`);
      assert.match(error.message, /^[A-Z]|^key|^request/, name);
      assert.equal(findSecret(error, [SECRET]), undefined, name);
      return true;
    }, name);
  }
});

Deno.test("a secret longer than 8192 characters is a RangeError", async () => {
  const long = "x".repeat(8193);
  await assert.rejects(
    armorPskAuthorization({ id: "key-id", secret: long }, { method: "GET", path: "/me" }),
    (error: Error) => error instanceof RangeError && !error.message.includes(long),
  );
  assert.throws(() => armorPskSigner({ id: "key-id", secret: long }), RangeError);
});

Deno.test("armorPskSigner checks the key at once and copies it", async () => {
  assert.throws(() => armorPskSigner({ id: "a:b", secret: SECRET }), TypeError);
  assert.throws(() => armorPskSigner({ id: "key-id", secret: "" }), TypeError);
  assert.throws(() => armorPskSigner(null as unknown as ArmorApiKey), TypeError);
  const key = { id: "key-id", secret: SECRET };
  const sign = armorPskSigner(key);
  key.secret = "another-secret";
  key.id = "other-id";
  const request = { method: "GET", path: "/me", nonce: NONCE, timestamp: TIME };
  assert.equal(
    await sign(request),
    reference({ id: "key-id", secret: SECRET }, "GET", "/me", NONCE, TIME),
  );
  assert.equal(findSecret(sign, [SECRET]), undefined);
  await assert.rejects(sign({ ...request, nonce: "" }), TypeError);
});

Deno.test("a key's secret is never kept stale", async () => {
  const request = { method: "GET", path: "/me", nonce: NONCE, timestamp: TIME };
  const key = { id: "rotating-id", secret: "first-secret" };
  assert.equal(
    await armorPskAuthorization(key, request),
    reference(key, "GET", "/me", NONCE, TIME),
  );
  key.secret = "second-secret";
  assert.equal(
    await armorPskAuthorization(key, request),
    reference(key, "GET", "/me", NONCE, TIME),
  );
  const fresh = { id: "rotating-id", secret: "first-secret" };
  assert.equal(
    await armorPskAuthorization(fresh, request),
    reference(fresh, "GET", "/me", NONCE, TIME),
  );
  // More keys than are kept, round and round: each is signed with its own secret.
  const keys = Array.from({ length: 40 }, (_, i) => ({ id: `key-${i}`, secret: `secret-${i}-x` }));
  for (let round = 0; round < 3; round++) {
    const headers = await Promise.all(keys.map((k) => armorPskAuthorization(k, request)));
    headers.forEach((header, i) =>
      assert.equal(header, reference(keys[i], "GET", "/me", NONCE, TIME))
    );
  }
});

Deno.test("concurrent first calls with one key agree", async () => {
  const key = { id: "concurrent-id", secret: SECRET };
  const request = { method: "POST", path: "/x", body: "{}", nonce: NONCE, timestamp: TIME };
  const headers = await Promise.all(
    Array.from({ length: 20 }, () => armorPskAuthorization({ ...key }, request)),
  );
  for (const header of headers) {
    assert.equal(header, reference(key, "POST", "/x", NONCE, TIME, "{}"));
  }
});

Deno.test("the header never shows the secret", async () => {
  for (const secret of [SECRET, NON_ASCII_KEY.secret, "QUJDREVGR0g=", "x".repeat(64)]) {
    const key = { id: "key-id", secret };
    for (const body of [undefined, secret, new TextEncoder().encode(secret)]) {
      const header = await armorPskAuthorization(key, { method: "POST", path: "/me", body });
      assert.equal(header.includes(secret), false);
      assert.equal(findSecret(header, [secret]), undefined);
    }
  }
});
