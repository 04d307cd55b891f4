// `armor-auth token`: the hot path. A valid stored token is printed after one file read,
// with nothing else loaded; a token due for renewal is reissued once between all the
// processes that want it (a renewal claim in the store); with no login but credentials
// in the environment, it logs in (one login between all the processes at once).

import { CliError, type Parsed } from "./_args.ts";
import { apiKeyFromEnv, type Context, env, NOT_LOGGED_IN } from "./_config.ts";
import type { ArmorStoredSession } from "../token_store.ts";

/** How long `token` waits for another process's renewal or login before giving up. */
const WAIT_MAX_MS = 35_000;
const POLL_MS = 100;
/** How often a wait for another process's sign-in is shown on stderr. */
const NOTICE_EVERY_MS = 10_000;
/** How long a renewal claim lasts: the call's timeout and a grace. */
const RENEW_CLAIM_MS = 35_000;

type StoredToken = NonNullable<ArmorStoredSession["token"]>;

interface Found {
  value: ArmorStoredSession;
  token: StoredToken;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function withoutClaim(value: ArmorStoredSession): ArmorStoredSession {
  const { claim: _claim, ...rest } = value;
  return rest;
}

/**
 * Whether a token is due for renewal, by the rule in renewal.ts; that module is loaded
 * only near the due point (two thirds of the session left), off the hot path.
 */
async function renewalDue(token: StoredToken, now: number): Promise<boolean> {
  const length = token.expiresAt - token.issuedAt;
  if (now < token.issuedAt + length * 0.3) return false; // well before a third of it
  const { renewAt } = await import("../renewal.ts");
  return now >= renewAt(token.issuedAt, length);
}

/**
 * The stored live token of a login, renewed first when due (once between every process
 * that asks); `undefined` when there is no live login.
 */
export async function liveToken(context: Context, key: string): Promise<Found | undefined> {
  const owner = crypto.randomUUID();
  const started = performance.now();
  let nextNotice = 1_000;
  for (;;) {
    const entry = await context.store.get(key);
    const value = entry?.value;
    if (value === undefined || entry === undefined) return undefined;
    if (value.server !== undefined && value.server !== context.server) return undefined;
    const now = Date.now();
    const token = value.token;
    const claim = value.claim !== undefined && value.claim.owner !== owner &&
        value.claim.until > now
      ? value.claim
      : undefined;
    const waited = performance.now() - started;
    if (token === undefined || !(token.expiresAt > now)) {
      // A login in progress elsewhere (another terminal waiting for the phone): wait.
      if (claim?.purpose === "login" && waited < WAIT_MAX_MS) {
        if (waited >= nextNotice) {
          nextNotice += NOTICE_EVERY_MS;
          const left = Math.max(0, Math.round((claim.until - now) / 1000));
          console.error(
            "Waiting for a sign-in in progress elsewhere (it may wait for a multi-factor " +
              `approval): at most ${Math.floor(left / 60)}:${
                String(left % 60).padStart(2, "0")
              } left`,
          );
        }
        await sleep(POLL_MS);
        continue;
      }
      return undefined;
    }
    if (!await renewalDue(token, now)) return { value, token };
    if (claim !== undefined) {
      // Another process is renewing: wait for its token, within reason.
      if (waited < WAIT_MAX_MS) {
        await sleep(POLL_MS);
        continue;
      }
      return { value, token };
    }
    const claimed = await context.store.set(
      key,
      { ...value, claim: { owner, purpose: "renew", until: now + RENEW_CLAIM_MS } },
      entry.version,
    );
    if (claimed === null) {
      await sleep(10 + Math.random() * 20);
      continue;
    }
    await context.checkServer();
    return await reissue(context, key, value, token, claimed);
  }
}

/** Reissues the token under this process's renewal claim and stores the new one. */
async function reissue(
  context: Context,
  key: string,
  value: ArmorStoredSession,
  token: StoredToken,
  claimed: string,
): Promise<Found | undefined> {
  const { updateArmorApiToken } = await import("../update_armor_api_token.ts");
  let fresh;
  try {
    fresh = await updateArmorApiToken(token.accessToken, { baseUrl: context.server });
  } catch (error) {
    const status = (error as { status?: number }).status;
    const rest = withoutClaim(value);
    if (status === 401) {
      // The API no longer takes it: drop it, so nobody else tries it.
      const { token: _token, ...noToken } = rest;
      await context.store.set(key, noToken, claimed).catch(() => null);
      return undefined;
    }
    await context.store.set(key, rest, claimed).catch(() => null);
    console.error(
      `Warning: could not renew the token (${(error as Error).message}); it stays valid until ${
        new Date(token.expiresAt).toISOString()
      }`,
    );
    return { value: rest, token };
  }
  const next: StoredToken = {
    accessToken: fresh.access_token,
    issuedAt: fresh.issuedAt.getTime(),
    expiresAt: fresh.expiresAt.getTime(),
  };
  const stored = { ...withoutClaim(value), token: next };
  // If the claim was lost meanwhile, this token is still good for this process.
  await context.store.set(key, stored, claimed).catch(() => null);
  return { value: stored, token: next };
}

/** `armor-auth token [--header | --json]`. */
export async function tokenCommand(context: Context, parsed: Parsed): Promise<number> {
  if (apiKeyFromEnv() !== undefined) {
    throw new CliError(
      "An API key has no token: ARMOR-PSK signs each request instead. Use armor-auth api, " +
        "or unset ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY to use a login",
    );
  }
  const username = await context.user();
  const password = env("ARMOR_PASSWORD");
  if (username === undefined) {
    if (password !== undefined) {
      throw new CliError("Missing credentials: set ARMOR_USERNAME (or --username)");
    }
    throw new CliError(NOT_LOGGED_IN);
  }
  let found = await liveToken(context, context.keyOf(username));
  let accountId: number | undefined;
  if (found === undefined) {
    if (password === undefined) throw new CliError(NOT_LOGGED_IN);
    await context.checkServer();
    const { logIn } = await import("./_login.ts");
    const session = await logIn(context, username, password);
    found = {
      value: { identity: session.identity },
      token: {
        accessToken: session.token,
        issuedAt: session.issuedAt.getTime(),
        expiresAt: session.expiresAt.getTime(),
      },
    };
    accountId = session.accountId;
  }
  const { token } = found;
  if (parsed.flags.header) {
    console.log(`FH-AUTH ${token.accessToken}`);
  } else if (parsed.flags.json) {
    accountId = await context.account(username) ?? accountId ??
      found.value.identity?.accounts[0]?.id;
    console.log(JSON.stringify({
      token: token.accessToken,
      expiresAt: new Date(token.expiresAt).toISOString(),
      account: accountId ?? null,
      username,
      server: context.server,
    }));
  } else {
    console.log(token.accessToken);
  }
  return 0;
}
