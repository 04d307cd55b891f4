// What the test files share about errors and sessions: every view of an error, the
// expectation of a typed failure, and a session's visible state.

import assert from "node:assert/strict";
import { ArmorApiError, type ArmorSession } from "../mod.ts";

/** Every way a person or a log could see an error, cause chain included. */
export function errorViews(error: unknown): string[] {
  const views = [JSON.stringify(error) ?? "", Deno.inspect(error, { depth: Infinity })];
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      views.push(current.message, current.stack ?? "", String(current));
      views.push(JSON.stringify(current) ?? "", Deno.inspect(current, { depth: Infinity }));
      current = current.cause;
    } else {
      views.push(String(current), Deno.inspect(current, { depth: Infinity }));
      break;
    }
  }
  return views;
}

/** Fails when `secret` shows in any view of `error`. */
export function assertErrorHides(error: unknown, secret: string): void {
  for (const view of errorViews(error)) {
    assert.ok(!view.includes(secret), "the secret shows in a view of the error");
  }
}

/** Runs `call`, expects an ArmorApiError, checks its code and status, returns it. */
export async function expectArmorError(
  call: Promise<unknown>,
  code: string,
  status?: number,
): Promise<ArmorApiError> {
  const error = await call.then(
    () => assert.fail(`expected ArmorApiError ${code}, got a result`),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ArmorApiError, `expected ArmorApiError, got ${error}`);
  assert.equal(error.code, code, error.message);
  assert.equal(error.status, status);
  return error;
}

/**
 * A matcher for `assert.throws`/`assert.rejects`: an ArmorApiError with `code`, and the
 * `status` (a number) or a message matching `expect` (a RegExp), where given.
 */
export function armorError(code: string, expect?: number | RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ArmorApiError, `expected an ArmorApiError, got ${error}`);
    assert.equal(error.code, code);
    if (typeof expect === "number") assert.equal(error.status, expect);
    if (expect instanceof RegExp) assert.match(error.message, expect);
    return true;
  };
}

/** What a user can see of a session: to check that a failed call left it as it was. */
export function snapshot(session: ArmorSession) {
  return {
    token: session.isActive() ? session.token : undefined,
    active: session.isActive(),
    expiresAt: session.expiresAt.getTime(),
    issuedAt: session.issuedAt.getTime(),
    json: JSON.stringify(session),
  };
}
