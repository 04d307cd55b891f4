import { connectSession } from "./_login.ts";
import { ArmorApiError } from "./errors.ts";
import { REDACTED } from "./_redact.ts";
import { type ArmorAccountView, createAccountView } from "./armor_account_view.ts";
import { sessionFetch } from "./_session_fetch.ts";
import { registerSession } from "./_session_registry.ts";
import { buildState, checkAccountId, type SessionState } from "./_session_state.ts";
import { adopt, authorizeWith, forget, storeGet, takeToken } from "./_store_sync.ts";
import type { ArmorAccount, ArmorIdentity } from "./identity.ts";
import type { ArmorConnectOptions, ArmorSessionOptions } from "./session_options.ts";
import type { ArmorApiVersion } from "./types.ts";

const INSPECT = Symbol.for("Deno.customInspect");
/** The latest time a `Date` holds: an API key's "expiry". */
const LATEST_DATE_MS = 8.64e15;
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * An Armor API session: a token (or an API key), its lifetime, the account context, and
 * the calls made with them.
 *
 * Log in with {@linkcode ArmorSession.connect}, then call the API with
 * {@linkcode ArmorSession.fetch}: it adds the `FH-AUTH` token (or an `ARMOR-PSK`
 * signature) and the account context, renews the token once less than two thirds of the
 * session remains (one reissue shared by every caller, in the background while the token
 * is good), and refuses to send a token after it expired or to another origin. Secrets
 * are kept in private fields and never shown by `console.log`, `Deno.inspect` or
 * `JSON.stringify`.
 *
 * @example Log in and list the accounts
 * ```ts ignore
 * import { ArmorSession } from "@armor-api/auth";
 *
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 * });
 * const response = await session.fetch("/accounts");
 * console.log(await response.json());
 * ```
 *
 * @example Authorize with a token you already have
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArmorSession } from "@armor-api/auth";
 *
 * const session = new ArmorSession({ now: () => Date.UTC(2026, 10, 23, 10, 0) });
 * session.authorize("2261bac252204c2ea93ed32ea1ffd3ab", 15);
 * assert.equal(session.isActive(), true);
 * assert.equal(session.expiresAt.toISOString(), "2026-11-23T10:15:00.000Z");
 * assert.equal(JSON.stringify(session).includes("2261bac2"), false);
 * ```
 */
export class ArmorSession {
  readonly #state: SessionState;

  /**
   * Creates a session with no token yet. Most scripts use
   * {@linkcode ArmorSession.connect} instead.
   *
   * @param options Where the API is and how to reach it.
   * @throws {TypeError} A bad option, e.g. a base URL that is not `https:`.
   */
  constructor(options: ArmorSessionOptions = {}) {
    const state = ArmorSession.#pending ?? buildState(options, { scheme: "FH-AUTH" });
    this.#state = state;
    registerSession(this, {
      endpoint: state.endpoint,
      usesApiKey: state.usesApiKey,
      token: () => this.token,
      accountId: () => state.accountId,
      generation: () => state.generation,
      adopt: (token, generation) => takeToken(state, token, generation),
    });
  }

  /** Wraps a state built by `connect`: a private field is set by a constructor only. */
  static #withState(state: SessionState): ArmorSession {
    ArmorSession.#pending = state;
    try {
      return new ArmorSession();
    } finally {
      ArmorSession.#pending = undefined;
    }
  }

  static #pending?: SessionState;

  /**
   * Logs in (`Connect-Armor`). With `username` and `password`: `POST /auth/authorize`,
   * then the code is redeemed (`POST /auth/token`), then `GET /me`. With `apiKey`: one
   * signed `GET /me`, no token calls. Either way the account context becomes `accountId`,
   * else the first account.
   *
   * With a shared `store`, a live login of the same server, user and password already
   * there is reused (no call is made), and sessions that connect at once make one login
   * between them. The password is sent once and never kept.
   *
   * @param options The credentials and the session options.
   * @returns The logged-in session.
   * @throws {TypeError} Bad options: a blank user name or password, both a password and
   *   an API key, a bad base URL.
   * @throws {ArmorApiError} The login failed (`HTTP_STATUS` 401 for bad credentials,
   *   with the server's `serverCode`), or `accountId` is not one of the user's accounts
   *   (`UNKNOWN_ACCOUNT`).
   *
   * @example Log in from the environment
   * ```ts ignore
   * import { ArmorSession } from "@armor-api/auth";
   *
   * const session = await ArmorSession.connect({
   *   username: Deno.env.get("ARMOR_USERNAME")!,
   *   password: Deno.env.get("ARMOR_PASSWORD")!,
   * });
   * console.log(session.identity?.username, session.accountId);
   * ```
   *
   * @example Sign in with an API key (unattended scripts, Deno Deploy)
   * ```ts ignore
   * import { ArmorSession } from "@armor-api/auth";
   *
   * const session = await ArmorSession.connect({
   *   apiKey: { id: Deno.env.get("ARMOR_API_KEY_ID")!, secret: Deno.env.get("ARMOR_API_SECRET_KEY")! },
   * });
   * const accounts = await (await session.fetch("/accounts")).json();
   * ```
   */
  static connect(options: ArmorConnectOptions): Promise<ArmorSession> {
    return connectSession(options, (state) => ArmorSession.#withState(state));
  }

  /**
   * Authorizes the session with a token, as Armor sent it: the PowerShell session's
   * `Authorize`. The session starts now (by its clock) and lasts `expiresIn` minutes
   * (see `sessionLengthMs` for values that can only be seconds).
   *
   * @param accessToken The access token, 32 characters of `[a-z0-9]`.
   * @param expiresIn The `expires_in` Armor sent.
   * @throws {TypeError} The token is not 32 characters of `[a-z0-9]`, `expiresIn` is not
   *   a number, or the session signs with an API key (it has no token).
   * @throws {RangeError} `expiresIn` is not a positive finite number.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ArmorSession } from "@armor-api/auth";
   * const session = new ArmorSession();
   * session.authorize("2261bac252204c2ea93ed32ea1ffd3ab", 15);
   * assert.equal(session.isActive(), true);
   * ```
   */
  authorize(accessToken: string, expiresIn: number): void {
    authorizeWith(this.#state, accessToken, expiresIn);
  }

  /**
   * The current access token, e.g. for a tool of your own that sends
   * `Authorization: FH-AUTH <token>`.
   *
   * @throws {ArmorApiError} `NOT_AUTHORIZED` when there is none: never logged in,
   *   disconnected, rejected by the API, or an API-key session, which has no token
   *   ("An API-key session has no token: each request is signed"); `SESSION_EXPIRED`
   *   when it expired.
   */
  get token(): string {
    const state = this.#state;
    if (state.usesApiKey) {
      throw new ArmorApiError(
        "NOT_AUTHORIZED",
        "An API-key session has no token: each request is signed (call session.fetch, or armorPskAuthorization for a request of your own)",
      );
    }
    const token = state.token;
    if (token === undefined || state.ended !== undefined) throw state.noTokenError();
    if (!(state.now() < token.expiresAt)) throw state.expiredError(token.expiresAt);
    return token.accessToken;
  }

  /**
   * When the token expires; the epoch (1970) when the session has no token. An API key
   * does not expire: for an API-key session that is connected, the latest date a `Date`
   * holds (`+275760-09-13T00:00:00.000Z`, so `expiresAt > new Date()` holds), and the
   * epoch once it is disconnected. {@linkcode ArmorSession.isActive} says whether calls
   * can be made.
   */
  get expiresAt(): Date {
    const state = this.#state;
    if (state.usesApiKey) return new Date(this.isActive() ? LATEST_DATE_MS : 0);
    return new Date(state.token?.expiresAt ?? 0);
  }

  /** When the token was issued; the epoch when the session has no token. */
  get issuedAt(): Date {
    return new Date(this.#state.token?.issuedAt ?? 0);
  }

  /** The base URL calls are resolved against, e.g. `"https://api.armor.com/"`. */
  get baseUrl(): string {
    return this.#state.prefix;
  }

  /** The key of this session's state in its store (`connect` adds the user name). */
  get storeKey(): string {
    return this.#state.key;
  }

  /** The API version. */
  get apiVersion(): ArmorApiVersion {
    return this.#state.endpoint.apiVersion;
  }

  /** How requests are authorized: `"FH-AUTH"` (a session token) or `"ARMOR-PSK"` (an API key). */
  get scheme(): "FH-AUTH" | "ARMOR-PSK" {
    return this.#state.credential.scheme;
  }

  /** The account calls act on (`X-Account-Context`), if any. */
  get accountId(): number | undefined {
    return this.#state.accountId;
  }

  /** The identity read from `GET /me` at login, if the session logged in. */
  get identity(): ArmorIdentity | undefined {
    return this.#state.identity;
  }

  /** The accounts of the identity; empty before login. */
  get accounts(): readonly ArmorAccount[] {
    return this.#state.identity?.accounts ?? [];
  }

  /**
   * True when calls can be made: the session holds a token that has not expired (by its
   * clock), or it signs with an API key, connected and not disconnected. False before
   * login, after `disconnect`, after the API rejected the token (401), and once the token
   * expired; a renewal in flight does not make it false.
   *
   * @returns Whether calls can be made.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ArmorSession } from "@armor-api/auth";
   * assert.equal(new ArmorSession().isActive(), false);
   * ```
   */
  isActive(): boolean {
    const state = this.#state;
    if (state.ended !== undefined) return false;
    if (state.usesApiKey) return state.identity !== undefined;
    const token = state.token;
    if (token === undefined) return false;
    try {
      return state.now() < token.expiresAt;
    } catch {
      return false; // a broken clock: nothing can be sent (and JSON.stringify still works)
    }
  }

  /**
   * Switches the account calls act on, to one of the session's accounts (the
   * PowerShell session's account context). Calls already made keep the account they
   * were made in; to call several accounts at once, use
   * {@linkcode ArmorSession.forAccount} instead of switching between calls.
   *
   * @param accountId The account id.
   * @throws {TypeError} Not a positive integer.
   * @throws {ArmorApiError} `UNKNOWN_ACCOUNT` when it is not one of the identity's accounts.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ArmorSession } from "@armor-api/auth";
   * const session = new ArmorSession();
   * session.useAccount(1002);
   * assert.equal(session.accountId, 1002);
   * ```
   */
  useAccount(accountId: number): void {
    this.#state.useAccount(checkAccountId(accountId));
  }

  /**
   * Reads the shared state from the store and adopts a live token of this session's
   * server and user found there, e.g. one another isolate logged in with.
   *
   * @returns Whether the session now holds a live token.
   * @throws {ArmorApiError} `STORE` when the store fails or does not answer in time.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ArmorSession } from "@armor-api/auth";
   * assert.equal(await new ArmorSession().load(), false); // nothing stored
   * ```
   */
  async load(): Promise<boolean> {
    const state = this.#state;
    if (state.usesApiKey) return this.isActive();
    adopt(state, await storeGet(state));
    return this.isActive();
  }

  /**
   * Calls the Armor API with the session: resolves `path` against the base URL and adds
   * `Accept: application/json`, the credential (`Authorization: FH-AUTH <token>`, or an
   * `ARMOR-PSK` signature for an API key), `X-Account-Context: <accountId>` and, with a
   * string body, `Content-Type: application/json`.
   *
   * A call is a value, fixed when `fetch` is called: its URL, method, headers (the
   * account context among them) and body are captured then, so a later
   * {@linkcode ArmorSession.useAccount}, a renewal, or a login adopted from the store
   * never changes what it sends; only the token may be swapped for the session's newer
   * one. A body the caller could still change (a typed array, an `ArrayBuffer`,
   * `URLSearchParams`, `FormData`) is copied at the call. Use
   * {@linkcode ArmorSession.forAccount} to call several accounts at once.
   *
   * Renews the token when due (in the background while it is good; in the token's last
   * 30 s a call waits for the new one, for at most half its timeout, then goes out with
   * the current token), never follows a redirect, and never sends a credential to
   * another origin. The session's `timeout`
   * is one deadline for the whole call, armed when it is made: every wait (for a
   * renewal, the store, a signature, a resend) and the body are under it, and
   * `init.signal` ends the call at once (`ABORTED`) without cancelling a renewal other
   * calls share. A `401` answer means the API rejected the token: the response is
   * returned and the session ends, unless a newer token can answer it (a renewal
   * replaced the token or is in flight, or another session sharing the store renewed
   * it): then the call is sent once more, as it was made, with the new token. Bad
   * arguments reject; this method never throws synchronously.
   *
   * An API-key session signs string, `URLSearchParams`, `ArrayBuffer` and typed-array
   * bodies; a stream, `Blob` or `FormData` body is a `TypeError`.
   *
   * @param path A path such as `"/me"` (resolved under the base URL), or an absolute URL
   *   of the same origin.
   * @param init As for `fetch`; `redirect` is always `"manual"`.
   * @returns The response, whatever its status.
   * @throws {TypeError} `path` is of another origin, carries user info, or is not a
   *   string or URL; `init` is malformed; a `GET` or `HEAD` has a body.
   * @throws {ArmorApiError} `NOT_AUTHORIZED` or `SESSION_EXPIRED` (nothing is sent),
   *   `TIMEOUT`, `ABORTED`, `NETWORK`, `STORE` (a shared store failed while the session
   *   needed it), `INVALID_RESPONSE` (an injected `fetch` resolved with something that
   *   is not a `Response`), or `CLOCK_SKEW` (API key, clock off).
   *
   * @example
   * ```ts ignore
   * const response = await session.fetch("/me");
   * if (!response.ok) throw new Error(`Armor API answered ${response.status}`);
   * console.log(await response.json());
   * ```
   */
  fetch(path: string | URL, init?: RequestInit): Promise<Response> {
    const state = this.#state;
    return sessionFetch(state, state.headers, path, init);
  }

  /**
   * A view of the session bound to one account: its `fetch` sends every call with
   * `X-Account-Context: <accountId>`, whatever {@linkcode ArmorSession.useAccount} does
   * meanwhile, with the session's login (its token and renewal, its store, or its API
   * key). The view keeps no state of its own to change: make one per account and call
   * them at once, e.g. to read every customer account of a partner login in parallel.
   *
   * @param accountId One of the session's accounts.
   * @returns The view: `accountId` and `fetch`, with the semantics of
   *   {@linkcode ArmorSession.fetch}.
   * @throws {TypeError} `accountId` is not a positive integer.
   * @throws {ArmorApiError} `UNKNOWN_ACCOUNT` when the session's identity does not list it.
   *
   * @example Call every account at once
   * ```ts ignore
   * const calls: Promise<Response>[] = [];
   * for (const account of session.accounts) {
   *   calls.push(session.forAccount(account.id).fetch("/vms"));
   * }
   * const answers = await Promise.all(calls); // each in its own account
   * ```
   *
   * @example A view keeps its account
   * ```ts
   * import assert from "node:assert/strict";
   * import { ArmorSession } from "@armor-api/auth";
   *
   * const session = new ArmorSession({ accountId: 1001 });
   * const staging = session.forAccount(1002);
   * session.useAccount(1003);
   * assert.equal(staging.accountId, 1002);
   * assert.equal(session.accountId, 1003);
   * ```
   */
  forAccount(accountId: number): ArmorAccountView {
    const state = this.#state;
    const id = checkAccountId(accountId);
    state.checkAccount(id);
    return createAccountView(
      this,
      id,
      (path, init) => sessionFetch(state, state.headersFor(id), path, init),
    );
  }

  /**
   * Waits for a renewal in flight, if any; it never rejects.
   *
   * @returns When no renewal is in flight.
   *
   * @example
   * ```ts
   * import { ArmorSession } from "@armor-api/auth";
   * await new ArmorSession().idle();
   * ```
   */
  async idle(): Promise<void> {
    while (this.#state.renewal !== undefined) await this.#state.renewal.catch(() => {});
  }

  /**
   * Logs out (`Disconnect-Armor`): forgets the token, removes it from the store if it is
   * still there, and refuses further calls until the session is authorized again.
   *
   * @returns When the store was updated.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ArmorSession } from "@armor-api/auth";
   * const session = new ArmorSession();
   * session.authorize("2261bac252204c2ea93ed32ea1ffd3ab", 15);
   * await session.disconnect();
   * assert.equal(session.isActive(), false);
   * ```
   */
  async disconnect(): Promise<void> {
    const state = this.#state;
    const token = state.token;
    state.generation++;
    state.end("disconnected");
    // A renewal in flight sees the session ended and gives its claim back.
    await this.idle();
    if (token !== undefined) await forget(state, token.accessToken);
  }

  /**
   * What `JSON.stringify` shows: no secret.
   *
   * @returns A plain object safe to log.
   */
  toJSON(): Record<string, unknown> {
    const state = this.#state;
    return {
      baseUrl: state.prefix,
      apiVersion: state.endpoint.apiVersion,
      ...(state.usesApiKey ? { scheme: "ARMOR-PSK" } : {}),
      accountId: state.accountId,
      active: this.isActive(),
      token: state.token === undefined ? undefined : REDACTED,
      expiresAt: state.token === undefined ? undefined : this.expiresAt.toISOString(),
    };
  }

  /**
   * What `Deno.inspect` and `console.log` show: no secret.
   *
   * @ignore
   */
  [INSPECT](): string {
    return `ArmorSession ${JSON.stringify(this.toJSON())}`;
  }

  /**
   * What Node's `util.inspect` shows: no secret.
   *
   * @ignore
   */
  [NODE_INSPECT](): string {
    return this[INSPECT]();
  }
}
