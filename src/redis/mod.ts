/**
 * A token store on Redis, so that a fleet of processes (Node, Bun, Deno, on any number of
 * machines) signs in once and renews once: {@linkcode RedisTokenStore}. It has no
 * dependency: give it Upstash's `Redis`, or `npm:redis` / `ioredis` through a one-line
 * adapter ({@linkcode RedisEvalClient}). Wrap it in `encryptTokenStore` (from the main
 * entry) so that Redis holds no token and no user name in clear.
 *
 * @example Share a login through Redis, encrypted at rest
 * ```ts ignore
 * import { createClient } from "redis";
 * import { ArmorSession, encryptTokenStore } from "@armor-api/auth";
 * import { RedisTokenStore } from "@armor-api/auth/redis";
 *
 * const client = await createClient({ url: Deno.env.get("REDIS_URL") }).connect();
 * const redis = new RedisTokenStore({
 *   eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
 * });
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 *   store: encryptTokenStore(redis, Deno.env.get("ARMOR_STORE_SECRET")!),
 * });
 * ```
 *
 * @module
 */

export {
  type RedisEvalClient,
  RedisTokenStore,
  type RedisTokenStoreOptions,
} from "./redis_token_store.ts";
