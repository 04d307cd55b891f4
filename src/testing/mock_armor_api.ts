import { type Context, Hono } from "hono";
import { MockClock } from "./mock_clock.ts";
import { randomBytes, toBase64, toHex } from "./_random.ts";
import { wait } from "./_wait.ts";

/**
 * An Armor account a mock user belongs to, as `/me` and `/accounts` list it.
 *
 * @example An account with every field set
 * ```ts
 * import type { MockAccount } from "@armor-api/auth/testing";
 *
 * const account: MockAccount = {
 *   id: 2001,
 *   name: "Acme Production",
 *   currency: "EUR",
 *   status: "Claimed",
 *   parent: -1,
 * };
 * ```
 */
export interface MockAccount {
  /** The account id: what a client sends in `X-Account-Context`. */
  id: number;
  /** The account's display name. */
  name: string;
  /** The account's billing currency; defaults to `"USD"`. */
  currency?: string;
  /** The account's status; defaults to `"Claimed"`. */
  status?: string;
  /** The parent account's id; defaults to `-1` (no parent). */
  parent?: number;
}

/**
 * A user the mock Armor API accepts at `POST /auth/authorize`.
 *
 * @example A user whose login waits for multi-factor approval
 * ```ts
 * import { createMockArmorApi, type MockUser } from "@armor-api/auth/testing";
 *
 * const user: MockUser = {
 *   username: "ops@example.com",
 *   password: "correct horse",
 *   accounts: [{ id: 3001, name: "Ops" }],
 *   mfaDelayMs: 50,
 * };
 * const mock = createMockArmorApi({ users: [user] });
 * ```
 */
export interface MockUser {
  /** The login name, compared exactly. */
  username: string;
  /** The password, compared exactly. */
  password: string;
  /** The first name `/me` reports; defaults to `""`. */
  firstName?: string;
  /** The last name `/me` reports; defaults to `""`. */
  lastName?: string;
  /** The accounts the user can act on; defaults to none. */
  accounts?: MockAccount[];
  /**
   * How long `POST /auth/authorize` waits (real time) before answering, as if the user
   * had to approve a multi-factor prompt. The wait ends early if the client disconnects.
   */
  mfaDelayMs?: number;
}

/**
 * A failure or delay the mock serves instead of, or before, its normal answer.
 *
 * A fault that sets `status`, `body` or `headers` answers the request itself: with
 * `status` (default 500), `headers`, and `body`. A string or `Uint8Array` body is sent as
 * it is (a string as `text/plain` unless `headers` names a content type), `null` sends
 * no body, any other value is sent as JSON; without a `body` the mock sends
 * `{"Message": "Injected fault (HTTP <status>)"}`. A fault with only `delayMs` lets the
 * real route answer after the delay.
 *
 * @example Fail the next reissue with a 503, then let it work again
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi } from "@armor-api/auth/testing";
 *
 * const mock = createMockArmorApi();
 * mock.inject({ path: "/auth/token/reissue", status: 503, body: { Message: "Busy" } });
 * const res = await mock.app.request("/auth/token/reissue", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ token: "0".repeat(32) }),
 * });
 * assert.equal(res.status, 503);
 * assert.deepEqual(await res.json(), { Message: "Busy" });
 * ```
 */
export interface MockFault {
  /** The HTTP status to answer with, 200 to 599; defaults to 500. */
  status?: number;
  /** The body to answer with: a string or bytes sent raw, `null` for none, else JSON. */
  body?: string | Uint8Array | Record<string, unknown> | unknown[] | null;
  /** Headers to answer with; they override the default content type. */
  headers?: Record<string, string>;
  /**
   * How long to wait (real time) before answering. The wait ends early, with no answer
   * the client can see, if the client disconnects.
   */
  delayMs?: number;
  /** How many requests the fault applies to; defaults to 1. `Infinity` means all. */
  times?: number;
  /** Apply only to requests to this exact path (e.g. `"/auth/token/reissue"`). */
  path?: string;
}

