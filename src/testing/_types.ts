// The mock's public types, in a file of their own so that the mock's internal files and
// its documented face (mock_armor_api.ts, which re-exports them) import them one way.
import type { MockClock } from "./mock_clock.ts";

/**
 * Which documented form of the Armor API a mock serves.
 *
 * - `"openapi"` (the default): the shapes of Armor's OpenAPI contracts, the better
 *   evidenced form (the real clients that read `/me` read it this way). `GET /me` is
 *   camelCase with the user as an object (`{"user": {"username", "links": {"userId"},
 *   "passwordExpiry"}, "accounts": [{"id", ..., "parent": null}], "permissions":
 *   {"<account id>": ["1"]}, "features"}`); the token calls send `expires_in: 900`
 *   (seconds) and `token_type: "FH-AUTH"`; authorize answers `{"code", "expiresIn": 120}`;
 *   errors are `{"error", "error_description", "status"}`, and a 500 from `/auth/token`
 *   has the shape seen from Armor, `{"ErrorCode", "Message", "Detail", "ReferenceId"}`.
 * - `"powershell"`: the shapes of the ArmorPowerShell module's test fixtures, several of
 *   which its authors wrote by hand from the module's PowerShell classes rather than
 *   captured from the live API; use it to check that a client also copes with them.
 *   `GET /me` is PascalCase with the user inside an array (`{"User": [{"UserName", ...}],
 *   "Accounts": [{"ID", ..., "Parent": -1}], "Departments", "Permissions":
 *   [{"<account id>": "1 7 8"}], "Features"}`); the token calls send `expires_in: 15`
 *   (minutes) and `token_type: "Bearer"`; authorize answers `{"redirect_uri": null,
 *   "code", "success": true}`; errors are ASP.NET's `{"Message"}`, and a refused login is
 *   `{"errorCode": "access_denied", "badLogonCount"}`.
 *
 * `GET /accounts` is the same in both: an array of `{"id", "name", "currency"` (padded
 * with spaces to 10 characters)`, "status", "parent"` (-1 for a root)`, "products",
 * "accountType", "isSynced", "isFreeTrial"}`.
 *
 * @example Pick the PowerShell fixtures' dialect
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, type MockDialect } from "@armor-api/auth/testing";
 *
 * const dialect: MockDialect = "powershell";
 * const mock = createMockArmorApi({ dialect });
 * const res = await mock.app.request("/me");
 * assert.equal(res.status, 401);
 * assert.equal((await res.json()).Message, "Authorization has been denied for this request.");
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
 * assert.equal(mock.dialect, "openapi");
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
   * had to approve a multi-factor prompt. The wait ends early if the client disconnects
   * (noticed in-process and on Node and Bun; under `Deno.serve`, when the server closes).
   */
  mfaDelayMs?: number;
}

/**
 * An API key the mock accepts in `Authorization: ARMOR-PSK <id>:<signature>:<nonce>:<timestamp>`.
 *
 * The mock checks each signed request as Armor's OpenAPI ARMOR-PSK contract documents:
 * the signature is base64(HMAC-SHA512(key = the UTF-8 bytes of `secret`, message = id +
 * METHOD + path + nonce + timestamp + body part)), where the path is the URL path as sent
 * (percent-encoding kept, no query) and the body part is empty without a body, else set
 * by the key's {@linkcode MockApiKey.bodySigning}: the raw body bytes (`"raw"`, the
 * default) or base64(SHA-512(body bytes)) (`"sha512"`). The timestamp (Unix seconds) must
 * be within 5 minutes of the mock clock, either way; the nonce (1 to 128 characters, no
 * colon or space: a UUID with or without dashes, 10 random letters and digits...) must
 * not have been used with the key while a header carrying it could still be accepted,
 * that is until 5 minutes past the later of its timestamp and its first use. Failures are
 * answered 401 with the error codes `unknown_key`, `invalid_signature`, `stale_timestamp`,
 * `replayed_nonce`, or `invalid_token` for a malformed header. A key reaches `/me` and
 * `/accounts` (with `X-Account-Context` checked) but gets 403 on the user-key, password
 * and user-security endpoints.
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
 * assert.equal((await res.json()).user.username, "demo@example.com");
 * ```
 *
 * @example A key whose bodies are signed by their SHA-512 digest
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHash, createHmac } from "node:crypto";
 * import { createMockArmorApi, MockClock } from "@armor-api/auth/testing";
 *
 * const key = { id: "ci-key", secret: "s3cret", bodySigning: "sha512" as const };
 * const clock = new MockClock(1_528_140_529_000);
 * const mock = createMockArmorApi({ apiKeys: [key], clock });
 * const body = JSON.stringify({ name: "ci" });
 * const digest = createHash("sha512").update(body).digest("base64");
 * const timestamp = String(Math.floor(clock.now() / 1000));
 * const signature = createHmac("sha512", key.secret)
 *   .update(key.id + "POST" + "/users/1/keys" + "n0nce" + timestamp + digest)
 *   .digest("base64");
 * const res = await mock.app.request("/users/1/keys", {
 *   method: "POST",
 *   headers: { Authorization: `ARMOR-PSK ${key.id}:${signature}:n0nce:${timestamp}` },
 *   body,
 * });
 * assert.equal(res.status, 403); // signed right, but keys cannot manage user keys
 * ```
 */
export interface MockApiKey {
  /** The key id (Armor gives a UUID); no colon or space. */
  id: string;
  /** The secret key, used as UTF-8 text, never base64-decoded. */
  secret: string;
  /** The user the key acts for; defaults to the first of the mock's users. */
  username?: string;
  /**
   * How the key's signatures cover a request body: `"raw"` (the default), the body bytes
   * as sent, per Armor's OpenAPI ARMOR-PSK contract and knowledge base; `"sha512"`,
   * base64(SHA-512(body bytes)) in their place, as a community Go client signs. A request
   * without a body signs an empty body part either way.
   */
  bodySigning?: "raw" | "sha512";
}

/**
 * A failure or delay the mock serves instead of, or before, its normal answer.
 *
 * A fault that sets `status`, `body` or `headers` answers the request itself: with
 * `status` (default 500), `headers`, and `body`. A string or `Uint8Array` body is sent as
 * it is (a string as `text/plain` unless `headers` names a content type), `null` sends
 * no body, any other value is sent as JSON; without a `body` the mock sends its
 * dialect's error body, e.g. `{"error": "injected_fault", "error_description":
 * "Injected fault (HTTP <status>)", "status"}` or `{"Message": "Injected fault (HTTP
 * <status>)"}`, except that in the OpenAPI dialect a 500 from `/auth/token` has the shape
 * Armor's server was seen to send, with a fresh reference id: `{"ErrorCode", "Message",
 * "Detail", "ReferenceId"}`. A fault with only `delayMs` lets the real route answer after
 * the delay.
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
   * the client can see, if the client disconnects (noticed in-process and on Node and Bun;
   * under `Deno.serve`, only when the server closes).
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
   * was seen to go away during a delay, 503 if the wait was ended by `abortPending()` or
   * the server's `close()`.
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
  /** Which documented shapes to serve; defaults to `"openapi"` (see {@linkcode MockDialect}). */
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
