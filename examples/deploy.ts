/**
 * A Deno Deploy function that calls the Armor API for its visitors.
 *
 * It logs in from environment variables on first use and keeps the session in Deno KV,
 * so every isolate of the app shares one login and renews it once between them.
 *
 * - `GET /identity`: who the app is signed in as (from `GET /me`).
 * - `GET /accounts`: the accounts it can act on (from `GET /accounts`).
 *
 * Environment: `ARMOR_USERNAME`, `ARMOR_PASSWORD`, optional `ARMOR_BASE_URL` and
 * `ARMOR_ACCOUNT_ID`; `ARMOR_KV_PATH` (local runs only) names the KV database file.
 * On Deno Deploy, `Deno.openKv()` needs no flag; locally:
 *
 *     deno serve --env-file=.env --unstable-kv --allow-env --allow-net=api.armor.com \
 *       examples/deploy.ts
 *
 * @module
 */

import { ArmorApiError, ArmorSession, KvTokenStore } from "../mod.ts";

const kv = await Deno.openKv(Deno.env.get("ARMOR_KV_PATH") || undefined);
const store = new KvTokenStore(kv);

let pending: Promise<ArmorSession> | undefined;

function connect(): Promise<ArmorSession> {
  const accountId = Deno.env.get("ARMOR_ACCOUNT_ID");
  const attempt = ArmorSession.connect({
    baseUrl: Deno.env.get("ARMOR_BASE_URL") || undefined,
    username: Deno.env.get("ARMOR_USERNAME") ?? "",
    password: Deno.env.get("ARMOR_PASSWORD") ?? "",
    accountId: accountId ? Number(accountId) : undefined,
    store,
  });
  pending = attempt;
  attempt.catch(() => {
    if (pending === attempt) pending = undefined;
  });
  return attempt;
}

/**
 * The isolate's session. Concurrent requests share one connect; a live login already in
 * KV (from another isolate) is reused without logging in; an ended session (expired or
 * rejected) is replaced once, by the first request that notices.
 */
async function getSession(): Promise<ArmorSession> {
  const attempt = pending ?? connect();
  const session = await attempt;
  if (session.isActive()) return session;
  return await (pending === attempt ? connect() : pending ?? connect());
}

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

async function relay(path: string): Promise<Response> {
  const session = await getSession();
  const response = await session.fetch(path);
  if (!response.ok) {
    await response.body?.cancel();
    return json({ error: `The Armor API answered ${response.status}` }, 502);
  }
  return json(await response.json());
}

export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (request.method !== "GET") return json({ error: "Method not allowed" }, 405);
    try {
      if (pathname === "/identity") return await relay("/me");
      if (pathname === "/accounts") return await relay("/accounts");
      return json({ error: "Not found", routes: ["/identity", "/accounts"] }, 404);
    } catch (error) {
      if (error instanceof ArmorApiError) {
        return json({ error: error.message, code: error.code }, 502);
      }
      if (error instanceof TypeError) return json({ error: error.message }, 500);
      throw error;
    }
  },
} satisfies Deno.ServeDefaultExport;