/**
 * One request the mock received, as its `requests` log keeps it.
 *
 * @example Look at the last request
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, type MockRequestRecord } from "@armor-api/auth/testing";
 *
 * const mock = createMockArmorApi();
 * await mock.app.request("/me");
 * const last: MockRequestRecord = mock.requests.at(-1)!;
 * assert.equal(last.method, "GET");
 * assert.equal(last.path, "/me");
 * assert.equal(last.status, 401);
 * ```
 */
export interface MockRequestRecord {
  /** The HTTP method, upper-case. */
  method: string;
  /** The URL path, without the query. */
  path: string;
  /** The request headers, with lower-case names. */
  headers: Record<string, string>;
  /** The body parsed as JSON when it is JSON, else its text; `undefined` without a body. */
  body: unknown;
  /** When the request arrived, by the mock's clock. */
  time: number;
  /**
   * The status the mock answered with; 0 while the answer is pending, 499 if the client
   * went away during a delay.
   */
  status: number;
}

/**
 * The HTTP face of a {@linkcode MockArmorApi}: the two members of its Hono app that tests
 * and servers use. The object is the Hono app itself.
 *
 * @example Call it in-process, or hand `fetch` to a server
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, type MockArmorApiApp } from "@armor-api/auth/testing";
 *
 * const app: MockArmorApiApp = createMockArmorApi().app;
 * assert.equal((await app.request("/me")).status, 401);
 * assert.equal((await app.fetch(new Request("http://mock.test/nowhere"))).status, 404);
 * ```
 */
export interface MockArmorApiApp {
  /**
   * Answers a request in-process, as Hono's `app.request()`: `input` is a path such as
   * `"/me"`, a full URL or a `Request`.
   */
  readonly request: (
    input: string | URL | Request,
    init?: RequestInit,
  ) => Response | Promise<Response>;
  /** Answers a request: a bound fetch handler to pass to `Deno.serve`. */
  readonly fetch: (request: Request) => Response | Promise<Response>;
}

/**
 * Options for {@linkcode createMockArmorApi}.
 *
 * @example Short sessions on a clock the test controls
 * ```ts
 * import { createMockArmorApi, MockClock } from "@armor-api/auth/testing";
 *
 * const clock = new MockClock(0);
 * const mock = createMockArmorApi({ clock, expiresIn: 5, codeLifetimeMs: 60_000 });
 * ```
 */
export interface MockArmorApiOptions {
  /** The users the mock accepts; defaults to {@linkcode DEFAULT_MOCK_USER} only. */
  users?: MockUser[];
  /** The clock that decides code and token expiry; defaults to a new {@linkcode MockClock}. */
  clock?: MockClock;
  /**
   * The `expires_in` value the token calls send; defaults to 15. The mock reads it as
   * minutes when it is at most 120, else as seconds, as a robust client should.
   */
  expiresIn?: number;
  /** How long an authorization code can be redeemed, by the mock clock; defaults to 120 000 ms. */
  codeLifetimeMs?: number;
}

/**
 * The user a mock has when no `users` are given: `demo@example.com` with the password
 * `demo-password` and two accounts, 1001 "Demo Production" and 1002 "Demo Staging".
 *
 * @example Log in as the default user
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, DEFAULT_MOCK_USER } from "@armor-api/auth/testing";
 *
 * const mock = createMockArmorApi();
 * const res = await mock.app.request("/auth/authorize", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({
 *     username: DEFAULT_MOCK_USER.username,
 *     password: DEFAULT_MOCK_USER.password,
 *   }),
 * });
 * assert.equal(res.status, 200);
 * ```
 */
export const DEFAULT_MOCK_USER: MockUser = Object.freeze({
  username: "demo@example.com",
  password: "demo-password",
  firstName: "Demo",
  lastName: "User",
  accounts: Object.freeze([
    Object.freeze({ id: 1001, name: "Demo Production", currency: "USD", status: "Claimed" }),
    Object.freeze({ id: 1002, name: "Demo Staging", currency: "USD", status: "Claimed" }),
  ]) as MockAccount[],
});

interface AccountJson {
  ID: number;
  Name: string;
  Currency: string;
  Status: string;
  Parent: number;
}

