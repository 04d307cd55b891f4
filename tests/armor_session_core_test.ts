import assert from "node:assert/strict";
import { ArmorApiError, ArmorSession } from "../mod.ts";
import { MockClock } from "../src/testing/mod.ts";
import { armorError } from "./_errors.ts";

const TOKEN = "2261bac252204c2ea93ed32ea1ffd3ab";
const OTHER = "ffffffffffffffffffffffffffffffff";
const START = Date.UTC(2026, 10, 23, 10, 0);
const FIFTEEN_MINUTES = 15 * 60_000;

Deno.test("a new session has no token: not active, and token throws NOT_AUTHORIZED", () => {
  const session = new ArmorSession({ now: new MockClock(START).now });
  assert.equal(session.isActive(), false);
  assert.throws(() => session.token, armorError("NOT_AUTHORIZED", /log in/));
  assert.equal(session.expiresAt.getTime(), 0);
  assert.equal(session.baseUrl, "https://api.armor.com/");
  assert.equal(session.apiVersion, "v1.0");
});

Deno.test("authorize(token, 15) makes the session active for 15 minutes by its clock", () => {
  const clock = new MockClock(START);
  const session = new ArmorSession({ now: clock.now });
  session.authorize(TOKEN, 15);
  assert.equal(session.isActive(), true);
  assert.equal(session.token, TOKEN);
  assert.equal(session.issuedAt.toISOString(), "2026-11-23T10:00:00.000Z");
  assert.equal(session.expiresAt.toISOString(), "2026-11-23T10:15:00.000Z");
});

Deno.test("authorize reads 1800 as a 30-minute session and caps huge values", () => {
  const clock = new MockClock(START);
  const session = new ArmorSession({ now: clock.now });
  session.authorize(TOKEN, 1800);
  assert.equal(session.expiresAt.toISOString(), "2026-11-23T10:30:00.000Z");
  session.authorize(TOKEN, 1e9);
  assert.equal(session.expiresAt.toISOString(), "2026-11-23T12:00:00.000Z");
});

Deno.test("authorize again replaces the token and restarts the session", () => {
  const clock = new MockClock(START);
  const session = new ArmorSession({ now: clock.now });
  session.authorize(TOKEN, 15);
  clock.advance(10 * 60_000);
  session.authorize(OTHER, 15);
  assert.equal(session.token, OTHER);
  assert.equal(session.expiresAt.toISOString(), "2026-11-23T10:25:00.000Z");
});

Deno.test("authorize refuses a malformed token and leaves the session as it was", () => {
  const session = new ArmorSession({ now: new MockClock(START).now });
  session.authorize(TOKEN, 15);
  const bad: unknown[] = [
    "",
    TOKEN.slice(1),
    TOKEN + "0",
    TOKEN.toUpperCase(),
    ` ${TOKEN.slice(1)}`,
    `FH-AUTH ${TOKEN}`,
    undefined,
    null,
    42,
  ];
  for (const token of bad) {
    assert.throws(() => session.authorize(token as string, 15), TypeError, String(token));
  }
  assert.equal(session.token, TOKEN);
  assert.equal(session.expiresAt.toISOString(), "2026-11-23T10:15:00.000Z");
});

Deno.test("authorize refuses an expiresIn that is not a positive finite number", () => {
  const session = new ArmorSession({ now: new MockClock(START).now });
  for (const expiresIn of [0, -15, NaN, Infinity, -Infinity]) {
    assert.throws(() => session.authorize(TOKEN, expiresIn), RangeError, String(expiresIn));
  }
  for (const expiresIn of ["15", null, undefined]) {
    assert.throws(
      () => session.authorize(TOKEN, expiresIn as unknown as number),
      (error) => error instanceof RangeError || error instanceof TypeError,
    );
  }
  assert.equal(session.isActive(), false);
  assert.throws(() => session.token, armorError("NOT_AUTHORIZED"));
});

Deno.test("once the clock reaches expiry, token throws SESSION_EXPIRED naming the time", () => {
  const clock = new MockClock(START);
  const session = new ArmorSession({ now: clock.now });
  session.authorize(TOKEN, 15);

  clock.advance(FIFTEEN_MINUTES - 1);
  assert.equal(session.isActive(), true);
  assert.equal(session.token, TOKEN);

  clock.advance(1);
  assert.equal(session.isActive(), false);
  assert.throws(
    () => session.token,
    armorError("SESSION_EXPIRED", /2026-11-23T10:15:00\.000Z.*log in again/),
  );
  // The error names the expiry, not the token.
  const expired = (() => {
    try {
      return session.token;
    } catch (error) {
      return error;
    }
  })();
  assert.ok(expired instanceof ArmorApiError);
  assert.ok(!Deno.inspect(expired).includes(TOKEN));
  assert.ok(!JSON.stringify(expired).includes(TOKEN));
  // The expiry is still reported.
  assert.equal(session.expiresAt.toISOString(), "2026-11-23T10:15:00.000Z");
});

Deno.test("JSON.stringify and Deno.inspect of a session never show its token", () => {
  const clock = new MockClock(START);
  const session = new ArmorSession({ now: clock.now, accountId: 1001 });
  session.authorize(TOKEN, 15);

  const json = JSON.stringify(session);
  assert.ok(!json.includes(TOKEN));
  assert.deepEqual(JSON.parse(json), {
    baseUrl: "https://api.armor.com/",
    apiVersion: "v1.0",
    accountId: 1001,
    active: true,
    token: "[REDACTED]",
    expiresAt: "2026-11-23T10:15:00.000Z",
  });

  for (
    const shown of [
      Deno.inspect(session),
      Deno.inspect({ session }, { depth: Infinity, showHidden: true }),
      Deno.inspect(session, { getters: true, showHidden: true }),
      JSON.stringify({ nested: [session] }),
      JSON.stringify({ ...session }),
      String(session),
    ]
  ) {
    assert.ok(!shown.includes(TOKEN), shown);
  }
  assert.match(Deno.inspect(session), /ArmorSession/);
  assert.match(Deno.inspect(session), /2026-11-23T10:15:00\.000Z/);

  clock.advance(FIFTEEN_MINUTES);
  assert.equal(JSON.parse(JSON.stringify(session)).active, false);
  assert.ok(!Deno.inspect(session).includes(TOKEN));
});

Deno.test("the constructor takes the base URL and API version, and refuses bad ones", () => {
  const session = new ArmorSession({ baseUrl: "http://127.0.0.1:8080", apiVersion: "internal" });
  assert.equal(session.baseUrl, "http://127.0.0.1:8080/");
  assert.equal(session.apiVersion, "internal");
  assert.throws(() => new ArmorSession({ baseUrl: "http://api.armor.com" }), TypeError);
  assert.throws(() => new ArmorSession({ apiVersion: "v2" as "v1.0" }), TypeError);
  assert.throws(() => new ArmorSession({ accountId: 0 }), TypeError);
  assert.throws(() => new ArmorSession({ now: 5 as unknown as () => number }), TypeError);
});
