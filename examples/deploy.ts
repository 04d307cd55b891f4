/**
 * A Deno Deploy app that calls the Armor API for its clients, behind a bearer secret.
 *
 * - `GET /identity`: who the app is signed in as (`session.identity`: user name, names,
 *   accounts) and the account it acts on.
 * - `GET /accounts`: the accounts it can act on (from `GET /accounts`).
 *
 * Every request needs `Authorization: Bearer <DEPLOY_BEARER_SECRET>`; any other answer is
 * 401. The secret is compared in constant time (SHA-256 digests, compared byte by byte).
 *
 * Two ways in, from the environment (the app's settings on Deno Deploy, `.env` locally):
 *
 * - `ARMOR_API_KEY_ID` and `ARMOR_API_SECRET_KEY`: an API key. Every request is signed
 *   with it: no login, no token, no renewal, so no Deno KV either. Preferred.
 * - `ARMOR_USERNAME` and `ARMOR_PASSWORD`: a login on first use, kept in Deno KV, so every
 *   isolate of the app shares one login and renews it once between them. The login is
 *   encrypted there (`encryptTokenStore`) with `ARMOR_STORE_SECRET` (at least 32
 *   characters, e.g. from `openssl rand -base64 32`), so a dump of the KV database holds no
 *   token and no user name; until it is set, the app answers 500 and says so. While
 *   rotating it, put the previous one in `ARMOR_STORE_SECRET_OLD`.
 *
 * Optional: `ARMOR_BASE_URL` (another server, e.g. a mock on `http://127.0.0.1:<port>`),
 * `ARMOR_ACCOUNT_ID` (default: the first account), and, locally only, `ARMOR_KV_PATH`
 * (the KV database file; default: Deno's own). Deno KV comes from `"unstable": ["kv"]`
 * in deno.json; on Deno Deploy, also assign a KV database to the app in its settings.
 * The settings are read by `connectOptionsFromEnv`. Locally, against a mock Armor API on
 * a loopback port, listening on loopback only:
 *
 *     deno serve --host 127.0.0.1 --env-file=.env --allow-net=127.0.0.1 \
 *       --allow-env='ARMOR_*,DEPLOY_BEARER_SECRET' examples/deploy.ts
 *
 * @module
 */

import {
  ArmorApiError,
  ArmorSession,
  type ArmorTokenStore,
  connectOptionsFromEnv,
  encryptTokenStore,
  KvTokenStore,
} from "../mod.ts";

/** The shortest bearer secret the app accepts, e.g. from `openssl rand -hex 32`. */
const MIN_SECRET_LENGTH = 16;

/** The shortest store secret `encryptTokenStore` takes, e.g. from `openssl rand -base64 32`. */
const MIN_STORE_SECRET_LENGTH = 32;

/** A setting that is missing or wrong: the app answers 500 and says what to set. */
class SettingError extends Error {}

function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

// ── The bearer secret ────────────────────────────────────────────────────────────────

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Compares two digests of equal length without stopping at the first difference. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

let expected: Promise<Uint8Array> | undefined;

/** Whether the request carries `Authorization: Bearer <DEPLOY_BEARER_SECRET>`. */
async function authorized(request: Request): Promise<boolean> {
  const secret = Deno.env.get("DEPLOY_BEARER_SECRET") ?? "";
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new SettingError(
      `Set DEPLOY_BEARER_SECRET to a secret of at least ${MIN_SECRET_LENGTH} characters in the app's settings`,
    );
  }
  expected ??= sha256(secret);
  const match = /^Bearer +(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  // Hash even when the header is missing, so every refusal takes the same path.
  const given = await sha256(match?.[1] ?? "");
  return match !== null && sameDigest(given, await expected);
}

// ── The Armor session ────────────────────────────────────────────────────────────────

let pending: Promise<ArmorSession> | undefined;
let store: Promise<ArmorTokenStore> | undefined;

