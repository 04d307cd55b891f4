// Sharing a session's state through its store: bounded reads and writes, publishing a
// new token, forgetting a dead one, and adopting a newer token another session stored.

import { log } from "./_http.ts";
import { scrubCause } from "./_redact.ts";
import type { LocalToken, SessionState } from "./_session_state.ts";
import { ArmorApiError } from "./errors.ts";
import { describe, isRecord } from "./_validate.ts";
import { CLOCK_SKEW_MS, MAX_SESSION_MINUTES, sessionLengthMs, STORE_ATTEMPTS } from "./renewal.ts";
import { ACCESS_TOKEN_PATTERN, type ArmorApiToken } from "./token.ts";
import type { ArmorStoredSession, ArmorStoreEntry } from "./token_store.ts";

/** A store failure, as callers see it: `STORE`, with the original as a cause. */
export function storeError(message: string, cause?: unknown): ArmorApiError {
  return new ArmorApiError("STORE", message, { cause });
}

/**
 * Text shaped like a secret a store record holds: a token (32 characters of `[a-z0-9]`),
 * a salt or a verifier (hex), in either case. A store's error may quote a record this session never
 * read (another session's token): such a cause is withheld whole.
 */
const STORED_SECRET_SHAPE = /[a-z0-9]{32,}/i; // in capitals too: still the secret

/** The secrets this session knows of: its tokens, and those of a record it writes. */
function secretsOf(state: SessionState, value?: ArmorStoredSession): string[] {
  const secrets = [state.token?.accessToken, state.previousToken, state.rejectedToken];
  if (value !== undefined) {
    secrets.push(value.token?.accessToken, value.login?.verifier, value.login?.salt);
  }
  return secrets.filter((secret): secret is string => typeof secret === "string");
}

/**
 * Bounds a store call by the session's timeout: a stalled store must not hang calls.
 * `value` is what a write writes: its secrets are kept out of the error too. `onLate`
 * gets the answer that came after the timeout (or after `signal` aborted), if one does.
 * `signal` (a caller's) ends the wait at once, with `ABORTED`.
 */
function bounded<T>(
  state: SessionState,
  operation: () => Promise<T>,
  what: string,
  value?: ArmorStoredSession,
  onLate?: (answer: T) => void,
  signal?: AbortSignal,
): Promise<T> {
  const abortError = () =>
    new ArmorApiError(
      "ABORTED",
      `Waiting for the token store (${what}) was aborted by the caller`,
      {
        cause: signal?.reason,
      },
    );
  // Aborted already: nothing is asked of the store.
  if (signal?.aborted) return Promise.reject(abortError());
  let id: ReturnType<typeof setTimeout> | undefined;
  let late = false;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    if (signal !== undefined) {
      onAbort = () => {
        late = true;
        reject(abortError());
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }
    id = setTimeout(() => {
      late = true;
      reject(storeError(`The token store did not answer ${what} within ${state.timeout} ms`));
    }, state.timeout);
  });
  let pending: Promise<T>;
  try {
    pending = Promise.resolve(operation());
  } catch (error) {
    pending = Promise.reject(error);
  }
  if (onLate !== undefined) {
    pending.then((answer) => {
      if (late) onLate(answer);
    }, () => {});
  }
  const typed = pending.catch((error) => {
    // A store's error may quote what it holds or was given (Upstash's and Vercel KV's
    // clients put the command and its value in the message): keep no secret in the
    // cause, this session's or any other's.
    const cause = scrubCause(error, secretsOf(state, value), STORED_SECRET_SHAPE);
    if (error instanceof ArmorApiError && cause === error) throw error;
    throw storeError(`The token store failed ${what}`, cause);
  });
  return Promise.race([typed, timeout]).finally(() => {
    clearTimeout(id);
    if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
  });
}

const finite = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

/** The longest lifetime a stored token can have: no session is longer. */
const MAX_SESSION_MS = MAX_SESSION_MINUTES * 60_000;

