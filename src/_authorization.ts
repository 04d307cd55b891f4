// The one place that decides a request's `Authorization`: a session token
// (`FH-AUTH <token>`) or an API key's per-request signature (`ARMOR-PSK ...`), and
// what a 401 to a signature means when the clocks disagree.

import { ArmorApiError } from "./errors.ts";
import { CLOCK_SKEW_MS } from "./renewal.ts";

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

/** How a session authorizes its requests. */
export type SessionCredential =
  | { readonly scheme: "FH-AUTH" }
  | { readonly scheme: "ARMOR-PSK"; readonly sign: RequestSigner };

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
