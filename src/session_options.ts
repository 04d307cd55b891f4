/**
 * The options of `ArmorSession` and `ArmorSession.connect`.
 *
 * @module
 */

import type { ArmorApiKey } from "./armor_psk.ts";
import type { ArmorTokenStore } from "./token_store.ts";
import type { ArmorApiVersion, ArmorLogger } from "./types.ts";

/**
 * Options of `ArmorSession`.
 *
 * @example
 * ```ts
 * import type { ArmorSessionOptions } from "@armor-api/auth";
 * const options: ArmorSessionOptions = { baseUrl: "https://api.armor.com", accountId: 1001 };
 * ```
 */
export interface ArmorSessionOptions {
  /** The Armor API's address. Default: `https://api.armor.com`. */
  baseUrl?: string | URL;
  /** The API version. Default: `"v1.0"`. */
  apiVersion?: ArmorApiVersion;
  /** The account calls act on (`X-Account-Context`). Default after login: the first. */
  accountId?: number;
  /** The fetch to use. Default: the global `fetch`. It is always called unbound. */
  fetch?: typeof fetch;
  /**
   * The clock for token expiry and API-key timestamps, in epoch milliseconds. Default:
   * `Date.now`. Timeouts never use it: they run on the runtime's monotonic timers.
   */
  now?: () => number;
  /**
   * Numbers in [0, 1) that spread renewals: a session renews up to a tenth of the
   * renewal window early (see `jitteredRenewAt`). Default: `Math.random`; `() => 0`
   * renews exactly at the two-thirds point.
   */
  random?: () => number;
  /** Milliseconds before a call fails with `TIMEOUT`. Default: 30 000. */
  timeout?: number;
  /** Where the session's state lives. Default: a private `MemoryTokenStore`. */
  store?: ArmorTokenStore;
  /**
   * The key of the state in the store. Default: the base URL, and for
   * {@linkcode ArmorSession.connect} the base URL and the user name.
   */
  storeKey?: string;
  /** Receives redacted records of every call and renewal. */
  logger?: ArmorLogger;
}

/**
 * Options of `ArmorSession.connect`: a user name and password, or an API key.
 *
 * @example With a password
 * ```ts
 * import type { ArmorConnectOptions } from "@armor-api/auth";
 * const options: ArmorConnectOptions = { username: "ops@example.com", password: "secret" };
 * ```
 *
 * @example With an API key
 * ```ts
 * import type { ArmorConnectOptions } from "@armor-api/auth";
 * const options: ArmorConnectOptions = {
 *   apiKey: { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "secret-key" },
 * };
 * ```
 */
export interface ArmorConnectOptions extends ArmorSessionOptions {
  /** The Armor user name; with `password`, instead of `apiKey`. */
  username?: string;
  /** The password; it is sent once and never kept. */
  password?: string;
  /**
   * An API key (ARMOR-PSK), instead of a user name and password: every request is signed
   * with it; there is no token, no renewal and no expiry. The secret is never kept in
   * anything printable.
   */
  apiKey?: ArmorApiKey;
  /** Aborts the login. */
  signal?: AbortSignal;
  /** Milliseconds `POST /auth/authorize` may take (multi-factor approval). Default: 180 000. */
  authorizeTimeout?: number;
}
