import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, jsonPost } from "./_call.ts";
import { deadlineSignal } from "./_deadline.ts";
import {
  honoursSignal,
  InvalidField,
  log,
  pathOf,
  sendFailure,
  sendJson,
  type Transport,
  untilAborted,
} from "./_http.ts";
import { REDACTED, scrubCause } from "./_redact.ts";
import { registerSession } from "./_session_defaults.ts";
import {
  checkApiVersion,
  checkBaseUrl,
  checkFunction,
  checkOptions,
  checkSecret,
  checkSignal,
  checkTimeout,
  describe,
} from "./_validate.ts";
import { ArmorApiError } from "./errors.ts";
import { type ArmorAccount, type ArmorIdentity, parseIdentity } from "./identity.ts";
import { mustRenew, renewAt, retryDelay, sessionLengthMs } from "./renewal.ts";
import { requestArmorApiToken } from "./request_armor_api_token.ts";
import { ACCESS_TOKEN_PATTERN, type ArmorApiToken } from "./token.ts";
import {
  type ArmorStoredSession,
  type ArmorStoreEntry,
  type ArmorTokenStore,
  MemoryTokenStore,
} from "./token_store.ts";
import type { ArmorApiVersion, ArmorLogger } from "./types.ts";
import { updateArmorApiToken } from "./update_armor_api_token.ts";

/** The default timeout of `POST /auth/authorize`, which may wait for a phone (3 min). */
export const DEFAULT_AUTHORIZE_TIMEOUT_MS = 180_000;

/**
 * Options of {@linkcode ArmorSession}.
 *
 * @example
 * ```ts
 * import type { ArmorSessionOptions } from "@armor-api/auth";
 * const options: ArmorSessionOptions = { baseUrl: "https://api.armor.com", accountId: 1001 };
 * ```
 */
export interface ArmorSessionOptions {
  /** The Armor API's address. Default: `https://api.armor.com`. */
  baseUrl?: string | URL;
  /** The API version. Default: `"v1.0"`. */
  apiVersion?: ArmorApiVersion;
  /** The account calls act on (`X-Account-Context`). Default after login: the first. */
  accountId?: number;
  /** The fetch to use. Default: the global `fetch`, looked up at each call. */
  fetch?: typeof fetch;
  /** The clock, in epoch milliseconds. Default: `Date.now`. */
  now?: () => number;
  /** Milliseconds before a call fails with `TIMEOUT`. Default: 30 000. */
  timeout?: number;
  /** Where the session's state lives. Default: a private {@linkcode MemoryTokenStore}. */
  store?: ArmorTokenStore;
  /**
   * The key of the state in the store. Default: the base URL, and for
   * {@linkcode ArmorSession.connect} the base URL and the user name.
   */
  storeKey?: string;
  /** Receives redacted records of every call and renewal. */
  logger?: ArmorLogger;
}

/**
 * Options of {@linkcode ArmorSession.connect}.
 *
 * @example
 * ```ts
 * import type { ArmorConnectOptions } from "@armor-api/auth";
 * const options: ArmorConnectOptions = { username: "ops@example.com", password: "secret" };
 * ```
 */
export interface ArmorConnectOptions extends ArmorSessionOptions {
  /** The Armor user name. */
  username: string;
  /** The password; it is sent once and never kept. */
  password: string;
  /** Aborts the login. */
  signal?: AbortSignal;
  /** Milliseconds `POST /auth/authorize` may take (multi-factor approval). Default: 180 000. */
  authorizeTimeout?: number;
}

interface LocalToken {
  accessToken: string;
  issuedAt: number;
  expiresAt: number;
}

const INSPECT = Symbol.for("Deno.customInspect");

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(id);
      reject(signal?.reason);
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Request headers as a plain object with every credential-bearing value redacted. */
function redactHeaders(headers: HeadersInit): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of new Headers(headers)) {
    shown[name] = /^(authorization|cookie|proxy-authorization|x-api-key)$/i.test(name)
      ? REDACTED
      : value;
  }
  return shown;
}

function isLive(state: ArmorStoredSession | undefined, now: number): boolean {
  const token = state?.token;
  return token !== undefined && token.expiresAt > now;
}

function withoutClaim(state: ArmorStoredSession): ArmorStoredSession {
  const { claim: _claim, ...rest } = state;
  return rest;
}

/**
 * An Armor API session: a token, its lifetime, the account context, and the calls
 * made with them.
 *
 * Log in with {@linkcode ArmorSession.connect}, then call the API with
 * {@linkcode ArmorSession.fetch}: it adds the `FH-AUTH` token and the account context,
 * renews the token once less than two thirds of the session remains (one reissue shared
 * by every caller, in the background while the token is good), and refuses to send a
 * token after it expired or to another origin. The token is kept in a private field and
 * never shown by `console.log`, `Deno.inspect` or `JSON.stringify`.
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
 * import { ArmorSession } from "@armor-api/auth";
 *
 * const session = new ArmorSession({ now: () => Date.UTC(2026, 10, 23, 10, 0) });
 * session.authorize("2261bac252204c2ea93ed32ea1ffd3ab", 15);
 * console.log(session.isActive()); // true
 * console.log(session.expiresAt.toISOString()); // "2026-11-23T10:15:00.000Z"
 * console.log(JSON.stringify(session).includes("2261bac2")); // false
 * ```
 */
