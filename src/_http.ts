// The shared request pipeline: one place that sends a request, enforces the timeout,
// the caller's signal and the size cap, never follows a redirect, and turns every
// outcome into a JSON object or an ArmorApiError. The token calls, the login and
// `session.fetch` all send through here.
//
// How each request is sent (deadline, unbound fetch, failure meaning) is in `_fetch.ts`.

import {
  abortCode,
  abortMessage,
  callFetch,
  closeClient,
  failureOf,
  honoursSignal,
  ownClient,
  timeoutSignal,
  untilAborted,
} from "./_fetch.ts";
import { REDACTED, scrubCause } from "./_redact.ts";
import {
  describeServerError,
  MAX_ERROR_BODY_BYTES,
  parseServerError,
  type ServerError,
} from "./_server_error.ts";
import {
  ArmorApiError,
  type ArmorApiErrorCode,
  InvalidField,
  MAX_RESPONSE_BYTES,
} from "./errors.ts";
import { MAX_RETRY_AFTER_S } from "./renewal.ts";
import { isRecord } from "./_validate.ts";
import type { ArmorLogger, ArmorLogRecord, ArmorRequestPlan } from "./types.ts";

/** How one call is sent. */
export interface Transport {
  fetch: typeof fetch;
  signal?: AbortSignal;
  timeout: number;
  logger?: ArmorLogger;
  /** Reads a 401 first: an error to throw instead of `HTTP_STATUS`, if it has one. */
  on401?: (response: Response) => ArmorApiError | undefined;
}

/** A request ready to send: its plan (redacted) and its real headers and body. */
export interface Outgoing {
  /** What the request would show (secrets redacted); may be built only when read. */
  readonly plan: ArmorRequestPlan;
  /** The method, where it is known without building the plan. */
  method?: ArmorRequestPlan["method"];
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Every secret the request carries, to keep out of errors. */
  secrets: readonly string[];
  /**
   * Must reach the server at most once (a one-time code, a password, a token to reissue):
   * sent on a connection of its own, never a reused one that the runtime would silently
   * send again on if the server closed it after reading.
   */
  once?: boolean;
}

/**
 * How every log record and plan shows an `Authorization` value: its scheme, then
 * `[REDACTED]` (`FH-AUTH [REDACTED]`, `ARMOR-PSK [REDACTED]`); a value with no scheme is
 * `[REDACTED]` whole.
 */
export function redactAuthorization(value: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9_-]{0,31}) /.exec(value)?.[1];
  return scheme === undefined ? REDACTED : `${scheme} ${REDACTED}`;
}

/**
 * Gives a record to the logger. A logger that throws, or returns a promise that
 * rejects, is ignored: a broken logger must not break the call or the process.
 */
export function log(logger: ArmorLogger | undefined, record: ArmorLogRecord): void {
  if (logger === undefined) return;
  try {
    const result = (logger as (record: ArmorLogRecord) => unknown)(record);
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
      Promise.resolve(result).catch(() => {});
    }
  } catch {
    // Ignored, as documented.
  }
}

/** Milliseconds since `started` (a `performance.now()` reading): monotonic. */
export function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** Parses `Retry-After` (seconds or an HTTP date) into seconds from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), MAX_RETRY_AFTER_S);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, Math.ceil((date - now) / 1000)), MAX_RETRY_AFTER_S);
}

function fail(
  code: ArmorApiErrorCode,
  message: string,
  out: Outgoing,
  started: number,
  transport: Transport,
  extra: { status?: number; cause?: unknown; retryAfter?: number } & ServerError = {},
): ArmorApiError {
  if (transport.logger !== undefined) {
    log(transport.logger, {
      event: "error",
      method: out.plan.method,
      url: out.plan.url,
      code,
      status: extra.status,
      ms: elapsed(started),
    });
  }
  return new ArmorApiError(code, message, {
    status: extra.status,
    retryAfter: extra.retryAfter,
    serverCode: extra.serverCode,
    serverMessage: extra.serverMessage,
    referenceId: extra.referenceId,
    cause: extra.cause === undefined ? undefined : scrubCause(extra.cause, out.secrets),
  });
}