interface UserState {
  username: string;
  password: string;
  mfaDelayMs: number;
  accountIds: Set<string>;
  accounts: AccountJson[];
  me: Record<string, unknown>;
}

interface TokenState {
  user: UserState;
  expiresAt: number;
  revoked: boolean;
}

interface CodeState {
  user: UserState;
  expiresAt: number;
}

interface RequestState {
  record: MockRequestRecord;
  /** Aborted by the first `abortPending()` after the request arrived. */
  stop: AbortSignal;
}

interface QueuedFault {
  fault: MockFault;
  remaining: number;
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);
const DENIED = "Authorization has been denied for this request.";

/**
 * An in-memory stand-in for the Armor API's login flow, `/me` and `/accounts`.
 *
 * Its {@linkcode MockArmorApi.app} is a Hono app: call `app.request()` in-process, or
 * serve `app.fetch` on a socket (see {@linkcode serveMockArmorApi}). Codes and tokens
 * expire by the mock's {@linkcode MockClock}; every request lands in
 * {@linkcode MockArmorApi.requests}; {@linkcode MockArmorApi.inject} queues failures.
 *
 * @example Log in, then read `/me`
 * ```ts
 * import assert from "node:assert/strict";
 * import { MockArmorApi } from "@armor-api/auth/testing";
 *
 * const mock = new MockArmorApi();
 * const post = (path: string, body: unknown) =>
 *   mock.app.request(path, {
 *     method: "POST",
 *     headers: { "Content-Type": "application/json" },
 *     body: JSON.stringify(body),
 *   });
 * const { code } = await (await post("/auth/authorize", {
 *   username: "demo@example.com",
 *   password: "demo-password",
 * })).json();
 * const { access_token } = await (await post("/auth/token", {
 *   code,
 *   grant_type: "authorization_code",
 * })).json();
 * const me = await mock.app.request("/me", {
 *   headers: { Authorization: `FH-AUTH ${access_token}` },
 * });
 * assert.equal((await me.json()).UserName, "demo@example.com");
 * assert.equal(mock.count("/auth/token"), 1);
 * ```
 */
export class MockArmorApi {
  /**
   * The Hono app that answers the Armor routes, typed by the two members tests use.
   *
   * @example Call it in-process
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const res = await createMockArmorApi().app.request("/nowhere");
   * assert.equal(res.status, 404);
   * ```
   */
  readonly app: MockArmorApiApp;

  /**
   * The clock that decides when codes and tokens expire.
   *
   * @example Let a token expire
   * ```ts
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * mock.clock.advance(15 * 60_000); // a 15-minute token issued before now is dead
   * ```
   */
  readonly clock: MockClock;

  /**
   * Every request received, in order of arrival, with the status it got.
   *
   * @example Check what a client sent
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * await mock.app.request("/auth/token/reissue", {
   *   method: "POST",
   *   headers: { "Content-Type": "application/json" },
   *   body: JSON.stringify({ token: "f".repeat(32) }),
   * });
   * assert.deepEqual(mock.requests[0].body, { token: "f".repeat(32) });
   * assert.equal(mock.requests[0].status, 401);
   * ```
   */
  readonly requests: MockRequestRecord[] = [];

  #users = new Map<string, UserState>();
  #codes = new Map<string, CodeState>();
  #tokens = new Map<string, TokenState>();
  #issued: string[] = [];
  #faults: QueuedFault[] = [];
  #counts = new Map<string, number>();
  #pending = new AbortController();
  #requestStates = new WeakMap<Request, RequestState>();
  #expiresIn: number;
  #tokenLifetimeMs: number;
  #codeLifetimeMs: number;

