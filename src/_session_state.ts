// A session's state: its settings, its token and the account context, and the small
// rules that keep them consistent. `ArmorSession` owns one and shows it; login, renewal,
// store sync and the request pipeline (each in a file of its own) work on it.

import { fhAuthorization, type SessionCredential } from "./_authorization.ts";
import {
  baseUrlOption,
  checkApiVersion,
  checkFunction,
  checkOptions,
  checkTimeout,
  describe,
} from "./_validate.ts";
import { DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS } from "./defaults.ts";
import type { ArmorSessionOptions } from "./session_options.ts";
import { type ArmorTokenStore, MemoryTokenStore } from "./token_store.ts";
import { readClock, type TokenEndpoint } from "./_token_core.ts";
import { ArmorApiError } from "./errors.ts";
import type { ArmorIdentity } from "./identity.ts";
import { jitteredRenewAt } from "./renewal.ts";
import type { ArmorLogger } from "./types.ts";

/** A token as the session keeps it; times in epoch ms by the session's clock. */
export interface LocalToken {
  accessToken: string;
  issuedAt: number;
  expiresAt: number;
}

/**
 * The headers of a call in one account with one token (or none, for an API key), built
 * once and shared by reference by every call made with them: never changed once built.
 */
export interface HeaderSet {
  /** The token whose `Authorization` they carry, if any. */
  readonly accessToken: string | undefined;
  /** The account of their `X-Account-Context`, if any. */
  readonly accountId: number | undefined;
  /** For a call with no string body. */
  readonly plain: Readonly<Record<string, string>>;
  /** For a call with a string body: with `Content-Type: application/json`. */
  readonly json: Readonly<Record<string, string>>;
}

/** How many accounts' headers a session keeps for its account-bound views. */
const ACCOUNT_HEADERS_KEPT = 256;

function headerSet(accessToken: string | undefined, accountId: number | undefined): HeaderSet {
  const plain: Record<string, string> = { accept: "application/json" };
  if (accessToken !== undefined) plain.authorization = fhAuthorization(accessToken);
  if (accountId !== undefined) plain["x-account-context"] = String(accountId);
  return { accessToken, accountId, plain, json: { ...plain, "content-type": "application/json" } };
}

/** How a session's state ended, if it did. */
export type Ended = "disconnected" | "rejected";

/** What a session is built from, checked. */
export interface SessionSettings {
  endpoint: TokenEndpoint;
  /** The base URL's href, ending with "/". */
  prefix: string;
  origin: string;
  store: ArmorTokenStore;
  /** Whether the store was given, so others may share it. */
  shared: boolean;
  key: string;
  random: () => number;
  credential: SessionCredential;
}

/** The mutable state of one session. */
export class SessionState {
  readonly endpoint: TokenEndpoint;
  readonly prefix: string;
  readonly origin: string;
  readonly store: ArmorTokenStore;
  readonly shared: boolean;
  readonly key: string;
  readonly random: () => number;
  readonly credential: SessionCredential;
  /** Whether requests are signed with an API key instead of carrying a token. */
  readonly usesApiKey: boolean;
  readonly logger?: ArmorLogger;
  readonly timeout: number;
  #owner?: string;
  /** Who this session is in a store's claims: drawn at first use (a session that never
   * shares its store never needs one, and the first random draw costs at start-up). */
  get owner(): string {
    return this.#owner ??= crypto.randomUUID();
  }
  /** The user name the stored state must belong to (set at login). */
  username?: string;

  token?: LocalToken;
  renewAt = Infinity;
  /** `session.fetch` paths already joined to the base URL, and their URLs. */
  readonly resolved = new Map<string, string>();
  /** The store version of the state that holds `token`, if known. */
  version: string | null = null;
  identity?: ArmorIdentity;
  accountId?: number;
  /** The headers of a call in the session's account with its token: built once per change. */
  headers: HeaderSet = headerSet(undefined, undefined);
  /** The headers of calls in other accounts (account-bound views), with the current token. */
  readonly #byAccount = new Map<number, HeaderSet>();
  renewal?: Promise<void>;
  /** Settles once the renewal in flight has read the store (adopted, or claimed). */
  renewalChecked?: Promise<void>;
  failures = 0;
  retryAt = 0;
  ended?: Ended;
  /** Bumped by disconnect(): a token call started before must not revive the session. */
  generation = 0;
  rejectedToken?: string;
  /** The token this session held before its current one: kept out of store errors. */
  previousToken?: string;

  constructor(settings: SessionSettings) {
    this.endpoint = settings.endpoint;
    this.prefix = settings.prefix;
    this.origin = settings.origin;
    this.store = settings.store;
    this.shared = settings.shared;
    this.key = settings.key;
    this.random = settings.random;
    this.credential = settings.credential;
    this.usesApiKey = settings.credential.scheme === "ARMOR-PSK";
    this.logger = settings.endpoint.logger;
    this.timeout = settings.endpoint.timeout;
    const clock = settings.endpoint.now;
    // A clock that throws or returns no finite number fails the call with a TypeError.
    this.now = () => readClock(clock);
  }

  /** The clock (epoch ms): the endpoint's, read directly on the hot path. */
  readonly now: () => number;

