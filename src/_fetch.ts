// Sending one request: its deadline, calling a fetch the way every runtime accepts, and
// what a failed fetch means. Deadlines are `AbortSignal.timeout` signals: they run on the
// runtime's monotonic timers, never on the wall clock.

import { scrubCause } from "./_redact.ts";
import type { ArmorApiErrorCode } from "./errors.ts";
import { DEADLINE_SLACK_MAX_MS, DEADLINE_SLACK_SHARE, LONGEST_TIMEOUT_MS } from "./renewal.ts";

/**
 * Whether calls may share a deadline timer: where timers belong to the process (Deno and
 * Deno Deploy, Node, Bun). A Cloudflare Workers timer belongs to the request that armed
 * it and may never fire for the next one; there, and wherever the runtime is unknown,
 * each call arms its own.
 */
const SHARES_TIMERS = /^(Deno|Node\.js|Bun)\//.test(
  String((globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent ?? ""),
);

/** The timer last armed for each timeout, when (`monotonicNow()`), and how many calls use it. */
const armed = new Map<number, { signal: AbortSignal; at: number; uses: number }>();

/** How many different timeouts keep a shared timer (then it starts over). */
const TIMEOUTS_KEPT = 16;

/**
 * How many calls share one timer at most: Node's fetch keeps a listener on the signal per
 * request, and warns of a leak past 1,500 on one signal.
 */
const USES_PER_TIMER = 500;

/**
 * The runtime's monotonic clock as it was when this module loaded: test frameworks' fake
 * timers replace `performance.now` but not `AbortSignal.timeout`, and a frozen clock
 * must not make a call share a timer armed long before it.
 */
const monotonicNow = performance.now.bind(performance);

/**
 * A signal that aborts no earlier than `timeout` ms from now, and at most the slack
 * later: calls armed within the slack of each other share one timer. A timer per call
 * costs some 5 % of a loopback request (measured: `AbortSignal.timeout` per call 1.09×
 * a bare fetch, one shared signal 1.02–1.05×); one timer per slack window also keeps far
 * fewer timers alive, as each outlives its call by the whole timeout. A timeout too close
 * to the longest timer to add the slack gets a timer of its own.
 */
export function timeoutSignal(timeout: number): AbortSignal {
  const slack = Math.min(timeout * DEADLINE_SLACK_SHARE, DEADLINE_SLACK_MAX_MS);
  if (!SHARES_TIMERS || !(slack >= 1) || Math.ceil(timeout + slack) > LONGEST_TIMEOUT_MS) {
    return AbortSignal.timeout(timeout);
  }
  const now = monotonicNow();
  const last = armed.get(timeout);
  // Armed at `at` for timeout + slack: it fires at least `timeout` after any call
  // within the slack, and at most `slack` after that.
  if (
    last !== undefined && now >= last.at && now - last.at <= slack &&
    last.uses < USES_PER_TIMER && !last.signal.aborted
  ) {
    last.uses++;
    return last.signal;
  }
  const signal = AbortSignal.timeout(Math.ceil(timeout + slack));
  if (last === undefined && armed.size >= TIMEOUTS_KEPT) armed.clear();
  armed.set(timeout, { signal, at: now, uses: 1 });
  return signal;
}

export function abortCode(
  callerSignal: AbortSignal | undefined,
  deadline: AbortSignal,
): ArmorApiErrorCode | undefined {
  if (callerSignal?.aborted) return "ABORTED";
  if (deadline.aborted) return "TIMEOUT";
  return undefined;
}

export function abortMessage(code: ArmorApiErrorCode, what: string, timeout: number): string {
  return code === "TIMEOUT"
    ? `${what} timed out after ${timeout} ms`
    : `${what} was aborted by the caller`;
}

/** The host and the reason of a network failure, from its (already scrubbed) cause. */
function networkReason(cause: unknown): string {
  let reason = "";
  for (let error = cause, depth = 0; error instanceof Error && depth < 4; depth++) {
    if (error.message) reason = error.message;
    error = error.cause;
  }
  return reason.replace(/[\p{Cc}\p{Cf}]+/gu, " ").slice(0, 200);
}

/**
 * What a rejected fetch means, for the token calls and `session.fetch` alike: `ABORTED`
 * (the caller's signal), `TIMEOUT` (the deadline) or `NETWORK`, with the cause still to
 * scrub. Deno's refusal of a host not granted by `--allow-net` is a setup problem, not
 * the Armor API's: it is thrown as it is (its message names the host, never a secret).
 */
function sendFailure(
  error: unknown,
  what: string,
  callerSignal: AbortSignal | undefined,
  deadline: AbortSignal,
  timeout: number,
): { code: ArmorApiErrorCode; message: string; cause: unknown } {
  const code = abortCode(callerSignal, deadline);
  if (code === "ABORTED") {
    return { code, message: abortMessage(code, what, timeout), cause: callerSignal!.reason };
  }
  if (code === "TIMEOUT") {
    return { code, message: abortMessage(code, what, timeout), cause: deadline.reason };
  }
  if (isPermissionError(error)) throw error;
  if (error instanceof NotAResponse) {
    return {
      code: "INVALID_RESPONSE",
      message: `${what} failed: the fetch function resolved with ${error.message}, not a Response`,
      cause: undefined,
    };
  }
  return { code: "NETWORK", message: `${what} failed: no answer from the Armor API`, cause: error };
}

/**
 * The message of a `NETWORK` failure, naming the host and the reason when the scrubbed
 * cause tells one: `GET /me failed: no answer from api.armor.com (connection refused)`.
 */
