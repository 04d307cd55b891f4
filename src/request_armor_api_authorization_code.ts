import { type ArmorCallOptions, confirmed, resolveCall, type ResolvedCall } from "./_call.ts";
import { sendJson } from "./_http.ts";
import { REDACTED } from "./_redact.ts";
import { jsonPost, readClock, type TokenEndpoint } from "./_token_core.ts";
import { checkOptions, checkSecret, MAX_SECRET_LENGTH } from "./_validate.ts";
import { DEFAULT_AUTHORIZE_TIMEOUT_MS } from "./defaults.ts";
import { InvalidField } from "./errors.ts";
import type { ArmorRequestPlan } from "./types.ts";

/** How long a code is good for when the answer does not say (Armor: two minutes). */
const CODE_LIFETIME_S = 120;

/** The longest `expiresIn` taken as it is, in seconds; a larger one reads as two minutes. */
const MAX_CODE_LIFETIME_S = 3_600;

const INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** A date as ISO text, or `null` for an invalid one (which `toISOString` throws on). */
function shownDate(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * Options of {@linkcode requestArmorApiAuthorizationCode}: those of the token calls
 * without `session`, and a longer default `timeout`.
 *
 * @example
 * ```ts
 * import type { RequestArmorApiAuthorizationCodeOptions } from "@armor-api/auth";
 * const options: RequestArmorApiAuthorizationCodeOptions = { timeout: 60_000 };
 * ```
 */
export interface RequestArmorApiAuthorizationCodeOptions
  extends Omit<ArmorCallOptions, "session" | "timeout"> {
  /**
   * Milliseconds before the call fails with `TIMEOUT`. Default: 180 000 (three minutes,
   * `DEFAULT_AUTHORIZE_TIMEOUT_MS` in `@armor-api/auth/renewal`): with multi-factor authentication the
   * answer waits until the person approves the prompt on their phone.
   */
  timeout?: number;
  /** The clock that stamps the code's `expiresAt`. Default: `Date.now`. */
  now?: () => number;
}

/**
 * A one-time authorization code from `POST /auth/authorize`, and when it expires.
 *
 * The code is readable (`result.code`) but never shown: printed (`console.log`,
 * `Deno.inspect`, Node's `util.inspect`) or serialized (`JSON.stringify`), it is
 * redacted, and it is not an own enumerable property (spreading the object drops it).
 *
 * @example The code is redacted when shown
 * ```ts
 * import { ArmorApiAuthorizationCode } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * const result = new ArmorApiAuthorizationCode("one-time-code", Date.UTC(2026, 10, 23, 10, 2));
 * assert.equal(result.code, "one-time-code");
 * assert.equal(JSON.stringify(result), '{"code":"[REDACTED]","expiresAt":"2026-11-23T10:02:00.000Z"}');
 * assert.equal(Deno.inspect(result).includes("one-time-code"), false);
 * ```
 */
export class ArmorApiAuthorizationCode {
  readonly #code: string;
  /** When the code stops being accepted by `POST /auth/token`. */
  readonly expiresAt: Date;

  /**
   * Wraps a code already checked by the caller.
   *
   * @param code The one-time code.
   * @param expiresAt When it expires, in epoch milliseconds.
   */
  constructor(code: string, expiresAt: number) {
    this.#code = code;
    this.expiresAt = new Date(expiresAt);
  }

  /** The one-time code: give it to `requestArmorApiToken` within its lifetime. */
  get code(): string {
    return this.#code;
  }

  /**
   * The fields with the code redacted, for `JSON.stringify`.
   *
   * @returns A plain object safe to log.
   */
  toJSON(): { code: string; expiresAt: string | null } {
    return { code: REDACTED, expiresAt: shownDate(this.expiresAt) };
  }

  /**
   * How `Deno.inspect` and `console.log` show it: redacted.
   *
   * @ignore
   */
  [INSPECT](): string {
    return `ArmorApiAuthorizationCode { code: ${REDACTED}, expiresAt: ${
      shownDate(this.expiresAt)
    } }`;
  }

  /**
   * How Node's `util.inspect` shows it: redacted.
   *
   * @ignore
   */
  [NODE_INSPECT](): string {
    return this[INSPECT]();
  }

  /**
   * What `String(result)` and template strings show: redacted.
   *
   * @returns The same text as `Deno.inspect`.
   */
  toString(): string {
    return this[INSPECT]();
  }
}

/**
 * Reads a good answer to `POST /auth/authorize`: the code from `code`, else
 * `authorization_code`; its lifetime from `expiresIn` (seconds, at most an hour), else two
 * minutes. An
 * answer with `success: false` is refused. Messages name the field, never its value.
 */
export function parseAuthorizeBody(
  json: Record<string, unknown>,
  receivedAt: number,
): ArmorApiAuthorizationCode {
  // PowerShell's fixtures send {redirect_uri, code, success}; OpenAPI's {code, expiresIn};
  // @armor/api types it {authorization_code, redirect_uri}.
  if (json.success === false) {
    throw new InvalidField("the login was refused (success is false)");
  }
  const code = typeof json.code === "string" && json.code.trim() !== ""
    ? json.code
    : json.authorization_code;
  if (typeof code !== "string" || code.trim() === "") {
    throw new InvalidField("code (or authorization_code) is missing or empty");
  }
  if (code.length > MAX_SECRET_LENGTH) {
    throw new InvalidField(`code is longer than ${MAX_SECRET_LENGTH} characters`);
  }
  const expiresIn = json.expiresIn;
  // A code is documented to last two minutes: a value that is no positive number of
  // seconds, or more than an hour, is not trusted.
  const seconds = typeof expiresIn === "number" && expiresIn > 0 &&
      expiresIn <= MAX_CODE_LIFETIME_S
    ? expiresIn
    : CODE_LIFETIME_S;
  return new ArmorApiAuthorizationCode(code, receivedAt + seconds * 1000);
}

/**
 * Sends `POST /auth/authorize` once and resolves with the checked code. The code's
 * lifetime runs from when the answer came: the answer may have waited minutes for a
 * multi-factor approval.
 */
function sendAuthorize(
  endpoint: TokenEndpoint,
  username: string,
  password: string,
  signal: AbortSignal | undefined,
): Promise<ArmorApiAuthorizationCode> {
  const out = authorizeRequest(endpoint, username, password);
  try {
    readClock(endpoint.now); // A broken clock fails now, before the password is sent.
  } catch (error) {
    return Promise.reject(error);
  }
  return sendJson(
    out,
    {
      fetch: endpoint.fetch ?? globalThis.fetch,
      signal,
      timeout: endpoint.timeout,
      logger: endpoint.logger,
    },
    (json) => parseAuthorizeBody(json, readClock(endpoint.now)),
  );
}

const PASSWORD_FIELD: readonly string[] = Object.freeze(["password"]);

/** `POST /auth/authorize` with `{username, password}`, the password redacted in the plan. */
function authorizeRequest(
  endpoint: Pick<TokenEndpoint, "baseUrl" | "apiVersion">,
  username: string,
  password: string,
) {
  return jsonPost(endpoint, "auth/authorize", { username, password }, PASSWORD_FIELD);
}

/**
 * Signs in with a user name and password and gets a one-time authorization code: the
 * first step of a login, before {@linkcode requestArmorApiToken}.
 *
 * Sends `POST {baseUrl}/auth/authorize` with `{"username", "password"}` once, on a
 * connection of its own (the password is never resent). With multi-factor authentication
 * the answer waits until the person approves the prompt on their phone, hence the
 * three-minute default timeout. Resolves with the code and its expiry: `expiresIn`
 * seconds from the answer where the answer gives it, else two minutes. The code is
 * single-use; redeem it at once with `requestArmorApiToken`. With `whatIf`, nothing is
 * sent and the call resolves with the request it would send, the password redacted.
 *
 * @param username The Armor user name (an e-mail address).
 * @param password The password.
 * @param options Where and how to send it.
 * @returns The code (redacted whenever shown) and when it expires.
 * @throws {TypeError} A missing, blank or non-string user name or password, an unknown
 *   API version, a `session` option, or a base URL that is not `https:` (plain `http:`
 *   only on loopback).
 * @throws {RangeError} A timeout out of range, or a password longer than 8192 characters.
 * @throws {ArmorApiError} The call failed after it was sent; see its `code`. Wrong
 *   credentials are `HTTP_STATUS` with `status` 401 and the server's reason in
 *   `serverCode` (`invalid_credentials`) and `serverMessage`; too many attempts, 429 with
 *   `retryAfter`.
 * @throws {ArmorCancelledError} `confirm` answered `false`; nothing was sent.
 *
 * @example Sign in by hand: authorize, redeem, renew
 * ```ts ignore
 * import {
 *   requestArmorApiAuthorizationCode,
 *   requestArmorApiToken,
 *   updateArmorApiToken,
 * } from "@armor-api/auth";
 *
 * const { code } = await requestArmorApiAuthorizationCode(
 *   Deno.env.get("ARMOR_USERNAME")!,
 *   Deno.env.get("ARMOR_PASSWORD")!,
 * );
 * const token = await requestArmorApiToken(code);
 * const renewed = await updateArmorApiToken(token.access_token);
 * console.log(renewed.expiresAt);
 * ```
 *
 * @example See what would be sent (`-WhatIf`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestArmorApiAuthorizationCode } from "@armor-api/auth";
 *
 * const plan = await requestArmorApiAuthorizationCode("ops@example.com", "my-password", {
 *   whatIf: true,
 * });
 * assert.equal(plan.url, "https://api.armor.com/auth/authorize");
 * assert.deepEqual(plan.body, { username: "ops@example.com", password: "[REDACTED]" });
 * ```
 */
export function requestArmorApiAuthorizationCode(
  username: string,
  password: string,
  options: RequestArmorApiAuthorizationCodeOptions & { whatIf: true },
): Promise<ArmorRequestPlan>;
/**
 * The same call without `whatIf`: sends the request and resolves with the code.
 *
 * @param username The Armor user name.
 * @param password The password.
 * @param options Where and how to send it.
 * @returns The code and when it expires.
 *
 * @example
 * ```ts ignore
 * import { requestArmorApiAuthorizationCode } from "@armor-api/auth";
 * const { code, expiresAt } = await requestArmorApiAuthorizationCode("ops@example.com", "my-password");
 * ```
 */
export function requestArmorApiAuthorizationCode(
  username: string,
  password: string,
  options?: RequestArmorApiAuthorizationCodeOptions,
): Promise<ArmorApiAuthorizationCode>;
export function requestArmorApiAuthorizationCode(
  username: string,
  password: string,
  options?: RequestArmorApiAuthorizationCodeOptions,
): Promise<ArmorApiAuthorizationCode | ArmorRequestPlan> {
  // Not `async`: the promise is the send's own, with no extra hop; bad input still rejects.
  let call: ResolvedCall;
  try {
    const opts = checkOptions<ArmorCallOptions>(options);
    if (opts.session !== undefined) {
      throw new TypeError(
        "requestArmorApiAuthorizationCode takes no session: give baseUrl, or use ArmorSession.connect",
      );
    }
    checkSecret(username, "username");
    checkSecret(password, "password");
    call = resolveCall(opts, DEFAULT_AUTHORIZE_TIMEOUT_MS);
    if (call.whatIf) {
      return Promise.resolve(authorizeRequest(call.endpoint, username, password).plan);
    }
  } catch (error) {
    return Promise.reject(error);
  }
  const { confirm, endpoint, signal } = call;
  if (confirm === undefined) return sendAuthorize(endpoint, username, password, signal);
  return confirmed(confirm, authorizeRequest(endpoint, username, password)).then(() =>
    sendAuthorize(endpoint, username, password, signal)
  );
}
