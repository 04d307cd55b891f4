// The session's request pipeline (`session.fetch`): resolve the path on the session's
// origin, renew when due, add the headers, send with a deadline that covers the body,
// and read a 401 for what it means.

import { clockSkew, fhAuthorization } from "./_authorization.ts";
import {
  boundBody,
  callFetch,
  deadlineFor,
  failureOf,
  honoursSignal,
  untilAborted,
} from "./_fetch.ts";
import { elapsed, log, pathOf, redactAuthorization } from "./_http.ts";
import { REDACTED } from "./_redact.ts";
import { rejected, startRenewal } from "./_renew.ts";
import type { SessionState } from "./_session_state.ts";
import { adopt, peek, storeGet } from "./_store_sync.ts";
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

/**
 * The checks on `init` that `fetch` would make, before anything is sent; for an API-key
 * session, the exact body to sign.
 */
export function checkBody(
  state: SessionState,
  init: RequestInit | undefined,
): string | Uint8Array | undefined {
  if (init === undefined) return undefined;
  if (typeof init !== "object" || init === null) {
    throw new TypeError(`init must be an object, got ${describe(init)}`);
  }
  if (init.signal !== undefined && init.signal !== null && !(init.signal instanceof AbortSignal)) {
    throw new TypeError(`init.signal must be an AbortSignal, got ${describe(init.signal)}`);
  }
  if (init.headers !== undefined) {
    try {
      new Headers(init.headers);
    } catch {
      // The runtime's message may quote the value: say what is wrong, not what it was.
      throw new TypeError(
        "init.headers holds an invalid header name or value (e.g. a line break in a value)",
      );
    }
  }
  const method = (init.method ?? "GET").toUpperCase();
  const body = init.body;
  if (body !== undefined && body !== null && (method === "GET" || method === "HEAD")) {
    throw new TypeError(`A ${method} request cannot have a body: nothing was sent`);
  }
  if (!state.usesApiKey || body === undefined || body === null) return undefined;
  // A signed request needs its exact body bytes up front.
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

function mergeHeaders(
  state: SessionState,
  authorization: string,
  given: HeadersInit | undefined,
  jsonBody: boolean,
): Headers {
  const headers = new Headers(given);
  if (!headers.has("accept")) headers.set("accept", "application/json");
  if (jsonBody && !headers.has("content-type")) headers.set("content-type", "application/json");
  if (!headers.has("x-account-context") && state.accountId !== undefined) {
    headers.set("x-account-context", String(state.accountId));
  }
  headers.set("authorization", authorization);
  return headers;
}

/** Sends one call with the given credential; `retried` after a 401 for a replaced token. */
export function send(
  state: SessionState,
  accessToken: string | undefined,
  url: string,
  init: RequestInit | undefined,
  signedBody?: string | Uint8Array,
  retried = false,
): Promise<Response> {
  const timeout = state.timeout;
  const fetchImpl = state.endpoint.fetch ?? globalThis.fetch;
  const native = honoursSignal(fetchImpl);
  const userSignal = init?.signal ?? undefined;
  const { deadline, signal } = deadlineFor(timeout, userSignal);
  const method = init?.method ?? "GET";
  const logger = state.logger;
  // Timed only for a logger: a call without one reads no clock.
  const started = logger === undefined ? 0 : performance.now();
  const fail = (error: unknown): never => {
    const { code, message, cause } = failureOf(
      error,
      `${method} ${pathOf(url)}`,
      url,
      userSignal,
      deadline,
      timeout,
      accessToken === undefined ? [] : [accessToken],
    );
    if (logger !== undefined) {
      log(logger, { event: "error", method, url, code, ms: elapsed(started) });
    }
    throw new ArmorApiError(code, message, { cause });
  };
  const go = (headers: HeadersInit, sent = init): Promise<Response> => {
    const request: RequestInit = sent === undefined
      ? { headers, redirect: "manual", signal }
      : { ...sent, headers, redirect: "manual", signal };
    if (logger !== undefined) {
      log(logger, { event: "request", method, url, headers: redactHeaders(headers) });
    }
    const pending = callFetch(fetchImpl, url, request);
    // Raced with the signal: a fetch that ignores it still ends at the deadline, and so
    // does its body. The runtime's own fetch aborts both by itself.
    const raced = native
      ? pending
      : untilAborted(pending, signal, (response) => void response.body?.cancel().catch(() => {}));
    return raced.then((response) => {
      if (logger !== undefined) {
        log(logger, {
          event: "response",
          method,
          url,
          status: response.status,
          ms: elapsed(started),
        });
      }
      if (response.status === 401) {
        if (accessToken === undefined) {
          const skew = clockSkew(state.now(), response);
          if (skew !== undefined) {
            response.body?.cancel().catch(() => {});
            throw skew;
          }
        } else {
          const current = state.token?.accessToken;
          if (
            !retried && current !== undefined && current !== accessToken &&
            state.ended === undefined && replayable(init)
          ) {
            // Sent with a token the session has replaced since: the server did not act on
            // it. Once more, with the current token.
            response.body?.cancel().catch(() => {});
            return send(state, current, url, init, signedBody, true);
          }
          if (!retried && state.shared && state.ended === undefined && replayable(init)) {
            // On a shared store another session may have renewed (and the server revoked
            // this token on reissue): take its token and send once more before giving up.
            const answered = native ? response : boundBody(response, signal);
            return renewedElsewhere(state, accessToken).then((fresh) => {
              if (fresh === undefined) {
                rejected(state, accessToken);
                return answered;
              }
              answered.body?.cancel().catch(() => {});
              return send(state, fresh, url, init, signedBody, true);
            });
          }
          rejected(state, accessToken);
        }
      }
      return native ? response : boundBody(response, signal);
    }, fail);
  };
  if (accessToken !== undefined) {
    const jsonBody = typeof init?.body === "string";
    const headers = init?.headers === undefined
      ? (accessToken === state.token?.accessToken
        ? (jsonBody ? state.headersWithBody : state.headers)
        : mergeHeaders(state, fhAuthorization(accessToken), undefined, jsonBody))
      : mergeHeaders(state, fhAuthorization(accessToken), init.headers, jsonBody);
    return go(headers);
  }
  // An API key: each request is signed, with the exact path and body sent.
  const credential = state.credential;
  if (credential.scheme !== "ARMOR-PSK") return Promise.reject(state.noTokenError());
  // Sent upper-case as signed: fetch upper-cases only the standard methods.
  const upper = method.toUpperCase();
  const signedInit: RequestInit = init === undefined
    ? { method: upper }
    : { ...init, method: upper };
  const headersFor = (authorization: string): HeadersInit =>
    init?.headers === undefined
      // The common case, as plain data: the session's headers and the signature.
      ? {
        ...(typeof init?.body === "string" ? state.headersWithBody : state.headers),
        authorization,
      }
      : mergeHeaders(state, authorization, init.headers, typeof init.body === "string");
  const signed = credential.sign(upper, pathOf(url), signedBody);
  return typeof signed === "string"
    ? go(headersFor(signed), signedInit)
    : signed.then((authorization) => go(headersFor(authorization), signedInit));
}

/**
 * After a 401 for `accessToken` on a shared store: the newer token of this session's
 * server and user that another session stored (waiting out a renewal claim that is
 * still open, a few times), adopted; or `undefined` when there is none.
 */
async function renewedElsewhere(
  state: SessionState,
  accessToken: string,
): Promise<string | undefined> {
  for (let look = 0; look <= STALE_401_LOOKS; look++) {
    const entry = await peek(state);
    adopt(state, entry);
    const current = state.token?.accessToken;
    if (current !== undefined && current !== accessToken && state.ended === undefined) {
      return current;
    }
    const claim = entry?.value.claim;
    if (claim === undefined || claim.owner === state.owner || !(claim.until > state.now())) {
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, CLAIM_RETRY_MS));
  }
  return undefined;
}

