// What the two public token calls share: reading their options (explicit option, else
// the session's, else the default) into an endpoint, whatIf and confirm, and handing a
// new token to the session. Sending is the session-free core's (`_token_core.ts`).

import type { Outgoing } from "./_http.ts";
import { type SessionHandle, sessionHandle } from "./_session_registry.ts";
import { sendForToken, type TokenEndpoint } from "./_token_core.ts";
import {
  baseUrlOption,
  checkApiVersion,
  checkBoolean,
  checkFunction,
  checkSignal,
  checkTimeout,
  describe,
} from "./_validate.ts";
import { DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS } from "./defaults.ts";
import { ArmorCancelledError } from "./errors.ts";
import type { ArmorSession } from "./armor_session.ts";
import type { ArmorApiToken } from "./token.ts";
import type { ArmorApiVersion, ArmorConfirm, ArmorLogger, ArmorRequestPlan } from "./types.ts";

/**
 * The options both token calls take.
 *
 * @example
 * ```ts
 * import type { ArmorCallOptions } from "@armor-api/auth";
 * const options: ArmorCallOptions = { baseUrl: "https://api.armor.com", timeout: 10_000 };
 * ```
 */
export interface ArmorCallOptions {
  /** The Armor API's address. Default: the session's, else `https://api.armor.com`. */
  baseUrl?: string | URL;
  /** The API version. Default: the session's, else `"v1.0"`. */
  apiVersion?: ArmorApiVersion;
  /** A session that supplies the defaults, and that a successful call authorizes. */
  session?: ArmorSession;
  /** The fetch to use. Default: the session's, else the global `fetch`. */
  fetch?: typeof fetch;
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Milliseconds before the call fails with `TIMEOUT`. Default: the session's, else 30 000. */
  timeout?: number;
  /** Send nothing: resolve with what would be sent, secrets redacted (`-WhatIf`). */
  whatIf?: boolean;
  /**
   * Asked before sending, with what would be sent; `false` cancels the call
   * (`-Confirm`) and it rejects with an `ArmorCancelledError`. Only `true` sends; any
   * other answer (a `prompt()` string) is a `TypeError` and nothing is sent.
   */
  confirm?: (plan: ArmorRequestPlan) => boolean | Promise<boolean>;
  /** Receives redacted records of the call. Default: the session's, else none. */
  logger?: ArmorLogger;
  /** The clock that stamps the token's `issuedAt`. Default: the session's, else `Date.now`. */
  now?: () => number;
}

/** The options of one call, checked and with their defaults filled in. */
export interface ResolvedCall {
  endpoint: TokenEndpoint;
  session?: SessionHandle;
  signal?: AbortSignal;
  whatIf: boolean;
  confirm?: ArmorConfirm;
}

/** Base URLs given as strings, checked, by what was given: parsing one is a tenth of the call's own work. */
const checkedBaseUrls = new Map<string, string>();

/** How many base URL strings are kept checked (then the cache starts over). */
const BASE_URLS_KEPT = 16;

/** The checked href of a base URL option (or the default), kept for strings. */
function baseUrlHref(value: string | URL | undefined): string {
  if (typeof value !== "string" && value !== undefined) {
    return baseUrlOption(value, DEFAULT_BASE_URL).href;
  }
  const given = value ?? DEFAULT_BASE_URL;
  let href = checkedBaseUrls.get(given);
  if (href === undefined) {
    href = baseUrlOption(given, DEFAULT_BASE_URL).href;
    if (checkedBaseUrls.size >= BASE_URLS_KEPT) checkedBaseUrls.clear();
    checkedBaseUrls.set(given, href);
  }
  return href;
}

/**
 * The endpoint of a call with no session and no option but the base URL, by default
 * timeout then base URL href: the same frozen object each time, built once.
 */
const defaultEndpoints = new Map<number, Map<string, TokenEndpoint>>();

/** Reads `Date.now` when called, as a call without a clock of its own does. */
function wallClock(): number {
  return Date.now();
}