/**
 * True when a stored state has the shape this module writes. Anything else (a `null`
 * token, wrong types, a token with CR/LF, a token issued after it expires or living
 * longer than any session can) is treated as absent and replaced at the next login: a
 * malformed record must not break every connect, nor be adopted (its renewal point
 * would land after its expiry).
 */
export function isWellFormed(value: unknown): value is ArmorStoredSession {
  if (!isRecord(value)) return false;
  const { token, claim, identity, login, server, username } = value;
  if (token !== undefined) {
    if (!isRecord(token)) return false;
    if (typeof token.accessToken !== "string" || !ACCESS_TOKEN_PATTERN.test(token.accessToken)) {
      return false;
    }
    if (!finite(token.issuedAt) || !finite(token.expiresAt)) return false;
    const lifetime = token.expiresAt - token.issuedAt;
    if (!(lifetime > 0 && lifetime <= MAX_SESSION_MS)) return false;
  }
  if (claim !== undefined) {
    if (!isRecord(claim) || typeof claim.owner !== "string" || !finite(claim.until)) return false;
    if (claim.purpose !== "login" && claim.purpose !== "renew") return false;
  }
  if (identity !== undefined) {
    if (!isRecord(identity) || typeof identity.username !== "string") return false;
    if (!Array.isArray(identity.accounts)) return false;
    for (const account of identity.accounts) {
      if (!isRecord(account) || !Number.isSafeInteger(account.id) || (account.id as number) <= 0) {
        return false;
      }
    }
  }
  if (login !== undefined) {
    if (!isRecord(login) || typeof login.username !== "string") return false;
    if (typeof login.salt !== "string" || typeof login.verifier !== "string") return false;
  }
  if (server !== undefined && typeof server !== "string") return false;
  if (value.identityTrimmed !== undefined && typeof value.identityTrimmed !== "boolean") {
    return false;
  }
  if (username !== undefined && typeof username !== "string") return false;
  return true;
}

/**
 * Reads the store; a malformed record reads as an empty one (its version kept). `signal`
 * (a caller's) ends the wait at once.
 */
export async function storeGet(
  state: SessionState,
  signal?: AbortSignal,
): Promise<ArmorStoreEntry | undefined> {
  // The session's logger goes along, for a store that reports (an encrypted value that
  // does not decrypt); none is passed when there is none.
  const context = state.logger === undefined ? undefined : { logger: state.logger };
  const entry = await bounded(
    state,
    () => context === undefined ? state.store.get(state.key) : state.store.get(state.key, context),
    "a read",
    undefined,
    undefined,
    signal,
  );
  if (entry === undefined) return undefined;
  if (!isRecord(entry) || typeof entry.version !== "string") {
    throw storeError("The token store answered a read with something that is not an entry");
  }
  if (!isWellFormed(entry.value)) {
    log(state.logger, { event: "error", code: "STORE" });
    return { value: {}, version: entry.version };
  }
  return entry;
}

/** Check-and-set; the new version, or `null` when the version changed. */
export function storeSet(
  state: SessionState,
  value: ArmorStoredSession | undefined,
  version: string | null,
): Promise<string | null> {
  return bounded(state, () => state.store.set(state.key, value, version), "a write", value);
}

/**
 * Writes a claim (`value` holds it) over `version`. When the write's outcome is unknown
 * (it failed, or did not answer in time, but may have landed), the claim is given back,
 * best effort: at once when the store shows it, and when a late answer brings the
 * version it wrote. Others then need not wait for it to lapse. With `awaitRelease`
 * false, the failure is reported without waiting for the first of these; so is an
 * abort of `signal` (a caller's), which ends the wait at once.
 */
export async function claimSet(
  state: SessionState,
  value: ArmorStoredSession,
  version: string | null,
  awaitRelease = true,
  signal?: AbortSignal,
): Promise<string | null> {
  const giveBackLate = (written: string | null) => {
    if (written !== null) storeSet(state, withoutClaim(value), written).catch(() => {});
  };
  try {
    return await bounded(
      state,
      () => state.store.set(state.key, value, version),
      "a write",
      value,
      giveBackLate,
      signal,
    );
  } catch (error) {
    const release = dropClaim(state);
    if (awaitRelease && !signal?.aborted) await release;
    throw error;
  }
}

