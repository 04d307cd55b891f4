/**
 * ARMOR-PSK: the `Authorization` header that signs one request with an Armor API key.
 *
 * Web Crypto only (`crypto.subtle`, `crypto.randomUUID`), so it runs on Deno, Node 20+,
 * Bun, Cloudflare Workers and browsers (in a secure context).
 *
 * @module
 */

import { describe } from "./_validate.ts";
import {
  bodyOf,
  type BodySigning,
  checkKey,
  checkNonce,
  checkTimestamp,
  methodOf,
  newNonce,
  NONCE_LIMIT,
  signedPath,
  webCrypto,
} from "./_psk_checks.ts";

/**
 * An Armor API key, as created in the Armor Management Portal (Account → Users → API
 * Keys). Keys do not expire; they can be revoked.
 *
 * @example
 * ```ts
 * import type { ArmorApiKey } from "@armor-api/auth";
 * const key: ArmorApiKey = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "my-secret-key" };
 * // For a server that checks a body's SHA-512 digest instead of the body itself:
 * const digestKey: ArmorApiKey = { ...key, bodySigning: "sha512" };
 * ```
 */
export interface ArmorApiKey {
  /** The key id (a UUID): visible ASCII characters, no colon. */
  id: string;
  /** The secret key, used as text (its UTF-8 bytes), never base64-decoded. */
  secret: string;
  /**
   * How a request body enters the signed string:
   *
   * - `"raw"` (the default): the body's exact bytes, as Armor's ARMOR-PSK OpenAPI
   *   contract and its knowledge base give the formula (`... + timestamp + request body`).
   * - `"sha512"`: base64(SHA-512(body bytes)), as the third-party Go client
   *   `williamrhancock/ArmorCompliance` signs, for a server that expects that.
   *
   * A request without a body (every GET) signs nothing for it in either mode.
   */
  bodySigning?: "raw" | "sha512";
}

/**
 * What an ARMOR-PSK signature covers: one request.
 *
 * @example
 * ```ts
 * import type { ArmorPskRequest } from "@armor-api/auth";
 * const request: ArmorPskRequest = { method: "POST", path: "/accounts/2/notes", body: "{}" };
 * ```
 */
export interface ArmorPskRequest {
  /** The HTTP method, in any case; it is signed upper-case. */
  method: string;
  /**
   * The path as sent (`/accounts/2`), or the request's full URL. Only the path is signed:
   * scheme, host, port, query and fragment are dropped.
   */
  path: string;
  /**
   * The exact bytes that will be sent, or a string sent as UTF-8. No body, `null` and an
   * empty body are all signed as "no body".
   */
  body?: string | Uint8Array | ArrayBuffer | ArrayBufferView | null;
  /**
   * A value unique to this request: 1 to {@linkcode MAX_NONCE_LENGTH} visible ASCII
   * characters, no colon. Default: a random UUID without its dashes (32 hex digits).
   */
  nonce?: string;
  /**
   * Unix time in whole seconds; Armor refuses one more than five minutes off its clock.
   * Default: now.
   */
  timestamp?: number;
}

/** Signs one request with the key it was made for (internal name; see `armorPskSigner`). */
export type ArmorPskSigner = (request: ArmorPskRequest) => Promise<string>;

/** The longest nonce Armor accepts, in characters. */
export const MAX_NONCE_LENGTH: number = NONCE_LIMIT;

/** How many API keys {@linkcode armorPskAuthorization} keeps imported. */
const KEYS_KEPT = 16;