function defaultEndpoint(baseUrl: string, timeout: number): TokenEndpoint {
  let byUrl = defaultEndpoints.get(timeout);
  if (byUrl === undefined) {
    byUrl = new Map();
    defaultEndpoints.set(timeout, byUrl);
  }
  let endpoint = byUrl.get(baseUrl);
  if (endpoint === undefined) {
    endpoint = Object.freeze({
      baseUrl,
      apiVersion: DEFAULT_API_VERSION,
      fetch: undefined,
      timeout,
      logger: undefined,
      now: wallClock,
    });
    if (byUrl.size >= BASE_URLS_KEPT) byUrl.clear();
    byUrl.set(baseUrl, endpoint);
  }
  return endpoint;
}

/**
 * Checks the shared options; throws TypeError or RangeError before anything is sent.
 * `defaultTimeout` applies without a session's or an explicit timeout.
 */
export function resolveCall(
  options: ArmorCallOptions,
  defaultTimeout = DEFAULT_TIMEOUT_MS,
): ResolvedCall {
  const session = options.session === undefined ? undefined : sessionHandle(options.session);
  if (session?.usesApiKey) {
    throw new TypeError(
      "This session signs with an API key: it has no token to request or reissue",
    );
  }
  const own = session?.endpoint;
  let baseUrl = own?.baseUrl;
  if (options.baseUrl !== undefined || own === undefined) {
    baseUrl = baseUrlHref(options.baseUrl);
    if (own !== undefined && baseUrl !== own.baseUrl) {
      // The session's token (and the session) belong to its own server only.
      throw new TypeError(
        `baseUrl ${baseUrl} is not the session's (${own.baseUrl}): leave it out with a session`,
      );
    }
  }
  const fetchImpl = checkFunction<typeof fetch>(options.fetch, "fetch");
  const logger = checkFunction<ArmorLogger>(options.logger, "logger");
  const now = checkFunction<() => number>(options.now, "now");
  const overrides = options.apiVersion !== undefined || fetchImpl !== undefined ||
    logger !== undefined || now !== undefined || options.timeout !== undefined;
  const endpoint: TokenEndpoint = !overrides ? own ?? defaultEndpoint(baseUrl!, defaultTimeout) : {
    baseUrl: baseUrl!,
    apiVersion: checkApiVersion(options.apiVersion, own?.apiVersion ?? DEFAULT_API_VERSION),
    fetch: fetchImpl ?? own?.fetch,
    timeout: checkTimeout(options.timeout, own?.timeout ?? defaultTimeout),
    logger: logger ?? own?.logger,
    now: now ?? own?.now ?? Date.now,
  };
  return {
    endpoint,
    session,
    signal: checkSignal(options.signal),
    whatIf: checkBoolean(options.whatIf, "whatIf"),
    confirm: checkFunction<ArmorConfirm>(options.confirm, "confirm"),
  };
}

/**
 * Runs a token call: `whatIf` resolves with the plan; `confirm` may cancel; otherwise
 * sends once and resolves with the checked token, which a session then adopts (unless
 * it was disconnected meanwhile). Without `confirm` and a session, the promise is the
 * send's own: no extra hop on the common path.
 */
export function runTokenCall(
  call: ResolvedCall,
  out: Outgoing,
): Promise<ArmorApiToken | ArmorRequestPlan> {
  if (call.whatIf) return Promise.resolve(out.plan);
  if (call.confirm === undefined && call.session === undefined) {
    return sendForToken(call.endpoint, out, call.signal);
  }
  return confirmThenSend(call, out);
}

async function confirmThenSend(call: ResolvedCall, out: Outgoing): Promise<ArmorApiToken> {
  if (call.confirm !== undefined) await confirmed(call.confirm, out);
  const generation = call.session?.generation() ?? 0;
  const token = await sendForToken(call.endpoint, out, call.signal);
  if (call.session !== undefined) await call.session.adopt(token, generation);
  return token;
}

/**
 * Asks `confirm` with a copy of the plan; `false` rejects with ArmorCancelledError. Only
 * `true` sends: any other answer (a prompt's `"n"` is truthy) is a TypeError, unsent.
 */
export async function confirmed(confirm: ArmorConfirm, out: Outgoing): Promise<void> {
  const answer: unknown = await confirm(structuredClone(out.plan));
  if (typeof answer !== "boolean") {
    throw new TypeError(
      `confirm must answer true or false, got ${describe(answer)}: nothing was sent`,
    );
  }
  if (!answer) {
    throw new ArmorCancelledError(
      `${out.plan.method} ${new URL(out.plan.url).pathname} was not confirmed: nothing was sent`,
    );
  }
}