/**
 * Removes this session's claim when the store holds one (check-and-set, so nothing
 * written since is lost), or puts `replacement` in its place. Best effort: it never
 * throws, and an unreleased claim lapses. Resolves with the version written, if any.
 */
export async function dropClaim(
  state: SessionState,
  replacement?: ArmorStoredSession,
): Promise<string | null | undefined> {
  try {
    const entry = await storeGet(state);
    if (entry === undefined || entry.value.claim?.owner !== state.owner) return undefined;
    return await storeSet(state, replacement ?? withoutClaim(entry.value), entry.version);
  } catch {
    // The claim lapses by itself.
    return undefined;
  }
}

/** Reads the store, or `undefined` when it fails: a local token stays usable. */
export async function peek(state: SessionState): Promise<ArmorStoreEntry | undefined> {
  try {
    return await storeGet(state);
  } catch {
    return undefined;
  }
}

/**
 * The largest identity kept in the store, as JSON characters. A store's values are small
 * (Deno KV's are at most 64 KiB) and a user may have thousands of accounts: a larger
 * identity is stored as its user name only, and a session that adopts such a login
 * reads `GET /me` itself.
 */
export const MAX_STORED_IDENTITY_CHARS = 16_384;

/**
 * What a session stores: `value` bound to this session's server and exactly its user,
 * with an identity small enough for any store.
 */
export function owned(state: SessionState, value: ArmorStoredSession): ArmorStoredSession {
  const out: ArmorStoredSession = { ...value, server: state.prefix, username: state.username };
  const identity = value.identity;
  if (identity !== undefined && JSON.stringify(identity).length > MAX_STORED_IDENTITY_CHARS) {
    out.identity = {
      username: identity.username,
      accounts: [],
      departments: [],
      permissions: {},
      features: [],
    };
    out.identityTrimmed = true;
  } else {
    delete out.identityTrimmed;
  }
  return out;
}

/** Writes `value` over whatever is stored; returns the new version. */
export async function publish(state: SessionState, value: ArmorStoredSession): Promise<string> {
  for (let attempt = 0; attempt < STORE_ATTEMPTS; attempt++) {
    const entry = await storeGet(state);
    const version = await storeSet(state, owned(state, value), entry?.version ?? null);
    if (version !== null) return version;
  }
  throw storeError("The token store kept changing: could not save the session");
}

/** Removes `accessToken` from the store while it is still the stored one. */
export async function forget(state: SessionState, accessToken: string): Promise<void> {
  try {
    for (let attempt = 0; attempt < STORE_ATTEMPTS; attempt++) {
      const entry = await storeGet(state);
      if (entry?.value.token?.accessToken !== accessToken) return;
      const { token: _token, claim: _claim, ...rest } = entry.value;
      if (await storeSet(state, rest, entry.version) !== null) return;
    }
  } catch {
    // The local session is ended either way.
  }
}

/**
 * True when a stored token is live by this session's clock: not expired, and not issued
 * later than {@linkcode CLOCK_SKEW_MS} from now (clocks of sessions sharing a store may
 * differ a little, not by hours). A token "issued" in the future would be sent until its
 * far expiry with no renewal, whenever it really lapses.
 */
/**
 * True when `claim` is another session's and still open by this session's clock. A claim
 * that would last longer than any session ({@linkcode MAX_SESSION_MINUTES}) from now is
 * none this module writes: it is ignored, so that a corrupted record cannot stop every
 * renewal and login until a far date.
 */
export function claimedByOther(
  state: SessionState,
  claim: ArmorStoredSession["claim"],
  now: number,
): boolean {
  return claim !== undefined && claim.owner !== state.owner && claim.until > now &&
    claim.until - now <= MAX_SESSION_MS;
}

