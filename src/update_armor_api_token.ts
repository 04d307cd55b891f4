import { type ArmorCallOptions, resolveCall, runTokenCall } from "./_call.ts";
import { reissueRequest } from "./_token_core.ts";
import { checkOptions, checkSecret } from "./_validate.ts";
import type { ArmorApiToken } from "./token.ts";
import type { ArmorRequestPlan } from "./types.ts";

/**
 * Options of {@linkcode updateArmorApiToken}.
 *
 * @example
 * ```ts
 * import type { UpdateArmorApiTokenOptions } from "@armor-api/auth";
 * const options: UpdateArmorApiTokenOptions = { apiVersion: "v1.0", timeout: 10_000 };
 * ```
 */
export interface UpdateArmorApiTokenOptions extends ArmorCallOptions {}

/**
 * Exchanges a live session token for a new one (`Update-ArmorApiToken`).
 *
 * Sends `POST {baseUrl}/auth/token/reissue` with `{"token"}` and, as the PowerShell
 * module does, the session headers `Authorization: FH-AUTH <token>` and (with a session
 * that has one) `X-Account-Context`. The token defaults to the session's. On success the session, if given, is re-authorized with the new token and
 * its lifetime; on any failure it is left exactly as it was. The reissue must happen
 * before the current token expires, and needs no password.
 *
 * @param token The current access token; default: `options.session`'s.
 * @param options Where and how to send it.
 * @returns The new token (its `id_token` is `null`, as Armor sends it).
 * @throws {TypeError} No token and no session, a blank or non-string token, an unknown
 *   API version, a base URL that is not `https:` (plain `http:` only on loopback), or a
 *   session that signs with an API key.
 * @throws {ArmorApiError} The session has no live token, or the call failed after it
 *   was sent; see its `code`.
 * @throws {ArmorCancelledError} `confirm` answered `false`; nothing was sent.
 *
 * @example Renew a session's token
 * ```ts ignore
 * import { ArmorSession, updateArmorApiToken } from "@armor-api/auth";
 *
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 * });
 * await updateArmorApiToken(undefined, { session });
 * console.log(session.expiresAt);
 * ```
 *
 * @example See what would be sent (`-WhatIf`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { updateArmorApiToken } from "@armor-api/auth";
 *
 * const plan = await updateArmorApiToken("2261bac252204c2ea93ed32ea1ffd3ab", { whatIf: true });
 * assert.deepEqual(plan.body, { token: "[REDACTED]" });
 * ```
 */
export function updateArmorApiToken(
  token: string | undefined,
  options: UpdateArmorApiTokenOptions & { whatIf: true },
): Promise<ArmorRequestPlan>;
/**
 * The same call without `whatIf`: sends the request and resolves with the checked token.
 *
 * @param token The current access token; default: `options.session`'s.
 * @param options Where and how to send it.
 * @returns The checked token.
 *
 * @example
 * ```ts ignore
 * import { updateArmorApiToken } from "@armor-api/auth";
 * const token = await updateArmorApiToken("2261bac252204c2ea93ed32ea1ffd3ab");
 * ```
 */
export function updateArmorApiToken(
  token?: string,
  options?: UpdateArmorApiTokenOptions,
): Promise<ArmorApiToken>;
export async function updateArmorApiToken(
  token?: string,
  options?: UpdateArmorApiTokenOptions,
): Promise<ArmorApiToken | ArmorRequestPlan> {
  const opts = checkOptions<UpdateArmorApiTokenOptions>(options);
  const call = resolveCall(opts);
  let current: string;
  if (token === undefined) {
    if (call.session === undefined) {
      throw new TypeError("token is required when no session is given");
    }
    current = call.session.token();
  } else {
    current = checkSecret(token, "token");
  }
  return await runTokenCall(
    call,
    reissueRequest(call.endpoint, current, call.session?.accountId()),
  );
}