export class ArmorSession {
  readonly #baseUrl: URL;
  readonly #prefix: string;
  readonly #origin: string;
  readonly #apiVersion: ArmorApiVersion;
  readonly #fetch?: typeof fetch;
  readonly #now: () => number;
  readonly #timeout: number;
  readonly #store: ArmorTokenStore;
  /** Whether the store was given, so others may share it. */
  readonly #shared: boolean;
  readonly #key: string;
  readonly #logger?: ArmorLogger;
  readonly #owner: string = crypto.randomUUID();

  #token?: LocalToken;
  #renewAt = Infinity;
  #version: string | null = null;
  #identity?: ArmorIdentity;
  #accountId?: number;
  #headers: Record<string, string> = {};
  #headersWithBody: Record<string, string> = {};
  #renewal?: Promise<void>;
  /** Settles once the renewal in flight has read the store (adopted, or claimed). */
  #renewalChecked?: Promise<void>;
  #failures = 0;
  #retryAt = 0;
  #ended?: "disconnected" | "rejected";
  /** Bumped by disconnect(): a token call started before must not revive the session. */
  #generation = 0;
  #rejectedToken?: string;

  /**
   * Creates a session with no token yet. Most scripts use
   * {@linkcode ArmorSession.connect} instead.
   *
   * @param options Where the API is and how to reach it.
   * @throws {TypeError} A bad option, e.g. a base URL that is not `https:`.
   */
  constructor(options: ArmorSessionOptions = {}) {
    const opts = checkOptions<ArmorSessionOptions>(options);
    this.#baseUrl = checkBaseUrl(opts.baseUrl ?? DEFAULT_BASE_URL);
    this.#prefix = this.#baseUrl.href;
    this.#origin = this.#baseUrl.origin;
    this.#apiVersion = checkApiVersion(opts.apiVersion, "v1.0");
    this.#fetch = checkFunction<typeof fetch>(opts.fetch, "fetch");
    this.#now = checkFunction<() => number>(opts.now, "now") ?? Date.now;
    this.#timeout = checkTimeout(opts.timeout, DEFAULT_TIMEOUT_MS);
    this.#logger = checkFunction<ArmorLogger>(opts.logger, "logger");
    if (opts.store !== undefined) {
      const store = opts.store as Partial<ArmorTokenStore> | null;
      if (typeof store?.get !== "function" || typeof store?.set !== "function") {
        throw new TypeError("store must be an ArmorTokenStore (get and set)");
      }
    }
    this.#shared = opts.store !== undefined;
    this.#store = opts.store ?? new MemoryTokenStore();
    if (
      opts.storeKey !== undefined && (typeof opts.storeKey !== "string" || opts.storeKey === "")
    ) {
      throw new TypeError(`storeKey must be a non-empty string, got ${describe(opts.storeKey)}`);
    }
    this.#key = opts.storeKey ?? this.#prefix;
    if (opts.accountId !== undefined) this.#accountId = checkAccountId(opts.accountId);
    this.#rebuildHeaders();
    registerSession(this, {
      baseUrl: this.#baseUrl,
      apiVersion: this.#apiVersion,
      fetch: this.#fetch,
      logger: this.#logger,
      timeout: this.#timeout,
      now: this.#now,
      token: () => this.token,
      generation: () => this.#generation,
      adopt: (token, generation) => this.#adoptToken(token, generation),
    });
  }

  /**
   * Logs in (`Connect-Armor`): `POST /auth/authorize` with the credentials, redeems the
   * code with {@linkcode requestArmorApiToken}, reads `GET /me`, and sets the account
   * context to `accountId` or else the first account.
   *
   * With a shared `store`, a live login already there is reused (no call is made), and
   * sessions that connect at once make one login between them. The password is sent
   * once and never kept.
   *
   * @param options The credentials and the session options.
   * @returns The logged-in session.
   * @throws {TypeError} Bad options: a blank user name or password, a bad base URL.
   * @throws {ArmorApiError} The login failed (`HTTP_STATUS` 401 for bad credentials),
   *   or `accountId` is not one of the user's accounts (`UNKNOWN_ACCOUNT`).
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
   */
  static async connect(options: ArmorConnectOptions): Promise<ArmorSession> {
    const opts = checkOptions<ArmorConnectOptions>(options);
    if (typeof opts.username !== "string" || opts.username.trim() === "") {
      throw new TypeError(`username must be a non-empty string, got ${describe(opts.username)}`);
    }
    const password = checkSecret(opts.password, "password");
    const signal = checkSignal(opts.signal);
    const authorizeTimeout = checkTimeout(
      opts.authorizeTimeout,
      DEFAULT_AUTHORIZE_TIMEOUT_MS,
      "authorizeTimeout",
    );
    const { password: _password, username, ...sessionOptions } = opts;
    if (sessionOptions.storeKey === undefined) {
      // One login per user and server in a shared store.
      const base = checkBaseUrl(opts.baseUrl ?? DEFAULT_BASE_URL).href;
      sessionOptions.storeKey = `${base}#${username.trim().toLowerCase()}`;
    }
    const session = new ArmorSession(sessionOptions);
    await session.#login(username, password, signal, authorizeTimeout, opts.accountId);
    return session;
  }