/** The declared `Content-Length`, when it is a plain decimal number. */
function declaredLength(response: Response): number | undefined {
  const length = response.headers.get("content-length");
  return length !== null && /^\d+$/.test(length.trim()) ? Number(length) : undefined;
}

/**
 * True when a body from the runtime's own fetch (`native`, a `"basic"` response) may be
 * read in one step: its transport ends the body at the declared length (more bytes are
 * cut off, conflicting lengths fail), nothing decodes it into more (no
 * Content-Encoding), no chunking overrides the length (no Transfer-Encoding), and the
 * length is within the cap; the signal aborts the read. Counting such a body through a
 * stream reader costs a fifth of the call.
 */
function plainBody(headers: Headers, cap = MAX_RESPONSE_BYTES): boolean {
  // One look at each header, no copy: this runs on every token call.
  const length = headers.get("content-length");
  return length !== null && /^\d{1,16}$/.test(length) && Number(length) <= cap &&
    !headers.has("content-encoding") && !headers.has("transfer-encoding");
}

async function readCapped(
  response: Response,
  signal: AbortSignal,
  native: boolean,
  cap = MAX_RESPONSE_BYTES,
): Promise<string> {
  // A declared length over the cap fails at once; a smaller one is not trusted (a custom
  // fetch may pass on any header): the body is counted as it streams, except a plain one.
  const declared = declaredLength(response);
  if (declared !== undefined && declared > cap) {
    discard(response);
    throw new BodyTooLarge();
  }
  if (native && response.type === "basic" && plainBody(response.headers, cap)) {
    return await response.text();
  }
  const body = response.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await untilAborted(reader.read(), signal);
    } catch (error) {
      reader.cancel(error).catch(() => {});
      throw error;
    }
    const { done, value } = next;
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

class BodyTooLarge extends Error {}

function discard(response: Response): void {
  response.body?.cancel().catch(() => {});
}

/**
 * Sends `out` and resolves with the response's JSON object when the status is 200.
 * Every failure rejects with an ArmorApiError whose cause carries no secret.
 */