/**
 * The secrets that encrypt the login kept in KV, newest first: `ARMOR_STORE_SECRET`, and
 * `ARMOR_STORE_SECRET_OLD` while rotating (read, never written). A stored token is a
 * renewable credential, so a password login is refused until the secret is set.
 */
function storeSecrets(): string[] {
  const secret = Deno.env.get("ARMOR_STORE_SECRET") ?? "";
  const old = Deno.env.get("ARMOR_STORE_SECRET_OLD") ?? "";
  if (secret.length < MIN_STORE_SECRET_LENGTH) {
    throw new SettingError(
      `Set ARMOR_STORE_SECRET to a secret of at least ${MIN_STORE_SECRET_LENGTH} characters (e.g. from openssl rand -base64 32) in the app's settings: it encrypts the login kept in Deno KV`,
    );
  }
  if (old !== "" && old.length < MIN_STORE_SECRET_LENGTH) {
    throw new SettingError(
      `ARMOR_STORE_SECRET_OLD must be the previous store secret (at least ${MIN_STORE_SECRET_LENGTH} characters), or unset`,
    );
  }
  return old === "" ? [secret] : [secret, old];
}

function connect(): Promise<ArmorSession> {
  const attempt = (async () => {
    // A TypeError names a missing or wrong ARMOR_* setting, never its value.
    const options = connectOptionsFromEnv();
    // An API key signs every request: nothing to share, so no KV.
    if (options.apiKey) return await ArmorSession.connect(options);
    if (typeof Deno.openKv !== "function") {
      throw new SettingError('Enable Deno KV: add "unstable": ["kv"] to deno.json');
    }
    const secrets = storeSecrets();
    // Opened once, on the first password login; the database is shared by every isolate,
    // and holds the login encrypted. A value that does not decrypt (another secret, or
    // tampered with) is read as absent, logged here, and replaced by a fresh login.
    store ??= Deno.openKv(Deno.env.get("ARMOR_KV_PATH") || undefined).then(
      (kv) =>
        encryptTokenStore(new KvTokenStore(kv), secrets, {
          logger: (record) => console.warn("Armor token store:", record),
        }),
      (error) => {
        store = undefined;
        throw new SettingError(
          `Deno KV did not open (${error}): on Deno Deploy, assign a KV database to the app in its settings`,
        );
      },
    );
    return await ArmorSession.connect({ ...options, store: await store });
  })();
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

// ── The routes ───────────────────────────────────────────────────────────────────────

async function identity(): Promise<Response> {
  const session = await getSession();
  const me = session.identity;
  if (me === undefined) return json({ error: "The session has no identity: log in again" }, 502);
  return json({
    username: me.username,
    firstName: me.firstName,
    lastName: me.lastName,
    accountId: session.accountId,
    accounts: me.accounts.map(({ id, name, status }) => ({ id, name, status })),
  });
}

async function accounts(): Promise<Response> {
  const session = await getSession();
  const response = await session.fetch("/accounts");
  if (!response.ok) {
    await response.body?.cancel();
    return json({ error: `The Armor API answered ${response.status}` }, 502);
  }
  return json(await response.json());
}

export default {
  async fetch(request: Request): Promise<Response> {
    try {
      if (!await authorized(request)) {
        return json({ error: "Send Authorization: Bearer <DEPLOY_BEARER_SECRET>" }, 401, {
          "www-authenticate": 'Bearer realm="armor"',
        });
      }
      if (request.method !== "GET") {
        return json({ error: "Method not allowed: use GET" }, 405, { allow: "GET" });
      }
      const { pathname } = new URL(request.url);
      if (pathname === "/identity") return await identity();
      if (pathname === "/accounts") return await accounts();
      return json({ error: "Not found", routes: ["/identity", "/accounts"] }, 404);
    } catch (error) {
      if (error instanceof SettingError) return json({ error: error.message }, 500);
      if (error instanceof ArmorApiError) {
        return json({ error: error.message, code: error.code }, 502);
      }
      if (error instanceof TypeError) return json({ error: error.message }, 500);
      throw error;
    }
  },
} satisfies Deno.ServeDefaultExport;