  /**
   * Makes a mock with the given users, clock and lifetimes.
   *
   * @param options The users, clock and lifetimes; all optional
   * @throws {TypeError} If two users share a username
   * @throws {RangeError} If `expiresIn` or `codeLifetimeMs` is not a usable number
   *
   * @example A mock with its own user
   * ```ts
   * import { MockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = new MockArmorApi({
   *   users: [{ username: "a@example.com", password: "pw", accounts: [{ id: 7, name: "A" }] }],
   * });
   * ```
   */
  constructor(options: MockArmorApiOptions = {}) {
    const {
      users = [DEFAULT_MOCK_USER],
      clock = new MockClock(),
      expiresIn = 15,
      codeLifetimeMs = 120_000,
    } = options;
    if (!Number.isFinite(expiresIn)) {
      throw new RangeError(`Option expiresIn must be a finite number, got ${expiresIn}`);
    }
    if (!Number.isFinite(codeLifetimeMs) || codeLifetimeMs < 0) {
      throw new RangeError(
        `Option codeLifetimeMs must be a finite number >= 0, got ${codeLifetimeMs}`,
      );
    }
    this.clock = clock;
    this.#expiresIn = expiresIn;
    this.#tokenLifetimeMs = expiresIn <= 120 ? expiresIn * 60_000 : expiresIn * 1_000;
    this.#codeLifetimeMs = codeLifetimeMs;
    for (const user of users) {
      if (this.#users.has(user.username)) {
        throw new TypeError(`Duplicate mock user "${user.username}": give each user its own name`);
      }
      this.#users.set(user.username, userState(user));
    }
    this.app = this.#createApp();
  }

  /**
   * Every access token the mock issued, from `/auth/token` and `/auth/token/reissue`, in
   * order.
   *
   * @returns The issued tokens, oldest first
   *
   * @example The token a client holds is the last one issued
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * assert.deepEqual(mock.issuedTokens, []);
   * ```
   */
  get issuedTokens(): readonly string[] {
    return this.#issued;
  }

  /**
   * Counts the requests received on a path, whatever their method or answer.
   *
   * @param path The exact URL path, e.g. `"/auth/token/reissue"`
   * @returns How many requests arrived on `path`
   *
   * @example Count calls to `/me`
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * await mock.app.request("/me");
   * assert.equal(mock.count("/me"), 1);
   * assert.equal(mock.count("/accounts"), 0);
   * ```
   */
  count(path: string): number {
    return this.#counts.get(path) ?? 0;
  }

