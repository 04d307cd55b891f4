/**
 * Sign in to the Armor security platform's REST API: get, keep and renew Armor API
 * session tokens, on native `fetch` and Web APIs only, so it runs unchanged on Deno,
 * Deno Deploy and other web-standard runtimes.
 *
 * - {@linkcode requestArmorApiToken} and {@linkcode updateArmorApiToken} port the
 *   PowerShell commands `Request-ArmorApiToken` and `Update-ArmorApiToken`.
 * - {@linkcode ArmorSession} logs in, calls the API with the token and the account
 *   context, and renews the token before it expires, once for every caller.
 * - {@linkcode KvTokenStore} shares one login between the isolates of a Deno Deploy app.
 * - An API key ({@linkcode armorPskAuthorization}, `ArmorSession.connect({ apiKey })`)
 *   signs every request instead: for unattended scripts and Deploy functions.
 * - The mock Armor API for tests lives in `@armor-api/auth/testing`.
 *
 * @example Log in and call the API
 * ```ts ignore
 * import { ArmorSession } from "@armor-api/auth";
 *
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 * });
 * console.log(session.identity?.username, session.accountId);
 * const accounts = await (await session.fetch("/accounts")).json();
 * ```
 *
 * @example The same flow against the mock Armor API, as a test would run it
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArmorSession } from "@armor-api/auth";
 * import { serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * await using server = await serveMockArmorApi();
 * const session = await ArmorSession.connect({
 *   baseUrl: server.baseUrl,
 *   username: "demo@example.com",
 *   password: "demo-password",
 * });
 * assert.equal(session.identity?.username, "demo@example.com");
 * assert.equal(session.accountId, 1001); // the first account
 * const accounts = await (await session.fetch("/accounts")).json();
 * assert.deepEqual(accounts.map((account: { id: number }) => account.id), [1001, 1002]);
 * await session.disconnect();
 * ```
 *
 * @module
 */

export { ArmorSession } from "./src/armor_session.ts";
export type { ArmorConnectOptions, ArmorSessionOptions } from "./src/session_options.ts";
export {
  requestArmorApiToken,
  type RequestArmorApiTokenOptions,
} from "./src/request_armor_api_token.ts";
export {
  updateArmorApiToken,
  type UpdateArmorApiTokenOptions,
} from "./src/update_armor_api_token.ts";
export {
  DEFAULT_API_VERSION,
  DEFAULT_AUTHORIZE_TIMEOUT_MS,
  DEFAULT_BASE_URL,
  DEFAULT_TIMEOUT_MS,
} from "./src/defaults.ts";
export type { ArmorCallOptions } from "./src/_call.ts";
export {
  type ArmorApiKey,
  armorPskAuthorization,
  type ArmorPskRequest,
  type ArmorPskSigner,
  armorPskSigner,
  MAX_NONCE_LENGTH,
} from "./src/armor_psk.ts";
export {
  ArmorApiError,
  type ArmorApiErrorCode,
  type ArmorApiErrorOptions,
  ArmorCancelledError,
  MAX_RESPONSE_BYTES,
} from "./src/errors.ts";
export type { ArmorAccount, ArmorDepartment, ArmorFeature, ArmorIdentity } from "./src/identity.ts";
export {
  CLAIM_GRACE_MS,
  CLAIM_RETRY_MS,
  CLOCK_SKEW_MS,
  DEADLINE_SLACK_MAX_MS,
  DEADLINE_SLACK_SHARE,
  isRenewalDue,
  jitteredRenewAt,
  KV_BUSY_ATTEMPTS,
  KV_BUSY_BACKOFF_MS,
  KV_KEEP_AFTER_MS,
  KV_KEEP_MAX_MS,
  LOGIN_CLAIM_ATTEMPTS,
  LOGIN_CLAIM_BACKOFF_MS,
  LOGIN_POLL_MS,
  LONGEST_TIMEOUT_MS,
  MAX_RENEWAL_WAIT_MS,
  MAX_RETRY_AFTER_S,
  MAX_SESSION_MINUTES,
  mayRetryRenewal,
  MUST_RENEW_MS,
  mustRenew,
  RENEW_JITTER,
  RENEW_WHEN_REMAINING,
  renewAt,
  RETRY_MAX_MS,
  RETRY_MIN_MS,
  retryDelay,
  SECONDS_THRESHOLD,
  sessionLengthMs,
  shouldRenew,
  SIGNED_AHEAD_MAX_AGE_MS,
  STALE_401_LOOKS,
  STORE_ATTEMPTS,
} from "./src/renewal.ts";
export {
  type ArmorStoreSecret,
  encryptTokenStore,
  type EncryptTokenStoreOptions,
} from "./src/encrypt_token_store.ts";
export { ACCESS_TOKEN_PATTERN, ArmorApiToken } from "./src/token.ts";
export {
  type ArmorStoredSession,
  type ArmorStoreEntry,
  type ArmorTokenStore,
  type KvAtomicLike,
  type KvLike,
  KvTokenStore,
  MemoryTokenStore,
} from "./src/token_store.ts";
export type {
  ArmorApiVersion,
  ArmorConfirm,
  ArmorLogger,
  ArmorLogRecord,
  ArmorRequestPlan,
} from "./src/types.ts";
