/**
 * A token store on Redis, for fleets of processes on several machines.
 *
 * @module
 */

import { isRecord } from "../_validate.ts";
import { ArmorApiError } from "../errors.ts";
import { KV_KEEP_AFTER_MS, KV_KEEP_MAX_MS } from "../renewal.ts";
import type { ArmorStoredSession, ArmorStoreEntry, ArmorTokenStore } from "../token_store.ts";

/**
 * The one method of a Redis client that {@linkcode RedisTokenStore} uses: `EVAL` with
 * Upstash's signature, `eval(script, keys, args)`. Upstash's `Redis` offers it as is;
 * other clients need a one-line adapter.
 *
 * @example `npm:redis` (node-redis)
 * ```ts ignore
 * import { createClient } from "redis";
 * import type { RedisEvalClient } from "@armor-api/auth/redis";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * const redis: RedisEvalClient = {
 *   eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
 * };
 * ```
 *
 * @example `ioredis`
 * ```ts ignore
 * import Redis from "ioredis";
 * import type { RedisEvalClient } from "@armor-api/auth/redis";
 *
 * const client = new Redis("redis://127.0.0.1:6379");
 * const redis: RedisEvalClient = {
 *   eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
 * };
 * ```
 */
export interface RedisEvalClient {
  /**
   * Runs a Lua script (`EVAL script numkeys ...keys ...args`) and resolves with its reply:
   * a string, a number or `null`.
   *
   * @param script The Lua script.
   * @param keys The keys it touches (`KEYS`).
   * @param args Its arguments (`ARGV`), all strings.
   * @returns The script's reply.
   */
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
}

/**
 * Options of {@linkcode RedisTokenStore}.
 *
 * @example
 * ```ts
 * import type { RedisTokenStoreOptions } from "@armor-api/auth/redis";
 * const options: RedisTokenStoreOptions = { prefix: "my-app:armor:" };
 * ```
 */
export interface RedisTokenStoreOptions {
  /**
   * Put before every key, so that several apps (or test runs) can share one Redis.
   * Default: `"armor-api-auth:"`.
   */
  prefix?: string;
}

/** The version of a value that is not one this store wrote (another type, another format). */
const FOREIGN = "!";

/**
 * A version as the scripts read it: "v" and hex digits. This store writes 24 of them
 * (96 random bits); a shorter one is kept by a value it did not write.
 */
const VERSION = /^v[0-9a-f]+$/;

/** The version kept at the start of the stored string, before one space and the JSON. */
const STORED = /^(v[0-9a-f]+) ([\s\S]*)$/;

// The version of KEYS[1]: "" when absent, FOREIGN when the key holds something else.
const VERSION_OF = `local function version_of(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' then return '' end
  if kind ~= 'string' then return '${FOREIGN}' end
  return string.match(redis.call('GET', key), '^(v[0-9a-f]+) ') or '${FOREIGN}'
end
`;

/** Read: the stored string, `nil` when absent, FOREIGN for anything not written here. */
const GET_SCRIPT = `local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return false end
if kind ~= 'string' then return '${FOREIGN}' end
local value = redis.call('GET', KEYS[1])
if string.match(value, '^v[0-9a-f]+ ') then return value end
return '${FOREIGN}'
`;

