// What the two token calls share: reading their options (explicit option, else the
// session's, else the default), building the request and its redacted plan, whatIf and
// confirm, and sending it through the pipeline.

import { type Outgoing, sendJson, type Transport } from "./_http.ts";
import { REDACTED } from "./_redact.ts";
import {
  checkApiVersion,
  checkBaseUrl,
  checkBoolean,
  checkFunction,
  checkSignal,
  checkTimeout,
} from "./_validate.ts";
import { ArmorCancelledError } from "./errors.ts";
import type { ArmorSession } from "./armor_session.ts";
import { sessionDefaults } from "./_session_defaults.ts";
import { type ArmorApiToken, parseTokenBody } from "./token.ts";
import type { ArmorApiVersion, ArmorConfirm, ArmorLogger, ArmorRequestPlan } from "./types.ts";

/** The production Armor API. */
export const DEFAULT_BASE_URL = "https://api.armor.com";

/** The default timeout of a call, in milliseconds (30 s). */
export const DEFAULT_TIMEOUT_MS = 30_000;

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
  /** Milliseconds before the call fails with `TIMEOUT`. Default: 30 000. */
  timeout?: number;
  /** Send nothing: resolve with what would be sent, secrets redacted (`-WhatIf`). */
  whatIf?: boolean;
  /** Asked before sending; `false` cancels the call (`-Confirm`). */
  confirm?: ArmorConfirm;
  /** Receives redacted records of the call. Default: the session's, else none. */
  logger?: ArmorLogger;
  /** The clock that stamps the token's `issuedAt`. Default: the session's, else `Date.now`. */
  now?: () => number;
}

/** The options of one call, checked and with their defaults filled in. */
export interface ResolvedCall {
  /** The checked base URL's href, ending with "/". */
  baseUrl: string;
  apiVersion: ArmorApiVersion;
  session?: ArmorSession;
  transport: Transport;
  whatIf: boolean;
  confirm?: ArmorConfirm;
  now: () => number;
}

// Base URLs already checked, by the string given: a call does not parse its base URL
// again. Bounded, since a caller may use many.
const checkedBases = new Map<string, string>();

/** The href of a checked base URL (ending with "/"); TypeError for a bad one. */
function baseHref(value: unknown): string {
  const key = typeof value === "string" ? value : value instanceof URL ? value.href : undefined;
  const cached = key === undefined ? undefined : checkedBases.get(key);
  if (cached !== undefined) return cached;
  const href = checkBaseUrl(value).href;
  if (checkedBases.size >= 64) checkedBases.clear();
  checkedBases.set(key!, href);
  return href;
}

/** Checks the shared options; throws TypeError or RangeError before anything is sent. */
export function resolveCall(options: ArmorCallOptions): ResolvedCall {
  const session = options.session;
  const defaults = session === undefined ? undefined : sessionDefaults(session);
  const baseUrl = baseHref(options.baseUrl ?? defaults?.baseUrl ?? DEFAULT_BASE_URL);
  if (defaults !== undefined && baseUrl !== defaults.baseUrl.href) {
    // The session's token (and the session) belong to its own server only.
    throw new TypeError(
      `baseUrl ${baseUrl} is not the session's (${defaults.baseUrl.href}): leave it out with a session`,
    );
  }
  const apiVersion = checkApiVersion(options.apiVersion, defaults?.apiVersion ?? "v1.0");
  const fetchImpl = checkFunction<typeof fetch>(options.fetch, "fetch") ?? defaults?.fetch ??
    globalThis.fetch;
  const logger = checkFunction<ArmorLogger>(options.logger, "logger") ?? defaults?.logger;
  return {
    baseUrl,
    apiVersion,
    session,
    transport: {
      fetch: fetchImpl,
      signal: checkSignal(options.signal),
      timeout: checkTimeout(options.timeout, defaults?.timeout ?? DEFAULT_TIMEOUT_MS),
      logger,
    },
    whatIf: checkBoolean(options.whatIf, "whatIf"),
    confirm: checkFunction<ArmorConfirm>(options.confirm, "confirm"),
    now: checkFunction<() => number>(options.now, "now") ?? defaults?.now ?? Date.now,
  };
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  accept: "application/json",
  "content-type": "application/json",
});

/**
 * Builds a JSON POST to `path` under the base URL. `secretFields` names the body fields
 * whose values are secrets; they are redacted in the plan.
 */
export function jsonPost(
  call: Pick<ResolvedCall, "baseUrl" | "apiVersion">,
  path: string,
  body: Record<string, string>,
  secretFields: readonly string[],
): Outgoing {
  // The base ends with "/" and `path` is relative with no dot segments: a join is exact.
  const url = call.baseUrl + path;
  const shown: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(body)) {
    if (secretFields.includes(name)) {
      shown[name] = REDACTED;
      secrets.push(value);
    } else {
      shown[name] = value;
    }
  }
  return {
    plan: {
      method: "POST",
      url,
      apiVersion: call.apiVersion,
      headers: { ...JSON_HEADERS },
      body: shown,
    },
    url,
    headers: JSON_HEADERS as Record<string, string>,
    body: JSON.stringify(body),
    secrets,
  };
}

/**
 * Runs a token call: `whatIf` resolves with the plan; `confirm` may cancel; otherwise
 * sends and resolves with the checked token.
 */
export async function runTokenCall(
  call: ResolvedCall,
  out: Outgoing,
): Promise<ArmorApiToken | ArmorRequestPlan> {
  if (call.whatIf) return out.plan;
  if (call.confirm !== undefined) {
    const plan = structuredClone(out.plan);
    if (!(await call.confirm(plan))) {
      throw new ArmorCancelledError(
        `${out.plan.method} ${new URL(out.plan.url).pathname} was not confirmed: nothing was sent`,
      );
    }
  }
  // Stamp the token when the request leaves: its expiry errs early, never late.
  const sentAt = call.now();
  return await sendJson(out, call.transport, (json) => parseTokenBody(json, sentAt, out.secrets));
}