  /**
   * Authorizes the session with a token, as Armor sent it: the PowerShell session's
   * `Authorize`. The session starts now (by its clock) and lasts `expiresIn` minutes
   * (see `sessionLengthMs` for values that can only be seconds).
   *
   * @param accessToken The access token, 32 characters of `[a-z0-9]`.
   * @param expiresIn The `expires_in` Armor sent.
   * @throws {TypeError} The token is not 32 characters of `[a-z0-9]`, or `expiresIn` is
   *   not a number.
   * @throws {RangeError} `expiresIn` is not a positive finite number.
   *
   * @example
   * ```ts
   * import { ArmorSession } from "@armor-api/auth";
   * const session = new ArmorSession();
   * session.authorize("2261bac252204c2ea93ed32ea1ffd3ab", 15);
   * console.log(session.isActive()); // true
   * ```
   */
  authorize(accessToken: string, expiresIn: number): void {
    if (typeof accessToken !== "string" || !ACCESS_TOKEN_PATTERN.test(accessToken)) {
      throw new TypeError("accessToken must be 32 characters of [a-z0-9]");
    }
    if (typeof expiresIn !== "number") {
      throw new TypeError(`expiresIn must be a number, got ${describe(expiresIn)}`);
    }
    if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new RangeError("expiresIn must be a positive finite number");
    }
    const issuedAt = this.#now();
    const token = { accessToken, issuedAt, expiresAt: issuedAt + sessionLengthMs(expiresIn) };
    this.#setToken(token, null);
    // Share it; a store that fails only loses the sharing, not the local session.
    this.#publish({ token, identity: this.#identity }).then(
      (version) => {
        if (this.#token === token) this.#version = version;
      },
      () => {},
    );
  }

  /**
   * The current access token.
   *
   * @throws {ArmorApiError} `NOT_AUTHORIZED` when there is none, `SESSION_EXPIRED` when
   *   it expired.
   */
  get token(): string {
    const token = this.#token;
    if (token === undefined || this.#ended !== undefined) throw this.#noTokenError();
    if (this.#now() >= token.expiresAt) throw this.#expiredError(token.expiresAt);
    return token.accessToken;
  }

  /** When the token expires; the epoch (1970) when the session has no token. */
  get expiresAt(): Date {
    return new Date(this.#token?.expiresAt ?? 0);
  }

  /** When the token was issued; the epoch when the session has no token. */
  get issuedAt(): Date {
    return new Date(this.#token?.issuedAt ?? 0);
  }

  /** The base URL calls are resolved against, e.g. `"https://api.armor.com/"`. */
  get baseUrl(): string {
    return this.#prefix;
  }

  /** The key of this session's state in its store (`connect` adds the user name). */
  get storeKey(): string {
    return this.#key;
  }

  /** The API version. */
  get apiVersion(): ArmorApiVersion {
    return this.#apiVersion;
  }

  /** The account calls act on (`X-Account-Context`), if any. */
  get accountId(): number | undefined {
    return this.#accountId;
  }

  /** The identity read from `GET /me` at login, if the session logged in. */
  get identity(): ArmorIdentity | undefined {
    return this.#identity;
  }

  /** The accounts of the identity; empty before login. */
  get accounts(): readonly ArmorAccount[] {
    return this.#identity?.accounts ?? [];
  }

  /**
   * True when the session holds a token that has not expired.
   *
   * @returns Whether calls can be made.
   *
   * @example
   * ```ts
   * import { ArmorSession } from "@armor-api/auth";
   * console.log(new ArmorSession().isActive()); // false
   * ```
   */
  isActive(): boolean {
    const token = this.#token;
    return token !== undefined && this.#ended === undefined && this.#now() < token.expiresAt;
  }

  /**
   * Switches the account calls act on, to one of the session's accounts.
   *
   * @param accountId The account id.
   * @throws {TypeError} Not a positive integer.
   * @throws {ArmorApiError} `UNKNOWN_ACCOUNT` when it is not one of the identity's accounts.
   *
   * @example
   * ```ts ignore
   * session.useAccount(1002);
   * ```
   */
  useAccount(accountId: number): void {
    const id = checkAccountId(accountId);
    if (this.#identity !== undefined && !this.#identity.accounts.some((a) => a.id === id)) {
      throw new ArmorApiError(
        "UNKNOWN_ACCOUNT",
        `Account ${id} is not one of this session's accounts: ${
          this.#identity.accounts.map((a) => a.id).join(", ") || "none"
        }`,
      );
    }
    this.#accountId = id;
    this.#rebuildHeaders();
  }

  /**
   * Reads the shared state from the store and adopts a live token found there, e.g.
   * one another isolate logged in with.
   *
   * @returns Whether the session now holds a live token.
   *
   * @example
   * ```ts
   * import { ArmorSession } from "@armor-api/auth";
   * console.log(await new ArmorSession().load()); // false: nothing stored
   * ```
   */
  async load(): Promise<boolean> {
    const entry = await this.#store.get(this.#key);
    this.#adopt(entry);
    return this.isActive();
  }

  /**
   * Calls the Armor API with the session: resolves `path` against the base URL and adds
   * `Accept: application/json`, `Authorization: FH-AUTH <token>`,
   * `X-Account-Context: <accountId>` and, with a body, `Content-Type: application/json`.
   *
   * Renews the token when due (in the background while it is good), never follows a
   * redirect, and never sends the token to another origin. The session's `timeout`
   * covers the whole exchange, body included; `init.signal` aborts it. A `401` answer
   * means the API rejected the token: the response is returned and the session ends.
   *
   * @param path A path such as `"/me"` (resolved under the base URL), or an absolute URL
   *   of the same origin.
   * @param init As for `fetch`; `redirect` is always `"manual"`.
   * @returns The response, whatever its status.
   * @throws {TypeError} `path` is of another origin, or not a string or URL.
   * @throws {ArmorApiError} `NOT_AUTHORIZED` or `SESSION_EXPIRED` (nothing is sent), or
   *   `TIMEOUT`, `ABORTED`, `NETWORK`.
   *
   * @example
   * ```ts ignore
   * const response = await session.fetch("/me");
   * if (!response.ok) throw new Error(`Armor API answered ${response.status}`);
   * console.log(await response.json());
   * ```
   */
  fetch(path: string | URL, init?: RequestInit): Promise<Response> {
    let url: string;
    try {
      url = this.#resolve(path);
    } catch (error) {
      return Promise.reject(error);
    }
    const token = this.#token;
    if (token === undefined || this.#ended !== undefined || this.#now() >= this.#renewAt) {
      return this.#fetchSlow(url, init);
    }
    return this.#send(token.accessToken, url, init);
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
    while (this.#renewal !== undefined) await this.#renewal;
  }

  /**
   * Logs out (`Disconnect-Armor`): forgets the token, removes it from the store if it is
   * still there, and refuses further calls until the session is authorized again.
   *
   * @returns When the store was updated.
   *
   * @example
   * ```ts
   * import { ArmorSession } from "@armor-api/auth";
   * const session = new ArmorSession();
   * session.authorize("2261bac252204c2ea93ed32ea1ffd3ab", 15);
   * await session.disconnect();
   * console.log(session.isActive()); // false
   * ```
   */
  async disconnect(): Promise<void> {
    const token = this.#token;
    this.#ended = "disconnected";
    this.#generation++;
    this.#token = undefined;
    this.#renewAt = Infinity;
    this.#rebuildHeaders();
    // A renewal in flight sees the session ended and gives its claim back.
    await this.idle();
    if (token !== undefined) await this.#forget(token.accessToken);
  }

  /**
   * What `JSON.stringify` shows: no token.
   *
   * @returns A plain object safe to log.
   */
  toJSON(): Record<string, unknown> {
    return {
      baseUrl: this.#prefix,
      apiVersion: this.#apiVersion,
      accountId: this.#accountId,
      active: this.isActive(),
      token: this.#token === undefined ? undefined : REDACTED,
      expiresAt: this.#token === undefined ? undefined : this.expiresAt.toISOString(),
    };
  }

  /** What `Deno.inspect` and `console.log` show: no token. */
  [INSPECT](): string {
    return `ArmorSession ${JSON.stringify(this.toJSON())}`;
  }

  // ---- internals ---------------------------------------------------------------

  #resolve(path: string | URL): string {
    if (typeof path === "string") {
      // The hot path: "/x" is joined to the base URL with no parsing; nothing after
      // the base URL's own "/" can change the origin.
      if (path.charCodeAt(0) === 47 && path.charCodeAt(1) !== 47 && path.charCodeAt(1) !== 92) {
        return this.#prefix + path.slice(1);
      }
    } else if (!(path instanceof URL)) {
      throw new TypeError(`path must be a string or a URL, got ${describe(path)}`);
    }
    let url: URL;
    try {
      url = new URL(path, this.#prefix);
    } catch {
      throw new TypeError("path is not a valid URL path");
    }
    if (url.origin !== this.#origin) {
      throw new TypeError(
        `Refusing to send the session token to ${url.origin}: only ${this.#origin} is allowed`,
      );
    }
    return url.href;
  }

  #rebuildHeaders(): void {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token !== undefined) headers.authorization = `FH-AUTH ${this.#token.accessToken}`;
    if (this.#accountId !== undefined) headers["x-account-context"] = String(this.#accountId);
    this.#headers = headers;
    this.#headersWithBody = { ...headers, "content-type": "application/json" };
  }

  #setToken(token: LocalToken, version: string | null): void {
    this.#token = token;
    this.#version = version;
    this.#renewAt = renewAt(token.issuedAt, token.expiresAt - token.issuedAt);
    this.#ended = undefined;
    this.#failures = 0;
    this.#retryAt = 0;
    this.#rebuildHeaders();
  }

  #noTokenError(): ArmorApiError {
    const message = this.#ended === "disconnected"
      ? "The session was disconnected: log in again"
      : this.#ended === "rejected"
      ? "The Armor API rejected the session token (401): log in again"
      : "The session has no token: log in with ArmorSession.connect first";
    return new ArmorApiError("NOT_AUTHORIZED", message);
  }

  #expiredError(expiresAt: number): ArmorApiError {
    return new ArmorApiError(
      "SESSION_EXPIRED",
      `Session expired at ${new Date(expiresAt).toISOString()}: log in again`,
    );
  }

  /** Adopts the stored token when it is live and newer than ours. */
  #adopt(entry: ArmorStoreEntry | undefined): boolean {
    const state = entry?.value;
    if (state?.identity !== undefined && this.#identity === undefined) {
      this.#identity = state.identity;
      if (this.#accountId === undefined && state.identity.accounts.length > 0) {
        this.#accountId = state.identity.accounts[0].id;
        this.#rebuildHeaders();
      }
    }
    if (!isLive(state, this.#now()) || this.#ended === "disconnected") return false;
    const stored = state!.token!;
    if (stored.accessToken === this.#rejectedToken) return false;
    const current = this.#token;
    if (
      current !== undefined && this.#ended === undefined &&
      (stored.accessToken === current.accessToken || stored.expiresAt <= current.expiresAt)
    ) {
      if (stored.accessToken === current.accessToken) this.#version = entry!.version;
      return false;
    }
    this.#setToken({ ...stored }, entry!.version);
    return true;
  }

  /** Bounds a store call by the session's timeout: a stalled store must not hang calls. */
  #bounded<T>(operation: Promise<T>): Promise<T> {
    let id: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      id = setTimeout(
        () => reject(new Error(`The token store did not answer within ${this.#timeout} ms`)),
        this.#timeout,
      );
    });
    return Promise.race([operation, timeout]).finally(() => clearTimeout(id));
  }

  #storeGet(): Promise<ArmorStoreEntry | undefined> {
    return this.#bounded(this.#store.get(this.#key));
  }

  #storeSet(state: ArmorStoredSession | undefined, version: string | null): Promise<string | null> {
    return this.#bounded(this.#store.set(this.#key, state, version));
  }

  /** Reads the store, or `undefined` when it fails: a local token stays usable. */
  async #peek(): Promise<ArmorStoreEntry | undefined> {
    try {
      return await this.#storeGet();
    } catch {
      return undefined;
    }
  }

  /** Writes `state`, over whatever is stored; returns the new version. */
  async #publish(state: ArmorStoredSession): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.#storeGet();
      const version = await this.#storeSet(state, entry?.version ?? null);
      if (version !== null) return version;
    }
    throw new Error("The token store kept changing: could not save the session");
  }

  /** Removes `accessToken` from the store while it is still the stored one. */
  async #forget(accessToken: string): Promise<void> {
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const entry = await this.#storeGet();
        if (entry?.value.token?.accessToken !== accessToken) return;
        const { token: _token, claim: _claim, ...rest } = entry.value;
        if (await this.#storeSet(rest, entry.version) !== null) return;
      }
    } catch {
      // The local session is ended either way.
    }
  }

  /** Takes a token a call obtained for this session, unless it was disconnected since. */
  async #adoptToken(token: ArmorApiToken, generation: number): Promise<void> {
    if (generation !== this.#generation) return;
    const local = {
      accessToken: token.access_token,
      issuedAt: token.issuedAt.getTime(),
      expiresAt: token.expiresAt.getTime(),
    };
    // Locally first: the old token may be dead already, so the new one must not be lost
    // to a store that fails. Sharing it is best effort.
    this.#setToken(local, null);
    try {
      const version = await this.#publish({ token: local, identity: this.#identity });
      if (this.#token === local) this.#version = version;
    } catch {
      // Other sessions will not see it; this one has it.
    }
  }

  async #fetchSlow(url: string, init?: RequestInit): Promise<Response> {
    if (this.#ended === "disconnected") throw this.#noTokenError();
    if (this.#token === undefined || this.#ended !== undefined) {
      this.#adopt(await this.#storeGet());
      if (this.#token === undefined || this.#ended !== undefined) throw this.#noTokenError();
    }
    let now = this.#now();
    if (now >= this.#token.expiresAt) {
      // Another session may have renewed it.
      this.#adopt(await this.#peek());
      now = this.#now();
    }
    const token = this.#token;
    if (token === undefined || this.#ended !== undefined) throw this.#noTokenError();
    if (now >= token.expiresAt) throw this.#expiredError(token.expiresAt);
    if (now >= this.#renewAt) {
      const renewal = this.#renewal ?? (now >= this.#retryAt ? this.#renew() : undefined);
      const length = token.expiresAt - token.issuedAt;
      if (renewal !== undefined) {
        // About to lapse: wait for the new token. Else, on a shared store, wait only for
        // the store check, so a token another session already renewed is used at once;
        // a private store holds nothing new, so the call goes out now.
        if (mustRenew(now, token.expiresAt, length)) await renewal;
        else if (this.#shared) await this.#renewalChecked;
      }
    }
    const current = this.#token;
    if (current === undefined || this.#ended !== undefined) throw this.#noTokenError();
    if (this.#now() >= current.expiresAt) throw this.#expiredError(current.expiresAt);
    return await this.#send(current.accessToken, url, init);
  }

  #send(accessToken: string, url: string, init: RequestInit | undefined): Promise<Response> {
    // The caller reads the body when it likes, and the timeout covers it: the deadline is
    // a signal shared by the calls due at the same time, with nothing to undo at the end.
    // A fetch that may ignore its signal is raced with it by a listener, which goes on a
    // signal of the call's own rather than on the shared one.
    const deadline = deadlineSignal(this.#timeout);
    const fetchImpl = this.#fetch ?? globalThis.fetch;
    const native = honoursSignal(fetchImpl);
    const userSignal = init?.signal ?? undefined;
    const signal = userSignal !== undefined
      ? AbortSignal.any([userSignal, deadline])
      : native
      ? deadline
      : AbortSignal.any([deadline]);
    let headers: HeadersInit;
    if (init === undefined) {
      headers = this.#headers;
    } else if (init.headers === undefined) {
      headers = typeof init.body === "string" ? this.#headersWithBody : this.#headers;
    } else {
      headers = this.#mergeHeaders(accessToken, init.headers, typeof init.body === "string");
    }
    const request: RequestInit = init === undefined
      ? { headers, redirect: "manual", signal }
      : { ...init, headers, redirect: "manual", signal };
    const method = init?.method ?? "GET";
    const logger = this.#logger;
    const started = logger === undefined ? 0 : Date.now();
    if (logger !== undefined) {
      log(logger, {
        event: "request",
        method,
        url,
        headers: { ...redactHeaders(headers), authorization: `FH-AUTH ${REDACTED}` },
      });
    }
    const fail = (error: unknown): never => {
      const what = `${method} ${pathOf(url)}`;
      const { code, message, cause } = sendFailure(
        error,
        what,
        userSignal,
        deadline,
        this.#timeout,
      );
      const failure = new ArmorApiError(code, message, { cause: scrubCause(cause, [accessToken]) });
      log(logger, { event: "error", method, url, code, ms: Date.now() - started });
      throw failure;
    };
    let pending: Promise<Response>;
    try {
      pending = fetchImpl(url, request);
    } catch (error) {
      // A fetch that throws instead of rejecting.
      return Promise.reject(error).catch(fail);
    }
    // Raced with the signal: a fetch that ignores it still ends at the deadline. The
    // runtime's own fetch aborts by itself.
    const raced = native
      ? pending
      : untilAborted(pending, signal, (response) => void response.body?.cancel().catch(() => {}));
    return raced.then(
      (response) => {
        if (logger !== undefined) {
          log(logger, {
            event: "response",
            method,
            url,
            status: response.status,
            ms: Date.now() - started,
          });
        }
        if (response.status === 401) this.#rejected(accessToken);
        return response;
      },
      fail,
    );
  }

  #mergeHeaders(accessToken: string, given: HeadersInit, jsonBody: boolean): Headers {
    const headers = new Headers(given);
    if (!headers.has("accept")) headers.set("accept", "application/json");
    if (jsonBody && !headers.has("content-type")) headers.set("content-type", "application/json");
    if (!headers.has("x-account-context") && this.#accountId !== undefined) {
      headers.set("x-account-context", String(this.#accountId));
    }
    headers.set("authorization", `FH-AUTH ${accessToken}`);
    return headers;
  }

  #rejected(accessToken: string): void {
    if (this.#token?.accessToken !== accessToken) return;
    this.#ended = "rejected";
    this.#rejectedToken = accessToken;
    this.#token = undefined;
    this.#renewAt = Infinity;
    this.#rebuildHeaders();
    log(this.#logger, { event: "renewal", outcome: "failed", code: "NOT_AUTHORIZED", status: 401 });
    void this.#forget(accessToken);
  }

  /** Starts the one shared renewal. */
  #renew(): Promise<void> {
    let checked!: () => void;
    this.#renewalChecked = new Promise<void>((resolve) => checked = resolve);
    const renewal = this.#renewOnce(checked).finally(() => {
      checked();
      if (this.#renewal === renewal) {
        this.#renewal = undefined;
        this.#renewalChecked = undefined;
      }
    });
    this.#renewal = renewal;
    return renewal;
  }

  /** One renewal: adopt a newer stored token, or claim the renewal and reissue. Never rejects. */
  async #renewOnce(checked: () => void): Promise<void> {
    const mine = this.#token;
    if (mine === undefined) return;
    // The session may end (disconnect, 401) or change token while this awaits.
    const stale = () => this.#token !== mine || this.#ended !== undefined;
    let claimed: string | null = null;
    let base: ArmorStoredSession | undefined;
    try {
      const entry = await this.#storeGet();
      if (stale()) return;
      if (this.#adopt(entry)) {
        log(this.#logger, { event: "renewal", outcome: "adopted" });
        return;
      }
      const now = this.#now();
      const claim = entry?.value.claim;
      if (claim !== undefined && claim.owner !== this.#owner && claim.until > now) {
        // Another session is renewing: look again shortly, keep the current token.
        this.#retryAt = now + 250;
        return;
      }
      base = entry?.value ?? { token: { ...mine }, identity: this.#identity };
      claimed = await this.#storeSet(
        {
          ...base,
          claim: { owner: this.#owner, purpose: "renew", until: now + this.#timeout + 5_000 },
        },
        entry?.version ?? null,
      );
      if (claimed === null) {
        this.#retryAt = now + 250;
        return;
      }
    } catch {
      this.#backoff(undefined, "STORE");
      return;
    }
    const release = async () => {
      try {
        await this.#storeSet(withoutClaim(base!), claimed);
      } catch {
        // The claim lapses by itself.
      }
    };
    if (stale()) return await release();
    checked();
    let fresh: ArmorApiToken;
    try {
      fresh = await updateArmorApiToken(mine.accessToken, {
        baseUrl: this.#baseUrl,
        apiVersion: this.#apiVersion,
        fetch: this.#fetch ?? globalThis.fetch,
        timeout: this.#timeout,
        logger: this.#logger,
        now: this.#now,
      });
    } catch (error) {
      const failure = error instanceof ArmorApiError ? error : undefined;
      this.#backoff(failure?.retryAfter, failure?.code ?? "UNKNOWN", error);
      await release();
      // 401: the API no longer accepts this token, so no renewal ever will.
      if (failure?.status === 401) this.#rejected(mine.accessToken);
      return;
    }
    const token = {
      accessToken: fresh.access_token,
      issuedAt: fresh.issuedAt.getTime(),
      expiresAt: fresh.expiresAt.getTime(),
    };
    if (stale()) return await release(); // disconnected meanwhile: share nothing
    // Locally first, so a failing store cannot lose the new token.
    this.#setToken(token, null);
    log(this.#logger, { event: "renewal", outcome: "renewed" });
    try {
      const version = await this.#storeSet(
        { ...withoutClaim(base!), token, identity: this.#identity ?? base!.identity },
        claimed,
      );
      if (this.#token === token) this.#version = version;
    } catch {
      // Other sessions will renew for themselves.
    }
  }

  #backoff(retryAfter: number | undefined, code: string, error?: unknown): void {
    this.#failures++;
    this.#retryAt = this.#now() + retryDelay(this.#failures, retryAfter);
    log(this.#logger, {
      event: "renewal",
      outcome: "failed",
      code,
      status: error instanceof ArmorApiError ? error.status : undefined,
    });
  }

  async #login(
    username: string,
    password: string,
    signal: AbortSignal | undefined,
    authorizeTimeout: number,
    accountId: number | undefined,
  ): Promise<void> {
    const claimFor = authorizeTimeout + 2 * this.#timeout + 5_000;
    const realStart = Date.now();
    let claimed: string | null = null;
    let base: ArmorStoredSession = {};
    let attempts = 0;
    for (;;) {
      if (signal?.aborted) {
        throw new ArmorApiError("ABORTED", "The login was aborted by the caller", {
          cause: signal.reason,
        });
      }
      const entry = await this.#storeGet();
      const now = this.#now();
      const state = entry?.value;
      if (
        isLive(state, now) && state!.identity !== undefined &&
        await sameLogin(state!.login, username, password)
      ) {
        this.#adopt(entry);
        this.#chooseAccount(accountId);
        return;
      }
      const claim = state?.claim;
      if (
        claim !== undefined && claim.owner !== this.#owner && claim.until > now &&
        Date.now() - realStart < claimFor
      ) {
        try {
          await sleep(100, signal);
        } catch (reason) {
          throw new ArmorApiError("ABORTED", "The login was aborted by the caller", {
            cause: reason,
          });
        }
        continue;
      }
      base = state === undefined ? {} : withoutClaim(state);
      claimed = await this.#storeSet(
        { ...base, claim: { owner: this.#owner, purpose: "login", until: now + claimFor } },
        entry?.version ?? null,
      );
      if (claimed !== null) break;
      // Lost a race for the claim: look again after a short, real pause.
      if (++attempts >= 50) {
        throw new Error("The token store kept changing: could not start the login");
      }
      try {
        await sleep(10 * Math.min(attempts, 10), signal);
      } catch (reason) {
        throw new ArmorApiError("ABORTED", "The login was aborted by the caller", {
          cause: reason,
        });
      }
    }
    try {
      const transport: Transport = {
        fetch: this.#fetch ?? globalThis.fetch,
        signal,
        timeout: authorizeTimeout,
        logger: this.#logger,
      };
      const code = await sendJson(
        jsonPost(
          { baseUrl: this.#prefix, apiVersion: this.#apiVersion },
          "auth/authorize",
          { username, password },
          ["password"],
        ),
        transport,
        (json) => {
          if (json.success === false) throw new InvalidField("success is false");
          if (typeof json.code !== "string" || json.code.trim() === "") {
            throw new InvalidField("code is not a non-empty string");
          }
          return json.code;
        },
      );
      const token = await requestArmorApiToken(code, {
        baseUrl: this.#baseUrl,
        apiVersion: this.#apiVersion,
        fetch: this.#fetch ?? globalThis.fetch,
        timeout: this.#timeout,
        signal,
        logger: this.#logger,
        now: this.#now,
      });
      const meUrl = new URL("me", this.#baseUrl).href;
      const identity = await sendJson(
        {
          plan: {
            method: "GET",
            url: meUrl,
            apiVersion: this.#apiVersion,
            headers: { accept: "application/json", authorization: `FH-AUTH ${REDACTED}` },
          },
          url: meUrl,
          headers: { accept: "application/json", authorization: `FH-AUTH ${token.access_token}` },
          secrets: [token.access_token, password, code],
        },
        { ...transport, timeout: this.#timeout },
        (json) => {
          const parsed = parseIdentity(json);
          if (typeof parsed === "string") throw new InvalidField(parsed);
          return parsed;
        },
      );
      if (accountId !== undefined && !identity.accounts.some((a) => a.id === accountId)) {
        throw new ArmorApiError(
          "UNKNOWN_ACCOUNT",
          `Account ${accountId} is not one of ${username}'s accounts: ${
            identity.accounts.map((a) => a.id).join(", ") || "none"
          }`,
        );
      }
      const local = {
        accessToken: token.access_token,
        issuedAt: token.issuedAt.getTime(),
        expiresAt: token.expiresAt.getTime(),
      };
      this.#identity = identity;
      this.#setToken(local, null);
      this.#chooseAccount(accountId);
      // Share the login; a store that fails only loses the sharing, not this session.
      const login = this.#shared ? await makeLogin(identity.username, password) : undefined;
      const state: ArmorStoredSession = { ...base, token: local, identity, login };
      try {
        let version = await this.#storeSet(state, claimed);
        if (version === null) version = await this.#publish(state);
        if (this.#token === local) this.#version = version;
      } catch {
        // Other sessions will log in for themselves.
      }
    } catch (error) {
      try {
        await this.#storeSet(base, claimed);
      } catch {
        // The claim lapses by itself.
      }
      throw error;
    }
  }

  #chooseAccount(accountId: number | undefined): void {
    if (accountId !== undefined) {
      this.useAccount(accountId);
    } else if (this.#accountId === undefined && (this.#identity?.accounts.length ?? 0) > 0) {
      this.useAccount(this.#identity!.accounts[0].id);
    }
  }
}

const PBKDF2_ITERATIONS = 210_000;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function derive(password: string, salt: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "PBKDF2",
      hash: "SHA-256",
      salt: salt as Uint8Array<ArrayBuffer>,
      iterations: PBKDF2_ITERATIONS,
    },
    key,
    256,
  );
  return hex(new Uint8Array(bits));
}

/** The stored proof of who logged in: user name and a salted PBKDF2 verifier. */
async function makeLogin(
  username: string,
  password: string,
): Promise<NonNullable<ArmorStoredSession["login"]>> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return { username, salt: hex(salt), verifier: await derive(password, salt) };
}

/** True when a stored login was made with these credentials. */
async function sameLogin(
  login: ArmorStoredSession["login"],
  username: string,
  password: string,
): Promise<boolean> {
  if (login === undefined || !/^[0-9a-f]{32}$/.test(login.salt)) return false;
  if (login.username.trim().toLowerCase() !== username.trim().toLowerCase()) return false;
  const salt = new Uint8Array(login.salt.match(/../g)!.map((byte) => parseInt(byte, 16)));
  const verifier = await derive(password, salt);
  // Compare in constant time.
  let difference = verifier.length ^ login.verifier.length;
  for (let i = 0; i < verifier.length; i++) {
    difference |= verifier.charCodeAt(i) ^ (login.verifier.charCodeAt(i) | 0);
  }
  return difference === 0;
}

function checkAccountId(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`accountId must be a positive integer, got ${describe(value)}`);
  }
  return value;
}