/** Whether a call can be sent again as it was: no stream body. */
function replayable(init: RequestInit | undefined): boolean {
  const body = init?.body;
  return body === undefined || body === null || !(body instanceof ReadableStream);
}

/** The path through renewal: no token yet, or renewal due, or the session ended. */
export async function fetchSlow(
  state: SessionState,
  url: string,
  init: RequestInit | undefined,
): Promise<Response> {
  if (state.ended === "disconnected") throw state.noTokenError();
  if (state.token === undefined || state.ended !== undefined) {
    adopt(state, await storeGet(state));
    if (state.token === undefined || state.ended !== undefined) throw state.noTokenError();
  }
  let now = state.now(); // a TypeError for a broken clock
  if (now >= state.token.expiresAt) {
    // Another session may have renewed it.
    adopt(state, await peek(state));
    now = state.now();
  }
  const token = state.token;
  if (token === undefined || state.ended !== undefined) throw state.noTokenError();
  if (now >= token.expiresAt) throw state.expiredError(token.expiresAt);
  if (isRenewalDue(now, state.renewAt)) {
    const renewal = state.renewal ??
      (mayRetryRenewal(now, state.retryAt) ? startRenewal(state) : undefined);
    const length = token.expiresAt - token.issuedAt;
    if (renewal !== undefined) {
      // About to lapse: wait for the new token. Else, on a shared store, wait only for
      // the store check, so a token another session already renewed is used at once;
      // a private store holds nothing new, so the call goes out now.
      if (mustRenew(now, token.expiresAt, length)) await renewal;
      else if (state.shared) await state.renewalChecked;
    }
  }
  const current = state.token;
  if (current === undefined || state.ended !== undefined) throw state.noTokenError();
  if (state.now() >= current.expiresAt) throw state.expiredError(current.expiresAt);
  return await send(state, current.accessToken, url, init);
}
