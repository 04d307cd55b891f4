/**
 * Encryption at rest for any token store.
 *
 * @module
 */

import { log } from "./_http.ts";
import { isRecord } from "./_validate.ts";
import type { ArmorStoredSession, ArmorStoreEntry, ArmorTokenStore } from "./token_store.ts";
import type { ArmorLogger } from "./types.ts";

/** A secret keys are derived from: a string of at least 32 characters, or 32 bytes. */
type ArmorStoreSecret = string | Uint8Array;

/**
 * Options of {@linkcode encryptTokenStore}.
 *
 * @example
 * ```ts
 * import type { EncryptTokenStoreOptions } from "@armor-api/auth";
 * const options: EncryptTokenStoreOptions = { logger: (record) => console.warn(record) };
 * ```
 */
export interface EncryptTokenStoreOptions {
  /**
   * Told `{ event: "error", code: "STORE" }` each time a stored value fails to decrypt
   * (tampered with, written under another secret, or not encrypted) and is read as
   * absent. The `logger` of the session that read it is told too (once, when it is
   * the same function); this one also hears of reads made without a session.
   */
  logger?: ArmorLogger;
}

/** The shortest secret accepted, in characters or bytes. */
const MIN_SECRET = 32;
/** The longest secret accepted, in characters or bytes: more adds nothing. */
const MAX_SECRET = 8192;

const LABEL = "armor-api-auth token store v1";
const SALT = "armor-api-auth/encrypt-token-store";
const MOVED = "\u0000moved:";
/** How many store keys each secret remembers the HMAC of. */
const NAME_CACHE = 1_024;

const utf8 = new TextEncoder();

/** The keys derived from one secret. */
interface Keyring {
  /** The key id stored with each value: the first 9 bytes of an HMAC of a fixed label. */
  kid: string;
  aes: CryptoKey;
  mac: CryptoKey;
  /** Store keys already turned into their HMAC. */
  names: Map<string, string>;
}