/**
 * The `Authorization` header value that signs one request with an Armor API key:
 * `ARMOR-PSK <key id>:<signature>:<nonce>:<timestamp>`.
 *
 * The signature is base64(HMAC-SHA512(key, message)), where the key is the UTF-8 bytes of
 * the secret (never base64-decoded) and the message is the concatenation
 * `key id + METHOD + path + nonce + timestamp + body part`:
 *
 * - `METHOD` is upper-cased; it must be an HTTP method token.
 * - `path` is the path only: a full URL or a path with a query or fragment is cut to its
 *   path (`https://api.armor.com/accounts/2?x=1#f` → `/accounts/2`), with dot segments
 *   resolved and characters percent-encoded as `fetch` sends them.
 * - `timestamp` is whole Unix seconds, written in decimal.
 * - The body part is empty without a body. With a body it is, by the key's
 *   `bodySigning`, the body's exact bytes (`"raw"`, the default: Armor's ARMOR-PSK
 *   contract and knowledge base) or base64(SHA-512(body bytes)) (`"sha512"`: a
 *   third-party Go client's form). A string body is its UTF-8 bytes, as `fetch` sends
 *   it; an empty body (`""` or zero bytes) counts as no body. Sign the exact bytes you
 *   send.
 *
 * Send `X-Account-Context` beside it, as with a session. Every request needs a header of
 * its own: the nonce must not repeat, and the timestamp must be within five minutes of
 * Armor's clock.
 *
 * The key is imported once (a few are kept, by key id) and the secret never appears in
 * the header, in an error or in anything printable. To pin one key, use
 * {@linkcode armorPskSigner}.
 *
 * @param key The API key: its id and secret.
 * @param request The request to sign.
 * @returns A promise of the header value.
 * @throws {TypeError} (as a rejection) When the key or the request breaks a rule above:
 * an empty id or one with a colon, space or non-ASCII character; an empty or blank
 * secret; a `bodySigning` other than `"raw"` or `"sha512"`; a method that is not an HTTP token; a path that is neither a path starting
 * with `/` nor an http(s) URL; a nonce that is empty, longer than
 * {@linkcode MAX_NONCE_LENGTH} or has a colon or a space; a timestamp that is not whole
 * non-negative seconds (milliseconds are refused); a body that is not a string or bytes.
 * The message names the rule, never the value.
 * @throws {RangeError} (as a rejection) When the secret is longer than 8192 characters.
 *
 * @example The header for a GET, with a fixed nonce and timestamp
 * ```ts
 * import { armorPskAuthorization } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * const header = await armorPskAuthorization(
 *   { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "my-secret-key" },
 *   { method: "get", path: "https://api.armor.com/me?x=1", nonce: "8jbj872s2h", timestamp: 1528140529 },
 * );
 * assert.equal(
 *   header,
 *   "ARMOR-PSK 20a37099-4a0b-432f-bf46-5fa690a0405c:" +
 *     "6+2+BeBa5QTDmkuPuy0BtILPF1yo7nJsHJDEqzyTAHMf5YCBKEYXwVNoTQMjLILXDG+CU/3MtDmm5IJc4uAZTA==" +
 *     ":8jbj872s2h:1528140529",
 * );
 * ```
 *
 * @example A POST with a body: sign the bytes you send
 * ```ts
 * import { armorPskAuthorization } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * const key = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "my-secret-key" };
 * const body = JSON.stringify({ note: "hello" });
 * const authorization = await armorPskAuthorization(key, {
 *   method: "POST",
 *   path: "/accounts/2/notes",
 *   body,
 * });
 * const request = new Request("https://api.armor.com/accounts/2/notes", {
 *   method: "POST",
 *   headers: { authorization, "x-account-context": "2", "content-type": "application/json" },
 *   body,
 * });
 * // A fresh nonce (32 hex digits) and the current time in seconds.
 * assert.match(
 *   request.headers.get("authorization")!,
 *   /^ARMOR-PSK 20a37099-4a0b-432f-bf46-5fa690a0405c:[A-Za-z0-9+\/]{86}==:[0-9a-f]{32}:\d+$/,
 * );
 * ```
 *
 * @example Mistakes are refused without showing the secret
 * ```ts
 * import { armorPskAuthorization } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   armorPskAuthorization({ id: "my-key-id", secret: "my-secret-key" }, {
 *     method: "GET",
 *     path: "/me",
 *     timestamp: Date.now(), // milliseconds, not seconds
 *   }),
 *   (error: TypeError) => !error.message.includes("my-secret-key"),
 * );
 * ```
 */
export async function armorPskAuthorization(
  key: ArmorApiKey,
  request: ArmorPskRequest,
): Promise<string> {
  const { id, secret, bodySigning } = checkKey(key);
  return await signWith(importedFor(id, secret), bodySigning, request);
}

/**
 * A function that signs requests with one API key, imported once: the same header as
 * {@linkcode armorPskAuthorization}, without looking the key up on each call.
 *
 * The key is checked and copied now (changing `key` later does not change the signer);
 * the secret is imported as a non-extractable `CryptoKey` on the first call and kept only
 * in the signer's closure, which nothing prints.
 *
 * @param key The API key: its id and secret.
 * @returns A function from a request to a promise of its `Authorization` header value.
 * @throws {TypeError} When the key id, secret or `bodySigning` breaks the rules of
 * {@linkcode armorPskAuthorization}; the message never shows the secret.
 * @throws {RangeError} When the secret is longer than 8192 characters.
 *
 * @example Import the key once, sign many requests
 * ```ts
 * import { armorPskSigner } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * const sign = armorPskSigner({ id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "my-secret-key" });
 * const first = await sign({ method: "GET", path: "/me" });
 * const second = await sign({ method: "GET", path: "/me" });
 * assert.notEqual(first, second); // each has its own nonce
 * assert.equal(
 *   await sign({ method: "GET", path: "/me", nonce: "8jbj872s2h", timestamp: 1528140529 }),
 *   "ARMOR-PSK 20a37099-4a0b-432f-bf46-5fa690a0405c:" +
 *     "6+2+BeBa5QTDmkuPuy0BtILPF1yo7nJsHJDEqzyTAHMf5YCBKEYXwVNoTQMjLILXDG+CU/3MtDmm5IJc4uAZTA==" +
 *     ":8jbj872s2h:1528140529",
 * );
 * assert.equal(String(sign).includes("my-secret-key"), false);
 * ```
 */
