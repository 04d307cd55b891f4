// The one place that decides a request's `Authorization`: a session token
// (`FH-AUTH <token>`) or an API key's per-request signature (`ARMOR-PSK ...`), and
// what a 401 to a signature means when the clocks disagree.

import { ArmorApiError } from "./errors.ts";
import { CLOCK_SKEW_MS, SIGNED_AHEAD_MAX_AGE_MS } from "./renewal.ts";

/** `Authorization` for a session token. */
export function fhAuthorization(token: string): string {
  return `FH-AUTH ${token}`;
}

/**
 * Signs one request (ARMOR-PSK): resolves with the whole `Authorization` value. `path`
 * is the URL path, `body` the exact bytes or text sent (or `undefined`).
 */
export type RequestSigner = (
  method: string,
  path: string,
  body: string | Uint8Array | undefined,
) => Promise<string>;

/** A signer that may answer at once, with a signature it made ahead. */
export type EagerSigner = (
  method: string,
  path: string,
  body: string | Uint8Array | undefined,
) => string | Promise<string>;

/** How a session authorizes its requests. */
export type SessionCredential =
  | { readonly scheme: "FH-AUTH" }
  | { readonly scheme: "ARMOR-PSK"; readonly sign: EagerSigner };

/**
 * For a 401 to a signed request: `CLOCK_SKEW` when the server's `Date` is more than five
 * minutes from `now` (Armor refuses such timestamps), saying by how many seconds; else
 * `undefined`.
 */
export function clockSkew(now: number, response: Response): ArmorApiError | undefined {
  const date = Date.parse(response.headers.get("date") ?? "");
  if (Number.isNaN(date) || !Number.isFinite(now)) return undefined;
  const gap = now - date;
  if (Math.abs(gap) <= CLOCK_SKEW_MS) return undefined;
  const seconds = Math.round(Math.abs(gap) / 1000);
  return new ArmorApiError(
    "CLOCK_SKEW",
    `The Armor API rejected the signature (401) and this clock is ${seconds} s ${
      gap > 0 ? "ahead of" : "behind"
    } the server's; Armor accepts ${CLOCK_SKEW_MS / 1000} s: set the clock right`,
    { status: 401 },
  );
}

/** How many method-and-path pairs keep a signature made ahead. */
const SIGNED_AHEAD_KEPT = 32;

/**
 * Signs body-less requests one step ahead: once a method and path have been called twice,
 * the signature for the next call to them is made while the current one is in flight,
 * so that a script polling an endpoint does not wait for Web Crypto on each call. A
 * signature made ahead is used once (its nonce is fresh), and only while it is younger
 * than {@linkcode SIGNED_AHEAD_MAX_AGE_MS} by both the session's clock and a monotonic
 * one; Armor accepts a timestamp within five minutes of its clock. Requests with a body
 * are always signed on the spot.
 */
export function signAhead(sign: RequestSigner, now: () => number): EagerSigner {
  interface Ahead {
    header: Promise<string>;
    /** The signature, once made: used at once, with no wait. */
    value?: string;
    at: number;
    mono: number;
  }
  const ahead = new Map<string, Ahead>();
  const seen = new Set<string>();
  return (method, path, body) => {
    if (body !== undefined) return sign(method, path, body);
    const key = `${method} ${path}`;
    const next = ahead.get(key);
    ahead.delete(key);
    const fresh = next !== undefined && Math.abs(now() - next.at) < SIGNED_AHEAD_MAX_AGE_MS &&
      performance.now() - next.mono < SIGNED_AHEAD_MAX_AGE_MS;
    if (seen.has(key)) {
      if (ahead.size >= SIGNED_AHEAD_KEPT) ahead.clear();
      const made: Ahead = {
        header: sign(method, path, undefined),
        at: now(),
        mono: performance.now(),
      };
      // A failure shows when it is used: it is signed again then.
      made.header.then((value) => made.value = value, () => {});
      ahead.set(key, made);
    } else {
      if (seen.size >= SIGNED_AHEAD_KEPT) seen.clear();
      seen.add(key);
    }
    if (!fresh) return sign(method, path, undefined);
    if (next.value !== undefined) return next.value;
    return next.header.catch(() => sign(method, path, undefined)); // failed: sign now
  };
}
