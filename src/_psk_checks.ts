// The argument checks of ARMOR-PSK signing: messages name the rule, never the value
// (a key id may be public, the secret never is).

import { checkSecret, describe } from "./_validate.ts";

/** The longest nonce Armor accepts, in characters. */
export const NONCE_LIMIT = 128;

/** The largest timestamp taken as seconds (year 5138); a larger one is milliseconds. */
const MAX_TIMESTAMP = 99_999_999_999;

const encoder = new TextEncoder();

/** Web Crypto, or a TypeError that says where it is missing. */
export function webCrypto(): Crypto {
  const crypto = globalThis.crypto;
  if (crypto?.subtle === undefined) {
    throw new TypeError(
      "Web Crypto (crypto.subtle) is not available: sign in a secure context (https: or localhost)",
    );
  }
  return crypto;
}

// Visible ASCII (0x21-0x7E) except the colon that separates the header's fields.
const HEADER_FIELD = /^[!-9;-~]+$/;
// RFC 9110 token characters.
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A path `fetch` sends as written: segments of unreserved or sub-delimiter characters,
// ":" or "@" (no "%", "\" or non-ASCII), none of them "." or "..".
const PLAIN_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9\-._~!$&'()*+,;=:@]*)+$/;

/**
 * How a body enters the signed string: `"raw"`, its bytes (Armor's OpenAPI contract and
 * knowledge base); `"sha512"`, base64(SHA-512(its bytes)) (a third-party Go client).
 */
export type BodySigning = "raw" | "sha512";

/** A checked key: its id, secret and body signing. */
export interface CheckedKey {
  id: string;
  secret: string;
  bodySigning: BodySigning;
}

/** The key's `bodySigning`: `"raw"` when left out; anything but the two modes is refused. */
export function checkBodySigning(value: unknown): BodySigning {
  if (value === undefined) return "raw";
  if (value === "raw" || value === "sha512") return value;
  throw new TypeError(
    `key.bodySigning must be "raw" (the documented form, the default) or "sha512", got ${
      describe(value)
    }`,
  );
}

export function checkKey(
  key: { id: string; secret: string; bodySigning?: BodySigning },
): CheckedKey {
  if (typeof key !== "object" || key === null) {
    throw new TypeError(`key must be an object with id and secret, got ${describe(key)}`);
  }
  const { id, secret } = key;
  if (typeof id !== "string") throw new TypeError(`key.id must be a string, got ${describe(id)}`);
  if (id === "") throw new TypeError("key.id must not be empty: use the API key's id");
  if (id.includes(":")) throw new TypeError("key.id must not contain a colon");
  if (!HEADER_FIELD.test(id)) {
    throw new TypeError(
      "key.id must be visible ASCII characters, without spaces: use the API key's id (a UUID)",
    );
  }
  return {
    id,
    secret: checkSecret(secret, "key.secret"),
    bodySigning: checkBodySigning(key.bodySigning),
  };
}

export function methodOf(value: unknown): string {
  if (typeof value !== "string" || !METHOD.test(value)) {
    throw new TypeError('request.method must be an HTTP method such as "GET" or "POST"');
  }
  return value.toUpperCase();
}

export function signedPath(value: unknown): string {
  if (typeof value !== "string") {
    throw new TypeError(`request.path must be a string, got ${describe(value)}`);
  }
  if (value.startsWith("/") && !value.startsWith("//")) {
    let end = value.length;
    const query = value.indexOf("?");
    const fragment = value.indexOf("#");
    if (query !== -1) end = query;
    if (fragment !== -1 && fragment < end) end = fragment;
    const path = value.slice(0, end);
    // Anything else is signed as `fetch` sends it: percent-encoded, dot segments resolved.
    return PLAIN_PATH.test(path) ? path : new URL(path, "https://api.armor.com").pathname;
  }
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // Refused below.
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new TypeError(
      "request.path must be a path starting with / (e.g. /me) or an absolute http(s) URL",
    );
  }
  return url.pathname;
}

export function newNonce(): string {
  return webCrypto().randomUUID().replaceAll("-", "");
}

export function checkNonce(value: unknown): string {
  if (typeof value !== "string") {
    throw new TypeError(`request.nonce must be a string, got ${describe(value)}`);
  }
  if (value === "") {
    throw new TypeError("request.nonce must not be empty: omit it for a random one");
  }
  if (value.length > NONCE_LIMIT) {
    throw new TypeError(`request.nonce must be at most ${NONCE_LIMIT} characters`);
  }
  if (value.includes(":")) throw new TypeError("request.nonce must not contain a colon");
  if (!HEADER_FIELD.test(value)) {
    throw new TypeError("request.nonce must be visible ASCII characters, without spaces");
  }
  return value;
}

export function checkTimestamp(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(
      "request.timestamp must be whole non-negative Unix seconds: omit it for now",
    );
  }
  if (value > MAX_TIMESTAMP) {
    throw new TypeError(
      "request.timestamp must be Unix seconds, not milliseconds: use Math.floor(Date.now() / 1000)",
    );
  }
  return value;
}

const toStringTag = Object.prototype.toString;

/** The body's bytes; `undefined` when there is none or it is empty. */
export function bodyOf(value: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  let bytes: Uint8Array;
  if (typeof value === "string") {
    bytes = encoder.encode(value);
  } else if (ArrayBuffer.isView(value)) {
    bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  } else if (toStringTag.call(value) === "[object ArrayBuffer]") {
    bytes = new Uint8Array(value as ArrayBuffer);
  } else {
    throw new TypeError(
      "request.body must be a string, a Uint8Array, an ArrayBuffer, a typed array or null: " +
        "read a stream, Blob or form into bytes first",
    );
  }
  if (bytes.byteLength === 0) return undefined;
  // Web Crypto takes no view of a SharedArrayBuffer: digest a copy.
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes) as Uint8Array<ArrayBuffer>;
}
