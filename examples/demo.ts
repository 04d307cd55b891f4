/**
 * The whole Armor API login flow, step by step: authorize → token → /me → reissue → /me.
 *
 * With no `ARMOR_USERNAME`/`ARMOR_PASSWORD` in the environment (or in `.env`), it starts
 * the mock Armor API on a loopback port and runs against it. With credentials, it runs
 * against `ARMOR_BASE_URL` (default: the real API, https://api.armor.com).
 *
 *     deno task demo
 *
 * Tokens are shown shortened; the password is never shown.
 *
 * @module
 */

import { ArmorApiError, type ArmorLogRecord, ArmorSession, updateArmorApiToken } from "../mod.ts";
import { type ServedMockArmorApi, serveMockArmorApi } from "../src/testing/mod.ts";

/** Shows the first four characters of a secret and its length: never the whole of it. */
function shorten(secret: string): string {
  return `${secret.slice(0, 4)}… (${secret.length} chars)`;
}

function step(record: ArmorLogRecord): void {
  const path = record.url === undefined ? "" : new URL(record.url).pathname;
  if (record.event === "request") console.log(`  → ${record.method} ${path}`);
  if (record.event === "response") console.log(`  ← ${record.status} in ${record.ms} ms`);
  if (record.event === "error") console.log(`  ✗ ${record.code} ${record.status ?? ""}`);
}

const username = Deno.env.get("ARMOR_USERNAME");
const password = Deno.env.get("ARMOR_PASSWORD");
const accountIdText = Deno.env.get("ARMOR_ACCOUNT_ID");
const accountId = accountIdText ? Number(accountIdText) : undefined;
if (accountId !== undefined && !(Number.isSafeInteger(accountId) && accountId > 0)) {
  console.error("ARMOR_ACCOUNT_ID must be a positive whole number, e.g. 1001");
  Deno.exit(2);
}

let mock: ServedMockArmorApi | undefined;
let options: { baseUrl: string; username: string; password: string };
if (username && password) {
  const baseUrl = Deno.env.get("ARMOR_BASE_URL") || "https://api.armor.com";
  console.log(`Credentials found: signing in to ${baseUrl} as ${username}`);
  options = { baseUrl, username, password };
} else {
  mock = await serveMockArmorApi();
  console.log(`No ARMOR_USERNAME/ARMOR_PASSWORD set: using the mock Armor API at ${mock.baseUrl}`);
  options = { baseUrl: mock.baseUrl, username: "demo@example.com", password: "demo-password" };
}

try {
  console.log("\n1-3. Log in: authorize with the credentials, redeem the code, read /me");
  const session = await ArmorSession.connect({
    ...options,
    accountId,
    logger: step,
  });
  console.log(`  token ${shorten(session.token)}, expires ${session.expiresAt.toISOString()}`);
  console.log(`  signed in as ${session.identity?.username}, account ${session.accountId}`);
  console.log(`  session as printed: ${Deno.inspect(session)}`);

  console.log("\n4. Reissue the token (Update-ArmorApiToken)");
  const before = session.token;
  await updateArmorApiToken(undefined, { session });
  console.log(`  ${shorten(before)} → ${shorten(session.token)}`);
  console.log(`  expires ${session.expiresAt.toISOString()}`);

  console.log("\n5. Call the API with the session: GET /me");
  const response = await session.fetch("/me");
  const me = await response.json();
  console.log(`  ${response.status}: ${me.FirstName ?? ""} ${me.LastName ?? ""} <${me.UserName}>`);
  for (const account of session.accounts) {
    console.log(`  account ${account.id}: ${account.name}`);
  }

  await session.disconnect();
  console.log("\nDisconnected. Done.");
} catch (error) {
  if (error instanceof ArmorApiError) {
    console.error(`\nFailed: ${error.message} (code ${error.code})`);
    Deno.exitCode = 1;
  } else if (error instanceof Deno.errors.NotCapable) {
    // The demo task allows api.armor.com and loopback only.
    console.error(`\n${error.message}`);
    console.error(
      "For another ARMOR_BASE_URL, run: deno run --allow-net=<host> --allow-env --env-file=.env examples/demo.ts",
    );
    Deno.exitCode = 1;
  } else {
    throw error;
  }
} finally {
  await mock?.close();
}
