// Argument checks, run before anything is sent. Bad arguments throw TypeError (wrong
// type or value) or RangeError (a number out of range); messages never echo a secret.

import type { ArmorApiVersion } from "./types.ts";
import { LONGEST_TIMEOUT_MS } from "./renewal.ts";

/** The longest code, token or password accepted, in characters. */
export const MAX_SECRET_LENGTH = 8192;

/** The API versions the Armor API knows; both use the same token endpoints. */
export const API_VERSIONS: readonly ArmorApiVersion[] = ["v1.0", "internal"];

/** Throws unless `value` is a non-blank string; the message names `name`, never the value. */
export function checkSecret(value: unknown, name: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  }
  if (value.trim() === "") throw new TypeError(`${name} must not be empty or blank`);
  if (value.length > MAX_SECRET_LENGTH) {
    throw new RangeError(`${name} must be at most ${MAX_SECRET_LENGTH} characters`);
  }
  return value;
}

/** Returns the API version, the fallback when `value` is undefined. */
export function checkApiVersion(value: unknown, fallback: ArmorApiVersion): ArmorApiVersion {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (API_VERSIONS as readonly string[]).includes(value)) {
    return value as ArmorApiVersion;
  }
  throw new TypeError(`apiVersion must be "v1.0" or "internal", got ${showPublic(value)}`);
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** True for the host names that never leave this machine. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/**
 * Parses a base URL: `https:` anywhere, `http:` only on a loopback host (for tests), no
 * credentials, query or fragment. The result's path always ends with `/`.
 */
export function checkBaseUrl(value: unknown): URL {
  if (typeof value !== "string" && !(value instanceof URL)) {
    throw new TypeError(`baseUrl must be a string or a URL, got ${describe(value)}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError("baseUrl is not a valid absolute URL: use e.g. https://api.armor.com");
  }
  if (url.protocol === "http:") {
    if (!isLoopback(url.hostname)) {
      throw new TypeError(
        `baseUrl must use https: (plain http: is allowed only for loopback hosts), got http://${url.host}`,
      );
    }
  } else if (url.protocol !== "https:") {
    throw new TypeError(`baseUrl must use https:, got ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new TypeError("baseUrl must not contain a user name or password");
  }
  // `href`, not `search`/`hash`: a bare "?" or "#" leaves those empty but keeps the mark,
  // and a path joined after it would land in the query or fragment.
  if (url.href.includes("?") || url.href.includes("#")) {
    throw new TypeError("baseUrl must not have a query or a fragment");
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/**
 * The checked base URL of an options object: the default when it is left out (only
 * `undefined`; `null` is a wrong type like any other).
 */
export function baseUrlOption(value: unknown, fallback: string): URL {
  return checkBaseUrl(value === undefined ? fallback : value);
}

/** Returns a timeout in milliseconds, the fallback when `value` is undefined. */
export function checkTimeout(value: unknown, fallback: number, name = "timeout"): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number of milliseconds, got ${describe(value)}`);
  }
  if (!(value > 0 && value <= LONGEST_TIMEOUT_MS)) {
    throw new RangeError(
      `${name} must be more than 0 and at most ${LONGEST_TIMEOUT_MS} milliseconds`,
    );
  }
  return value;
}

/** Throws unless `value` is undefined or an AbortSignal. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw new TypeError(`signal must be an AbortSignal, got ${describe(value)}`);
}

/** Throws unless `value` is undefined or a function. */
export function checkFunction<T>(value: unknown, name: string): T | undefined {
  if (value === undefined || typeof value === "function") return value as T | undefined;
  throw new TypeError(`${name} must be a function, got ${describe(value)}`);
}

/** Throws unless `value` is undefined or a boolean. */
export function checkBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
}

/** True for an object that is not `null` and not an array (a JSON object, an options bag). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Throws unless `value` is undefined or a plain options object. */
export function checkOptions<T extends object>(value: unknown, name = "options"): Partial<T> {
  if (value === undefined) return {};
  if (isRecord(value)) return value as Partial<T>;
  throw new TypeError(`${name} must be an object, got ${describe(value)}`);
}

/** Shows a value that is not secret (a version, a grant type) in an error message. */
export function showPublic(value: unknown): string {
  return typeof value === "string" && value.length <= 40 ? JSON.stringify(value) : describe(value);
}

/** Describes a value's type for an error message, never its content. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value === "" ? "an empty string" : "a string";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
