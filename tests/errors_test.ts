import assert from "node:assert/strict";
import { ArmorApiError, type ArmorApiErrorCode, ArmorCancelledError } from "../mod.ts";
import { MAX_RESPONSE_BYTES } from "../src/errors.ts";

const CODES: ArmorApiErrorCode[] = [
  "HTTP_STATUS",
  "REDIRECT",
  "INVALID_RESPONSE",
  "BODY_TOO_LARGE",
  "BODY_INCOMPLETE",
  "NETWORK",
  "TIMEOUT",
  "ABORTED",
  "NOT_AUTHORIZED",
  "SESSION_EXPIRED",
  "UNKNOWN_ACCOUNT",
];

Deno.test("ArmorApiError is an Error named ArmorApiError with its code and message", () => {
  for (const code of CODES) {
    const error = new ArmorApiError(code, `Failed with ${code}`);
    assert.ok(error instanceof ArmorApiError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "ArmorApiError");
    assert.equal(error.code, code);
    assert.equal(error.message, `Failed with ${code}`);
    assert.equal(String(error), `ArmorApiError: Failed with ${code}`);
  }
});

Deno.test("ArmorApiError carries status, Retry-After and cause where given", () => {
  const cause = new TypeError("connection reset");
  const error = new ArmorApiError("HTTP_STATUS", "The Armor API answered 429", {
    status: 429,
    retryAfter: 7,
    cause,
  });
  assert.equal(error.status, 429);
  assert.equal(error.retryAfter, 7);
  assert.equal(error.cause, cause);
  const shown = Deno.inspect(error);
  assert.match(shown, /HTTP_STATUS/);
  assert.match(shown, /connection reset/);
});

Deno.test("ArmorApiError without options has no status, Retry-After or cause", () => {
  const error = new ArmorApiError("NETWORK", "No answer");
  assert.equal(error.status, undefined);
  assert.equal(error.retryAfter, undefined);
  assert.ok(!("cause" in error));
  assert.ok(!("status" in error));
  assert.ok(!("retryAfter" in error));
});

Deno.test("JSON.stringify of an ArmorApiError keeps its name, code and status", () => {
  const error = new ArmorApiError("HTTP_STATUS", "The Armor API answered 401", { status: 401 });
  assert.deepEqual(JSON.parse(JSON.stringify(error)), {
    name: "ArmorApiError",
    code: "HTTP_STATUS",
    status: 401,
  });
});

Deno.test("ArmorApiError's stack starts with its name and message", () => {
  const error = new ArmorApiError("TIMEOUT", "POST /auth/token timed out after 200 ms");
  assert.match(error.stack ?? "", /^ArmorApiError: POST \/auth\/token timed out after 200 ms\n/);
  assert.match(Deno.inspect(error), /^ArmorApiError: POST \/auth\/token timed out/);
});

Deno.test("ArmorCancelledError is a CANCELLED Error, not an ArmorApiError", () => {
  const error = new ArmorCancelledError("POST /auth/token was not confirmed: nothing was sent");
  assert.ok(error instanceof Error);
  assert.ok(error instanceof ArmorCancelledError);
  assert.ok(!(error instanceof ArmorApiError));
  assert.equal(error.name, "ArmorCancelledError");
  assert.equal(error.code, "CANCELLED");
  assert.equal(error.message, "POST /auth/token was not confirmed: nothing was sent");
  assert.ok(!("status" in error));
});

Deno.test("a program can switch on the code of either error", () => {
  const errors: Error[] = [
    new ArmorApiError("SESSION_EXPIRED", "Session expired at 2026-11-23T10:15:00.000Z"),
    new ArmorCancelledError("Not confirmed"),
    new ArmorApiError("HTTP_STATUS", "Answered 503", { status: 503, retryAfter: 30 }),
  ];
  const advice = errors.map((error) => {
    if (error instanceof ArmorCancelledError) return "nothing to do";
    if (!(error instanceof ArmorApiError)) return "bug";
    switch (error.code) {
      case "SESSION_EXPIRED":
        return "log in again";
      case "HTTP_STATUS":
        return `retry in ${error.retryAfter} s`;
      default:
        return "other";
    }
  });
  assert.deepEqual(advice, ["log in again", "nothing to do", "retry in 30 s"]);
});

Deno.test("MAX_RESPONSE_BYTES is one mebibyte", () => {
  assert.equal(MAX_RESPONSE_BYTES, 1_048_576);
});