  /**
   * Queues a fault. Faults apply in the order they were queued: each request takes the
   * first queued fault whose `path` matches it.
   *
   * @param fault What to answer (or how long to wait), how often, and on which path
   * @throws {RangeError} If `status`, `times` or `delayMs` is out of range
   * @throws {TypeError} If a body is given with a status that cannot have one (204, 205, 304)
   *
   * @example Two failures, then normal answers
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * mock.inject({ status: 502, times: 2 });
   * assert.equal((await mock.app.request("/me")).status, 502);
   * assert.equal((await mock.app.request("/me")).status, 502);
   * assert.equal((await mock.app.request("/me")).status, 401);
   * ```
   */
  inject(fault: MockFault): void {
    const { status, body, times = 1, delayMs } = fault;
    if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
      throw new RangeError(`Fault status must be an integer from 200 to 599, got ${status}`);
    }
    if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) {
      throw new RangeError(`Fault times must be an integer >= 1 or Infinity, got ${times}`);
    }
    if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
      throw new RangeError(`Fault delayMs must be a finite number >= 0, got ${delayMs}`);
    }
    if (NULL_BODY_STATUSES.has(status ?? 500) && body !== undefined && body !== null) {
      throw new TypeError(`Fault status ${status} cannot have a body: drop the body`);
    }
    const copy = { ...fault, headers: fault.headers && { ...fault.headers } };
    this.#faults.push({ fault: copy, remaining: times });
  }

  /**
   * Drops every queued fault.
   *
   * @example Undo an injected fault
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * mock.inject({ status: 500, times: Infinity });
   * mock.clearFaults();
   * assert.equal((await mock.app.request("/me")).status, 401);
   * ```
   */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /**
   * Revokes one access token: later calls with it get 401. Unknown tokens are ignored.
   *
   * @param token The access token to revoke
   *
   * @example Revoke a token the test does not hold
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * mock.revokeToken("0".repeat(32));
   * assert.equal(mock.isTokenValid("0".repeat(32)), false);
   * ```
   */
  revokeToken(token: string): void {
    const state = this.#tokens.get(token);
    if (state !== undefined) state.revoked = true;
  }

  /**
   * Revokes every access token issued so far, as if the server had dropped all sessions.
   *
   * @example End all sessions
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * mock.revokeAll();
   * assert.ok(mock.issuedTokens.every((token) => !mock.isTokenValid(token)));
   * ```
   */
  revokeAll(): void {
    for (const state of this.#tokens.values()) state.revoked = true;
  }

  /**
   * Tells whether a token was issued by this mock, is not revoked and has not expired at
   * the clock's current time. A token expires at the instant its lifetime ends.
   *
   * @param token The access token to check
   * @returns `true` if calls with this token would be accepted now
   *
   * @example A token nobody issued is not valid
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * assert.equal(createMockArmorApi().isTokenValid("a".repeat(32)), false);
   * ```
   */
  isTokenValid(token: string): boolean {
    return this.#liveToken(token) !== undefined;
  }

  /**
   * Ends the real-time waits (fault delays and multi-factor waits) of every request
   * received so far, at once, including those that have not started waiting yet: they are
   * answered 503, or 499 if their client already went away. Later requests wait as usual.
   * {@linkcode serveMockArmorApi}'s `close()` calls it so that shutting down never waits
   * for a long delay.
   *
   * @example Release a request held by a long delay
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * mock.inject({ delayMs: 60_000 });
   * const pending = mock.app.request("/me");
   * mock.abortPending();
   * assert.equal((await pending).status, 503);
   * ```
   */
  abortPending(): void {
    this.#pending.abort();
    this.#pending = new AbortController();
  }

  /**
   * Forgets every request, code, token and fault, as if the mock were new. Users, clock
   * and lifetimes stay.
   *
   * @example Start a test from a clean slate
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * const mock = createMockArmorApi();
   * await mock.app.request("/me");
   * mock.reset();
   * assert.equal(mock.requests.length, 0);
   * assert.equal(mock.count("/me"), 0);
   * ```
   */
  reset(): void {
    this.requests.length = 0;
    this.#counts.clear();
    this.#codes.clear();
    this.#tokens.clear();
    this.#issued.length = 0;
    this.#faults.length = 0;
  }

  #liveToken(token: string): TokenState | undefined {
    const state = this.#tokens.get(token);
    if (state === undefined || state.revoked || this.clock.now() >= state.expiresAt) {
      return undefined;
    }
    return state;
  }

  #issueToken(user: UserState): string {
    const token = toHex(randomBytes(16));
    this.#tokens.set(token, {
      user,
      expiresAt: this.clock.now() + this.#tokenLifetimeMs,
      revoked: false,
    });
    this.#issued.push(token);
    return token;
  }

  #takeFault(path: string): MockFault | undefined {
    const index = this.#faults.findIndex(({ fault }) =>
      fault.path === undefined || fault.path === path
    );
    if (index === -1) return undefined;
    const queued = this.#faults[index];
    if (--queued.remaining <= 0) this.#faults.splice(index, 1);
    return queued.fault;
  }

  /** Waits in real time; `undefined` if the whole time passed, else the answer to give. */
  async #wait(c: Context, ms: number): Promise<Response | undefined> {
    const client = c.req.raw.signal;
    const stop = this.#requestStates.get(c.req.raw)?.stop ?? this.#pending.signal;
    if (await wait(ms, [client, stop])) return undefined;
    // 499 (nginx's "client closed request") is not in Hono's status union: build it by hand.
    if (client.aborted) return jsonResponse({ Message: "Client closed the request" }, 499);
    return jsonResponse(
      { Message: "The mock Armor API stopped waiting: it is shutting down" },
      503,
    );
  }

  /** Reads the logged body as a JSON object, or returns the 415/400 answer. */
  #jsonObject(c: Context): Record<string, unknown> | Response {
    const type = c.req.header("content-type");
    if (type === undefined || type.split(";", 1)[0].trim().toLowerCase() !== "application/json") {
      return c.json({ Message: "Content-Type must be application/json" }, 415);
    }
    const body = this.#requestStates.get(c.req.raw)?.record.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return c.json({ Message: "The request body must be a JSON object" }, 400);
    }
    return body as Record<string, unknown>;
  }

  /** Finds the user behind `Authorization: FH-AUTH <token>`, or returns the 401/403 answer. */
  #authenticate(c: Context): UserState | Response {
    const header = c.req.header("authorization");
    const match = header === undefined ? null : /^FH-AUTH +(\S+)\s*$/i.exec(header);
    const state = match === null ? undefined : this.#liveToken(match[1]);
    if (state === undefined) {
      return c.json({ Message: DENIED }, 401, { "www-authenticate": "FH-AUTH" });
    }
    const context = c.req.header("x-account-context");
    if (context !== undefined && !state.user.accountIds.has(context.trim())) {
      return c.json({ Message: `Account ${context} is not available to this user` }, 403);
    }
    return state.user;
  }

  #createApp(): Hono {
    const app = new Hono();

    app.use(async (c, next) => {
      const raw = c.req.raw;
      const path = c.req.path;
      const record: MockRequestRecord = {
        method: raw.method,
        path,
        headers: Object.fromEntries(raw.headers),
        body: undefined,
        time: this.clock.now(),
        status: 0,
      };
      this.requests.push(record);
      this.#requestStates.set(raw, { record, stop: this.#pending.signal });
      this.#counts.set(path, (this.#counts.get(path) ?? 0) + 1);
      if (raw.body !== null) {
        try {
          record.body = parseBody(await raw.text());
        } catch {
          record.status = 400;
          return c.json({ Message: "The request body could not be read" }, 400);
        }
      }
      await next();
      record.status = c.res.status;
    });

    app.use(async (c, next) => {
      const fault = this.#takeFault(c.req.path);
      if (fault === undefined) return await next();
      if (fault.delayMs) {
        const stopped = await this.#wait(c, fault.delayMs);
        if (stopped !== undefined) return stopped;
      }
      if (fault.status === undefined && fault.body === undefined && fault.headers === undefined) {
        return await next();
      }
      return faultResponse(fault);
    });

    app.post("/auth/authorize", async (c) => {
      const body = this.#jsonObject(c);
      if (body instanceof Response) return body;
      const { username, password } = body;
      if (typeof username !== "string" || typeof password !== "string") {
        return c.json({ Message: "The username and password must be strings" }, 400);
      }
      const user = this.#users.get(username);
      if (user === undefined || user.password !== password) {
        return c.json({ Message: "Invalid username or password" }, 401);
      }
      if (user.mfaDelayMs > 0) {
        const stopped = await this.#wait(c, user.mfaDelayMs);
        if (stopped !== undefined) return stopped;
      }
      const code = toBase64(randomBytes(32));
      this.#codes.set(code, { user, expiresAt: this.clock.now() + this.#codeLifetimeMs });
      return c.json({ redirect_uri: null, code, success: true });
    });

    app.post("/auth/token", (c) => {
      const body = this.#jsonObject(c);
      if (body instanceof Response) return body;
      const keys = Object.keys(body);
      if (
        keys.length !== 2 || typeof body.code !== "string" || typeof body.grant_type !== "string"
      ) {
        return c.json({
          error: "invalid_request",
          error_description: "The body must be exactly {code, grant_type}, both strings",
        }, 400);
      }
      if (body.grant_type !== "authorization_code") {
        return c.json({
          error: "unsupported_grant_type",
          error_description: "The grant_type must be authorization_code",
        }, 400);
      }
      const entry = this.#codes.get(body.code);
      if (entry !== undefined) this.#codes.delete(body.code);
      if (entry === undefined || this.clock.now() > entry.expiresAt) {
        return c.json({
          error: "invalid_grant",
          error_description: "The code is unknown, already used or expired",
        }, 400);
      }
      return c.json({
        access_token: this.#issueToken(entry.user),
        id_token: toBase64(randomBytes(48)),
        expires_in: this.#expiresIn,
        token_type: "Bearer",
      });
    });

    app.post("/auth/token/reissue", (c) => {
      const body = this.#jsonObject(c);
      if (body instanceof Response) return body;
      if (typeof body.token !== "string") {
        return c.json({ Message: "The token must be a string" }, 400);
      }
      const state = this.#liveToken(body.token);
      if (state === undefined) return c.json({ Message: DENIED }, 401);
      return c.json({
        access_token: this.#issueToken(state.user),
        id_token: null,
        expires_in: this.#expiresIn,
        token_type: "Bearer",
      });
    });

    app.get("/me", (c) => {
      const user = this.#authenticate(c);
      return user instanceof Response ? user : c.json(user.me);
    });

    app.get("/accounts", (c) => {
      const user = this.#authenticate(c);
      return user instanceof Response ? user : c.json(user.accounts);
    });

    const allowed: Record<string, string> = {
      "/auth/authorize": "POST",
      "/auth/token": "POST",
      "/auth/token/reissue": "POST",
      "/me": "GET, HEAD",
      "/accounts": "GET, HEAD",
    };
    for (const [path, allow] of Object.entries(allowed)) {
      app.all(path, (c) => c.json({ Message: `Use ${allow} on ${path}` }, 405, { allow }));
    }

    app.notFound((c) => c.json({ Message: `No route for ${c.req.method} ${c.req.path}` }, 404));
    app.onError((error, c) =>
      c.json({ Message: `The mock Armor API failed: ${(error as Error).message}` }, 500)
    );
    return app;
  }
}

