/**
 * Sign in to the Armor security platform's REST API: get, keep and renew Armor API
 * session tokens, on native `fetch` and Web APIs only, so it runs unchanged on Deno,
 * Deno Deploy, Node, Bun and Cloudflare Workers.
 *
 * - {@linkcode ArmorSession} logs in (a password, or an API key for unattended code),
 *   calls the API with the credential and the account context, and renews the token
 *   before it expires, once for every caller. {@linkcode connectOptionsFromEnv} reads
 *   the credentials from the environment.
 * - {@linkcode requestArmorApiToken} and {@linkcode updateArmorApiToken} port the
 *   PowerShell commands `Request-ArmorApiToken` and `Update-ArmorApiToken`.
 * - {@linkcode KvTokenStore} shares one login between the isolates of a Deno Deploy app.
 * - The mock Armor API for tests is `@armor-api/auth/testing`; the renewal rules and their
 *   numbers are `@armor-api/auth/renewal`.
 *
 * @example Log in from the environment and call the API
 * ```ts ignore
 * import { ArmorSession, connectOptionsFromEnv } from "@armor-api/auth";
 *
 * const session = await ArmorSession.connect(connectOptionsFromEnv());
 * try {
 *   const response = await session.fetch("/accounts");
 *   console.log(await response.json());
 * } finally {
 *   await session.disconnect();
 * }
 * ```
 *
 * @example The same flow against the mock Armor API, as a test would run it
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArmorSession } from "@armor-api/auth";
 * import { serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * const server = await serveMockArmorApi(); // 127.0.0.1, a free port
 * try {
 *   const session = await ArmorSession.connect({
 *     baseUrl: server.baseUrl,
 *     username: "demo@example.com",
 *     password: "demo-password",
 *   });
 *   assert.equal(session.identity?.username, "demo@example.com");
 *   assert.equal(session.accountId, 1001); // the first account
 *   const accounts = await (await session.fetch("/accounts")).json();
 *   assert.deepEqual(accounts.map((account: { id: number }) => account.id), [1001, 1002]);
 *   await session.disconnect();
 * } finally {
 *   await server.close();
 * }
 * ```
 *
 * @module
 */

// At most 35 symbols: what users call or name. Tuning numbers live in ./renewal.
export { ArmorSession } from "./src/armor_session.ts";
export type { ArmorAccountView } from "./src/armor_account_view.ts";
export type { ArmorConnectOptions, ArmorSessionOptions } from "./src/session_options.ts";
export { connectOptionsFromEnv } from "./src/connect_options_from_env.ts";
export {
  requestArmorApiToken,
  type RequestArmorApiTokenOptions,
} from "./src/request_armor_api_token.ts";
export {
  ArmorApiAuthorizationCode,
  requestArmorApiAuthorizationCode,
  type RequestArmorApiAuthorizationCodeOptions,
} from "./src/request_armor_api_authorization_code.ts";
export {
  updateArmorApiToken,
  type UpdateArmorApiTokenOptions,
} from "./src/update_armor_api_token.ts";
export type { ArmorCallOptions } from "./src/_call.ts";
export {
  type ArmorApiKey,
  armorPskAuthorization,
  type ArmorPskRequest,
  armorPskSigner,
} from "./src/armor_psk.ts";
export { ArmorApiError, type ArmorApiErrorCode, ArmorCancelledError } from "./src/errors.ts";
export type { ArmorAccount, ArmorIdentity } from "./src/identity.ts";
export { ArmorApiToken } from "./src/token.ts";
export { encryptTokenStore, type EncryptTokenStoreOptions } from "./src/encrypt_token_store.ts";
export {
  type ArmorStoredSession,
  type ArmorStoreEntry,
  type ArmorTokenStore,
  type KvLike,
  KvTokenStore,
  MemoryTokenStore,
} from "./src/token_store.ts";
export type {
  ArmorApiVersion,
  ArmorLogger,
  ArmorLogRecord,
  ArmorRequestPlan,
} from "./src/types.ts";
