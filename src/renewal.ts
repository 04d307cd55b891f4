/**
 * `@armor-api/auth/renewal`: the rules behind a session's lifetime, renewal, timeouts and
 * shared stores, with their numbers, in one place. Most code never imports this entry:
 * `ArmorSession` from the main entry applies the rules. It is for reading them, and for
 * tests that want to compute a renewal point.
 *
 * The rules (minutes, the two-thirds point, one reissue for every caller) are stable. The
 * tuning numbers below them (store polling, claim grace, back-offs) may change in a minor
 * release; read them here rather than copying them.
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
 * - A session renews a little before the two-thirds point, by a random share of up to
 *   {@linkcode RENEW_JITTER} of the window (the first third of the session), so that
 *   many processes do not renew at the same instant ({@linkcode jitteredRenewAt}).
 * - Sessions that share a store take turns: a login or renewal is claimed in the store
 *   for its timeout plus {@linkcode CLAIM_GRACE_MS}; a session that finds another's
 *   claim looks again after {@linkcode CLAIM_RETRY_MS} (renewal) or polls every
 *   {@linkcode LOGIN_POLL_MS} (login).
 * - Every request has a deadline of at most {@linkcode LONGEST_TIMEOUT_MS}. Requests that
 *   start within {@linkcode DEADLINE_SLACK_SHARE} of their timeout (at most
 *   {@linkcode DEADLINE_SLACK_MAX_MS}) of each other share one timer, armed for the timeout
 *   plus that slack: no deadline fires early, none more than the slack late.
 *
 * @example When is a 15-minute session renewed?
 * ```ts
 * import { renewAt, sessionLengthMs } from "@armor-api/auth/renewal";
 * import assert from "node:assert/strict";
 *
 * const issuedAt = 0;
 * const length = sessionLengthMs(15); // 900000
 * assert.equal(renewAt(issuedAt, length), 300_000); // five minutes in
 * ```
 *
 * @module
 */

export {
  DEFAULT_API_VERSION,
  DEFAULT_AUTHORIZE_TIMEOUT_MS,
  DEFAULT_BASE_URL,
  DEFAULT_TIMEOUT_MS,
} from "./defaults.ts";

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

/** How far an API-key request's timestamp may be from the server's clock (5 min). */
export const CLOCK_SKEW_MS = 300_000;

/**
 * The oldest an API-key signature made ahead of its request may be when it is used, in
 * milliseconds (Armor accepts five minutes).
 */
export const SIGNED_AHEAD_MAX_AGE_MS = 30_000;

/** The longest wait a server's `Retry-After` is taken at, in seconds (a day). */
export const MAX_RETRY_AFTER_S = 86_400;

/** The longest a failed renewal waits for a server's `Retry-After`, in milliseconds. */
export const MAX_RENEWAL_WAIT_MS = 600_000;

/** How long Deno KV keeps a stored session past its expiry, for clean-up only (a day). */
export const KV_KEEP_AFTER_MS = 86_400_000;

/** The longest Deno KV is asked to keep a stored session before that (a week). */
export const KV_KEEP_MAX_MS = 7 * 86_400_000;

/** Attempts at a Deno KV call that answers "database is locked", before giving up. */
export const KV_BUSY_ATTEMPTS = 8;

/** The first pause after a "database is locked" answer, doubling each time, in ms. */
export const KV_BUSY_BACKOFF_MS = 10;

/** The largest share of the renewal window by which a session renews early, at random. */
export const RENEW_JITTER = 0.1;

/** How long a claim outlives the call it covers, in milliseconds. */
export const CLAIM_GRACE_MS = 5_000;

/** After finding another session's renewal claim (or losing a race for one), look again after this. */
export const CLAIM_RETRY_MS = 250;

/** While another session logs in, look at the store this often, in milliseconds. */
export const LOGIN_POLL_MS = 100;

/** Read-and-write attempts against a store that keeps changing, before giving up. */
export const STORE_ATTEMPTS = 5;

/**
 * After a 401 on a shared store while another session holds the renewal claim: how many
 * more times to look for its new token, {@linkcode CLAIM_RETRY_MS} apart.
 */
export const STALE_401_LOOKS = 4;

/**
 * The longest timeout accepted, in milliseconds (about 24.8 days): the longest timer
 * runtimes keep. A longer one fires at once (after 1 ms in Deno and Node).
 */
export const LONGEST_TIMEOUT_MS = 2_147_483_647;

/**
 * The most a request's deadline may come after its timeout, in milliseconds: requests
 * that start within this long of each other (and at most {@linkcode DEADLINE_SLACK_SHARE}
 * of the timeout apart) share one timer, which fires no earlier than any of their
 * timeouts.
 */
export const DEADLINE_SLACK_MAX_MS = 100;

/** The largest share of a request's timeout by which its deadline may come late. */
export const DEADLINE_SLACK_SHARE = 0.01;

/** Attempts to claim a login against a store that keeps changing, before giving up. */
export const LOGIN_CLAIM_ATTEMPTS = 50;

