// ARMOR-PSK: checking the signed Authorization header of an API-key request, with Web
// Crypto. Written from armor-api.md, independently of the client's signing code.
import type { MockApiKey } from "./_types.ts";
import { toBase64 } from "./_random.ts";

/** How far a timestamp may be from the server's clock, and how long a nonce is remembered. */
export const PSK_WINDOW_MS = 5 * 60_000;

const HEADER = /^ARMOR-PSK +(\S+)\s*$/i;
const NONCE = /^[^:\s]{1,128}$/;
const TIMESTAMP = /^\d{1,12}$/;
const encoder = new TextEncoder();

/** How a key's request bodies are signed (see {@linkcode MockApiKey.bodySigning}). */
export type BodySigning = "raw" | "sha512";

/** An API key bound to its user. */
export interface KeyProfile {
  id: string;
  secret: string;
  username: string;
  bodySigning: BodySigning;
}

/**
 * Binds API keys to their users; a key without a username belongs to the first user.
 *
 * @throws {TypeError} If a key is malformed, repeated or names an unknown user
 */
export function keyProfiles(
  keys: readonly MockApiKey[],
  users: ReadonlyMap<string, unknown>,
): Map<string, KeyProfile> {
  const profiles = new Map<string, KeyProfile>();
  const firstUser = users.keys().next().value;
  for (const key of keys) {
    if (typeof key.id !== "string" || !/^[^:\s]+$/.test(key.id)) {
      throw new TypeError("API key ids must be non-empty strings without colons or spaces");
    }
    if (typeof key.secret !== "string" || key.secret === "") {
      throw new TypeError(`API key ${key.id} has no secret: give it a non-empty secret`);
    }
    if (profiles.has(key.id)) {
      throw new TypeError(`Duplicate API key id ${key.id}: give each key its own id`);
    }
    const username = key.username ?? firstUser;
    if (username === undefined || !users.has(username)) {
      throw new TypeError(
        `API key ${key.id} belongs to an unknown user: add the user to users or name one`,
      );
    }
    const { bodySigning = "raw" } = key;
    if (bodySigning !== "raw" && bodySigning !== "sha512") {
      throw new TypeError(
        `API key ${key.id} has an unknown bodySigning: use "raw" or "sha512"`,
      );
    }
    profiles.set(key.id, { id: key.id, secret: key.secret, username, bodySigning });
  }
  return profiles;
}

/** Why a key-signed request was refused: an OpenAPI-style code and a message. */
export interface PskFailure {
  error:
    | "invalid_token"
    | "unknown_key"
    | "invalid_signature"
    | "stale_timestamp"
    | "replayed_nonce";
  description: string;
}

/** The request facts a signature covers. */
export interface SignedRequest {
  method: string;
  /** The URL path as sent, without the query, percent-encoding kept. */
  path: string;
  /** The body bytes; `undefined` or empty for a request without a body. */
  body: Uint8Array<ArrayBuffer> | undefined;
}

/** Tells whether an Authorization header uses the ARMOR-PSK scheme. */
export function isPskHeader(header: string): boolean {
  return /^ARMOR-PSK(\s|$)/i.test(header);
}

/**
 * Checks ARMOR-PSK headers against a set of keys, remembering each nonce for as long as a
 * header carrying it could still be accepted, so that none is accepted twice.
 */
export class PskVerifier {
  #keys: ReadonlyMap<string, KeyProfile>;
  #cryptoKeys = new Map<string, Promise<CryptoKey>>();
  /**
   * `keyId:nonce` → until when (mock clock) it is remembered: 5 minutes past the later of
   * its timestamp and the time it was accepted, since a timestamp up to 5 minutes ahead of
   * the clock is accepted.
   */
  #nonces = new Map<string, number>();
  /** How many nonces were kept after the last sweep; the next sweep comes at twice that. */
  #swept = 0;

