/**
 * Where a session keeps its state, so that several sessions (in one isolate or in many)
 * can share one login and renew once between them.
 *
 * @module
 */

import type { ArmorIdentity } from "./identity.ts";
import type { ArmorLogger } from "./types.ts";
import {
  KV_BUSY_ATTEMPTS,
  KV_BUSY_BACKOFF_MS,
  KV_KEEP_AFTER_MS,
  KV_KEEP_MAX_MS,
} from "./renewal.ts";

/**
 * The shared state of a login, as a store keeps it.
 *
 * `token` is the live token; `claim` says that one session is logging in or renewing
 * and the others should wait for it until `claim.until`. Times are epoch milliseconds.
 *
 * @example
 * ```ts
 * import type { ArmorStoredSession } from "@armor-api/auth";
 * const state: ArmorStoredSession = {
 *   token: { accessToken: "0123456789abcdef0123456789abcdef", issuedAt: 0, expiresAt: 900_000 },
 * };
 * ```
 */
export interface ArmorStoredSession {
  /** The current token, if any. */
  token?: { accessToken: string; issuedAt: number; expiresAt: number };
  /** The identity read from `GET /me` at login. */
  identity?: ArmorIdentity;
  /** A login or renewal in progress. */
  claim?: { owner: string; purpose: "login" | "renew"; until: number };
  /**
   * Who logged in: the user name and a salted PBKDF2 verifier of the password, so that a
   * later `connect` reuses this login only with the same credentials. Never the password.
   */
  login?: { username: string; salt: string; verifier: string };
  /** The base URL of the server the token belongs to. */
  server?: string;
  /** Exactly the user name the token belongs to. */
  username?: string;
  /**
   * True when `identity` holds the user name only (the whole of it was too large for a
   * store value); a session that adopts this login reads `GET /me` itself.
   */
  identityTrimmed?: boolean;
  /**
   * An encrypted state, as `encryptTokenStore` writes it in place of all the fields
   * above: opaque to every store, which keeps it unchanged. `until` (epoch ms, by the
   * writing session's clock) is when its token or claim ends, for the store's clean-up.
   */
  sealed?: { v: 1; kid: string; iv: string; ct: string; until: number };
}

/**
 * A stored value and its version, which {@linkcode ArmorTokenStore.set} checks.
 *
 * @example
 * ```ts
 * import type { ArmorStoreEntry } from "@armor-api/auth";
 * const entry: ArmorStoreEntry = { value: {}, version: "1" };
 * ```
 */
export interface ArmorStoreEntry {
  /** The stored state. */
  value: ArmorStoredSession;
  /** An opaque version that changes with every write. */
  version: string;
}

/**
 * A key-value store with an atomic check-and-set: all a session needs to share its state.
 *
 * @example A store that logs every write
 * ```ts
 * import { type ArmorTokenStore, MemoryTokenStore } from "@armor-api/auth";
 *
 * const inner = new MemoryTokenStore();
 * const logged: ArmorTokenStore = {
 *   get: (key) => inner.get(key),
 *   set: (key, value, version) => {
 *     console.log("write", key); // never log `value`: it holds the token
 *     return inner.set(key, value, version);
 *   },
 * };
 * ```
 */
export interface ArmorTokenStore {
  /**
   * Reads a key.
   *
   * @param key The key.
   * @param context What the reading session offers, when it has it: its `logger`, for a
   *   store with something to report (`encryptTokenStore` tells it of a value that does
   *   not decrypt). Optional; most stores ignore it.
   * @returns The entry, or `undefined` when there is none.
   */
  get(key: string, context?: { logger?: ArmorLogger }): Promise<ArmorStoreEntry | undefined>;
  /**
   * Writes `value` (or deletes the key for `undefined`) only if the key's version is
   * still `version` (`null`: the key must not exist).
   *
   * @param key The key.
   * @param value The new state, or `undefined` to delete it.
   * @param version The version read before, or `null` for "absent".
   * @returns The new version when it wrote (`""` after a delete), else `null`.
   */
  set(
    key: string,
    value: ArmorStoredSession | undefined,
    version: string | null,
  ): Promise<string | null>;
}

/**
 * A token store in memory: the default, private to each session unless shared.
 * Sessions of one isolate that share one instance share one login.
 *
 * @example Two sessions, one login
 * ```ts
 * import { ArmorSession, MemoryTokenStore } from "@armor-api/auth";
 *
 * const store = new MemoryTokenStore();
 * const a = new ArmorSession({ store });
 * const b = new ArmorSession({ store });
 * await a.load();
 * await b.load();
 * ```
 */
export class MemoryTokenStore implements ArmorTokenStore {
  readonly #entries = new Map<string, ArmorStoreEntry>();
  #counter = 0;

  /**
   * Reads a key.
   *
   * @param key The key.
   * @returns The entry, or `undefined`.
   */
  get(key: string): Promise<ArmorStoreEntry | undefined> {
    const entry = this.#entries.get(key);
    return Promise.resolve(
      entry === undefined
        ? undefined
        : { value: structuredClone(entry.value), version: entry.version },
    );
  }

