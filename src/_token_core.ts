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
 * Joined URL strings, by base URL then path: the runtime's `fetch` is measurably faster
 * on a URL string it has seen than on an equal new one, and the lookup allocates nothing.
 */
const joinedUrls = new Map<string, Map<string, string>>();

/** How many base URLs keep their joined URLs (then the cache starts over). */
const BASES_KEPT = 16;

/** `base + path`, the same string object for the same pair. */
function joinUrl(base: string, path: string): string {
  let paths = joinedUrls.get(base);
  if (paths === undefined) {
    if (joinedUrls.size >= BASES_KEPT) joinedUrls.clear();
    paths = new Map();
    joinedUrls.set(base, paths);
  }
  let url = paths.get(path);
  if (url === undefined) {
    url = base + path;
    paths.set(path, url);
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
 * A JSON POST of a token call. Its plan (the redacted view) is built only when read
 * (`whatIf`, `confirm`, a logger): every object a call keeps while it waits for the
 * answer costs garbage-collection time, which on loopback is a measurable share of it.
 */
class JsonPost implements Outgoing {
  readonly method = "POST" as const;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly secrets: readonly string[];
  // Every token call carries a secret that must reach the server once.
  readonly once = true;
  readonly #apiVersion: ArmorApiVersion;
  readonly #fields: Record<string, string>;
  readonly #secretFields: readonly string[];
  readonly #accountId: number | undefined;
  readonly #auth: boolean;
  #plan: ArmorRequestPlan | undefined;

  constructor(
    url: string,
    apiVersion: ArmorApiVersion,
    fields: Record<string, string>,
    secretFields: readonly string[],
    auth: { token: string; accountId?: number } | undefined,
  ) {
    this.url = url;
    this.body = JSON.stringify(fields);
    this.#apiVersion = apiVersion;
    this.#fields = fields;
    this.#secretFields = secretFields;
    this.#auth = auth !== undefined;
    this.#accountId = auth?.accountId;
    const secrets: string[] = [];
    for (const name of secretFields) secrets.push(fields[name]);
    let headers = JSON_HEADERS as Record<string, string>;
    if (auth !== undefined) {
      headers = { ...JSON_HEADERS, authorization: fhAuthorization(auth.token) };
      if (auth.accountId !== undefined) headers["x-account-context"] = String(auth.accountId);
      if (!secrets.includes(auth.token)) secrets.push(auth.token);
    }
    this.headers = headers;
    this.secrets = secrets;
  }

  /** The request with its secrets redacted (built once, when first read). */
  get plan(): ArmorRequestPlan {
    if (this.#plan !== undefined) return this.#plan;
    const shown: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#fields)) {
      shown[name] = this.#secretFields.includes(name) ? REDACTED : value;
    }
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (this.#auth) {
      headers.authorization = fhAuthorization(REDACTED);
      if (this.#accountId !== undefined) headers["x-account-context"] = String(this.#accountId);
    }
    return this.#plan = {
      method: "POST",
      url: this.url,
      apiVersion: this.#apiVersion,
      headers,
      body: shown,
    };
  }
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
  return new JsonPost(
    joinUrl(endpoint.baseUrl, path),
    endpoint.apiVersion,
    body,
    secretFields,
    auth,
  );
}

const CODE_FIELD: readonly string[] = Object.freeze(["code"]);
const TOKEN_FIELD: readonly string[] = Object.freeze(["token"]);

/** `POST /auth/token` with `{code, grant_type}`. */
export function redeemRequest(
  endpoint: TokenEndpoint,
  code: string,
  grantType = "authorization_code",
): Outgoing {
  return jsonPost(endpoint, "auth/token", { code, grant_type: grantType }, CODE_FIELD);
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
  return jsonPost(endpoint, "auth/token/reissue", { token }, TOKEN_FIELD, { token, accountId });
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
