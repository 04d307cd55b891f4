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
