// The session-free core of the two token calls: redeem a code, reissue a token, on an
// endpoint whose settings were checked once. The public functions and the session both
// call it; it knows nothing of sessions.

import { type Outgoing, sendJson } from "./_http.ts";
import { REDACTED } from "./_redact.ts";
import { fhAuthorization } from "./_authorization.ts";
import { type ArmorApiToken, parseTokenBody } from "./token.ts";
import type { ArmorApiVersion, ArmorLogger, ArmorRequestPlan } from "./types.ts";

/** Where and how token calls are sent: checked once, then used as it is. */
export interface TokenEndpoint {
  /** The checked base URL's href, ending with "/". */
  readonly baseUrl: string;
  readonly apiVersion: ArmorApiVersion;
  /** The fetch to use; `undefined`: the global `fetch`, looked up at each call. */
  readonly fetch?: typeof fetch;
  readonly timeout: number;
  readonly logger?: ArmorLogger;
  /** The clock that stamps a token's `issuedAt` (epoch ms). */
  readonly now: () => number;
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  accept: "application/json",
  "content-type": "application/json",
});

/**
 * Joined URL strings, by base URL and path: the runtime's `fetch` is measurably faster
 * (some 5 % of a loopback token call) on a URL string it has seen than on an equal new one.
 */
const joinedUrls = new Map<string, string>();

/** How many joined URLs are kept (then the cache starts over). */
const URLS_KEPT = 64;

/** `base + path`, the same string object for the same pair. */
function joinUrl(base: string, path: string): string {
  const key = `${path} ${base}`;
  let url = joinedUrls.get(key);
  if (url === undefined) {
    url = base + path;
    if (joinedUrls.size >= URLS_KEPT) joinedUrls.clear();
    joinedUrls.set(key, url);
  }
  return url;
}

/** Reads a clock; a clock that throws or returns no finite number is a TypeError. */
export function readClock(now: () => number): number {
  let value: unknown;
  try {
    value = now();
  } catch {
    throw new TypeError("The clock (now) threw: give a now() that returns epoch milliseconds");
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError("The clock (now) did not return a finite number of epoch milliseconds");
  }
  return value;
}

/**
 * Builds a JSON POST to `path` under the base URL. `secretFields` names the body fields
 * whose values are secrets; they are redacted in the plan. `auth` adds the session
 * headers (`Authorization: FH-AUTH`, `X-Account-Context`), redacted in the plan.
 */
export function jsonPost(
  endpoint: Pick<TokenEndpoint, "baseUrl" | "apiVersion">,
  path: string,
  body: Record<string, string>,
  secretFields: readonly string[],
  auth?: { token: string; accountId?: number },
): Outgoing {
  // The base ends with "/" and `path` is relative with no dot segments: a join is exact.
  const url = joinUrl(endpoint.baseUrl, path);
  const secrets: string[] = [];
  for (const name of secretFields) secrets.push(body[name]);
  let headers = JSON_HEADERS as Record<string, string>;
  if (auth !== undefined) {
    headers = { ...JSON_HEADERS, authorization: fhAuthorization(auth.token) };
    if (auth.accountId !== undefined) headers["x-account-context"] = String(auth.accountId);
    if (!secrets.includes(auth.token)) secrets.push(auth.token);
  }
  const apiVersion = endpoint.apiVersion;
  let plan: ArmorRequestPlan | undefined;
  return {
    // Built when read (whatIf, confirm, a logger): a call that needs none keeps nothing
    // more alive while it waits for the answer.
    get plan(): ArmorRequestPlan {
      return plan ??= planOf(url, apiVersion, body, secretFields, auth?.accountId, auth);
    },
    method: "POST",
    url,
    headers,
    body: JSON.stringify(body),
    secrets,
    // Every token call carries a secret that must reach the server once.
    once: true,
  };
}

/** The redacted plan of a JSON POST: secret fields and the session token replaced. */
function planOf(
  url: string,
  apiVersion: ArmorApiVersion,
  body: Record<string, string>,
  secretFields: readonly string[],
  accountId: number | undefined,
  auth: object | undefined,
): ArmorRequestPlan {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    shown[name] = secretFields.includes(name) ? REDACTED : value;
  }
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (auth !== undefined) {
    headers.authorization = fhAuthorization(REDACTED);
    if (accountId !== undefined) headers["x-account-context"] = String(accountId);
  }
  return { method: "POST", url, apiVersion, headers, body: shown };
}

/** `POST /auth/token` with `{code, grant_type}`. */
export function redeemRequest(
  endpoint: TokenEndpoint,
  code: string,
  grantType = "authorization_code",
): Outgoing {
  return jsonPost(endpoint, "auth/token", { code, grant_type: grantType }, ["code"]);
}

/**
 * `POST /auth/token/reissue` with `{token}`, and the headers the PowerShell module sends
 * with it: `Authorization: FH-AUTH <the token being reissued>` and, when there is one,
 * `X-Account-Context`.
 */
export function reissueRequest(
  endpoint: TokenEndpoint,
  token: string,
  accountId?: number,
): Outgoing {
  return jsonPost(endpoint, "auth/token/reissue", { token }, ["token"], { token, accountId });
}

/**
 * Sends a token request once and resolves with the checked token. The token is stamped
 * when the request leaves, so its expiry errs early, never late. Not an `async` function:
 * the promise is `sendJson`'s own, with no extra hop (a bad clock is a rejection too).
 */
export function sendForToken(
  endpoint: TokenEndpoint,
  out: Outgoing,
  signal?: AbortSignal,
  timeout = endpoint.timeout,
): Promise<ArmorApiToken> {
  let sentAt: number;
  try {
    sentAt = readClock(endpoint.now);
  } catch (error) {
    return Promise.reject(error);
  }
  return sendJson(
    out,
    { fetch: endpoint.fetch ?? globalThis.fetch, signal, timeout, logger: endpoint.logger },
    (json) => parseTokenBody(json, sentAt, out.secrets),
  );
}

/** Redeems a one-time code (`Request-ArmorApiToken`). */
export function redeemCode(
  endpoint: TokenEndpoint,
  code: string,
  signal?: AbortSignal,
): Promise<ArmorApiToken> {
  return sendForToken(endpoint, redeemRequest(endpoint, code), signal);
}

/** Reissues a live token (`Update-ArmorApiToken`). */
export function reissueToken(
  endpoint: TokenEndpoint,
  token: string,
  accountId?: number,
  signal?: AbortSignal,
): Promise<ArmorApiToken> {
  return sendForToken(endpoint, reissueRequest(endpoint, token, accountId), signal);
}
