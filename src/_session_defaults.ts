// How the token calls reach a session's settings without making them public: each
// ArmorSession registers its internals here when it is built.

import type { ArmorApiToken } from "./token.ts";
import type { ArmorApiVersion, ArmorLogger } from "./types.ts";

/** What a session lends the token calls. */
export interface SessionDefaults {
  baseUrl: URL;
  apiVersion: ArmorApiVersion;
  fetch?: typeof fetch;
  logger?: ArmorLogger;
  timeout: number;
  now: () => number;
  /** The current access token; throws ArmorApiError when there is none or it expired. */
  token(): string;
  /** Changes when the session is disconnected. */
  generation(): number;
  /** Adopts a token a call obtained, unless the session was disconnected since `generation`. */
  adopt(token: ArmorApiToken, generation: number): Promise<void>;
}

const registry = new WeakMap<object, SessionDefaults>();

/** Called by the ArmorSession constructor. */
export function registerSession(session: object, defaults: SessionDefaults): void {
  registry.set(session, defaults);
}

/** The settings of `session`; a TypeError when it is not an ArmorSession. */
export function sessionDefaults(session: unknown): SessionDefaults {
  const defaults = typeof session === "object" && session !== null
    ? registry.get(session)
    : undefined;
  if (defaults === undefined) throw new TypeError("session must be an ArmorSession");
  return defaults;
}