export function armorPskSigner(
  key: ArmorApiKey,
): (request: ArmorPskRequest) => Promise<string> {
  const { id, secret, bodySigning } = checkKey(key);
  const imported = new ImportedKey(id, secret);
  return (request) => signWith(imported, bodySigning, request);
}

// ---- the signature -------------------------------------------------------------------

const encoder = new TextEncoder();

/** Signs `request` with an imported key; every argument error is a rejection. */
async function signWith(
  imported: ImportedKey,
  bodySigning: BodySigning,
  request: ArmorPskRequest,
): Promise<string> {
  if (typeof request !== "object" || request === null) {
    throw new TypeError(`request must be an object with method and path, got ${describe(request)}`);
  }
  const method = methodOf(request.method);
  const path = signedPath(request.path);
  const nonce = request.nonce === undefined ? newNonce() : checkNonce(request.nonce);
  const timestamp = request.timestamp === undefined
    ? Math.floor(Date.now() / 1000)
    : checkTimestamp(request.timestamp);
  const body = bodyOf(request.body);
  const subtle = webCrypto().subtle;
  // Every part before the body is ASCII (checked above): its UTF-8 bytes are its characters.
  const head = imported.id + method + path + nonce + timestamp;
  let hmac: CryptoKey;
  let message: Uint8Array<ArrayBuffer>;
  if (body === undefined) {
    hmac = imported.key ?? await imported.import();
    message = encoder.encode(head);
  } else if (bodySigning === "raw") {
    hmac = imported.key ?? await imported.import();
    // Concatenated as bytes: the body is signed exactly as sent, whatever its encoding.
    const prefix = encoder.encode(head);
    message = new Uint8Array(prefix.byteLength + body.byteLength);
    message.set(prefix, 0);
    message.set(body, prefix.byteLength);
  } else {
    // Both at once; awaiting them together also leaves no rejection unhandled.
    const [key, digest] = await Promise.all([
      imported.key ?? imported.import(),
      subtle.digest("SHA-512", body),
    ]);
    hmac = key;
    message = encoder.encode(head + base64(digest));
  }
  const signature = await subtle.sign("HMAC", hmac, message);
  return `ARMOR-PSK ${imported.id}:${base64(signature)}:${nonce}:${timestamp}`;
}

/** Standard base64 (with padding) of a signature or digest. */
function base64(buffer: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

/** The global Web Crypto, with a message saying what to do where it is missing. */

// ---- imported keys -------------------------------------------------------------------

/**
 * A key id with its secret, imported as a non-extractable HMAC-SHA512 `CryptoKey` on
 * first use. The secret sits in a private field, which no printer or serializer shows.
 */
class ImportedKey {
  readonly id: string;
  /** The imported key, once its import has finished. */
  key: CryptoKey | undefined;
  #secret: string;
  #pending: Promise<CryptoKey> | undefined;

  constructor(id: string, secret: string) {
    this.id = id;
    this.#secret = secret;
  }

  /** True when this entry holds `secret`. */
  holds(secret: string): boolean {
    return this.#secret === secret;
  }

  /** Imports the key, once; a failed import is tried again on the next call. */
  import(): Promise<CryptoKey> {
    this.#pending ??= webCrypto().subtle.importKey(
      "raw",
      encoder.encode(this.#secret),
      { name: "HMAC", hash: "SHA-512" },
      false,
      ["sign"],
    ).then(
      (key) => (this.key = key),
      (error) => {
        this.#pending = undefined;
        throw error;
      },
    );
    return this.#pending;
  }
}

/** The keys {@linkcode armorPskAuthorization} has imported, by key id, oldest first. */
const imported = new Map<string, ImportedKey>();

/** The imported key for this id and secret, made (and the oldest dropped) if need be. */
function importedFor(id: string, secret: string): ImportedKey {
  const found = imported.get(id);
  if (found !== undefined) {
    if (found.holds(secret)) return found;
    imported.delete(id); // The same id with another secret: a typo, or a new key.
  } else if (imported.size >= KEYS_KEPT) {
    imported.delete(imported.keys().next().value!);
  }
  const entry = new ImportedKey(id, secret);
  imported.set(id, entry);
  return entry;
}
