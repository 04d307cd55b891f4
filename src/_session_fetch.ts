// The session's request pipeline (`session.fetch`). A call is a value, fixed when it is
// made: its URL, method, body, headers (the account context among them), deadline and
// signal. Then it waits for what it needs (a store read, a renewal, a signature) under
// that deadline and signal, is sent with the session's current token, and a 401 is read
// for what it means: resent once, exactly as it was made, when a newer token can answer.

import { clockSkew, fhAuthorization } from "./_authorization.ts";
import {
  boundBody,
  callFetch,
  discard,
  failureOf,
  honoursSignal,
  timeoutSignal,
  untilAborted,
} from "./_fetch.ts";
import { elapsed, log, pathOf, redactAuthorization } from "./_http.ts";
import { REDACTED } from "./_redact.ts";
import { rejected, startRenewal } from "./_renew.ts";
import type { HeaderSet, SessionState } from "./_session_state.ts";
import { adopt, claimedByOther, peek, storeGet } from "./_store_sync.ts";
import { describe } from "./_validate.ts";
import { ArmorApiError } from "./errors.ts";
import {
  CLAIM_RETRY_MS,
  isRenewalDue,
  mayRetryRenewal,
  mustRenew,
  STALE_401_LOOKS,
} from "./renewal.ts";

/** Request headers as a plain object with every credential-bearing value redacted. */
function redactHeaders(headers: HeadersInit): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of new Headers(headers)) {
    shown[name] = /^(proxy-)?authorization$/i.test(name)
      ? redactAuthorization(value)
      : /^(cookie|x-api-key)$/i.test(name)
      ? REDACTED
      : value;
  }
  return shown;
}

/** How many resolved paths a session keeps (then it starts over). */
const RESOLVED_PATHS_KEPT = 256;

/**
 * The URL `path` names on the session's origin; a TypeError for another origin, user
 * info, or something that is not a path.
 */
export function resolvePath(state: SessionState, path: string | URL): string {
  if (typeof path === "string") {
    // The hot path: "/x" is joined to the base URL with no parsing; nothing after
    // the base URL's own "/" can change the origin.
    const second = path.charCodeAt(1);
    if (path.charCodeAt(0) === 47 && second !== 47 && second !== 92) {
      // The same URL string for the same path, call after call: the runtime's fetch works
      // faster on a string it has seen (about 4 % of a loopback call, measured).
      let url = state.resolved.get(path);
      if (url === undefined) {
        url = state.prefix + path.slice(1);
        if (state.resolved.size >= RESOLVED_PATHS_KEPT) state.resolved.clear();
        state.resolved.set(path, url);
      }
      return url;
    }
  } else if (!(path instanceof URL)) {
    throw new TypeError(`path must be a string or a URL, got ${describe(path)}`);
  }
  let url: URL;
  try {
    url = new URL(path, state.prefix);
  } catch {
    throw new TypeError("path is not a valid URL path");
  }
  if (url.origin !== state.origin) {
    throw new TypeError(
      `Refusing to send the session's credentials to ${url.origin}: only ${state.origin} is allowed`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new TypeError(
      "path must not carry a user name or password: the session authorizes calls",
    );
  }
  return url.href;
}

/** One call, fixed when `session.fetch` was called: nothing read later changes it. */
export interface Call {
  readonly url: string;
  /** The method as the caller gave it (for logs and messages). */
  readonly method: string;
  /**
   * What fetch gets besides the headers: a copy of the caller's `init` with its body
   * captured, `redirect: "manual"` and the call's signal; `undefined` for no `init`.
   */
  readonly init: RequestInit | undefined;
  /** The session's headers for the call's account, as they were at the call. */
  readonly set: HeaderSet;
  /** Whether the body is a string (then `Content-Type: application/json` by default). */
  readonly jsonBody: boolean;
  /** The caller's headers with the session's defaults, when it gave any (no credential). */
  readonly given: Headers | undefined;
  /** For an API-key session: the exact body bytes or text to sign. */
  readonly signedBody: string | Uint8Array | undefined;
  readonly callerSignal: AbortSignal | undefined;
  /** The call's one deadline, armed at the call. */
  readonly deadline: AbortSignal;
  /** The deadline or the caller's signal: every wait and send of the call runs under it. */
  readonly signal: AbortSignal;
  /** `performance.now()` at the call, when there is a logger to tell the time to. */
  readonly started: number;
}

/** A copy of a body the caller could still change after the call; others as they are. */
function captureBody(body: BodyInit | null | undefined): BodyInit | null | undefined {
  if (body === undefined || body === null || typeof body === "string") return body;
  if (body instanceof URLSearchParams) return new URLSearchParams(body);
  if (body instanceof ArrayBuffer) return body.slice(0);
  if (ArrayBuffer.isView(body)) {
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice();
  }
  if (body instanceof FormData) {
    const copy = new FormData();
    for (const [name, value] of body) copy.append(name, value);
    return copy;
  }
  return body; // a Blob cannot change; a stream is read once, as it is
}

/** The exact body an API-key session signs; a TypeError for one it cannot sign. */
function bodyToSign(body: BodyInit | null | undefined): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) {
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }
  throw new TypeError(
    "An API-key session signs string, URLSearchParams, ArrayBuffer and typed-array bodies " +
      "only: read a stream, Blob or FormData into one of those first",
  );
}