export function isLive(value: ArmorStoredSession | undefined, now: number): boolean {
  const token = value?.token;
  return token !== undefined && token.expiresAt > now && token.issuedAt <= now + CLOCK_SKEW_MS;
}

export function withoutClaim(value: ArmorStoredSession): ArmorStoredSession {
  const { claim: _claim, ...rest } = value;
  return rest;
}

/**
 * True when a stored state belongs to this session: its server, and exactly its user.
 * A session that has no user yet (built with `new ArmorSession`) takes the first
 * login of its server that it adopts, and is bound to that user from then on.
 */
export function isOwn(state: SessionState, value: ArmorStoredSession): boolean {
  if (value.server !== undefined && value.server !== state.prefix) return false;
  if (state.username === undefined) return true;
  return value.username === state.username;
}

/** Adopts the stored token when it is this session's, live, and newer than ours. */
export function adopt(state: SessionState, entry: ArmorStoreEntry | undefined): boolean {
  const value = entry?.value;
  if (value === undefined || !isOwn(state, value)) return false;
  if (value.identity !== undefined && state.identity === undefined && !value.identityTrimmed) {
    state.identity = value.identity;
    if (state.accountId === undefined && value.identity.accounts.length > 0) {
      state.accountId = value.identity.accounts[0].id;
      state.rebuildHeaders();
    }
  }
  if (!isLive(value, state.now()) || state.ended === "disconnected") return false;
  const stored = value.token!;
  if (stored.accessToken === state.rejectedToken) return false;
  const current = state.token;
  // Newer means a later expiry, even for the same token: a server may reissue the same
  // token with a new lifetime, and then the window's one reissue is spent.
  if (current !== undefined && state.ended === undefined && stored.expiresAt <= current.expiresAt) {
    if (stored.accessToken === current.accessToken) state.version = entry!.version;
    return false;
  }
  if (state.username === undefined && value.username !== undefined) {
    state.username = value.username;
  }
  const token: LocalToken = {
    accessToken: stored.accessToken,
    issuedAt: stored.issuedAt,
    expiresAt: stored.expiresAt,
  };
  state.setToken(token, entry!.version);
  return true;
}

/**
 * Takes a token a public token call obtained for a session, unless the session was
 * disconnected since `generation`: locally first (the old token may be dead already, so
 * the new one must not be lost to a store that fails), then shared, best effort.
 */
export async function takeToken(
  state: SessionState,
  token: ArmorApiToken,
  generation: number,
): Promise<void> {
  if (generation !== state.generation) return;
  const local: LocalToken = {
    accessToken: token.access_token,
    issuedAt: token.issuedAt.getTime(),
    expiresAt: token.expiresAt.getTime(),
  };
  state.setToken(local, null);
  try {
    const version = await publish(state, { token: local, identity: state.identity });
    if (state.token === local) state.version = version;
  } catch {
    // Other sessions will not see it; this one has it.
  }
}

/**
 * `session.authorize(token, expiresIn)`: checks the arguments, starts the session now (by
 * its clock) and shares the token, best effort.
 */
export function authorizeWith(state: SessionState, accessToken: string, expiresIn: number): void {
  if (state.usesApiKey) {
    throw new TypeError("This session signs with an API key: it has no token to authorize");
  }
  if (typeof accessToken !== "string" || !ACCESS_TOKEN_PATTERN.test(accessToken)) {
    throw new TypeError("accessToken must be 32 characters of [a-z0-9]");
  }
  if (typeof expiresIn !== "number") {
    throw new TypeError(`expiresIn must be a number, got ${describe(expiresIn)}`);
  }
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new RangeError("expiresIn must be a positive finite number");
  }
  const issuedAt = state.now(); // a TypeError for a clock that is broken
  const token = { accessToken, issuedAt, expiresAt: issuedAt + sessionLengthMs(expiresIn) };
  state.setToken(token, null);
  // Share it; a store that fails only loses the sharing, not the local session.
  publish(state, { token, identity: state.identity }).then(
    (version) => {
      if (state.token === token) state.version = version;
    },
    () => {},
  );
}
