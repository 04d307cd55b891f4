import assert from "node:assert/strict";
import { ArmorApiToken } from "../mod.ts";
import { ACCESS_TOKEN_PATTERN } from "../src/token.ts";

const ACCESS = "2261bac252204c2ea93ed32ea1ffd3ab";
const ID = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl";
const ISSUED = Date.UTC(2026, 10, 23, 10, 0);

function makeToken(idToken: string | null = ID, expiresIn = 15): ArmorApiToken {
  return new ArmorApiToken(
    { access_token: ACCESS, id_token: idToken, expires_in: expiresIn, token_type: "Bearer" },
    ISSUED,
  );
}

function assertHidden(text: string, where: string): void {
  assert.ok(!text.includes(ACCESS), `${where} shows the access token: ${text}`);
  assert.ok(!text.includes(ID), `${where} shows the ID token: ${text}`);
}

Deno.test("ArmorApiToken's wire fields and expiry are readable", () => {
  const token = makeToken();
  assert.equal(token.access_token, ACCESS);
  assert.equal(token.id_token, ID);
  assert.equal(token.expires_in, 15);
  assert.equal(token.token_type, "Bearer");
  assert.equal(token.issuedAt.toISOString(), "2026-11-23T10:00:00.000Z");
  assert.equal(token.expiresAt.toISOString(), "2026-11-23T10:15:00.000Z");
});

Deno.test("ArmorApiToken counts expires_in as minutes, and 1800 as 30 minutes", () => {
  assert.equal(makeToken(ID, 5).expiresAt.toISOString(), "2026-11-23T10:05:00.000Z");
  assert.equal(makeToken(ID, 1800).expiresAt.toISOString(), "2026-11-23T10:30:00.000Z");
  // The wire value is kept as Armor sent it.
  assert.equal(makeToken(ID, 1800).expires_in, 1800);
});

Deno.test("ArmorApiToken keeps a null ID token as null", () => {
  const token = makeToken(null);
  assert.equal(token.id_token, null);
  assert.equal(JSON.parse(JSON.stringify(token)).id_token, null);
  assert.match(Deno.inspect(token), /id_token: null/);
});

Deno.test("JSON.stringify shows an ArmorApiToken with both tokens redacted", () => {
  const token = makeToken();
  const json = JSON.stringify(token);
  assertHidden(json, "JSON.stringify");
  assert.deepEqual(JSON.parse(json), {
    access_token: "[REDACTED]",
    id_token: "[REDACTED]",
    expires_in: 15,
    token_type: "Bearer",
    issuedAt: "2026-11-23T10:00:00.000Z",
    expiresAt: "2026-11-23T10:15:00.000Z",
  });
  assertHidden(JSON.stringify({ result: [token] }), "JSON.stringify of a nested token");
});

Deno.test("Deno.inspect and console.log never show the tokens", () => {
  const token = makeToken();
  const shown = Deno.inspect(token);
  assertHidden(shown, "Deno.inspect");
  assert.match(shown, /ArmorApiToken/);
  assert.match(shown, /Bearer/);
  assert.match(shown, /2026-11-23T10:15:00\.000Z/);
  assertHidden(
    Deno.inspect({ nested: [token] }, { depth: Infinity, showHidden: true }),
    "Deno.inspect of a nested token",
  );
  assertHidden(Deno.inspect(token, { showHidden: true, getters: true }), "Deno.inspect getters");
  assertHidden(String(token), "String()");
});

Deno.test("copying an ArmorApiToken's own properties does not copy the tokens", () => {
  const token = makeToken();
  assert.ok(!Object.keys(token).includes("access_token"));
  assertHidden(JSON.stringify({ ...token }), "a spread copy");
  assertHidden(Deno.inspect({ ...token }), "a spread copy");
  assertHidden(Deno.inspect(structuredClone(token)), "a structured clone");
  assertHidden(JSON.stringify(Object.entries(token)), "Object.entries");
});

Deno.test("ACCESS_TOKEN_PATTERN accepts exactly 32 characters of [a-z0-9]", () => {
  assert.ok(ACCESS_TOKEN_PATTERN.test(ACCESS));
  assert.ok(ACCESS_TOKEN_PATTERN.test("z".repeat(32)));
  for (
    const bad of [
      ACCESS.slice(1),
      ACCESS + "0",
      ACCESS.toUpperCase(),
      ACCESS.slice(1) + "-",
      `${ACCESS}\n`,
      ` ${ACCESS.slice(1)}`,
      "",
    ]
  ) {
    assert.ok(!ACCESS_TOKEN_PATTERN.test(bad), JSON.stringify(bad));
  }
});