/** Check-and-set: ARGV = expected version ("" for absent), new value, expiry in ms. */
const SET_SCRIPT = `${VERSION_OF}if version_of(KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** Check-and-delete: ARGV = expected version. */
const DELETE_SCRIPT = `${VERSION_OF}if version_of(KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

function newVersion(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "v" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * How long Redis keeps a value, in milliseconds: until its token expires (or its claim
 * or sealed state ends), at most {@linkcode KV_KEEP_MAX_MS} from now, and then
 * {@linkcode KV_KEEP_AFTER_MS} more. The session checks the expiry kept in the value;
 * Redis's expiry only cleans up, so nothing grows without end.
 */
export function redisKeepMs(value: ArmorStoredSession, now: number): number {
  const until = Math.max(
    value.token?.expiresAt ?? 0,
    value.claim?.until ?? 0,
    value.sealed?.until ?? 0,
  );
  const left = Number.isFinite(until) ? Math.min(Math.max(until - now, 0), KV_KEEP_MAX_MS) : 0;
  return Math.ceil(left + KV_KEEP_AFTER_MS);
}

/** What a written value must keep out of errors: its token, its verifier, itself. */
function secretsOf(value: ArmorStoredSession | undefined, payload: string): string[] {
  const secrets = [payload, JSON.stringify(payload).slice(1, -1)];
  if (typeof value?.token?.accessToken === "string") secrets.push(value.token.accessToken);
  if (typeof value?.login?.verifier === "string") secrets.push(value.login.verifier);
  if (typeof value?.login?.salt === "string") secrets.push(value.login.salt);
  if (typeof value?.sealed?.ct === "string") secrets.push(value.sealed.ct);
  return secrets;
}

/** A run of 32 token characters: an access token, or part of a longer secret. */
const TOKEN_RUN = /[a-z0-9]{32}/;

/** The length of the pieces of a secret looked for: a client may echo a value cut short. */
const PIECE = 8;

/** How many objects {@linkcode exposes} looks through before it assumes the worst. */
const LOOK_BUDGET = 1_000;

/**
 * True when a client's error shows, anywhere in it (message, stack, own properties, its
 * causes), a piece of one of `secrets`, or anything shaped like a token: then neither
 * its text nor the error itself may be shown. Clients such as Upstash's echo the command
 * and its values in their errors, sometimes cut short.
 */
function exposes(error: unknown, secrets: readonly string[]): boolean {
  const pieces = new Set<string>();
  for (const secret of secrets) {
    if (secret.length <= PIECE) continue;
    for (let at = 0; at + PIECE <= secret.length; at++) pieces.add(secret.slice(at, at + PIECE));
  }
  const leaks = (text: string) => {
    if (TOKEN_RUN.test(text) || text.includes("accessToken")) return true;
    for (const piece of pieces) if (text.includes(piece)) return true;
    return false;
  };
  const seen = new Set<unknown>();
  let budget = LOOK_BUDGET;
  const look = (value: unknown): boolean => {
    if (typeof value === "string") return leaks(value);
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
    if (seen.has(value)) return false;
    if (--budget < 0) return true;
    seen.add(value);
    try {
      const { message, stack } = value as { message?: unknown; stack?: unknown };
      if (look(message) || look(stack)) return true;
      if (value instanceof Map || value instanceof Set) {
        for (const entry of value) if (look(entry)) return true;
      }
      for (const key of Reflect.ownKeys(value)) {
        if (typeof key === "string" && leaks(key)) return true;
        const descriptor = Object.getOwnPropertyDescriptor(value, key);
        if (descriptor !== undefined && "value" in descriptor && look(descriptor.value)) {
          return true;
        }
      }
    } catch {
      return true; // A proxy or getter that throws: withhold rather than guess.
    }
    return false;
  };
  return look(error);
}

/** An error's `name` when it is safe to show: a short name such as `ReplyError`. */
function nameOf(error: unknown, secrets: readonly string[]): string | undefined {
  try {
    const name = (error as { name?: unknown } | null)?.name;
    // A capital letter first: never a token, which is [a-z0-9].
    if (typeof name === "string" && /^[A-Z][A-Za-z0-9_]{0,63}$/.test(name)) {
      return exposes(name, secrets) ? undefined : name;
    }
  } catch {
    // A getter or proxy that throws: no name.
  }
  return undefined;
}

/** A client's failure as a `STORE` error, with its details only when they show no secret. */
function storeFailure(what: string, error: unknown, secrets: readonly string[]): ArmorApiError {
  const advice = "check that Redis is reachable and the client's eval adapter";
  let said: string | undefined;
  if (!exposes(error, secrets)) {
    try {
      said = error instanceof Error ? String(error.message) : String(error);
    } catch {
      said = undefined; // Not convertible to text (a null-prototype object, a proxy)
    }
  }
  if (said === undefined) {
    const withheld = new Error("Details withheld: they contained a secret or were unreadable");
    const name = nameOf(error, secrets);
    if (name !== undefined) withheld.name = name;
    return new ArmorApiError(
      "STORE",
      `Redis failed ${what} (details withheld: they held a secret or were unreadable): ${advice}`,
      { cause: withheld },
    );
  }
  return new ArmorApiError("STORE", `Redis failed ${what} (${said.slice(0, 300)}): ${advice}`, {
    cause: error,
  });
}

/**
 * A token store on Redis: every process of a fleet (Node, Bun, Deno, on any number of
 * machines) whose sessions share one Redis shares one login and one renewal per
 * window, made safe by a check-and-set that runs in Redis as one Lua script.
 *
 * It needs no Redis library of its own: give it any client with
 * `eval(script, keys, args)` ({@linkcode RedisEvalClient}), such as Upstash's `Redis`
 * (which also runs on edge runtimes), or `npm:redis` and `ioredis` through a one-line
 * adapter. Each value is one Redis string: its version (random, so a deleted and
 * re-created key never repeats one) and the JSON state. Every write sets an expiry
 * ({@linkcode redisKeepMs}) a day past its token's, so abandoned logins are dropped; the
 * session always checks the expiry kept in the value itself.
 *
 * A failing or unreachable Redis makes the store's calls reject with a `STORE`
 * {@linkcode ArmorApiError}, whose message and cause never hold a token, even when the
 * client's error echoes the command. The session keeps its token and calls with it.
 *
 * The values hold the token in clear: wrap the store in `encryptTokenStore` so that a
 * dump of Redis holds no token and no user name.
 *
 * @example Share a login through Redis with `npm:redis`
 * ```ts ignore
 * import { createClient } from "redis";
 * import { ArmorSession } from "@armor-api/auth";
 * import { RedisTokenStore } from "@armor-api/auth/redis";
 *
 * const client = await createClient({ url: Deno.env.get("REDIS_URL") }).connect();
 * const store = new RedisTokenStore({
 *   eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
 * });
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 *   store,
 * });
 * ```
 *
 * @example Upstash's REST Redis, e.g. on an edge runtime
 * ```ts ignore
 * import { Redis } from "@upstash/redis";
 * import { RedisTokenStore } from "@armor-api/auth/redis";
 *
 * const store = new RedisTokenStore(Redis.fromEnv(), { prefix: "my-app:armor:" });
 * ```
 */
export class RedisTokenStore implements ArmorTokenStore {
  readonly #client: RedisEvalClient;
  readonly #prefix: string;

  /**
   * Wraps a Redis client.
   *
   * @param client Anything with `eval(script, keys, args)`: Upstash's `Redis`, or an adapter.
   * @param options The key prefix.
   * @throws {TypeError} If `client` has no `eval` function or the prefix is not a string.
   */
  constructor(client: RedisEvalClient, options: RedisTokenStoreOptions = {}) {
    if (typeof (client as Partial<RedisEvalClient> | null)?.eval !== "function") {
      throw new TypeError(
        "client must have eval(script, keys, args): see the adapters in RedisEvalClient's docs",
      );
    }
    if (!isRecord(options)) throw new TypeError("options must be an object");
    const prefix = options.prefix ?? "armor-api-auth:";
    if (typeof prefix !== "string") throw new TypeError("prefix must be a string");
    this.#client = client;
    this.#prefix = prefix;
  }

  /**
   * Reads a key (one `EVAL`: `TYPE` and `GET`).
   *
   * @param key The key, without the prefix.
   * @returns The entry, or `undefined` when there is none. A value this store did not
   *   write reads as an empty state, which a check-and-set can replace.
   * @throws {ArmorApiError} `STORE` when Redis fails or answers something unexpected.
   */
  async get(key: string): Promise<ArmorStoreEntry | undefined> {
    const reply = await this.#eval("a read", GET_SCRIPT, key, [], []);
    if (reply === null || reply === undefined) return undefined;
    if (reply === FOREIGN) return { value: {}, version: FOREIGN };
    const stored = typeof reply === "string" ? STORED.exec(reply) : null;
    if (stored === null) {
      throw new ArmorApiError(
        "STORE",
        "Redis answered a read with something other than a stored value: check the client's eval adapter",
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(stored[2]);
    } catch {
      value = undefined;
    }
    // Not JSON state: read as empty, so a check-and-set can replace it.
    return { value: isRecord(value) ? value as ArmorStoredSession : {}, version: stored[1] };
  }

  /**
   * Check-and-set (or check-and-delete for `undefined`), each one Lua script, so no other
   * writer can come between the check and the write.
   *
   * @param key The key, without the prefix.
   * @param value The new state, or `undefined` to delete.
   * @param version The version read before, or `null` for "absent".
   * @returns The new version when it wrote (`""` after a delete), else `null`.
   * @throws {ArmorApiError} `STORE` when Redis fails; its message and cause hold no token.
   */
  async set(
    key: string,
    value: ArmorStoredSession | undefined,
    version: string | null,
  ): Promise<string | null> {
    // A version this store never issued cannot match: report "not written".
    if (version !== null && version !== FOREIGN && !VERSION.test(version)) return null;
    const expected = version ?? "";
    if (value === undefined) {
      const reply = await this.#eval("a delete", DELETE_SCRIPT, key, [expected], []);
      return wrote(reply) ? "" : null;
    }
    const next = newVersion();
    const payload = JSON.stringify(value);
    const args = [expected, `${next} ${payload}`, String(redisKeepMs(value, Date.now()))];
    const reply = await this.#eval("a write", SET_SCRIPT, key, args, secretsOf(value, payload));
    return wrote(reply) ? next : null;
  }

  async #eval(
    what: string,
    script: string,
    key: string,
    args: string[],
    secrets: string[],
  ): Promise<unknown> {
    try {
      return await this.#client.eval(script, [this.#prefix + key], args);
    } catch (error) {
      throw storeFailure(what, error, secrets);
    }
  }

  /**
   * Hides the client from `Deno.inspect`.
   *
   * @ignore
   */
  [Symbol.for("Deno.customInspect")](): string {
    return `RedisTokenStore { prefix: ${JSON.stringify(this.#prefix)} }`;
  }
}

/** True for a script's "written" reply, in the forms clients give it. */
function wrote(reply: unknown): boolean {
  if (reply === 1 || reply === "1" || reply === true) return true;
  if (reply === 0 || reply === "0" || reply === null || reply === false) return false;
  throw new ArmorApiError(
    "STORE",
    "Redis answered a write with something other than 0 or 1: check the client's eval adapter",
  );
}
