// How the public token calls reach a session's internals without making them public
// and without importing the session: each ArmorSession registers a handle here.

import type { TokenEndpoint } from "./_token_core.ts";
import type { ArmorApiToken } from "./token.ts";

/** What a session lends the token calls. */
export interface SessionHandle {
  /** The session's endpoint, checked once when the session was made. */
  endpoint: TokenEndpoint;
  /** Whether the session signs with an API key (then it has no token calls). */
  usesApiKey: boolean;
  /** The current access token; throws ArmorApiError when there is none or it expired. */
  token(): string;
  /** The account context, if any. */
  accountId(): number | undefined;
  /** Changes when the session is disconnected. */
  generation(): number;
  /** Adopts a token a call obtained, unless the session was disconnected since `generation`. */
  adopt(token: ArmorApiToken, generation: number): Promise<void>;
}

const registry = new WeakMap<object, SessionHandle>();

/** Called by the ArmorSession constructor. */
export function registerSession(session: object, handle: SessionHandle): void {
  registry.set(session, handle);
}

/** The handle of `session`; a TypeError when it is not an ArmorSession. */
export function sessionHandle(session: unknown): SessionHandle {
  const handle = typeof session === "object" && session !== null
    ? registry.get(session)
    : undefined;
  if (handle === undefined) throw new TypeError("session must be an ArmorSession");
  return handle;
}
