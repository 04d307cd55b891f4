/**
 * Types shared by the token calls and the session.
 *
 * @module
 */

import type { ArmorApiErrorCode } from "./errors.ts";

/**
 * An Armor API version. Both use the same token endpoints; the version is kept for
 * parity with the PowerShell module and for the calls made through a session.
 *
 * @example
 * ```ts
 * import type { ArmorApiVersion } from "@armor-api/auth";
 * const version: ArmorApiVersion = "v1.0";
 * ```
 */
export type ArmorApiVersion = "v1.0" | "internal";

/**
 * What a call would send, with every secret replaced by `"[REDACTED]"`. A `whatIf`
 * call resolves with it, and `confirm` receives it.
 *
 * @example
 * ```ts
 * import type { ArmorRequestPlan } from "@armor-api/auth";
 * const plan: ArmorRequestPlan = {
 *   method: "POST",
 *   url: "https://api.armor.com/auth/token",
 *   apiVersion: "v1.0",
 *   headers: { accept: "application/json", "content-type": "application/json" },
 *   body: { code: "[REDACTED]", grant_type: "authorization_code" },
 * };
 * ```
 */
export interface ArmorRequestPlan {
  /** The HTTP method. */
  method: "POST" | "GET";
  /** The absolute URL. */
  url: string;
  /** The API version the call is made for. */
  apiVersion: ArmorApiVersion;
  /** The request headers, secrets redacted. */
  headers: Record<string, string>;
  /** The JSON body, secrets redacted; absent for a GET. */
  body?: Record<string, string>;
}

/**
 * One record given to a {@linkcode ArmorLogger}. Every secret in it is redacted.
 *
 * - `request`: a call is about to be sent (`headers` and `body` redacted).
 * - `response`: a response came (`status`, `ms` since the request).
 * - `error`: the call failed (`code`, `status` where a response came, `ms`).
 * - `renewal`: a session renewed its token, or failed to (`outcome`, `code`).
 *
 * @example
 * ```ts
 * import type { ArmorLogRecord } from "@armor-api/auth";
 * const record: ArmorLogRecord = {
 *   event: "response",
 *   method: "POST",
 *   url: "https://api.armor.com/auth/token",
 *   status: 200,
 *   ms: 42,
 * };
 * ```
 */
export interface ArmorLogRecord {
  /** What happened. */
  event: "request" | "response" | "error" | "renewal";
  /** The HTTP method, for calls. */
  method?: string;
  /** The URL, for calls. It never holds a secret. */
  url?: string;
  /** Request headers, secrets redacted. */
  headers?: Record<string, string>;
  /** Request body, secrets redacted. */
  body?: Record<string, string>;
  /** The HTTP status, where a response came. */
  status?: number;
  /** Milliseconds since the request was sent. */
  ms?: number;
  /** The error code, for errors and failed renewals. */
  code?: ArmorApiErrorCode;
  /** For renewals: what came of it. */
  outcome?: "renewed" | "adopted" | "failed";
}

/**
 * A function that receives redacted records of what the module sends and receives,
 * e.g. `console.debug`. It is called synchronously; what it throws is ignored.
 *
 * @example Log every call
 * ```ts
 * import type { ArmorLogger } from "@armor-api/auth";
 * const logger: ArmorLogger = (record) => console.debug("armor", record.event, record.url);
 * ```
 */
export type ArmorLogger = (record: ArmorLogRecord) => void;

/**
 * The `confirm` option of the token calls (internal name): asked before a call is sent,
 * with what would be sent; `false` cancels the call.
 */
export type ArmorConfirm = (plan: ArmorRequestPlan) => boolean | Promise<boolean>;