/**
 * Makes a mock Armor API: the same as `new MockArmorApi(options)`.
 *
 * @param options The users, clock and lifetimes; all optional
 * @returns A new mock with its own state
 * @throws {TypeError} If two users share a username
 * @throws {RangeError} If `expiresIn` or `codeLifetimeMs` is not a usable number
 *
 * @example A mock whose codes and tokens expire by a clock the test moves
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, MockClock } from "@armor-api/auth/testing";
 *
 * const clock = new MockClock(0);
 * const mock = createMockArmorApi({ clock });
 * const res = await mock.app.request("/auth/authorize", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ username: "demo@example.com", password: "demo-password" }),
 * });
 * const { code } = await res.json();
 * clock.advance(120_001); // the code is now too old to redeem
 * const token = await mock.app.request("/auth/token", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ code, grant_type: "authorization_code" }),
 * });
 * assert.equal(token.status, 400);
 * ```
 */
export function createMockArmorApi(options?: MockArmorApiOptions): MockArmorApi {
  return new MockArmorApi(options);
}

function userState(user: MockUser): UserState {
  const accounts = (user.accounts ?? []).map((account): AccountJson => ({
    ID: account.id,
    Name: account.name,
    Currency: account.currency ?? "USD",
    Status: account.status ?? "Claimed",
    Parent: account.parent ?? -1,
  }));
  return {
    username: user.username,
    password: user.password,
    mfaDelayMs: user.mfaDelayMs ?? 0,
    accountIds: new Set(accounts.map((account) => String(account.ID))),
    accounts,
    me: {
      UserName: user.username,
      FirstName: user.firstName ?? "",
      LastName: user.lastName ?? "",
      Accounts: accounts,
      Departments: [],
      Permissions: [],
      Features: [],
    },
  };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function jsonResponse(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function faultResponse(fault: MockFault): Response {
  const status = fault.status ?? 500;
  const headers = new Headers();
  let body: BodyInit | null;
  if (fault.body === undefined) {
    body = NULL_BODY_STATUSES.has(status)
      ? null
      : JSON.stringify({ Message: `Injected fault (HTTP ${status})` });
    if (body !== null) headers.set("content-type", "application/json");
  } else if (fault.body === null) {
    body = null;
  } else if (typeof fault.body === "string") {
    body = fault.body;
  } else if (fault.body instanceof Uint8Array) {
    body = fault.body.slice();
  } else {
    body = JSON.stringify(fault.body);
    headers.set("content-type", "application/json");
  }
  for (const [name, value] of Object.entries(fault.headers ?? {})) headers.set(name, value);
  return new Response(body, { status, headers });
}
