import assert from "node:assert/strict";
import {
  MAX_SESSION_MINUTES,
  MUST_RENEW_MS,
  mustRenew,
  RENEW_WHEN_REMAINING,
  renewAt,
  RETRY_MAX_MS,
  RETRY_MIN_MS,
  retryDelay,
  SECONDS_THRESHOLD,
  sessionLengthMs,
  shouldRenew,
} from "../src/renewal.ts";

const MINUTE = 60_000;

Deno.test("the renewal constants are the documented numbers", () => {
  assert.equal(SECONDS_THRESHOLD, 120);
  assert.equal(MAX_SESSION_MINUTES, 120);
  assert.equal(RENEW_WHEN_REMAINING, 2 / 3);
  assert.equal(MUST_RENEW_MS, 30_000);
  assert.equal(RETRY_MIN_MS, 1_000);
  assert.equal(RETRY_MAX_MS, 60_000);
});

Deno.test("sessionLengthMs reads Armor's expires_in as minutes", () => {
  assert.equal(sessionLengthMs(15), 15 * MINUTE);
  assert.equal(sessionLengthMs(1), MINUTE);
  assert.equal(sessionLengthMs(0.5), 30_000);
  assert.equal(sessionLengthMs(60), 60 * MINUTE);
  // The threshold itself is still minutes: two hours.
  assert.equal(sessionLengthMs(SECONDS_THRESHOLD), 120 * MINUTE);
});

Deno.test("sessionLengthMs reads 1800 as 30 minutes, not 30 hours", () => {
  assert.equal(sessionLengthMs(1800), 30 * MINUTE);
  assert.equal(sessionLengthMs(900), 15 * MINUTE);
  assert.equal(sessionLengthMs(3600), 60 * MINUTE);
});

Deno.test("sessionLengthMs reads values above the threshold as whole seconds, to the millisecond", () => {
  assert.equal(sessionLengthMs(121), 121_000);
  for (let seconds = SECONDS_THRESHOLD + 1; seconds <= MAX_SESSION_MINUTES * 60; seconds++) {
    assert.equal(sessionLengthMs(seconds), seconds * 1000, `expires_in ${seconds}`);
  }
});

Deno.test("sessionLengthMs caps every session at MAX_SESSION_MINUTES", () => {
  const cap = MAX_SESSION_MINUTES * MINUTE;
  for (const expiresIn of [7201, 86_400, 1e9, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE]) {
    assert.equal(sessionLengthMs(expiresIn), cap, `expires_in ${expiresIn}`);
  }
});

Deno.test("renewAt is one third into the session", () => {
  assert.equal(renewAt(0, 15 * MINUTE), 5 * MINUTE);
  assert.equal(renewAt(1_000, 30 * MINUTE), 1_000 + 10 * MINUTE);
  const issuedAt = Date.UTC(2026, 10, 23, 10, 0);
  assert.equal(
    new Date(renewAt(issuedAt, 15 * MINUTE)).toISOString(),
    "2026-11-23T10:05:00.000Z",
  );
});

Deno.test("shouldRenew turns true exactly when one third of the session has passed", () => {
  for (const issuedAt of [0, 1_000, Date.UTC(2026, 10, 23, 10, 0)]) {
    for (let minutes = 1; minutes <= MAX_SESSION_MINUTES; minutes++) {
      const length = minutes * MINUTE;
      const third = issuedAt + length / 3;
      const expiresAt = issuedAt + length;
      const where = `${minutes}-minute session issued at ${issuedAt}`;
      assert.equal(shouldRenew(issuedAt, issuedAt, expiresAt), false, where);
      assert.equal(shouldRenew(third - 1, issuedAt, expiresAt), false, where);
      assert.equal(shouldRenew(third, issuedAt, expiresAt), true, where);
      assert.equal(shouldRenew(expiresAt, issuedAt, expiresAt), true, where);
    }
  }
});

Deno.test("mustRenew is true once less than 30 seconds remain, and after expiry", () => {
  const expiresAt = 15 * MINUTE;
  assert.equal(mustRenew(0, expiresAt), false);
  assert.equal(mustRenew(expiresAt - MUST_RENEW_MS, expiresAt), false);
  assert.equal(mustRenew(expiresAt - MUST_RENEW_MS + 1, expiresAt), true);
  assert.equal(mustRenew(expiresAt, expiresAt), true);
  assert.equal(mustRenew(expiresAt + MINUTE, expiresAt), true);
});

Deno.test("mustRenew for a short session waits only in its last tenth", () => {
  // A 3-second session: 30 s would be "always", so the last 300 ms count instead.
  assert.equal(mustRenew(1_000, 3_000, 3_000), false);
  assert.equal(mustRenew(2_700, 3_000, 3_000), false);
  assert.equal(mustRenew(2_701, 3_000, 3_000), true);
  // From five minutes up, the 30 seconds apply whatever the length.
  for (const length of [5 * MINUTE, 15 * MINUTE, 120 * MINUTE]) {
    assert.equal(mustRenew(length - MUST_RENEW_MS, length, length), false);
    assert.equal(mustRenew(length - MUST_RENEW_MS + 1, length, length), true);
  }
});

Deno.test("retryDelay doubles from 1 s and stops at 60 s", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 20, 1_000].map((failures) => retryDelay(failures)),
    [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000],
  );
  assert.equal(retryDelay(0), RETRY_MIN_MS);
});

Deno.test("retryDelay waits for Retry-After when it is longer than the backoff", () => {
  assert.equal(retryDelay(1, 7), 7_000);
  assert.equal(retryDelay(1, 30), 30_000);
  assert.equal(retryDelay(5, 1), 16_000, "a short Retry-After does not shorten the backoff");
  assert.equal(retryDelay(3, 0), 4_000);
  assert.equal(retryDelay(1, 120), 120_000, "Retry-After may exceed RETRY_MAX_MS");
});

Deno.test("retryDelay caps Retry-After at ten times RETRY_MAX_MS", () => {
  assert.equal(retryDelay(1, 86_400), 10 * RETRY_MAX_MS);
  assert.equal(retryDelay(1, 1e12), 10 * RETRY_MAX_MS);
});
