// Logging a session in (`Connect-Armor`): with a password, authorize → redeem the code →
// read `GET /me`, one login at a time per shared store; with an API key, a signed
// `GET /me` and nothing else.

import { clockSkew, fhAuthorization, signAhead } from "./_authorization.ts";
import { untilAborted } from "./_fetch.ts";
import { log, redactAuthorization, sendJson, type Transport } from "./_http.ts";
import { armorPskSigner } from "./armor_psk.ts";
import {
  buildState,
  checkAccountIn,
  type LocalToken,
  type SessionState,
} from "./_session_state.ts";
import {
  baseUrlOption,
  checkOptions,
  checkSecret,
  checkSignal,
  checkTimeout,
  describe,
} from "./_validate.ts";
import { DEFAULT_AUTHORIZE_TIMEOUT_MS, DEFAULT_BASE_URL } from "./defaults.ts";
import type { ArmorConnectOptions } from "./session_options.ts";
import {
  adopt,
  claimedByOther,
  claimSet,
  dropClaim,
  forget,
  isLive,
  owned,
  publish,
  storeGet,
  storeSet,
  withoutClaim,
} from "./_store_sync.ts";
import { redeemCode } from "./_token_core.ts";
import { requestArmorApiAuthorizationCode } from "./request_armor_api_authorization_code.ts";
import { makeLogin, sameLogin } from "./_verifier.ts";
import { ArmorApiError } from "./errors.ts";
import { type ArmorIdentity, parseIdentity } from "./identity.ts";
import {
  CLAIM_GRACE_MS,
  LOGIN_CLAIM_ATTEMPTS,
  LOGIN_CLAIM_BACKOFF_MS,
  LOGIN_POLL_MS,
} from "./renewal.ts";
import type { ArmorStoredSession } from "./token_store.ts";

/** What a password login needs beyond the session's settings. */
export interface LoginRequest {
  username: string;
  password: string;
  signal?: AbortSignal;
  authorizeTimeout: number;
  accountId?: number;
}

function aborted(reason: unknown): ArmorApiError {
  return new ArmorApiError("ABORTED", "The login was aborted by the caller", { cause: reason });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal.reason));
    const onAbort = () => {
      clearTimeout(id);
      reject(aborted(signal?.reason));
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `pending`, or `ABORTED` as soon as `signal` aborts (what it waited for goes on). */
function orAbort<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return pending;
  return untilAborted(pending, signal).catch((error) => {
    if (signal.aborted) throw aborted(signal.reason);
    throw error;
  });
}

/** How the session's login calls are sent: its fetch and logger, this signal and timeout. */
function transportOf(
  state: SessionState,
  signal: AbortSignal | undefined,
  timeout = state.timeout,
): Transport {
  return { fetch: state.endpoint.fetch ?? globalThis.fetch, signal, timeout, logger: state.logger };
}

/** `GET /me` with an `Authorization` already decided; parses either documented shape. */
export function readIdentity(
  state: SessionState,
  authorization: string,
  secrets: readonly string[],
  transport: Transport,
): Promise<ArmorIdentity> {
  const url = `${state.prefix}me`;
  return sendJson(
    {
      plan: {
        method: "GET",
        url,
        apiVersion: state.endpoint.apiVersion,
        headers: {
          accept: "application/json",
          authorization: redactAuthorization(authorization),
        },
      },
      url,
      headers: { accept: "application/json", authorization },
      secrets,
    },
    transport,
    parseIdentity,
  );
}

/**
 * Logs in with a password. With a shared store, a live login of the same server, user
 * and password is reused, and sessions that connect at once make one login between
 * them. On any failure the session stays unauthenticated and the claim is given back.
 */
