/**
 * The rules for a session's lifetime and renewal, with their numbers, in one place.
 *
 * - `expires_in` is read as minutes (Armor documents 15). A value above
 *   {@linkcode SECONDS_THRESHOLD} can only be seconds (an older guide showed `1800` for
 *   a 30-minute session) and is read as seconds; whatever the unit, a session never
 *   counts as longer than {@linkcode MAX_SESSION_MINUTES}. Values up to the threshold are
 *   read in the documented unit, minutes; the cap keeps any reading from becoming a
 *   session of hours or days.
 * - Renewal is due once less than two thirds of the session length remains
 *   ({@linkcode shouldRenew}), as the PowerShell module does.
 * - Once less than {@linkcode MUST_RENEW_MS} remains (or a tenth of the session, for
 *   sessions shorter than five minutes), callers wait for the renewal instead of sending
 *   a token about to lapse ({@linkcode mustRenew}).
 * - A failed renewal is retried after a backoff that doubles from
 *   {@linkcode RETRY_MIN_MS} to {@linkcode RETRY_MAX_MS}, or after the server's
 *   `Retry-After` when it is longer ({@linkcode retryDelay}).
 *
 * @example When is a 15-minute session renewed?
 * ```ts
 * import { renewAt, sessionLengthMs } from "@armor-api/auth";
 *
 * const issuedAt = 0;
 * const length = sessionLengthMs(15); // 900000
 * console.log(renewAt(issuedAt, length)); // 300000: five minutes in
 * ```
 *
 * @module
 */

/** An `expires_in` above this many units can only be seconds. */
export const SECONDS_THRESHOLD = 120;

/** No session counts as longer than this many minutes, whatever `expires_in` says. */
export const MAX_SESSION_MINUTES = 120;

/** Renewal is due once less than this share of the session length remains. */
export const RENEW_WHEN_REMAINING = 2 / 3;

/** With less than this many milliseconds left, callers wait for the renewal. */
export const MUST_RENEW_MS = 30_000;

/** The first wait after a failed renewal, in milliseconds. */
export const RETRY_MIN_MS = 1_000;

/** The longest wait between failed renewals, in milliseconds. */
export const RETRY_MAX_MS = 60_000;

/**
 * The session length, in milliseconds, for an `expires_in` as Armor sends it.
 *
 * @param expiresIn The wire value: minutes, or seconds when above {@linkcode SECONDS_THRESHOLD}.
 * @returns The length in milliseconds, at most {@linkcode MAX_SESSION_MINUTES} minutes.
 *
 * @example
 * ```ts
 * import { sessionLengthMs } from "@armor-api/auth";
 * console.log(sessionLengthMs(15) / 60_000); // 15 minutes
 * console.log(sessionLengthMs(1800) / 60_000); // 30 minutes, not 30 hours
 * ```
 */
export function sessionLengthMs(expiresIn: number): number {
  // Multiply, never divide: 123 s is 123 000 ms exactly, not 122 999.99999999999.
  const ms = expiresIn > SECONDS_THRESHOLD ? expiresIn * 1_000 : expiresIn * 60_000;
  return Math.min(ms, MAX_SESSION_MINUTES * 60_000);
}

/**
 * When renewal becomes due: once less than two thirds of the session remains.
 *
 * @param issuedAt When the token was issued, in epoch milliseconds.
 * @param lengthMs The session length in milliseconds.
 * @returns The epoch milliseconds at which renewal is due.
 *
 * @example
 * ```ts
 * import { renewAt } from "@armor-api/auth";
 * console.log(renewAt(0, 900_000)); // 300000
 * ```
 */
export function renewAt(issuedAt: number, lengthMs: number): number {
  // Not `lengthMs * (1 - RENEW_WHEN_REMAINING)`: `1 - 2/3` rounds up, which put renewal
  // a fraction of a millisecond after the third (300000.00000000006 for 15 minutes).
  return issuedAt + lengthMs - lengthMs * RENEW_WHEN_REMAINING;
}

/**
 * True when a token should be renewed: less than two thirds of its session remains.
 *
 * @param now The current time, in epoch milliseconds.
 * @param issuedAt When the token was issued.
 * @param expiresAt When the token expires.
 * @returns Whether renewal is due.
 *
 * @example
 * ```ts
 * import { shouldRenew } from "@armor-api/auth";
 * console.log(shouldRenew(299_999, 0, 900_000)); // false
 * console.log(shouldRenew(300_000, 0, 900_000)); // true
 * ```
 */
export function shouldRenew(now: number, issuedAt: number, expiresAt: number): boolean {
  return now >= renewAt(issuedAt, expiresAt - issuedAt);
}

/**
 * True when a token is so close to expiry that callers should wait for its renewal:
 * less than {@linkcode MUST_RENEW_MS} remains, or less than a tenth of the session when
 * `lengthMs` is given and the session is that short.
 *
 * @param now The current time, in epoch milliseconds.
 * @param expiresAt When the token expires.
 * @param lengthMs The session length, if known.
 * @returns Whether callers should wait for the renewal.
 *
 * @example
 * ```ts
 * import { mustRenew } from "@armor-api/auth";
 * console.log(mustRenew(880_000, 900_000)); // true: 20 s left
 * console.log(mustRenew(1_000, 3_000, 3_000)); // false: a 3 s session, 2 s left
 * ```
 */
export function mustRenew(now: number, expiresAt: number, lengthMs = Infinity): boolean {
  return expiresAt - now < Math.min(MUST_RENEW_MS, lengthMs / 10);
}

/**
 * How long to wait before renewing again after `failures` failed renewals in a row.
 *
 * @param failures Failed renewals so far, at least 1.
 * @param retryAfterSeconds The server's `Retry-After`, if it sent one.
 * @returns Milliseconds to wait.
 *
 * @example
 * ```ts
 * import { retryDelay } from "@armor-api/auth";
 * console.log(retryDelay(1)); // 1000
 * console.log(retryDelay(3)); // 4000
 * console.log(retryDelay(1, 30)); // 30000: the server asked for 30 s
 * ```
 */
export function retryDelay(failures: number, retryAfterSeconds?: number): number {
  const backoff = Math.min(RETRY_MIN_MS * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
  const asked = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
  return Math.max(backoff, Math.min(asked, 10 * RETRY_MAX_MS));
}
