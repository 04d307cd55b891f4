/**
 * The defaults of the public calls, in one place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS } from "@armor-api/auth/renewal";
 * assert.equal(DEFAULT_BASE_URL, "https://api.armor.com");
 * assert.equal(DEFAULT_TIMEOUT_MS, 30_000);
 * ```
 *
 * @module
 */

import type { ArmorApiVersion } from "./types.ts";

/**
 * The production Armor API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_BASE_URL } from "@armor-api/auth/renewal";
 * assert.equal(new URL("/me", DEFAULT_BASE_URL).href, "https://api.armor.com/me");
 * ```
 */
export const DEFAULT_BASE_URL = "https://api.armor.com";

/**
 * The default timeout of a call, in milliseconds (30 s).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_TIMEOUT_MS } from "@armor-api/auth/renewal";
 * assert.equal(DEFAULT_TIMEOUT_MS / 1000, 30);
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The default timeout of `POST /auth/authorize`, which may wait for a person to approve
 * a multi-factor prompt on their phone (3 min).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_AUTHORIZE_TIMEOUT_MS } from "@armor-api/auth/renewal";
 * assert.equal(DEFAULT_AUTHORIZE_TIMEOUT_MS / 60_000, 3);
 * ```
 */
export const DEFAULT_AUTHORIZE_TIMEOUT_MS = 180_000;

/**
 * The default API version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_API_VERSION } from "@armor-api/auth/renewal";
 * assert.equal(DEFAULT_API_VERSION, "v1.0");
 * ```
 */
export const DEFAULT_API_VERSION: ArmorApiVersion = "v1.0";