export async function login(state: SessionState, request: LoginRequest): Promise<void> {
  const { username, password, signal, authorizeTimeout, accountId } = request;
  state.username = username;
  const claimFor = authorizeTimeout + 2 * state.timeout + CLAIM_GRACE_MS;
  const realStart = performance.now();
  let claimed: string | null = null;
  let base: ArmorStoredSession = {};
  let forgotten = false;
  for (let attempts = 0;;) {
    if (signal?.aborted) throw aborted(signal.reason);
    const entry = await storeGet(state, signal);
    const now = state.now();
    const value = entry?.value;
    const mine = value !== undefined && value.server === state.prefix &&
      value.username === username;
    if (
      mine && isLive(value, now) && value!.identity !== undefined &&
      await orAbort(sameLogin(value!.login, username, password), signal)
    ) {
      // Not adopted (e.g. a token this session saw rejected): log in afresh below.
      if (adopt(state, entry)) {
        if (value!.identityTrimmed || state.identity === undefined) {
          // The store kept the user name only: read the whole identity with the token.
          const accessToken = state.token!.accessToken;
          try {
            state.identity = await readIdentity(
              state,
              fhAuthorization(accessToken),
              [accessToken, password],
              transportOf(state, signal),
            );
          } catch (error) {
            if (forgotten || !(error instanceof ArmorApiError && error.status === 401)) throw error;
            // The stored token was revoked: forget it (while it is still the stored one)
            // and log in afresh, as a login whose identity was stored whole would.
            forgotten = true;
            state.rejectedToken = accessToken;
            state.end("rejected");
            await orAbort(forget(state, accessToken), signal);
            continue;
          }
        }
        state.chooseAccount(accountId, `${username}'s`);
        return;
      }
    }
    const claim = value?.claim;
    if (
      claimedByOther(state, claim, now) &&
      performance.now() - realStart < claimFor
    ) {
      await sleep(LOGIN_POLL_MS, signal);
      continue;
    }
    base = value === undefined ? {} : withoutClaim(value);
    claimed = await claimSet(
      state,
      { ...base, claim: { owner: state.owner, purpose: "login", until: now + claimFor } },
      entry?.version ?? null,
      true,
      signal,
    );
    if (claimed !== null) break;
    // Lost a race for the claim: look again after a short, real pause.
    if (++attempts >= LOGIN_CLAIM_ATTEMPTS) {
      throw new ArmorApiError("STORE", "The token store kept changing: could not start the login");
    }
    await sleep(LOGIN_CLAIM_BACKOFF_MS * Math.min(attempts, 10), signal);
  }
  const giveBack = async () => {
    try {
      await storeSet(state, base, claimed);
    } catch {
      // The outcome is unknown: remove the claim if the store still shows it.
      await dropClaim(state);
    }
  };
  let token: LocalToken;
  let identity: ArmorIdentity;
  try {
    const { endpoint } = state;
    const { code } = await requestArmorApiAuthorizationCode(username, password, {
      baseUrl: endpoint.baseUrl,
      apiVersion: endpoint.apiVersion,
      fetch: endpoint.fetch,
      logger: endpoint.logger,
      now: endpoint.now,
      timeout: authorizeTimeout,
      signal,
    });
    const fresh = await redeemCode(endpoint, code, signal);
    identity = await readIdentity(
      state,
      fhAuthorization(fresh.access_token),
      [fresh.access_token, password, code],
      transportOf(state, signal),
    );
    if (accountId !== undefined) checkAccountIn(identity, accountId, `${username}'s`);
    token = {
      accessToken: fresh.access_token,
      issuedAt: fresh.issuedAt.getTime(),
      expiresAt: fresh.expiresAt.getTime(),
    };
  } catch (error) {
    // An abort ends the login at once: the claim is given back in the background.
    const released = giveBack();
    if (!signal?.aborted) await released;
    throw error;
  }
  state.identity = identity;
  state.setToken(token, null);
  state.chooseAccount(accountId, `${username}'s`);
  // Share the login; a store that fails only loses the sharing, not this session. An
  // abort ends the wait for it (the sharing goes on in the background).
  const share = async () => {
    try {
      const proof = state.shared ? await makeLogin(username, password) : undefined;
      const value = owned(state, { ...base, token, identity, login: proof });
      let version = await storeSet(state, value, claimed);
      if (version === null) version = await publish(state, value);
      if (state.token === token) state.version = version;
    } catch {
      log(state.logger, { event: "error", code: "STORE" });
      await giveBack();
    }
  };
  await orAbort(share(), signal);
}

/**
 * Connects with an API key: no token calls, one signed `GET /me` to learn the identity
 * and pick the account the way a password login does.
 */
export async function connectWithKey(
  state: SessionState,
  signal: AbortSignal | undefined,
  accountId: number | undefined,
): Promise<void> {
  const credential = state.credential;
  if (credential.scheme !== "ARMOR-PSK") throw new TypeError("The session has no API key");
  const path = new URL(state.prefix).pathname + "me";
  const identity = await readIdentity(state, await credential.sign("GET", path, undefined), [], {
    ...transportOf(state, signal),
    on401: (response) => clockSkew(state.now(), response),
  });
  state.identity = identity;
  state.username = identity.username;
  state.chooseAccount(accountId, `${identity.username}'s`);
}

/**
 * `ArmorSession.connect`: checks the options, builds the session's state, and logs in
 * with a password or connects with an API key. `wrap` makes the public session around
 * a built state (this file does not import the session).
 */
export async function connectSession<S>(
  options: ArmorConnectOptions,
  wrap: (state: SessionState) => S,
): Promise<S> {
  const opts = checkOptions<ArmorConnectOptions>(options);
  const signal = checkSignal(opts.signal);
  const {
    password,
    username,
    apiKey,
    signal: _signal,
    authorizeTimeout: _authorizeTimeout,
    ...sessionOptions
  } = opts;
  if (apiKey !== undefined) {
    if (username !== undefined || password !== undefined) {
      throw new TypeError("Give either apiKey or username and password, not both");
    }
    const sign = armorPskSigner(apiKey);
    const state = buildState(sessionOptions, {
      scheme: "ARMOR-PSK",
      sign: signAhead(
        (method, path, body) =>
          sign({ method, path, body, timestamp: Math.floor(state.now() / 1000) }),
        () => state.now(),
      ),
    });
    const session = wrap(state);
    await connectWithKey(state, signal, opts.accountId);
    return session;
  }
  if (typeof username !== "string" || username.trim() === "") {
    throw new TypeError(
      username === undefined
        ? "username is missing: give username and password, or apiKey"
        : `username must be a non-empty string, got ${
          describe(username)
        }: give username and password, or apiKey`,
    );
  }
  if (password === undefined) {
    throw new TypeError("password is missing: give username and password, or apiKey");
  }
  const checkedPassword = checkSecret(password, "password");
  const authorizeTimeout = checkTimeout(
    opts.authorizeTimeout,
    DEFAULT_AUTHORIZE_TIMEOUT_MS,
    "authorizeTimeout",
  );
  if (sessionOptions.storeKey === undefined) {
    // One login per user and server in a shared store.
    const base = baseUrlOption(sessionOptions.baseUrl, DEFAULT_BASE_URL).href;
    sessionOptions.storeKey = `${base}#${username}`;
  }
  const state = buildState(sessionOptions, { scheme: "FH-AUTH" });
  const session = wrap(state);
  await login(state, {
    username,
    password: checkedPassword,
    signal,
    authorizeTimeout,
    accountId: opts.accountId,
  });
  return session;
}