export async function sendJson<T>(
  out: Outgoing,
  transport: Transport,
  parse: (json: Record<string, unknown>) => T,
): Promise<T> {
  const method = out.method ?? out.plan.method;
  const native = honoursSignal(transport.fetch);
  const logger = transport.logger;
  // Timed only for a logger: a call without one reads no clock.
  const started = logger === undefined ? 0 : performance.now();
  if (transport.signal?.aborted) {
    throw fail(
      "ABORTED",
      `${whatOf(method, out.url)} was aborted by the caller`,
      out,
      started,
      transport,
      {
        cause: transport.signal.reason,
      },
    );
  }
  // The deadline: `timeout` ms on a monotonic timer (up to 1 %, at most
  // DEADLINE_SLACK_MAX_MS, later), plus the caller's signal.
  const callerSignal = transport.signal;
  const deadline = timeoutSignal(transport.timeout);
  const signal = callerSignal === undefined ? deadline : AbortSignal.any([callerSignal, deadline]);
  // Also for an injected fetch: one that passes `init` on (a wrapper) keeps the guarantee.
  const client = out.once ? ownClient() : undefined;
  if (logger !== undefined) {
    log(logger, {
      event: "request",
      method: out.plan.method,
      url: out.plan.url,
      headers: out.plan.headers,
      body: out.plan.body,
    });
  }
  try {
    let response: Response;
    try {
      const init: RequestInit & { client?: unknown } = client === undefined
        ? { method, headers: out.headers, body: out.body, redirect: "manual", signal }
        : { method, headers: out.headers, body: out.body, redirect: "manual", signal, client };
      const sent = callFetch(transport.fetch, out.url, init);
      // A fetch that may ignore its signal is raced with it; the runtime's aborts itself.
      response = await (native ? sent : untilAborted(sent, signal, discard));
    } catch (error) {
      const { code, message, cause } = failureOf(
        error,
        whatOf(method, out.url),
        out.url,
        transport.signal,
        deadline,
        transport.timeout,
        out.secrets,
      );
      throw fail(code, message, out, started, transport, { cause });
    }
    const status = response.status;
    if (logger !== undefined) {
      log(logger, {
        event: "response",
        method: out.plan.method,
        url: out.plan.url,
        status,
        ms: elapsed(started),
      });
    }
    const type = response.type;
    if (type === "opaqueredirect" || (status >= 300 && status < 400)) {
      discard(response);
      throw fail(
        "REDIRECT",
        `${
          whatOf(method, out.url)
        }: the Armor API answered with a redirect (${status}), which is never followed`,
        out,
        started,
        transport,
        { status },
      );
    }
    if (status === 401 && transport.on401 !== undefined) {
      const special = transport.on401(response);
      if (special !== undefined) {
        discard(response);
        log(transport.logger, {
          event: "error",
          method: out.plan.method,
          url: out.plan.url,
          code: special.code,
          status,
          ms: elapsed(started),
        });
        throw special;
      }
    }
    if (status !== 200) {
      const retryAfter = status === 429 || status === 503
        ? parseRetryAfter(response.headers.get("retry-after"))
        : undefined;
      // The server's own code and description, when its body is small JSON; a body that
      // is too large, cut short or late adds nothing.
      let server: ServerError = {};
      try {
        server = parseServerError(
          await readCapped(response, signal, native, MAX_ERROR_BODY_BYTES),
          out.secrets,
        );
      } catch {
        discard(response);
      }
      throw fail(
        "HTTP_STATUS",
        `${whatOf(method, out.url)}: the Armor API answered ${status}${
          describeServerError(server)
        }`,
        out,
        started,
        transport,
        { status, retryAfter, ...server },
      );
    }
    let text: string;
    try {
      text = native && type === "basic" && plainBody(response.headers)
        ? await response.text()
        : await readCapped(response, signal, native);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        throw fail(
          "BODY_TOO_LARGE",
          `${
            whatOf(method, out.url)
          }: the response body is larger than ${MAX_RESPONSE_BYTES} bytes`,
          out,
          started,
          transport,
          { status },
        );
      }
      const code = abortCode(transport.signal, deadline);
      if (code !== undefined) {
        throw fail(
          code,
          abortMessage(code, whatOf(method, out.url), transport.timeout),
          out,
          started,
          transport,
          {
            status,
            cause: code === "ABORTED" ? transport.signal?.reason : deadline.reason,
          },
        );
      }
      throw fail(
        "BODY_INCOMPLETE",
        `${whatOf(method, out.url)}: the response body was cut short`,
        out,
        started,
        transport,
        {
          status,
          cause: error,
        },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // The parser's message quotes the body, which may hold a secret: give no cause.
      throw fail(
        "INVALID_RESPONSE",
        `${whatOf(method, out.url)}: the response body is not valid JSON`,
        out,
        started,
        transport,
        {
          status,
        },
      );
    }
    if (!isRecord(json)) {
      throw fail(
        "INVALID_RESPONSE",
        `${whatOf(method, out.url)}: the response body is not a JSON object`,
        out,
        started,
        transport,
        {
          status,
        },
      );
    }
    try {
      return parse(json);
    } catch (error) {
      if (!(error instanceof InvalidField)) throw error;
      throw fail(
        "INVALID_RESPONSE",
        `${whatOf(method, out.url)}: ${error.message}`,
        out,
        started,
        transport,
        {
          status,
        },
      );
    }
  } finally {
    if (client !== undefined) closeClient(client);
  }
}

/** The call as messages name it (`POST /auth/token`): built only for a failure. */
function whatOf(method: string, url: string): string {
  return `${method} ${pathOf(url)}`;
}

/** The path of an absolute URL's href, as `new URL(href).pathname` has it, parsed no more. */
export function pathOf(href: string): string {
  return /^[a-z][a-z\d+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(href)?.[1] || "/";
}