/** The caller's headers with the session's defaults and the call's account context. */
function mergeHeaders(set: HeaderSet, given: HeadersInit, jsonBody: boolean): Headers {
  const headers = new Headers(given);
  if (!headers.has("accept")) headers.set("accept", "application/json");
  if (jsonBody && !headers.has("content-type")) headers.set("content-type", "application/json");
  if (!headers.has("x-account-context") && set.accountId !== undefined) {
    headers.set("x-account-context", String(set.accountId));
  }
  headers.delete("authorization"); // the session's credential goes in at the send
  return headers;
}

/**
 * Fixes a call: checks `init` as fetch would (a TypeError before anything is sent),
 * captures its method, headers (with `set`'s account context), body and signal, and
 * arms its deadline.
 */
export function capture(
  state: SessionState,
  set: HeaderSet,
  url: string,
  init: RequestInit | undefined,
): Call {
  const started = state.logger === undefined ? 0 : performance.now();
  if (init === undefined) {
    // The hot path: the session's headers by reference, a shared deadline timer.
    const deadline = timeoutSignal(state.timeout);
    return {
      url,
      method: "GET",
      init: undefined,
      set,
      jsonBody: false,
      given: undefined,
      signedBody: undefined,
      callerSignal: undefined,
      deadline,
      signal: deadline,
      started,
    };
  }
  if (typeof init !== "object" || init === null) {
    throw new TypeError(`init must be an object, got ${describe(init)}`);
  }
  const callerSignal = init.signal ?? undefined;
  if (callerSignal !== undefined && !(callerSignal instanceof AbortSignal)) {
    throw new TypeError(`init.signal must be an AbortSignal, got ${describe(callerSignal)}`);
  }
  const method = init.method ?? "GET";
  const upper = String(method).toUpperCase();
  const jsonBody = typeof init.body === "string";
  let given: Headers | undefined;
  if (init.headers !== undefined) {
    try {
      given = mergeHeaders(set, init.headers, jsonBody);
    } catch {
      // The runtime's message may quote the value: say what is wrong, not what it was.
      throw new TypeError(
        "init.headers holds an invalid header name or value (e.g. a line break in a value)",
      );
    }
  }
  if (init.body !== undefined && init.body !== null && (upper === "GET" || upper === "HEAD")) {
    throw new TypeError(`A ${upper} request cannot have a body: nothing was sent`);
  }
  const body = captureBody(init.body);
  const signedBody = state.usesApiKey ? bodyToSign(body) : undefined;
  const deadline = timeoutSignal(state.timeout);
  const signal = callerSignal === undefined ? deadline : AbortSignal.any([callerSignal, deadline]);
  return {
    url,
    method,
    // Sent upper-case as signed: fetch upper-cases only the standard methods.
    init: {
      ...init,
      method: state.usesApiKey ? upper : method,
      body,
      headers: undefined,
      redirect: "manual",
      signal,
    },
    set,
    jsonBody,
    given,
    signedBody,
    callerSignal,
    deadline,
    signal,
    started,
  };
}