  rebuildHeaders(): void {
    const accessToken = this.token?.accessToken;
    // Other accounts' headers carry the token too: none is kept past its token.
    if (accessToken !== this.headers.accessToken) this.#byAccount.clear();
    this.headers = headerSet(accessToken, this.accountId);
  }

  /** The headers of a call in `accountId` with the current token: built once per token. */
  headersFor(accountId: number): HeaderSet {
    if (accountId === this.accountId) return this.headers;
    const accessToken = this.token?.accessToken;
    let set = this.#byAccount.get(accountId);
    if (set === undefined || set.accessToken !== accessToken) {
      if (set === undefined && this.#byAccount.size >= ACCOUNT_HEADERS_KEPT) {
        this.#byAccount.clear();
      }
      set = headerSet(accessToken, accountId);
      this.#byAccount.set(accountId, set);
    }
    return set;
  }

  setToken(token: LocalToken, version: string | null): void {
    if (this.token !== undefined && this.token.accessToken !== token.accessToken) {
      this.previousToken = this.token.accessToken;
    }
    this.token = token;
    this.version = version;
    this.renewAt = jitteredRenewAt(token.issuedAt, token.expiresAt - token.issuedAt, this.random);
    this.ended = undefined;
    this.failures = 0;
    this.retryAt = 0;
    this.rebuildHeaders();
  }

  /** Drops the token: the session ends as `ended`. */
  end(ended: Ended): void {
    this.ended = ended;
    this.token = undefined;
    this.renewAt = Infinity;
    this.rebuildHeaders();
  }

  noTokenError(): ArmorApiError {
    const message = this.ended === "disconnected"
      ? "The session was disconnected: log in again"
      : this.ended === "rejected"
      ? "The Armor API rejected the session token (401): log in again"
      : "The session has no token: log in with ArmorSession.connect first";
    return new ArmorApiError("NOT_AUTHORIZED", message);
  }

  expiredError(expiresAt: number): ArmorApiError {
    return new ArmorApiError(
      "SESSION_EXPIRED",
      `Session expired at ${new Date(expiresAt).toISOString()}: log in again`,
    );
  }

  /** `UNKNOWN_ACCOUNT` unless `id` is one of the identity's accounts (or none is known). */
  checkAccount(id: number, whose = "this session's"): void {
    checkAccountIn(this.identity, id, whose);
  }

  useAccount(id: number): void {
    this.checkAccount(id);
    this.accountId = id;
    this.rebuildHeaders();
  }

  /** The named account, else the first one, else none. */
  chooseAccount(accountId: number | undefined, whose?: string): void {
    if (accountId !== undefined) {
      this.checkAccount(accountId, whose);
      this.accountId = accountId;
    } else if (this.accountId === undefined && (this.identity?.accounts.length ?? 0) > 0) {
      this.accountId = this.identity!.accounts[0].id;
    }
    this.rebuildHeaders();
  }
}

/** Throws unless `value` is a positive integer account id. */
export function checkAccountId(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`accountId must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

/** Checks the session options and builds the state of a session with no token yet. */
export function buildState(options: unknown, credential: SessionCredential): SessionState {
  const opts = checkOptions<ArmorSessionOptions>(options);
  const baseUrl = baseUrlOption(opts.baseUrl, DEFAULT_BASE_URL);
  const endpoint: TokenEndpoint = Object.freeze({
    baseUrl: baseUrl.href,
    apiVersion: checkApiVersion(opts.apiVersion, DEFAULT_API_VERSION),
    fetch: checkFunction<typeof fetch>(opts.fetch, "fetch"),
    timeout: checkTimeout(opts.timeout, DEFAULT_TIMEOUT_MS),
    logger: checkFunction<ArmorLogger>(opts.logger, "logger"),
    now: checkFunction<() => number>(opts.now, "now") ?? Date.now,
  });
  if (opts.store !== undefined) {
    const store = opts.store as Partial<ArmorTokenStore> | null;
    if (typeof store?.get !== "function" || typeof store?.set !== "function") {
      throw new TypeError("store must be an ArmorTokenStore (get and set)");
    }
  }
  if (
    opts.storeKey !== undefined && (typeof opts.storeKey !== "string" || opts.storeKey === "")
  ) {
    throw new TypeError(`storeKey must be a non-empty string, got ${describe(opts.storeKey)}`);
  }
  const state = new SessionState({
    endpoint,
    prefix: baseUrl.href,
    origin: baseUrl.origin,
    store: opts.store ?? new MemoryTokenStore(),
    shared: opts.store !== undefined,
    key: opts.storeKey ?? baseUrl.href,
    random: checkFunction<() => number>(opts.random, "random") ?? Math.random,
    credential,
  });
  if (opts.accountId !== undefined) state.accountId = checkAccountId(opts.accountId);
  state.rebuildHeaders();
  return state;
}

/** `UNKNOWN_ACCOUNT` unless `id` is one of `identity`'s accounts (or there is no identity). */
export function checkAccountIn(
  identity: ArmorIdentity | undefined,
  id: number,
  whose: string,
): void {
  if (identity === undefined || identity.accounts.some((a) => a.id === id)) return;
  throw new ArmorApiError(
    "UNKNOWN_ACCOUNT",
    `Account ${id} is not one of ${whose} accounts: ${
      identity.accounts.map((a) => a.id).join(", ") || "none"
    }`,
  );
}
