import type { MockClock } from "./mock_clock.ts";
import { createApp } from "./_routes.ts";
import { MockState } from "./_state.ts";

/**
 * Which documented form of the Armor API a mock serves.
 *
 * - `"powershell"` (the default): the shapes the ArmorPowerShell module captured from the
 *   live API. `GET /me` is PascalCase with the user inside an array
 *   (`{"User": [{"UserName", ...}], "Accounts": [{"ID", ..., "Parent": -1}],
 *   "Departments", "Permissions": [{"<account id>": "1 7 8"}], "Features"}`); the token
 *   calls send `expires_in: 15` (minutes) and `token_type: "Bearer"`; authorize answers
 *   `{"redirect_uri": null, "code", "success": true}`; errors are ASP.NET's
 *   `{"Message"}`, and a refused login is `{"errorCode": "access_denied", "badLogonCount"}`.
 * - `"openapi"`: the shapes of Armor's OpenAPI contracts. `GET /me` is camelCase with the
 *   user as an object (`{"user": {"username", "links": {"userId"}, "passwordExpiry"},
 *   "accounts": [{"id", ..., "parent": null}], "permissions": {"<account id>": ["1"]},
 *   "features"}`); the token calls send `expires_in: 900` (seconds) and
 *   `token_type: "FH-AUTH"`; authorize answers `{"code", "expiresIn": 120}`; errors are
 *   `{"error", "error_description", "status"}`.
 *
 * `GET /accounts` is the same in both: an array of `{"id", "name", "currency"` (padded
 * with spaces to 10 characters)`, "status", "parent"` (-1 for a root)`, "products",
 * "accountType", "isSynced", "isFreeTrial"}`.
 *
 * @example Pick the OpenAPI dialect
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, type MockDialect } from "@armor-api/auth/testing";
 *
 * const dialect: MockDialect = "openapi";
 * const mock = createMockArmorApi({ dialect });
 * const res = await mock.app.request("/me");
 * assert.equal(res.status, 401);
 * assert.equal((await res.json()).error, "invalid_token");
 * ```
 */
export type MockDialect = "powershell" | "openapi";

/**
 * An Armor account a mock user belongs to, as `/me` and `/accounts` list it.
 *
 * @example An account with every field set
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, type MockAccount } from "@armor-api/auth/testing";
 *
 * const account: MockAccount = {
 *   id: 2001,
 *   name: "Acme Production",
 *   currency: "EUR",
 *   status: "Claimed",
 *   parent: null,
 *   products: { "ARMOR-COMPLETE": ["Invoicing"] },
 *   accountType: "Partner",
 *   isSynced: true,
 *   isFreeTrial: false,
 * };
 * const mock = createMockArmorApi({
 *   users: [{ username: "a@example.com", password: "pw", accounts: [account] }],
 * });
 * assert.equal(mock.dialect, "powershell");
 * ```
 */
export interface MockAccount {
  /** The account id: what a client sends in `X-Account-Context`. */
  id: number;
  /** The account's display name. */
  name: string;
  /** The account's billing currency, unpadded; defaults to `"USD"`. */
  currency?: string;
  /** The account's status, e.g. `"Claimed"`, `"Cancelled"`, `"Pending"`; defaults to `"Claimed"`. */
  status?: string;
  /**
   * The parent account's id; `null`, `-1` or leaving it out makes a root account, which
   * the PowerShell dialect and `/accounts` show as `-1` and the OpenAPI `/me` as `null`.
   */
  parent?: number | null;
  /**
   * The account's products, each with its feature names, as `/accounts` lists them;
   * defaults to `{"AA-CORE": ["Monitoring", "Log Monitoring and Management", "Invoicing"]}`.
   */
  products?: Record<string, string[]>;
  /** `"Direct"`, `"Partner"` or `"Partner Customer"`; defaults to `"Direct"`. */
  accountType?: string;
  /** Whether the account is synced with external systems; defaults to `false`. */
  isSynced?: boolean;
  /** Whether the account is on a free trial; defaults to `false`. */
  isFreeTrial?: boolean;
}

/**
 * A department of a mock user, as the PowerShell `/me` lists it.
 *
 * @example One department of account 1001
 * ```ts
 * import type { MockDepartment } from "@armor-api/auth/testing";
 *
 * const department: MockDepartment = { id: 1, name: "Operations", account: 1001 };
 * ```
 */
export interface MockDepartment {
  /** The department id. */
  id: number;
  /** The department's name. */
  name: string;
  /** The id of the account the department belongs to. */
  account: number;
}

/**
 * A feature enabled on an account, as `/me` lists it.
 *
 * @example The invoicing feature of a product
 * ```ts
 * import type { MockFeature } from "@armor-api/auth/testing";
 *
 * const feature: MockFeature = {
 *   accountId: 1001,
 *   feature: "AA-CORE.INVOICING",
 *   productId: 1,
 *   featureId: 19,
 * };
 * ```
 */
export interface MockFeature {
  /** The account the feature is enabled on. */
  accountId: number;
  /** The feature's name, e.g. `"AA-CORE"` or `"AA-CORE.INVOICING"`. */
  feature: string;
  /** The product's id. */
  productId: number;
  /** The feature's id within its product (PowerShell dialect only); defaults to 0. */
  featureId?: number;
}