/** The pause after the n-th lost race for a login claim: this many ms times n, at most 10 n. */
export const LOGIN_CLAIM_BACKOFF_MS = 10;

/**
 * The session length, in milliseconds, for an `expires_in` as Armor sends it.
 *
 * @param expiresIn The wire value: minutes, or seconds when above {@linkcode SECONDS_THRESHOLD}.
 * @returns The length in milliseconds, at most {@linkcode MAX_SESSION_MINUTES} minutes.
 *
 * @example
 * ```ts
 * import { sessionLengthMs } from "@armor-api/auth/renewal";
 * import assert from "node:assert/strict";
 * assert.equal(sessionLengthMs(15) / 60_000, 15); // 15 minutes
 * assert.equal(sessionLengthMs(1800) / 60_000, 30); // 30 minutes, not 30 hours
 * assert.equal(sessionLengthMs(900) / 60_000, 15); // OpenAPI's seconds
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
 * import { renewAt } from "@armor-api/auth/renewal";
 * import assert from "node:assert/strict";
 * assert.equal(renewAt(0, 900_000), 300_000);
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
 * import { shouldRenew } from "@armor-api/auth/renewal";
 * import assert from "node:assert/strict";
 * assert.equal(shouldRenew(299_999, 0, 900_000), false);
 * assert.equal(shouldRenew(300_000, 0, 900_000), true);
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
 * import { mustRenew } from "@armor-api/auth/renewal";
 * import assert from "node:assert/strict";
 * assert.equal(mustRenew(880_000, 900_000), true); // 20 s left
 * assert.equal(mustRenew(1_000, 3_000, 3_000), false); // a 3 s session, 2 s left
 * ```
 */
export function mustRenew(now: number, expiresAt: number, lengthMs = Infinity): boolean {
  return expiresAt - now < Math.min(MUST_RENEW_MS, lengthMs / 10);
}

/**
 * How long to wait before renewing again after `failures` failed renewals in a row.
 *
 * @param failures Failed renewals so far, at least 1.
 * @param retryAfterSeconds The server's `Retry-After`, if it sent one; a longer wait than
 *   {@linkcode MAX_RENEWAL_WAIT_MS} is cut to it.
 * @returns Milliseconds to wait.
 *
 * @example
 * ```ts
 * import { retryDelay } from "@armor-api/auth/renewal";
 * import assert from "node:assert/strict";
 * assert.equal(retryDelay(1), 1000);
 * assert.equal(retryDelay(3), 4000);
 * assert.equal(retryDelay(1, 30), 30_000); // the server asked for 30 s
 * ```
 */
export function retryDelay(failures: number, retryAfterSeconds?: number): number {
  const backoff = Math.min(RETRY_MIN_MS * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
  const asked = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
  return Math.max(backoff, Math.min(asked, MAX_RENEWAL_WAIT_MS));
}

/**
 * When a session renews: the two-thirds point ({@linkcode renewAt}) moved earlier by
 * `random()` times {@linkcode RENEW_JITTER} of the renewal window (the first third of the
 * session). Renewal is never later than the PowerShell module's point; `random` returning
 * 0 gives exactly that point.
 *
 * @param issuedAt When the token was issued, in epoch milliseconds.
 * @param lengthMs The session length in milliseconds.
 * @param random A source of numbers in [0, 1), e.g. `Math.random`.
 * @returns The epoch milliseconds at which the session renews.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jitteredRenewAt } from "@armor-api/auth/renewal";
 * assert.equal(jitteredRenewAt(0, 900_000, () => 0), 300_000); // the two-thirds point
 * assert.equal(jitteredRenewAt(0, 900_000, () => 0.5), 285_000); // 15 s earlier
 * ```
 */
export function jitteredRenewAt(
  issuedAt: number,
  lengthMs: number,
  random: () => number,
): number {
  const at = renewAt(issuedAt, lengthMs);
  let share = random();
  if (!(share >= 0 && share < 1)) share = 0; // a broken source only loses the jitter
  return at - share * RENEW_JITTER * (at - issuedAt);
}

/**
 * Due: renewal should start (`now` has reached the session's renewal point).
 *
 * @param now The current time.
 * @param renewAtMs The session's renewal point.
 * @returns Whether renewal is due.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRenewalDue } from "@armor-api/auth/renewal";
 * assert.equal(isRenewalDue(300_000, 300_000), true);
 * ```
 */
export function isRenewalDue(now: number, renewAtMs: number): boolean {
  return now >= renewAtMs;
}

/**
 * May retry: a failed renewal's backoff has passed.
 *
 * @param now The current time.
 * @param retryAtMs When the backoff ends.
 * @returns Whether a renewal may start now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mayRetryRenewal } from "@armor-api/auth/renewal";
 * assert.equal(mayRetryRenewal(1_000, 2_000), false);
 * ```
 */
export function mayRetryRenewal(now: number, retryAtMs: number): boolean {
  return now >= retryAtMs;
}