function networkMessage(what: string, url: string, scrubbedCause: unknown): string {
  const host = /^[a-z][a-z\d+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? "the Armor API";
  const reason = networkReason(scrubbedCause);
  return `${what} failed: no answer from ${host}${reason === "" ? "" : ` (${reason})`}`;
}

/** True for Deno's refusal of a host not granted by `--allow-net` (NotCapable). */
function isPermissionError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "NotCapable" || name === "PermissionDenied";
}

/** The runtime's own fetch, as it was when this module loaded. */
const runtimeFetch = globalThis.fetch;

/**
 * True for the runtime's own fetch: it aborts the request and the body's reads as soon
 * as the signal aborts, so racing it with the signal ({@linkcode untilAborted}) would
 * only add cost. Any other fetch may ignore the signal, and is raced.
 */
export function honoursSignal(fetchImpl: typeof fetch): boolean {
  return fetchImpl === runtimeFetch;
}

/** What an injected fetch resolved with instead of a Response (its kind as the message). */
class NotAResponse extends Error {}

/**
 * The value when it can be read as a Response (a status, headers, a body or none); else
 * a rejection that {@linkcode failureOf} reads as `INVALID_RESPONSE`.
 */
function checkResponse(value: unknown): Response {
  const response = value as Partial<Response> | null | undefined;
  if (
    typeof response === "object" && response !== null && typeof response.status === "number" &&
    typeof response.headers?.get === "function" &&
    (response.body === null || typeof response.body?.getReader === "function")
  ) {
    return value as Response;
  }
  throw new NotAResponse(
    value === null || value === undefined
      ? String(value)
      : typeof value === "object"
      ? "an object"
      : `a ${typeof value}`,
  );
}

/**
 * Calls `fetchImpl` unbound, as a plain function: Cloudflare Workers and browsers refuse
 * their global `fetch` called as a method of another object ("Illegal invocation"). A
 * fetch that throws instead of rejecting becomes a rejection, and an injected fetch that
 * resolves with something that is not a Response becomes one too.
 */
export function callFetch(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
): Promise<Response> {
  let pending: Promise<Response>;
  try {
    pending = fetchImpl(url, init);
  } catch (error) {
    return Promise.reject(error);
  }
  return fetchImpl === runtimeFetch ? pending : Promise.resolve(pending).then(checkResponse);
}

/** Cancels the body of a response nobody will read; never throws. */
export function discard(response: Response | undefined): void {
  try {
    response?.body?.cancel().catch(() => {});
  } catch {
    // Not a Response after all: nothing to cancel.
  }
}

/**
 * Settles as `pending` does, or rejects with the signal's reason as soon as it aborts, so
 * that a fetch (or a body) that ignores its signal cannot outlast the deadline. What
 * `pending` resolves with after that is handed to `late` (to cancel a body).
 */
export function untilAborted<T>(
  pending: Promise<T>,
  signal: AbortSignal,
  late?: (value: T) => void,
): Promise<T> {
  // What comes too late is handed to `late`, which must not throw from a dangling promise.
  const lateOnly = (value: T) => {
    try {
      late?.(value);
    } catch {
      // E.g. not a Response: nothing to clean up.
    }
  };
  if (signal.aborted) {
    pending.then(lateOnly, () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      pending.then(lateOnly, () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then((value) => {
      signal.removeEventListener("abort", onAbort);
      if (settled) return; // too late: `late` has it
      settled = true;
      resolve(value);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

/**
 * The response with a body whose reads end when `signal` aborts: for a fetch that may
 * ignore its signal, so that the caller's `text()` or `json()` cannot outlast the
 * deadline either.
 */
export function boundBody(response: Response, signal: AbortSignal): Response {
  const body = response.body;
  if (body === null) return response;
  const reader = body.getReader();
  const bounded = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await untilAborted(reader.read(), signal);
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        reader.cancel(error).catch(() => {});
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const wrapped = new Response(bounded, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // Keep what a Response built by hand loses.
  Object.defineProperties(wrapped, {
    url: { value: response.url },
    redirected: { value: response.redirected },
    type: { value: response.type },
  });
  return wrapped;
}

/** What `Deno.createHttpClient` returns, as far as this module uses it. */
export interface HttpClientLike {
  close(): void;
}

/**
 * A client whose connection serves one request only, where the runtime lets a fetch ask
 * for one (Deno's `createHttpClient` with no idle pool), to pass as the fetch's `client`.
 * A runtime's fetch resends a request on a new connection when a reused keep-alive
 * connection was closed after the server read it; a request on a fresh connection is
 * never resent, so a one-time code or a password reaches the server at most once.
 * Elsewhere: `undefined` (Node's fetch does not resend a POST). Close it with
 * {@linkcode closeClient} once the response was read.
 */
export function ownClient(): HttpClientLike | undefined {
  const deno = (globalThis as { Deno?: { createHttpClient?: (options: object) => HttpClientLike } })
    .Deno;
  if (typeof deno?.createHttpClient !== "function") return undefined;
  try {
    return deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  } catch {
    return undefined;
  }
}

/** Closes a client from {@linkcode ownClient}; never throws. */
export function closeClient(client: HttpClientLike): void {
  try {
    client.close();
  } catch {
    // Already closed.
  }
}

/**
 * What a rejected fetch means, ready to show: the code, a message naming the host and
 * reason for a `NETWORK` failure, and the cause with every one of `secrets` scrubbed.
 */
export function failureOf(
  error: unknown,
  what: string,
  url: string,
  callerSignal: AbortSignal | undefined,
  deadline: AbortSignal,
  timeout: number,
  secrets: readonly string[],
): { code: ArmorApiErrorCode; message: string; cause: unknown } {
  const failure = sendFailure(error, what, callerSignal, deadline, timeout);
  const cause = scrubCause(failure.cause, secrets);
  const message = failure.code === "NETWORK" ? networkMessage(what, url, cause) : failure.message;
  return { code: failure.code, message, cause };
}