/** The last sealed value seen under a stored key, and its plaintext JSON. */
interface Opened {
  iv: string;
  ct: string;
  kid: string;
  until: number;
  json: string;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The secrets, checked and copied as bytes; the message never shows a secret. */
function checkSecrets(secret: unknown): Uint8Array<ArrayBuffer>[] {
  const what = `at least ${MIN_SECRET} characters or ${MIN_SECRET} bytes`;
  const one = (value: unknown, name: string): Uint8Array<ArrayBuffer> => {
    if (typeof value === "string") {
      if (value.length < MIN_SECRET || value.length > MAX_SECRET) {
        throw new TypeError(
          `${name} must be ${what} long (e.g. from openssl rand -base64 32), got ${value.length} characters`,
        );
      }
      return utf8.encode(value);
    }
    if (value instanceof Uint8Array) {
      if (value.byteLength < MIN_SECRET || value.byteLength > MAX_SECRET) {
        throw new TypeError(`${name} must be ${what} long, got ${value.byteLength} bytes`);
      }
      return new Uint8Array(value);
    }
    throw new TypeError(
      `${name} must be a string of ${what}, or a Uint8Array of at least ${MIN_SECRET} bytes`,
    );
  };
  if (Array.isArray(secret)) {
    if (secret.length === 0) {
      throw new TypeError("secret must be a secret or a non-empty array of secrets, newest first");
    }
    return secret.map((value, i) => one(value, `secret[${i}]`));
  }
  return [one(secret, "secret")];
}

async function deriveKeyring(secret: Uint8Array<ArrayBuffer>): Promise<Keyring> {
  const base = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  secret.fill(0); // only the non-extractable key is kept
  const hkdf = (info: string) => ({
    name: "HKDF",
    hash: "SHA-256",
    salt: utf8.encode(SALT),
    info: utf8.encode(`${LABEL}: ${info}`),
  });
  const aes = await crypto.subtle.deriveKey(
    hkdf("AES-256-GCM"),
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const mac = await crypto.subtle.deriveKey(
    hkdf("HMAC-SHA-256"),
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
  const id = await crypto.subtle.sign("HMAC", mac, utf8.encode(`${LABEL}: key id`));
  return { kid: base64url(new Uint8Array(id, 0, 9)), aes, mac, names: new Map() };
}

/** What the ciphertext is bound to: the stored key, the key id and the clean-up time. */
/**
 * The opened state with the claim kept beside its ciphertext in clear (a claim holds no
 * secret), which wins over one sealed inside; the state as it is when there is none.
 */
function withClearClaim(
  state: ArmorStoredSession | undefined,
  stored: unknown,
): ArmorStoredSession | undefined {
  const claim = isRecord(stored) ? stored.claim : undefined;
  if (state === undefined || !isRecord(claim)) return state;
  return { ...state, claim: claim as ArmorStoredSession["claim"] };
}

function additionalData(name: string, kid: string, until: number): Uint8Array<ArrayBuffer> {
  return utf8.encode(`${LABEL}\u0000${name}\u0000${kid}\u0000${until}`);
}

/**
 * Wraps any {@linkcode ArmorTokenStore} (memory, Deno KV, Redis, a file) so that it holds
 * no token and no user name in clear: a leaked dump of the store gives an attacker
 * nothing to use.
 *
 * - Each value is encrypted with AES-256-GCM (Web Crypto; a fresh 96-bit IV each write)
 *   under a key derived from `secret` with HKDF-SHA-256, and stored as an opaque
 *   `{ sealed: { v: 1, kid, iv, ct, until } }` that every store keeps unchanged. `until`
 *   is when its token (or claim) ends, so the store can still clean up.
 * - The store key (which names the server and the user) is replaced by its
 *   HMAC-SHA-256 under another derived key, in base64url.
 * - The ciphertext is bound to that key: a value copied under another key, changed, or
 *   written with another secret fails to decrypt. Such a value (or one stored without
 *   encryption) is read as absent (reported to `options.logger` and to the reading
 *   session's `logger`), never adopted and
 *   never an error, and a login overwrites it: a wrong secret costs one fresh login,
 *   not an error loop.
 * - Versions pass through: the check-and-set works as the wrapped store's does.
 * - To rotate the secret, give `[newSecret, oldSecret]`: values written with either are
 *   read, and every write uses the first. Once every process has the new secret (and a
 *   renewal or two has rewritten the stored login), drop the old one.
 *
 * The keys are derived once per wrapper, at its first use; each read or write then costs
 * one AES-GCM operation (plus one HMAC the first time a key is seen).
 *
 * @param store The store to wrap.
 * @param secret The secret, or several (newest first) while rotating; at least 32
 *   characters or bytes each.
 * @param options A logger told about values that fail to decrypt.
 * @returns A store with the same check-and-set semantics, encrypted at rest.
 * @throws {TypeError} If a secret is missing or shorter than 32 characters or bytes (the
 *   message never shows it), or `store` is not a token store.
 *
 * @example Encrypt a Deno KV store on Deno Deploy, the secret in the app's settings
 * ```ts ignore
 * import { ArmorSession, encryptTokenStore, KvTokenStore } from "@armor-api/auth";
 *
 * const store = encryptTokenStore(
 *   new KvTokenStore(await Deno.openKv()),
 *   Deno.env.get("ARMOR_STORE_SECRET")!,
 * );
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 *   store,
 * });
 * ```
 *
 * @example What the wrapped store holds
 * ```ts
 * import assert from "node:assert/strict";
 * import { encryptTokenStore, MemoryTokenStore } from "@armor-api/auth";
 *
 * const inner = new MemoryTokenStore();
 * const store = encryptTokenStore(inner, "a secret of at least 32 characters!!");
 * const token = { accessToken: "0123456789abcdef0123456789abcdef", issuedAt: 0, expiresAt: 1 };
 * const version = await store.set("https://api.armor.com/#demo@example.com", { token }, null);
 * assert.deepEqual(
 *   await store.get("https://api.armor.com/#demo@example.com"),
 *   { value: { token }, version },
 * );
 * assert.equal(await inner.get("https://api.armor.com/#demo@example.com"), undefined);
 * ```
 *
 * @example Rotate the secret
 * ```ts ignore
 * import { encryptTokenStore, KvTokenStore } from "@armor-api/auth";
 *
 * const store = encryptTokenStore(new KvTokenStore(await Deno.openKv()), [
 *   Deno.env.get("ARMOR_STORE_SECRET")!, // the new one: every write uses it
 *   Deno.env.get("ARMOR_STORE_SECRET_OLD")!, // still read
 * ]);
 * ```
 */
export function encryptTokenStore(
  store: ArmorTokenStore,
  secret: string | Uint8Array | readonly (string | Uint8Array)[],
  options: EncryptTokenStoreOptions = {},
): ArmorTokenStore {
  const inner = store as Partial<ArmorTokenStore> | null;
  if (typeof inner?.get !== "function" || typeof inner?.set !== "function") {
    throw new TypeError("store must be an ArmorTokenStore (get and set)");
  }
  const opts: unknown = options;
  if (!isRecord(opts)) throw new TypeError("options must be an object");
  if (opts.logger !== undefined && typeof opts.logger !== "function") {
    throw new TypeError("logger must be a function");
  }
  return new EncryptedTokenStore(store, checkSecrets(secret), opts.logger as ArmorLogger);
}

/** The store {@linkcode encryptTokenStore} returns. */
class EncryptedTokenStore implements ArmorTokenStore {
  readonly #inner: ArmorTokenStore;
  readonly #logger?: ArmorLogger;
  #secrets?: Uint8Array<ArrayBuffer>[];
  #keyrings?: Promise<Keyring[]>;
  /**
   * By stored key, the last value this wrapper wrote or decrypted there: reading the very
   * same ciphertext again (a renewal reads back what this session wrote) needs no
   * decryption. Bounded like the names.
   */
  readonly #opened = new Map<string, Opened>();

  constructor(inner: ArmorTokenStore, secrets: Uint8Array<ArrayBuffer>[], logger?: ArmorLogger) {
    this.#inner = inner;
    this.#secrets = secrets;
    this.#logger = logger;
  }

  /** The keys, derived once, at first use; the secrets' bytes are then wiped. */
  #rings(): Promise<Keyring[]> {
    if (this.#keyrings === undefined) {
      const secrets = this.#secrets!;
      this.#secrets = undefined;
      this.#keyrings = Promise.all(secrets.map(deriveKeyring));
    }
    return this.#keyrings;
  }

  async #name(ring: Keyring, key: string): Promise<string> {
    let name = ring.names.get(key);
    if (name === undefined) {
      const mac = await crypto.subtle.sign(
        "HMAC",
        ring.mac,
        utf8.encode(`${LABEL}: key\u0000${key}`),
      );
      name = base64url(new Uint8Array(mac));
      if (ring.names.size >= NAME_CACHE) ring.names.clear();
      ring.names.set(key, name);
    }
    return name;
  }

  async #seal(value: ArmorStoredSession, name: string, ring: Keyring): Promise<ArmorStoredSession> {
    const ends = Math.max(value.token?.expiresAt ?? 0, value.claim?.until ?? 0);
    const until = Number.isFinite(ends) ? ends : 0;
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const json = JSON.stringify(value);
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(name, ring.kid, until) },
      ring.aes,
      utf8.encode(json),
    );
    const sealed = {
      v: 1 as const,
      kid: ring.kid,
      iv: base64url(iv),
      ct: base64url(new Uint8Array(ct)),
      until,
    };
    this.#remember(name, { iv: sealed.iv, ct: sealed.ct, kid: ring.kid, until, json });
    return { sealed };
  }

  /**
   * The very state this wrapper last sealed or opened under `name`, with or without a
   * claim (who logs in or renews, and until when: no secret): the same ciphertext, the
   * claim beside it in clear. A renewal's claim, and a claim given back, then cost no
   * encryption; only a new token does. `undefined` when `value` is anything else.
   */
  #reuse(value: ArmorStoredSession, name: string, ring: Keyring): ArmorStoredSession | undefined {
    const { claim, ...rest } = value;
    const known = this.#opened.get(name);
    if (known === undefined || known.kid !== ring.kid) return undefined;
    if (JSON.stringify(rest) !== known.json) return undefined;
    const { iv, ct, kid, until } = known;
    const sealed = { v: 1 as const, kid, iv, ct, until };
    return claim === undefined ? { sealed } : { sealed, claim };
  }

  #remember(name: string, opened: Opened): void {
    if (this.#opened.size >= NAME_CACHE && !this.#opened.has(name)) this.#opened.clear();
    this.#opened.set(name, opened);
  }

  /** The decrypted state, or `undefined` when `value` is not one this wrapper can open. */
  async #open(
    value: unknown,
    name: string,
    rings: Keyring[],
  ): Promise<ArmorStoredSession | undefined> {
    const sealed = isRecord(value) ? value.sealed : undefined;
    if (!isRecord(sealed) || sealed.v !== 1) return undefined;
    const { kid, iv, ct, until } = sealed;
    if (typeof kid !== "string" || typeof until !== "number" || typeof ct !== "string") {
      return undefined;
    }
    const known = this.#opened.get(name);
    if (
      known !== undefined && known.ct === ct && known.iv === iv && known.kid === kid &&
      known.until === until
    ) {
      return JSON.parse(known.json); // the very value this wrapper wrote or opened here
    }
    const ring = rings.find((ring) => ring.kid === kid);
    const ivBytes = typeof iv === "string" ? fromBase64url(iv) : undefined;
    const ctBytes = fromBase64url(ct);
    if (ring === undefined || ivBytes?.length !== 12 || ctBytes === undefined) return undefined;
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: ivBytes, additionalData: additionalData(name, kid, until) },
        ring.aes,
        ctBytes,
      );
      const json = new TextDecoder().decode(plain);
      const state: unknown = JSON.parse(json);
      if (!isRecord(state)) return undefined;
      this.#remember(name, { iv: iv as string, ct, kid, until, json });
      return state as ArmorStoredSession;
    } catch {
      return undefined;
    }
  }

  /** Tells the wrapper's logger, and the reading session's (once, if it is the same). */
  #undecryptable(context: unknown): void {
    log(this.#logger, { event: "error", code: "STORE" });
    const logger = isRecord(context) ? context.logger : undefined;
    if (typeof logger === "function" && logger !== this.#logger) {
      log(logger as ArmorLogger, { event: "error", code: "STORE" });
    }
  }

  /**
   * Reads and decrypts a key. A value that does not decrypt reads as an empty state with
   * its version, so that a check-and-set can replace it.
   *
   * @param key The key, as the session names it.
   * @param context The reading session's `logger`, also told of a value that does not
   *   decrypt (and passed on to the wrapped store).
   * @returns The entry, or `undefined`.
   */
  async get(
    key: string,
    context?: { logger?: ArmorLogger },
  ): Promise<ArmorStoreEntry | undefined> {
    const rings = await this.#rings();
    for (const [i, ring] of rings.entries()) {
      const name = await this.#name(ring, key);
      const entry =
        await (context === undefined ? this.#inner.get(name) : this.#inner.get(name, context));
      if (entry === undefined) continue; // look under an older secret's key
      const value = withClearClaim(await this.#open(entry.value, name, rings), entry.value);
      if (i === 0) {
        if (value === undefined) this.#undecryptable(context);
        return { value: value ?? {}, version: entry.version };
      }
      if (value === undefined) {
        this.#undecryptable(context);
        continue;
      }
      // Found under an older secret's key: the next write moves it under the newest.
      return { value, version: `${MOVED}${i}:${entry.version}` };
    }
    return undefined;
  }

  /**
   * Encrypts and writes a key, with the wrapped store's check-and-set.
   *
   * @param key The key, as the session names it.
   * @param value The new state, or `undefined` to delete.
   * @param version The version read before, or `null` for "absent".
   * @returns The new version when it wrote (`""` after a delete), else `null`.
   */
  async set(
    key: string,
    value: ArmorStoredSession | undefined,
    version: string | null,
  ): Promise<string | null> {
    const rings = await this.#rings();
    const name = await this.#name(rings[0], key);
    if (version !== null && version.startsWith(MOVED)) {
      const moved = /^(\d+):([\s\S]*)$/.exec(version.slice(MOVED.length));
      const ring = moved === null ? undefined : rings[Number(moved[1])];
      if (moved === null || ring === undefined || ring === rings[0]) return null;
      const oldName = await this.#name(ring, key);
      if (value === undefined) return await this.#inner.set(oldName, undefined, moved[2]);
      const written = await this.#inner.set(name, await this.#seal(value, name, rings[0]), null);
      if (written !== null) {
        try {
          await this.#inner.set(oldName, undefined, moved[2]);
        } catch {
          // The old copy expires by itself.
        }
      }
      return written;
    }
    const sealed = value === undefined
      ? undefined
      : (this.#reuse(value, name, rings[0]) ?? await this.#seal(value, name, rings[0]));
    return await this.#inner.set(name, sealed, version);
  }

  /**
   * Hides the keys and the wrapped store from `Deno.inspect`.
   *
   * @ignore
   */
  [Symbol.for("Deno.customInspect")](): string {
    return "EncryptedTokenStore {}";
  }
}