/**
 * `session.fetch(path, init)` in the account of `set`: fixes the call, then sends it
 * with the current token (the hot path), or through renewal and the store, or signed.
 */
export function sessionFetch(
  state: SessionState,
  set: HeaderSet,
  path: string | URL,
  init: RequestInit | undefined,
): Promise<Response> {
  try {
    const url = resolvePath(state, path);
    const call = capture(state, set, url, init);
    if (state.usesApiKey) {
      if (state.ended !== undefined || state.identity === undefined) {
        return Promise.reject(state.noTokenError());
      }
      return send(state, call, undefined);
    }
    const token = state.token;
    // The hot path: a token well before its renewal point.
    if (token !== undefined && state.ended === undefined && state.now() < state.renewAt) {
      return send(state, call, token.accessToken);
    }
    return fetchSlow(state, call);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The call's headers with `Authorization: FH-AUTH <accessToken>`. */
function tokenHeaders(call: Call, accessToken: string): HeadersInit {
  const given = call.given;
  if (given !== undefined) {
    const headers = new Headers(given);
    headers.set("authorization", fhAuthorization(accessToken));
    return headers;
  }
  const base = call.jsonBody ? call.set.json : call.set.plain;
  // The token the call was made with: its headers by reference, nothing built.
  return call.set.accessToken === accessToken
    ? base
    : { ...base, authorization: fhAuthorization(accessToken) };
}

/** The call's headers with an `ARMOR-PSK` signature. */
function signedHeaders(call: Call, authorization: string): HeadersInit {
  const given = call.given;
  if (given !== undefined) {
    const headers = new Headers(given);
    headers.set("authorization", authorization);
    return headers;
  }
  return { ...(call.jsonBody ? call.set.json : call.set.plain), authorization };
}

/**
 * Sends the call with `accessToken`, or signed when there is none (an API key);
 * `retried` after a 401 for a token that a newer one replaced.
 */
export function send(
  state: SessionState,
  call: Call,
  accessToken: string | undefined,
  retried = false,
): Promise<Response> {
  if (accessToken !== undefined) {
    return transmit(state, call, accessToken, tokenHeaders(call, accessToken), retried);
  }
  // An API key: each request is signed, with the exact method, path and body sent.
  const credential = state.credential;
  if (credential.scheme !== "ARMOR-PSK") return Promise.reject(state.noTokenError());
  const signed = credential.sign(call.init?.method ?? "GET", pathOf(call.url), call.signedBody);
  return typeof signed === "string"
    ? transmit(state, call, undefined, signedHeaders(call, signed), retried)
    : within(state, call, signed).then((authorization) =>
      transmit(state, call, undefined, signedHeaders(call, authorization), retried)
    );
}

/** One request of the call, with these headers, under the call's deadline and signal. */
function transmit(
  state: SessionState,
  call: Call,
  accessToken: string | undefined,
  headers: HeadersInit,
  retried: boolean,
): Promise<Response> {
  const init = call.init;
  const request: RequestInit = init === undefined
    ? { headers, redirect: "manual", signal: call.signal }
    : { ...init, headers };
  const logger = state.logger;
  if (logger !== undefined) {
    log(logger, {
      event: "request",
      method: call.method,
      url: call.url,
      headers: redactHeaders(headers),
    });
  }
  const fetchImpl = state.endpoint.fetch ?? globalThis.fetch;
  const native = honoursSignal(fetchImpl);
  const pending = callFetch(fetchImpl, call.url, request);
  // Raced with the signal: a fetch that ignores it still ends at the deadline, and so
  // does its body. The runtime's own fetch aborts both by itself.
  const raced = native ? pending : untilAborted(pending, call.signal, discard);
  return raced.then(
    (response) => answered(state, call, accessToken, response, native, retried),
    (error) => {
      throw failure(state, call, accessToken, error);
    },
  );
}

/** The call's failure as an ArmorApiError (logged): aborted, timed out, or the network. */
function failure(
  state: SessionState,
  call: Call,
  accessToken: string | undefined,
  error: unknown,
): ArmorApiError {
  const { code, message, cause } = failureOf(
    error,
    `${call.method} ${pathOf(call.url)}`,
    call.url,
    call.callerSignal,
    call.deadline,
    state.timeout,
    accessToken === undefined ? [] : [accessToken],
  );
  const logger = state.logger;
  if (logger !== undefined) {
    log(logger, {
      event: "error",
      method: call.method,
      url: call.url,
      code,
      ms: elapsed(call.started),
    });
  }
  return new ArmorApiError(code, message, { cause });
}

/**
 * Waits for `pending` under the call's deadline and signal: an abort or the deadline
 * ends the wait at once (`ABORTED`, `TIMEOUT`), and only this call's wait: what it
 * waited for (a renewal shared with other calls, a store read) goes on.
 */
function within<T>(state: SessionState, call: Call, pending: Promise<T>): Promise<T> {
  return untilAborted(pending, call.signal).catch((error) => {
    if (call.signal.aborted) throw failure(state, call, state.token?.accessToken, error);
    throw error;
  });
}

/**
 * The share of its timeout a call waits at most for a renewal or a store check while
 * the token it holds is still good; then it goes out with that token.
 */
const WAIT_SHARE = 0.5;

/** Settles when `pending` does, or after `ms` at the latest (then with `undefined`). */
function atMost<T>(pending: Promise<T>, ms: number): Promise<T | undefined> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const timer = new Promise<undefined>((resolve) => id = setTimeout(() => resolve(undefined), ms));
  return Promise.race([pending, timer]).finally(() => clearTimeout(id));
}

/** A pause of `ms` under the call's signal (its timer cleared when the call ends). */
function pause(state: SessionState, call: Call, ms: number): Promise<void> {
  const signal = call.signal;
  if (signal.aborted) return Promise.reject(failure(state, call, undefined, signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(id);
      reject(failure(state, call, undefined, signal.reason));
    };
    const id = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** What the call resolves with once an answer came. */
function answered(
  state: SessionState,
  call: Call,
  accessToken: string | undefined,
  response: Response,
  native: boolean,
  retried: boolean,
): Response | Promise<Response> {
  const logger = state.logger;
  if (logger !== undefined) {
    log(logger, {
      event: "response",
      method: call.method,
      url: call.url,
      status: response.status,
      ms: elapsed(call.started),
    });
  }
  if (response.status === 401) {
    if (accessToken !== undefined) {
      return unauthorized(state, call, accessToken, response, native, retried);
    }
    const skew = clockSkew(state.now(), response);
    if (skew !== undefined) {
      discard(response);
      throw skew;
    }
  }
  return native ? response : boundBody(response, call.signal);
}

/**
 * A 401 for `accessToken`. Sent with a token the session has replaced since, or one
 * whose renewal is in flight (a server that revokes the old token on reissue), or one
 * another session sharing the store renewed: the server did not act on it, so the call
 * is sent once more, as it was made, with the newer token (a call with a stream body,
 * which cannot be sent again, gets its 401, and the session keeps the newer token).
 * Else the session ends.
 */
function unauthorized(
  state: SessionState,
  call: Call,
  accessToken: string,
  response: Response,
  native: boolean,
  retried: boolean,
): Response | Promise<Response> {
  const answer = native ? response : boundBody(response, call.signal);
  if (retried || state.ended !== undefined) {
    rejected(state, accessToken);
    return answer;
  }
  const resend = replayable(call);
  const current = state.token?.accessToken;
  if (current !== undefined && current !== accessToken) {
    if (!resend) return answer;
    discard(answer);
    return send(state, call, current, true);
  }
  if (state.renewal === undefined && !state.shared) {
    rejected(state, accessToken);
    return answer;
  }
  return newerToken(state, call, accessToken).then((fresh) => {
    if (fresh === undefined) {
      rejected(state, accessToken);
      return answer;
    }
    if (!resend) return answer;
    discard(answer);
    return send(state, call, fresh, true);
  }, (error) => {
    discard(answer);
    throw error;
  });
}

/**
 * After a 401 for the current `accessToken`: the token that replaces it, once the
 * renewal in flight ends or (on a shared store) another session stored one; `undefined`
 * when none does. Every wait is under the call's deadline and signal.
 */
async function newerToken(
  state: SessionState,
  call: Call,
  accessToken: string,
): Promise<string | undefined> {
  const renewal = state.renewal;
  if (renewal !== undefined) {
    await within(state, call, renewal);
    if (state.ended !== undefined) return undefined;
    const current = state.token?.accessToken;
    if (current !== undefined && current !== accessToken) return current;
  }
  if (!state.shared || state.ended !== undefined) return undefined;
  return await renewedElsewhere(state, call, accessToken);
}

/**
 * After a 401 for `accessToken` on a shared store: the newer token of this session's
 * server and user that another session stored (waiting out a renewal claim that is
 * still open, a few times), adopted; or `undefined` when there is none.
 */
async function renewedElsewhere(
  state: SessionState,
  call: Call,
  accessToken: string,
): Promise<string | undefined> {
  for (let look = 0; look <= STALE_401_LOOKS; look++) {
    const entry = await within(state, call, peek(state));
    adopt(state, entry);
    const current = state.token?.accessToken;
    if (current !== undefined && current !== accessToken && state.ended === undefined) {
      return current;
    }
    if (!claimedByOther(state, entry?.value.claim, state.now())) return undefined;
    await pause(state, call, CLAIM_RETRY_MS);
  }
  return undefined;
}

/** Whether a call can be sent again as it was: no stream body. */
function replayable(call: Call): boolean {
  return !(call.init?.body instanceof ReadableStream);
}

/**
 * The path through renewal: no token yet, or renewal due, or the session ended. Every
 * wait is under the call's deadline and signal; the call goes out as it was made, with
 * the token the session holds then.
 */
async function fetchSlow(state: SessionState, call: Call): Promise<Response> {
  if (state.ended === "disconnected") throw state.noTokenError();
  if (state.token === undefined || state.ended !== undefined) {
    adopt(state, await within(state, call, storeGet(state)));
    if (state.token === undefined || state.ended !== undefined) throw state.noTokenError();
  }
  let now = state.now(); // a TypeError for a broken clock
  if (now >= state.token.expiresAt) {
    // Another session may have renewed it.
    adopt(state, await within(state, call, peek(state)));
    now = state.now();
  }
  const token = state.token;
  if (token === undefined || state.ended !== undefined) throw state.noTokenError();
  if (now >= token.expiresAt) throw state.expiredError(token.expiresAt);
  if (isRenewalDue(now, state.renewAt)) {
    const renewal = state.renewal ??
      (mayRetryRenewal(now, state.retryAt) ? startRenewal(state) : undefined);
    const length = token.expiresAt - token.issuedAt;
    // About to lapse: wait for the new token. Else, on a shared store, wait only for the
    // store check, so a token another session already renewed is used at once; a
    // private store holds nothing new, so the call goes out now.
    const wait = renewal === undefined
      ? undefined
      : mustRenew(now, token.expiresAt, length)
      ? renewal
      : state.shared
      ? state.renewalChecked
      : undefined;
    // The current token is still good: a slow renewal or a stalled store holds the call
    // for at most a share of its time, and the rest is left for the call itself.
    if (wait !== undefined) await within(state, call, atMost(wait, state.timeout * WAIT_SHARE));
  }
  const current = state.token;
  if (current === undefined || state.ended !== undefined) throw state.noTokenError();
  if (state.now() >= current.expiresAt) throw state.expiredError(current.expiresAt);
  return await send(state, call, current.accessToken);
}