  constructor(keys: ReadonlyMap<string, KeyProfile>) {
    this.#keys = keys;
  }

  /**
   * Verifies one request's `Authorization: ARMOR-PSK <id>:<signature>:<nonce>:<timestamp>`.
   *
   * @param header The Authorization header
   * @param request The method, path and body the signature must cover
   * @param now The server's time in milliseconds
   * @returns The key that signed the request, or why it was refused
   */
  async verify(
    header: string,
    request: SignedRequest,
    now: number,
  ): Promise<KeyProfile | PskFailure> {
    const parts = HEADER.exec(header)?.[1].split(":");
    if (parts === undefined || parts.length !== 4 || parts.some((part) => part === "")) {
      return {
        error: "invalid_token",
        description: "The ARMOR-PSK header must be <key id>:<signature>:<nonce>:<timestamp>",
      };
    }
    const [keyId, signature, nonce, timestamp] = parts;
    if (!NONCE.test(nonce) || !TIMESTAMP.test(timestamp)) {
      return {
        error: "invalid_token",
        description:
          "The ARMOR-PSK nonce must be at most 128 characters without colons and the timestamp Unix seconds",
      };
    }
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      return { error: "unknown_key", description: "The API key is unknown or revoked" };
    }
    const expected = await this.#sign(key, request, nonce, timestamp);
    if (!sameText(expected, signature)) {
      return { error: "invalid_signature", description: "Signature does not match key" };
    }
    if (Math.abs(now - Number(timestamp) * 1000) > PSK_WINDOW_MS) {
      return {
        error: "stale_timestamp",
        description: "The timestamp is more than 5 minutes from the server's clock",
      };
    }
    const id = `${keyId}:${nonce}`;
    const until = this.#nonces.get(id);
    if (until !== undefined && now <= until) {
      return { error: "replayed_nonce", description: "The nonce was already used" };
    }
    this.#nonces.set(id, Math.max(now, Number(timestamp) * 1000) + PSK_WINDOW_MS);
    if (this.#nonces.size > Math.max(64, 2 * this.#swept)) this.#sweep(now);
    return key;
  }

  /** Forgets every nonce seen. */
  clear(): void {
    this.#nonces.clear();
    this.#swept = 0;
  }

  async #sign(
    key: KeyProfile,
    request: SignedRequest,
    nonce: string,
    timestamp: string,
  ): Promise<string> {
    let cryptoKey = this.#cryptoKeys.get(key.id);
    if (cryptoKey === undefined) {
      cryptoKey = crypto.subtle.importKey(
        "raw",
        encoder.encode(key.secret),
        { name: "HMAC", hash: "SHA-512" },
        false,
        ["sign"],
      );
      this.#cryptoKeys.set(key.id, cryptoKey);
    }
    const head = encoder.encode(
      key.id + request.method.toUpperCase() + request.path + nonce + timestamp,
    );
    const body = request.body ?? new Uint8Array(0);
    // "raw": the body bytes as sent (Armor's OpenAPI contract and knowledge base);
    // "sha512": base64(SHA-512(body bytes)) in their place (a community Go client).
    const bodyPart = body.length === 0
      ? new Uint8Array(0)
      : key.bodySigning === "raw"
      ? body
      : encoder.encode(toBase64(new Uint8Array(await crypto.subtle.digest("SHA-512", body))));
    const message = new Uint8Array(head.length + bodyPart.length);
    message.set(head);
    message.set(bodyPart, head.length);
    const mac = await crypto.subtle.sign("HMAC", await cryptoKey, message);
    return toBase64(new Uint8Array(mac));
  }

  /** Drops the nonces no longer remembered at `now`. */
  #sweep(now: number): void {
    for (const [id, until] of this.#nonces) {
      if (now > until) this.#nonces.delete(id);
    }
    this.#swept = this.#nonces.size;
  }
}

/** Compares two strings in time that depends only on their lengths. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
