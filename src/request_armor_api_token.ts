import { type ArmorCallOptions, resolveCall, type ResolvedCall, runTokenCall } from "./_call.ts";
import type { Outgoing } from "./_http.ts";
import { redeemRequest } from "./_token_core.ts";
import { checkOptions, checkSecret, showPublic } from "./_validate.ts";
import type { ArmorApiToken } from "./token.ts";
import type { ArmorRequestPlan } from "./types.ts";

/**
 * Options of {@linkcode requestArmorApiToken}.
 *
 * @example
 * ```ts
 * import type { RequestArmorApiTokenOptions } from "@armor-api/auth";
 * const options: RequestArmorApiTokenOptions = { grantType: "authorization_code", timeout: 10_000 };
 * ```
 */
export interface RequestArmorApiTokenOptions extends ArmorCallOptions {
  /** The grant type; only `"authorization_code"`, the default, is accepted. */
  grantType?: "authorization_code";
}

/**
 * Redeems a one-time authorization code for an Armor API session token
 * (`Request-ArmorApiToken`).
 *
 * Sends `POST {baseUrl}/auth/token` with `{"code", "grant_type"}` once; the code is
 * single-use, so the call is never retried. With `session`, the session supplies the
 * defaults and is authorized with the new token on success; on failure it is left as
 * it was. With `whatIf`, nothing is sent and the call resolves with the request it
 * would send, the code redacted.
 *
 * @param code The code from `POST /auth/authorize`, valid for two minutes.
 * @param options Where and how to send it.
 * @returns The checked token.
 * @throws {TypeError} A missing, blank or non-string code, an unknown grant type or API
 *   version, a base URL that is not `https:` (plain `http:` only on loopback), or a
 *   session that signs with an API key.
 * @throws {ArmorApiError} The call failed after it was sent; see its `code`.
 * @throws {ArmorCancelledError} `confirm` answered `false`; nothing was sent.
 *
 * @example Redeem a code
 * ```ts ignore
 * import { requestArmorApiToken } from "@armor-api/auth";
 *
 * const token = await requestArmorApiToken("+8oaKtcO9kuVbjUXlfnlHCY3HmXXCidHjzOBGwr+iTo=");
 * console.log(token.expiresAt);
 * ```
 *
 * @example See what would be sent (`-WhatIf`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestArmorApiToken } from "@armor-api/auth";
 *
 * const plan = await requestArmorApiToken("one-time-code", { whatIf: true });
 * assert.equal(plan.url, "https://api.armor.com/auth/token");
 * assert.deepEqual(plan.body, { code: "[REDACTED]", grant_type: "authorization_code" });
 * ```
 */
export function requestArmorApiToken(
  code: string,
  options: RequestArmorApiTokenOptions & { whatIf: true },
): Promise<ArmorRequestPlan>;
/**
 * The same call without `whatIf`: sends the request and resolves with the checked token.
 *
 * @param code The one-time authorization code.
 * @param options Where and how to send it.
 * @returns The checked token.
 *
 * @example
 * ```ts ignore
 * import { requestArmorApiToken } from "@armor-api/auth";
 * const token = await requestArmorApiToken("+8oaKtcO9kuVbjUXlfnlHCY3HmXXCidHjzOBGwr+iTo=");
 * ```
 */
export function requestArmorApiToken(
  code: string,
  options?: RequestArmorApiTokenOptions,
): Promise<ArmorApiToken>;
export function requestArmorApiToken(
  code: string,
  options?: RequestArmorApiTokenOptions,
): Promise<ArmorApiToken | ArmorRequestPlan> {
  // Not `async`: the promise is the send's own, with no extra hop; bad input still rejects.
  let call: ResolvedCall;
  let out: Outgoing;
  try {
    const opts = checkOptions<RequestArmorApiTokenOptions>(options);
    checkSecret(code, "code");
    const grantType = opts.grantType === undefined ? "authorization_code" : opts.grantType;
    if (grantType !== "authorization_code") {
      throw new TypeError(`grantType must be "authorization_code", got ${showPublic(grantType)}`);
    }
    call = resolveCall(opts);
    out = redeemRequest(call.endpoint, code, grantType);
  } catch (error) {
    return Promise.reject(error);
  }
  return runTokenCall(call, out);
}
