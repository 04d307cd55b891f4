// An account-bound view of a session (`session.forAccount(id)`): the session's login, a
// fixed account context, and nothing of its own that could change.

import type { ArmorSession } from "./armor_session.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * A session bound to one account, made by {@linkcode ArmorSession.forAccount}: its
 * `fetch` is the session's, with `X-Account-Context` fixed to {@linkcode accountId}.
 * The view uses the session's login (its token and renewal, its store, or its API key)
 * and keeps no state of its own, so views of several accounts can call at once, and
 * {@linkcode ArmorSession.useAccount} never changes what a view sends.
 *
 * @example Read every account of a partner login in parallel
 * ```ts ignore
 * import { ArmorSession } from "@armor-api/auth";
 *
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 * });
 * const calls: Promise<Response>[] = [];
 * for (const account of session.accounts) {
 *   calls.push(session.forAccount(account.id).fetch("/vms"));
 * }
 * for (const response of await Promise.all(calls)) console.log(await response.json());
 * ```
 */
export interface ArmorAccountView {
  /** The account every call of the view acts on (`X-Account-Context`). */
  readonly accountId: number;
  /** The session whose login the view uses. */
  readonly session: ArmorSession;
  /**
   * Calls the Armor API in the view's account, exactly as
   * {@linkcode ArmorSession.fetch} does (the same headers, renewal, timeout and
   * errors). A caller's own `X-Account-Context` header is sent as given.
   *
   * @param path A path such as `"/vms"`, or an absolute URL of the session's origin.
   * @param init As for `fetch`; `redirect` is always `"manual"`.
   * @returns The response, whatever its status.
   */
  fetch(path: string | URL, init?: RequestInit): Promise<Response>;
}

class AccountView implements ArmorAccountView {
  readonly #session: ArmorSession;
  readonly #accountId: number;
  readonly #fetch: (path: string | URL, init?: RequestInit) => Promise<Response>;

  constructor(
    session: ArmorSession,
    accountId: number,
    fetch: (path: string | URL, init?: RequestInit) => Promise<Response>,
  ) {
    this.#session = session;
    this.#accountId = accountId;
    this.#fetch = fetch;
  }

  get accountId(): number {
    return this.#accountId;
  }

  get session(): ArmorSession {
    return this.#session;
  }

  fetch(path: string | URL, init?: RequestInit): Promise<Response> {
    return this.#fetch(path, init);
  }

  toJSON(): Record<string, unknown> {
    return { accountId: this.#accountId, baseUrl: this.#session.baseUrl };
  }

  [INSPECT](): string {
    return `ArmorAccountView ${JSON.stringify(this.toJSON())}`;
  }

  [NODE_INSPECT](): string {
    return this[INSPECT]();
  }
}

/** The view `session.forAccount(accountId)` returns; `fetch` is the session's, bound. */
export function createAccountView(
  session: ArmorSession,
  accountId: number,
  fetch: (path: string | URL, init?: RequestInit) => Promise<Response>,
): ArmorAccountView {
  return new AccountView(session, accountId, fetch);
}