  /**
   * Check-and-set, as {@linkcode ArmorTokenStore.set} describes.
   *
   * @param key The key.
   * @param value The new state, or `undefined` to delete.
   * @param version The expected version, or `null` for "absent".
   * @returns The new version when it wrote (`""` after a delete), else `null`.
   */
  set(
    key: string,
    value: ArmorStoredSession | undefined,
    version: string | null,
  ): Promise<string | null> {
    const current = this.#entries.get(key);
    if ((current?.version ?? null) !== version) return Promise.resolve(null);
    if (value === undefined) {
      this.#entries.delete(key);
      return Promise.resolve("");
    }
    const next = String(++this.#counter);
    this.#entries.set(key, { value: structuredClone(value), version: next });
    return Promise.resolve(next);
  }

  /**
   * Hides the stored tokens from `Deno.inspect`.
   *
   * @ignore
   */
  [Symbol.for("Deno.customInspect")](): string {
    return `MemoryTokenStore { keys: ${this.#entries.size} }`;
  }
}

/**
 * The part of `Deno.Kv` that {@linkcode KvTokenStore} uses, so that this module needs no
 * Deno types at run time.
 *
 * @example
 * ```ts ignore
 * import type { KvLike } from "@armor-api/auth";
 * const kv: KvLike = await Deno.openKv();
 * ```
 */
export interface KvLike {
  /** Reads a key. */
  get(key: readonly unknown[]): Promise<{ value: unknown; versionstamp: string | null }>;
  /** Starts an atomic operation: the part of `Deno.AtomicOperation` the store uses. */
  atomic(): {
    /** Adds a version check. */
    check(
      ...checks: { key: readonly unknown[]; versionstamp: string | null }[]
    ): ReturnType<KvLike["atomic"]>;
    /** Sets a key. */
    set(
      key: readonly unknown[],
      value: unknown,
      options?: { expireIn?: number },
    ): ReturnType<KvLike["atomic"]>;
    /** Deletes a key. */
    delete(key: readonly unknown[]): ReturnType<KvLike["atomic"]>;
    /** Commits. */
    commit(): Promise<{ ok: boolean; versionstamp?: string }>;
  };
}

/**
 * A token store on Deno KV. On Deno Deploy, `Deno.openKv()` is shared by every isolate
 * of the app, so every isolate's session shares one login and one renewal, made safe
 * by KV's atomic version checks. Locally, `Deno.openKv` needs `--unstable-kv`.
 *
 * KV's own expiry is approximate, so the expiry is kept in the stored value and checked
 * by the session; KV's expiry only cleans up (a day after the token's).
 *
 * @example Share a login between isolates
 * ```ts ignore
 * import { ArmorSession, KvTokenStore } from "@armor-api/auth";
 *
 * const store = new KvTokenStore(await Deno.openKv());
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 *   store,
 * });
 * ```
 */
export class KvTokenStore implements ArmorTokenStore {
  readonly #kv: KvLike;
  readonly #prefix: readonly string[];

  /**
   * Wraps a KV database.
   *
   * @param kv The database, e.g. `await Deno.openKv()`.
   * @param prefix The key prefix under which sessions are kept. Default: `["armor-api-auth"]`.
   */
  constructor(kv: KvLike, prefix: readonly string[] = ["armor-api-auth"]) {
    if (typeof kv?.get !== "function" || typeof kv?.atomic !== "function") {
      throw new TypeError("kv must be a Deno.Kv, e.g. await Deno.openKv()");
    }
    this.#kv = kv;
    this.#prefix = [...prefix];
  }

  /**
   * Reads a key.
   *
   * @param key The key.
   * @returns The entry, or `undefined`.
   */
  async get(key: string): Promise<ArmorStoreEntry | undefined> {
    const entry = await retryBusy(() => this.#kv.get([...this.#prefix, key]));
    if (entry.versionstamp === null) return undefined;
    if (typeof entry.value !== "object" || entry.value === null) {
      // Not ours: read as empty, so a check-and-set can replace it.
      return { value: {}, version: entry.versionstamp };
    }
    return { value: entry.value as ArmorStoredSession, version: entry.versionstamp };
  }

  /**
   * Check-and-set with `kv.atomic().check()`.
   *
   * @param key The key.
   * @param value The new state, or `undefined` to delete.
   * @param version The expected versionstamp, or `null` for "absent".
   * @returns The new versionstamp when it wrote (`""` after a delete), else `null`.
   */
  async set(
    key: string,
    value: ArmorStoredSession | undefined,
    version: string | null,
  ): Promise<string | null> {
    const kvKey = [...this.#prefix, key];
    // A version this store never issued cannot match: report "not written".
    if (version !== null && !/^[0-9a-f]{20}$/.test(version)) return null;
    const result = await retryBusy(() => {
      const op = this.#kv.atomic().check({ key: kvKey, versionstamp: version });
      if (value === undefined) {
        op.delete(kvKey);
      } else {
        const until = Math.max(
          value.token?.expiresAt ?? 0,
          value.claim?.until ?? 0,
          value.sealed?.until ?? 0,
        );
        // Clean-up only: the session checks the expiry kept in the value.
        const left = Math.min(Math.max(until - Date.now(), 0), KV_KEEP_MAX_MS);
        op.set(kvKey, value, { expireIn: left + KV_KEEP_AFTER_MS });
      }
      return op.commit();
    });
    if (!result.ok) return null;
    return value === undefined ? "" : result.versionstamp ?? "";
  }

  /**
   * Hides the database from `Deno.inspect`.
   *
   * @ignore
   */
  [Symbol.for("Deno.customInspect")](): string {
    return `KvTokenStore { prefix: ${JSON.stringify(this.#prefix)} }`;
  }
}

/**
 * Runs a KV operation again when the database is momentarily busy (a local SQLite file
 * opened by several processes answers "database is locked"); other errors are thrown.
 */
async function retryBusy<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const busy = error instanceof Error && /locked|busy/i.test(error.message);
      if (!busy || attempt >= KV_BUSY_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, KV_BUSY_BACKOFF_MS * 2 ** (attempt - 1)));
    }
  }
}