/**
 * A user the mock Armor API accepts at `POST /auth/authorize`.
 *
 * Departments, permissions and features default to one department per account, a short
 * list of permission ids per account and one feature per product and product feature, so
 * that `/me` is never bare.
 *
 * @example A user whose login waits for multi-factor approval
 * ```ts
 * import { createMockArmorApi, type MockUser } from "@armor-api/auth/testing";
 *
 * const user: MockUser = {
 *   username: "ops@example.com",
 *   password: "correct horse",
 *   accounts: [{ id: 3001, name: "Ops" }],
 *   permissions: { "3001": ["1", "7"] },
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
  /** The user id the OpenAPI `/me` reports in `links.userId`; defaults to the user's position + 1. */
  userId?: number;
  /** Seconds until the password expires, sent as a string by the OpenAPI `/me`; defaults to 90 days. */
  passwordExpiry?: number;
  /** The accounts the user can act on; defaults to none. */
  accounts?: MockAccount[];
  /** The user's departments; defaults to one per account. */
  departments?: MockDepartment[];
  /** Permission ids by account id; defaults to the same short list for each account. */
  permissions?: Record<string, string[]>;
  /** The features enabled on the user's accounts; defaults to those of the accounts' products. */
  features?: MockFeature[];
  /**
   * How long `POST /auth/authorize` waits (real time) before answering, as if the user
   * had to approve a multi-factor prompt. The wait ends early if the client disconnects.
   */
  mfaDelayMs?: number;
}

/**
 * An API key the mock accepts in `Authorization: ARMOR-PSK <id>:<signature>:<nonce>:<timestamp>`.
 *
 * The mock checks each signed request as Armor documents: the signature is
 * base64(HMAC-SHA512(key = the UTF-8 bytes of `secret`, message = id + METHOD + path +
 * nonce + timestamp + body part)), where the path has no query and the body part is empty
 * without a body, else base64(SHA-512(body bytes)) (the digest Armor's published samples
 * use); the timestamp (Unix seconds) must be within 5 minutes of the mock clock; the
 * nonce (at most 128 characters, no colon) must not have been used with the key in the
 * last 5 minutes. Failures are answered 401 with the error codes `unknown_key`,
 * `invalid_signature`, `stale_timestamp`, `replayed_nonce`, or `invalid_token` for a
 * malformed header. A key reaches `/me` and `/accounts` (with `X-Account-Context`
 * checked) but gets 403 on the user-key, password and user-security endpoints.
 *
 * @example Call `/me` with a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHmac } from "node:crypto";
 * import { createMockArmorApi, type MockApiKey, MockClock } from "@armor-api/auth/testing";
 *
 * const key: MockApiKey = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "s3cret" };
 * const clock = new MockClock(1_528_140_529_000);
 * const mock = createMockArmorApi({ apiKeys: [key], clock });
 * const nonce = "8jbj872s2h";
 * const timestamp = String(Math.floor(clock.now() / 1000));
 * const signature = createHmac("sha512", key.secret)
 *   .update(key.id + "GET" + "/me" + nonce + timestamp)
 *   .digest("base64");
 * const res = await mock.app.request("/me", {
 *   headers: {
 *     Authorization: `ARMOR-PSK ${key.id}:${signature}:${nonce}:${timestamp}`,
 *     "X-Account-Context": "1001",
 *   },
 * });
 * assert.equal(res.status, 200);
 * assert.equal((await res.json()).User[0].UserName, "demo@example.com");
 * ```
 */
export interface MockApiKey {
  /** The key id (Armor gives a UUID); no colon or space. */
  id: string;
  /** The secret key, used as UTF-8 text, never base64-decoded. */
  secret: string;
  /** The user the key acts for; defaults to the first of the mock's users. */
  username?: string;
}

/**
 * A failure or delay the mock serves instead of, or before, its normal answer.
 *
 * A fault that sets `status`, `body` or `headers` answers the request itself: with
 * `status` (default 500), `headers`, and `body`. A string or `Uint8Array` body is sent as
 * it is (a string as `text/plain` unless `headers` names a content type), `null` sends
 * no body, any other value is sent as JSON; without a `body` the mock sends its
 * dialect's error body, e.g. `{"Message": "Injected fault (HTTP <status>)"}`. A fault
 * with only `delayMs` lets the real route answer after the delay.
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
  /** Which documented shapes to serve; defaults to `"powershell"` (see {@linkcode MockDialect}). */
  dialect?: MockDialect;
  /** The users the mock accepts; defaults to {@linkcode DEFAULT_MOCK_USER} only. */
  users?: MockUser[];
  /** The clock that decides code and token expiry; defaults to a new {@linkcode MockClock}. */
  clock?: MockClock;
  /**
   * The `expires_in` value the token calls send; defaults to 15 in the PowerShell dialect
   * and 900 in the OpenAPI one. The mock reads it as minutes when it is at most 120, else
   * as seconds, as a robust client should.
   */
  expiresIn?: number;
  /** How long an authorization code can be redeemed, by the mock clock; defaults to 120 000 ms. */
  codeLifetimeMs?: number;
  /**
   * How many failed logins in a row for one user name are answered 401 before authorize
   * answers 429 (with `Retry-After`) to every login for that name; defaults to 5.
   * A successful login resets the count; `Infinity` never locks.
   */
  maxFailedLogins?: number;
  /** How long (by the mock clock) a locked user name gets 429; defaults to 60 000 ms. */
  lockoutMs?: number;
  /**
   * Whether a reissue revokes the token it replaced, as a real server may; defaults to
   * `false` (the old token lives on until it expires).
   */
  revokeOnReissue?: boolean;
  /** The API keys the mock accepts in `ARMOR-PSK` headers; defaults to none. */
  apiKeys?: MockApiKey[];
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
 * assert.equal(body.User[0].UserName, "demo@example.com");
 * assert.equal(body.Accounts[0].ID, 1001);
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
   * @example The default is the PowerShell dialect
   * ```ts
   * import assert from "node:assert/strict";
   * import { createMockArmorApi } from "@armor-api/auth/testing";
   *
   * assert.equal(createMockArmorApi().dialect, "powershell");
   * assert.equal(createMockArmorApi({ dialect: "openapi" }).dialect, "openapi");
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
