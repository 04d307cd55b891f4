import type { MockClock } from "./mock_clock.ts";
import type {
  MockAccount,
  MockArmorApiApp,
  MockArmorApiOptions,
  MockDialect,
  MockFault,
  MockRequestRecord,
  MockUser,
} from "./_types.ts";
import { createApp } from "./_routes.ts";
import { MockState } from "./_state.ts";

export type {
  MockAccount,
  MockApiKey,
  MockArmorApiApp,
  MockArmorApiOptions,
  MockDepartment,
  MockDialect,
  MockFault,
  MockFeature,
  MockRequestRecord,
  MockUser,
} from "./_types.ts";

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

/**
 * An in-memory stand-in for the Armor API's login flow, `/me` and `/accounts`, serving
 * the shapes Armor documents in one of two {@linkcode MockDialect}s.
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
 *   headers: { Authorization: `FH-AUTH ${access_token}`, "X-Account-Context": "1001" },
 * });
 * const body = await me.json();
 * assert.equal(body.user.username, "demo@example.com");
 * assert.equal(body.accounts[0].id, 1001);
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
   * The documented shapes this mock serves.
   *
   * @example The default is the OpenAPI dialect
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * assert.equal(createMockArmorApi().dialect, "openapi");
   * assert.equal(createMockArmorApi({ dialect: "powershell" }).dialect, "powershell");
   * ```
   */
  readonly dialect: MockDialect;

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
  readonly requests: MockRequestRecord[];

  #state: MockState;

  /**
   * Makes a mock with the given dialect, users, clock and lifetimes.
   *
   * @param options The dialect, users, clock and lifetimes; all optional
   * @throws {TypeError} If two users share a username, the dialect is unknown, or an API
   * key is malformed, repeated or names an unknown user
   * @throws {RangeError} If `expiresIn`, `codeLifetimeMs`, `maxFailedLogins` or
   * `lockoutMs` is not a usable number
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
    this.#state = new MockState(options, [DEFAULT_MOCK_USER]);
    this.clock = this.#state.clock;
    this.dialect = this.#state.settings.dialect;
    this.requests = this.#state.requests;
    this.app = createApp(this.#state);
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
    return this.#state.issued;
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
    return this.#state.counts.get(path) ?? 0;
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
    this.#state.faults.add(fault);
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
    this.#state.faults.clear();
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
    const state = this.#state.tokens.get(token);
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
    for (const state of this.#state.tokens.values()) state.revoked = true;
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
    return this.#state.liveToken(token) !== undefined;
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
    this.#state.abortPending();
  }

  /**
   * Forgets every request, code, token, failed login and fault, as if the mock were new.
   * Users, clock, dialect and lifetimes stay.
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
    this.#state.reset();
  }
}

/**
 * Makes a mock Armor API: the same as `new MockArmorApi(options)`.
 *
 * @param options The dialect, users, clock and lifetimes; all optional
 * @returns A new mock with its own state
 * @throws {TypeError} If two users share a username, the dialect is unknown, or an API
 * key is malformed, repeated or names an unknown user
 * @throws {RangeError} If `expiresIn`, `codeLifetimeMs`, `maxFailedLogins` or
 * `lockoutMs` is not a usable number
 *
 * @example A mock whose codes and tokens expire by a clock the test moves
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, MockClock } from "@armor-api/auth/testing";
 *
 * const clock = new MockClock(0);
 * const mock = createMockArmorApi({ clock, dialect: "openapi" });
 * const res = await mock.app.request("/auth/authorize", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ username: "demo@example.com", password: "demo-password" }),
 * });
 * const { code, expiresIn } = await res.json();
 * assert.equal(expiresIn, 120);
 * clock.advance(120_001); // the code is now too old to redeem
 * const token = await mock.app.request("/auth/token", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ code, grant_type: "authorization_code" }),
 * });
 * assert.equal(token.status, 400);
 * assert.equal((await token.json()).error, "invalid_grant");
 * ```
 */
export function createMockArmorApi(options?: MockArmorApiOptions): MockArmorApi {
  return new MockArmorApi(options);
}
