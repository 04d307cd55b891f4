/**
 * A mock of the Armor API for tests: the login flow (`/auth/authorize`, `/auth/token`,
 * `/auth/token/reissue`), `/me` and `/accounts`, with a clock the test controls, a log
 * of every request and injectable faults. Call it in-process through its Hono app, or
 * serve it on a loopback port with {@linkcode serveMockArmorApi}.
 *
 * The mock serves the shapes Armor's public sources document, never shapes made to suit
 * a client, in one of two dialects ({@linkcode MockDialect}): `"openapi"` (the default),
 * as Armor's OpenAPI contracts describe it (camelCase `/me` with the user as an object,
 * `expires_in: 900` seconds, `token_type: "FH-AUTH"`, `{"error", "error_description",
 * "status"}` errors), and `"powershell"`, the shapes of the ArmorPowerShell module's
 * hand-written test fixtures (PascalCase `/me` with the user inside an array,
 * `expires_in: 15` minutes, `token_type: "Bearer"`, ASP.NET `{"Message"}` errors).
 *
 * With `apiKeys` it also checks requests signed with an API key
 * (`Authorization: ARMOR-PSK <key id>:<signature>:<nonce>:<timestamp>`, see
 * {@linkcode MockApiKey}) as Armor documents them.
 *
 * What a test can set and see (all options of {@linkcode createMockArmorApi} and
 * {@linkcode serveMockArmorApi}):
 * - `users`: who may log in ({@linkcode MockUser}: name, password, accounts, departments,
 *   permissions, features, a multi-factor wait); default {@linkcode DEFAULT_MOCK_USER},
 *   `demo@example.com` / `demo-password` with accounts 1001 and 1002.
 * - `apiKeys`: the API keys it accepts, `{ id, secret, username?, bodySigning? }`.
 * - `clock`: a {@linkcode MockClock} that decides code, token and signature times; hand
 *   `clock.now` to the session's `now` too, and move both with `clock.advance(ms)`.
 * - `dialect`, `expiresIn`, `codeLifetimeMs`, `maxFailedLogins`, `lockoutMs`,
 *   `revokeOnReissue`; for the server, `port` (default a free one) and `hostname`
 *   (default `127.0.0.1`).
 * - `mock.inject(fault)` queues failures and delays ({@linkcode MockFault});
 *   `mock.requests` logs every request with the status it got; `mock.count(path)`,
 *   `mock.issuedTokens`, `mock.revokeToken()`, `mock.revokeAll()`, `mock.reset()`.
 * - On the session side, `random: () => 0` makes it renew exactly when a third of the
 *   token's life has passed (no jitter), and `await session.idle()` waits for a renewal
 *   running in the background.
 *
 * From the command line, `deno run --allow-net=127.0.0.1 jsr:@armor-api/auth/testing
 * --port 8080 --api-key <id>:<secret>` serves it until Ctrl-C (`--help` for the rest).
 *
 * @example Test your code against the served mock, on its clock
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArmorSession } from "@armor-api/auth";
 * import { MockClock, serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * const clock = new MockClock(Date.UTC(2026, 0, 1));
 * await using served = await serveMockArmorApi({ clock });
 * const session = await ArmorSession.connect({
 *   baseUrl: served.baseUrl,
 *   username: "demo@example.com",
 *   password: "demo-password",
 *   now: clock.now, // the session sees the mock's time
 *   random: () => 0, // renew exactly a third of the way through, no jitter
 * });
 * const res = await session.fetch("/accounts");
 * assert.equal(res.status, 200);
 * assert.deepEqual((await res.json()).map((a: { id: number }) => a.id), [1001, 1002]);
 *
 * // Five of the token's fifteen minutes later, the next call renews it in the background.
 * clock.advance(5 * 60_000);
 * await (await session.fetch("/me")).body?.cancel();
 * await session.idle(); // wait for the renewal to finish
 * assert.equal(served.mock.count("/auth/token/reissue"), 1);
 * assert.deepEqual(
 *   served.mock.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
 *   [
 *     "POST /auth/authorize 200",
 *     "POST /auth/token 200",
 *     "GET /me 200",
 *     "GET /accounts 200",
 *     "GET /me 200",
 *     "POST /auth/token/reissue 200",
 *   ],
 * );
 * await session.disconnect();
 * ```
 *
 * @example Your own users and accounts
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArmorSession } from "@armor-api/auth";
 * import { serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * await using served = await serveMockArmorApi({
 *   users: [{
 *     username: "partner@example.com",
 *     password: "correct horse",
 *     accounts: [
 *       { id: 5001, name: "Partner", accountType: "Partner" },
 *       { id: 5002, name: "Customer A", parent: 5001, accountType: "Partner Customer" },
 *     ],
 *   }],
 * });
 * const session = await ArmorSession.connect({
 *   baseUrl: served.baseUrl,
 *   username: "partner@example.com",
 *   password: "correct horse",
 *   accountId: 5002,
 * });
 * await (await session.fetch("/me")).body?.cancel();
 * assert.equal(served.mock.requests.at(-1)?.headers["x-account-context"], "5002");
 * await session.disconnect();
 * ```
 *
 * @example An API key the mock knows
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArmorSession } from "@armor-api/auth";
 * import { serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * const apiKey = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "test-secret" };
 * await using served = await serveMockArmorApi({ apiKeys: [apiKey] });
 * const session = await ArmorSession.connect({ baseUrl: served.baseUrl, apiKey });
 * const res = await session.fetch("/me");
 * assert.equal(res.status, 200);
 * assert.equal((await res.json()).user.username, "demo@example.com");
 * assert.match(served.mock.requests.at(-1)!.headers.authorization, /^ARMOR-PSK /);
 * ```
 *
 * @example Failures and delays with inject
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArmorApiError, ArmorSession } from "@armor-api/auth";
 * import { serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * await using served = await serveMockArmorApi();
 * // The next login's password step fails once with a 503 and a Retry-After.
 * served.mock.inject({ path: "/auth/authorize", status: 503, headers: { "Retry-After": "1" } });
 * const login = { baseUrl: served.baseUrl, username: "demo@example.com", password: "demo-password" };
 * await assert.rejects(ArmorSession.connect(login), ArmorApiError);
 * // Every /accounts answer now waits 50 ms (real time).
 * served.mock.inject({ path: "/accounts", delayMs: 50, times: Infinity });
 * const session = await ArmorSession.connect(login);
 * await (await session.fetch("/accounts")).body?.cancel();
 * assert.deepEqual(served.mock.requests.map((r) => r.status), [503, 200, 200, 200, 200]);
 * await session.disconnect();
 * ```
 *
 * @example Log in against the in-process mock
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMockArmorApi, MockClock } from "@armor-api/auth/testing";
 *
 * const clock = new MockClock(0);
 * const mock = createMockArmorApi({ clock });
 * const post = (path: string, body: unknown) =>
 *   mock.app.request(path, {
 *     method: "POST",
 *     headers: { "Content-Type": "application/json" },
 *     body: JSON.stringify(body),
 *   });
 *
 * const authorize = await post("/auth/authorize", {
 *   username: "demo@example.com",
 *   password: "demo-password",
 * });
 * const { code } = await authorize.json();
 * const token = await post("/auth/token", { code, grant_type: "authorization_code" });
 * const { access_token, expires_in } = await token.json();
 * assert.equal(expires_in, 900); // seconds, as the OpenAPI contract says
 * assert.ok(mock.isTokenValid(access_token));
 *
 * clock.advance(900_000);
 * assert.ok(!mock.isTokenValid(access_token));
 * ```
 *
 * @module
 */

export * from "./mock_clock.ts";
export * from "./mock_armor_api.ts";
export * from "./serve_mock_armor_api.ts";

// `deno run --allow-net=127.0.0.1 jsr:@armor-api/auth/testing --port 8080 --api-key <id>:<secret>`
// serves the mock until Ctrl-C (see _cli.ts); importing this module does nothing of the kind.
if (import.meta.main) {
  const { main } = await import("./_cli.ts");
  const code = await main(Deno.args);
  if (code !== 0) Deno.exit(code);
}
