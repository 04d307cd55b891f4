// Renewal coordination: one reissue in flight per session, shared by every caller, and
// one per window across the sessions of a shared store (a claim in the store). The
// rules it applies (when it is due, when callers must wait, when it may retry, and
// every number) are in `renewal.ts`.

import { log } from "./_http.ts";
import type { LocalToken, SessionState } from "./_session_state.ts";
import {
  adopt,
  claimedByOther,
  claimSet,
  dropClaim,
  forget,
  owned,
  storeGet,
  storeSet,
  withoutClaim,
} from "./_store_sync.ts";
import { reissueToken } from "./_token_core.ts";
import { ArmorApiError, type ArmorApiErrorCode } from "./errors.ts";
import { CLAIM_GRACE_MS, CLAIM_RETRY_MS, retryDelay } from "./renewal.ts";
import type { ArmorStoredSession } from "./token_store.ts";

/** Starts the one shared renewal. It never rejects. */
export function startRenewal(state: SessionState): Promise<void> {
  let checked!: () => void;
  state.renewalChecked = new Promise<void>((resolve) => checked = resolve);
  const renewal = renewOnce(state, checked).catch(() => {
    // Only a clock that throws gets here (every other failure backs off inside): the
    // renewal fails, and the next call meets the broken clock itself.
    log(state.logger, { event: "renewal", outcome: "failed", code: "UNKNOWN" });
  }).finally(() => {
    checked();
    if (state.renewal === renewal) {
      state.renewal = undefined;
      state.renewalChecked = undefined;
    }
  });
  state.renewal = renewal;
  return renewal;
}

/** The API rejected `accessToken` (401): the session ends, unless it moved on already. */
export function rejected(state: SessionState, accessToken: string): void {
  if (state.token?.accessToken !== accessToken) return;
  state.rejectedToken = accessToken;
  state.end("rejected");
  log(state.logger, { event: "renewal", outcome: "failed", code: "NOT_AUTHORIZED", status: 401 });
  void forget(state, accessToken);
}

function backoff(
  state: SessionState,
  retryAfter: number | undefined,
  code: ArmorApiErrorCode,
  status?: number,
): void {
  state.failures++;
  try {
    state.retryAt = state.now() + retryDelay(state.failures, retryAfter);
  } catch {
    // A clock that throws: no retry time can be set, and nothing is sent until it works.
  }
  log(state.logger, { event: "renewal", outcome: "failed", code, status });
}

/**
 * One renewal: adopt a newer token another session stored, or claim the renewal in the
 * store and reissue. A failure backs off and leaves the current token in use.
 */
async function renewOnce(state: SessionState, checked: () => void): Promise<void> {
  const mine = state.token;
  if (mine === undefined) return;
  // The session may end (disconnect, 401) or change token while this awaits.
  const stale = () => state.token !== mine || state.ended !== undefined;
  let claimed: string | null = null;
  let base: ArmorStoredSession | undefined;
  try {
    const entry = await storeGet(state);
    if (stale()) return;
    if (adopt(state, entry)) {
      log(state.logger, { event: "renewal", outcome: "adopted" });
      return;
    }
    const now = state.now();
    const value = entry?.value;
    const claim = value?.claim;
    if (claimedByOther(state, claim, now)) {
      // Another session is renewing: look again shortly, keep the current token.
      state.retryAt = now + CLAIM_RETRY_MS;
      return;
    }
    base = value ?? { token: { ...mine }, identity: state.identity };
    claimed = await claimSet(
      state,
      {
        ...base,
        claim: {
          owner: state.owner,
          purpose: "renew",
          until: now + state.timeout + CLAIM_GRACE_MS,
        },
      },
      entry?.version ?? null,
      false, // callers waiting for this renewal need not wait for the clean-up
    );
    if (claimed === null) {
      state.retryAt = now + CLAIM_RETRY_MS;
      return;
    }
  } catch (error) {
    // The store failed (`STORE`), or the clock threw while the store was read.
    backoff(state, undefined, error instanceof ArmorApiError ? error.code : "UNKNOWN");
    return;
  }
  const release = async () => {
    try {
      await storeSet(state, withoutClaim(base!), claimed);
    } catch {
      // The outcome is unknown: remove the claim if the store still shows it, in the
      // background (callers waiting for this renewal need not wait for the clean-up).
      void dropClaim(state);
    }
  };
  if (stale()) return await release();
  checked();
  let token: LocalToken;
  try {
    const fresh = await reissueToken(state.endpoint, mine.accessToken, state.accountId);
    token = {
      accessToken: fresh.access_token,
      issuedAt: fresh.issuedAt.getTime(),
      expiresAt: fresh.expiresAt.getTime(),
    };
  } catch (error) {
    const failure = error instanceof ArmorApiError ? error : undefined;
    backoff(state, failure?.retryAfter, failure?.code ?? "UNKNOWN", failure?.status);
    await release();
    // 401: the API no longer accepts this token, so no renewal ever will.
    if (failure?.status === 401) rejected(state, mine.accessToken);
    return;
  }
  if (stale()) return await release(); // disconnected meanwhile: share nothing
  // Locally first, so a failing store cannot lose the new token.
  state.setToken(token, null);
  log(state.logger, { event: "renewal", outcome: "renewed" });
  const renewed = owned(state, {
    ...withoutClaim(base!),
    token,
    identity: state.identity ?? base!.identity,
  });
  try {
    const version = await storeSet(state, renewed, claimed);
    if (state.token === token) state.version = version;
  } catch {
    // The outcome is unknown: when the store still shows the claim, put the new token in
    // its place (in the background), so that others neither wait for the claim to lapse
    // nor lose a session whose old token the server revoked on reissue.
    void dropClaim(state, renewed).then((version) => {
      if (version && state.token === token) state.version = version;
    });
  }
}
