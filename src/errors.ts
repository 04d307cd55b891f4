/**
 * Errors raised by this module.
 *
 * @module
 */

/**
 * The stable codes of an {@linkcode ArmorApiError}, one per way a call can fail
 * after its arguments were accepted.
 *
 * - `HTTP_STATUS`: the server answered with a status other than 200.
 * - `REDIRECT`: the server answered with a redirect; redirects are never followed.
 * - `INVALID_RESPONSE`: the body is not JSON, not a JSON object, or a field is wrong.
 * - `BODY_TOO_LARGE`: the body is larger than {@linkcode MAX_RESPONSE_BYTES}.
 * - `BODY_INCOMPLETE`: the connection ended before the whole body arrived.
 * - `NETWORK`: no HTTP answer: connection refused or reset, DNS, TLS, not HTTP.
 * - `TIMEOUT`: the call took longer than its `timeout`.
 * - `ABORTED`: the caller's `AbortSignal` aborted the call.
 * - `NOT_AUTHORIZED`: the session holds no token (never logged in, disconnected or
 *   rejected by the API).
 * - `SESSION_EXPIRED`: the session's token has expired.
 * - `UNKNOWN_ACCOUNT`: the account id is not one of the session's accounts.
 * - `STORE`: the token store failed, timed out, or kept changing.
 * - `CLOCK_SKEW`: an API-key request was rejected (401) and the server's clock is more
 *   than five minutes from this one; the message says by how many seconds.
 * - `UNKNOWN`: a failure that is none of the above (seen in log records of renewals
 *   that failed in an unexpected way).
 *
 * @example Switch on the code
 * ```ts
 * import { ArmorApiError, type ArmorApiErrorCode } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * function advice(code: ArmorApiErrorCode): string {
 *   return code === "SESSION_EXPIRED" ? "log in again" : "retry later";
 * }
 * const error = new ArmorApiError("SESSION_EXPIRED", "Session expired");
 * assert.equal(advice(error.code), "log in again");
 * ```
 */
export type ArmorApiErrorCode =
  | "HTTP_STATUS"
  | "REDIRECT"
  | "INVALID_RESPONSE"
  | "BODY_TOO_LARGE"
  | "BODY_INCOMPLETE"
  | "NETWORK"
  | "TIMEOUT"
  | "ABORTED"
  | "NOT_AUTHORIZED"
  | "SESSION_EXPIRED"
  | "UNKNOWN_ACCOUNT"
  | "STORE"
  | "CLOCK_SKEW"
  | "UNKNOWN";

/** The largest response body this module reads, in bytes (1 MiB). */
export const MAX_RESPONSE_BYTES = 1_048_576;

/** Options of {@linkcode ArmorApiError}. */
export interface ArmorApiErrorOptions {
  /** The HTTP status, where a response came. */
  status?: number;
  /** The original failure. It must not carry a secret. */
  cause?: unknown;
  /** Seconds the server asked to wait (`Retry-After`), where it said so. */
  retryAfter?: number;
  /** The server's short error code (`error`, `errorCode`), scrubbed of secrets. */
  serverCode?: string;
  /** The server's description (`error_description`, `Message`), scrubbed of secrets. */
  serverMessage?: string;
  /** The server's reference id for the failure (`referenceId`), scrubbed of secrets. */
  referenceId?: string;
}

/**
 * A call to the Armor API failed after its arguments were accepted.
 *
 * Its `code` is stable and meant for programs; its message is for people. Neither
 * the message, the stack, the `cause` nor any other property ever holds a secret
 * (password, authorization code, token), even when the server echoed one.
 *
 * @example Tell a rejected token from a network failure
 * ```ts
 * import { ArmorApiError } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * const error = new ArmorApiError("HTTP_STATUS", "Armor API answered 401", { status: 401 });
 * assert.ok(error instanceof ArmorApiError && error.status === 401);
 * ```
 */
export class ArmorApiError extends Error {
  /** A stable code a program can switch on. */
  readonly code: ArmorApiErrorCode;
  /** The HTTP status, where a response came. */
  declare readonly status?: number;
  /** Seconds the server asked to wait before trying again (`Retry-After`), if any. */
  declare readonly retryAfter?: number;
  /**
   * The server's short error code, where its error body had one (`error` as in
   * `{"error": "invalid_credentials"}`, or `errorCode`), scrubbed of every secret of the
   * call, stripped of control characters and cut to 64 characters.
   */
  declare readonly serverCode?: string;
  /**
   * The server's description of the error, where its body had one (`error_description`,
   * `Message` or `message`), scrubbed like {@linkcode ArmorApiError.serverCode} and cut
   * to 300 characters.
   */
  declare readonly serverMessage?: string;
  /**
   * The server's reference id for the failure, where its error body had one
   * (`referenceId`, `ReferenceId`, in any case): what Armor support asks for. Scrubbed of
   * every secret of the call, kept only when it is 1 to 100 characters of letters,
   * digits and `-_.:`, and shown in the message.
   */
  declare readonly referenceId?: string;

  /**
   * Creates an error.
   *
   * @param code The stable code.
   * @param message A message for people, with no secret in it.
   * @param options The status, cause, `Retry-After` and the server's words where known.
   */
  constructor(code: ArmorApiErrorCode, message: string, options: ArmorApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ArmorApiError";
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
    if (options.serverCode !== undefined) this.serverCode = options.serverCode;
    if (options.serverMessage !== undefined) this.serverMessage = options.serverMessage;
    if (options.referenceId !== undefined) this.referenceId = options.referenceId;
  }
}

/**
 * The caller's `confirm` callback declined a call, so nothing was sent.
 *
 * It is not an {@linkcode ArmorApiError}: a declined call is a choice, not a failure.
 *
 * @example Tell a declined call apart
 * ```ts
 * import { ArmorCancelledError, requestArmorApiToken } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * try {
 *   await requestArmorApiToken("one-time-code", { confirm: () => false });
 * } catch (error) {
 *   assert.ok(error instanceof ArmorCancelledError);
 * }
 * ```
 */
export class ArmorCancelledError extends Error {
  /** Always `"CANCELLED"`. */
  readonly code = "CANCELLED" as const;

  /**
   * Creates the error.
   *
   * @param message What was not done.
   */
  constructor(message: string) {
    super(message);
    this.name = "ArmorCancelledError";
  }
}

/**
 * Thrown while reading a response when a field fails its check; the pipeline turns it
 * into an `INVALID_RESPONSE` {@linkcode ArmorApiError}. Its message names the field,
 * never a value. Internal: not exported from `mod.ts`.
 */
export class InvalidField extends Error {}
