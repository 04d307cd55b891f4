// Runs examples/list_accounts.ts against mocks served here, with ARMOR_BASE_URL pointing
// at them: one line an account, from `GET /accounts`'s lower-case keys.

import assert from "node:assert/strict";
import { type MockUser, serveMockArmorApi } from "../src/testing/mod.ts";
import {
  assertNoSecret,
  assertOneLine,
  type ExampleRun,
  lines,
  runExample,
  secretsOf,
} from "./_run_example.ts";

/** The flags its doc comment gives, with the loopback mock instead of api.armor.com. */
const FLAGS = [
  "--allow-net=127.0.0.1",
  "--allow-env=ARMOR_*",
];

function listAccounts(env: Record<string, string>): Promise<ExampleRun> {
  return runExample(FLAGS, "examples/list_accounts.ts", { env });
}

const OPS: MockUser = {
  username: "ops@example.com",
  password: "Tr0ub4dor&3-correct-horse",
  accounts: [
    { id: 2001, name: "Acme Production", currency: "EUR", status: "Claimed" },
    { id: 2002, name: "Acme Lab", currency: "USD", status: "Pending", parent: 2001 },
  ],
};

for (const dialect of ["powershell", "openapi"] as const) {
  Deno.test(`list_accounts: one line an account from the ${dialect} mock`, async () => {
    await using server = await serveMockArmorApi({ dialect, users: [OPS] });
    const run = await listAccounts({
      ARMOR_BASE_URL: server.baseUrl,
      ARMOR_USERNAME: OPS.username,
      ARMOR_PASSWORD: OPS.password,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    // The mock pads currencies with spaces, as Armor does; the example trims them.
    assert.deepEqual(lines(run.stdout), [
      "2001\tAcme Production\tEUR\tClaimed",
      "2002\tAcme Lab\tUSD\tPending",
    ]);
    assert.equal(server.mock.count("/accounts"), 1);
    assertNoSecret(run, secretsOf(server.mock, [OPS.password]));
  });
}

Deno.test("list_accounts: the demo user of the default mock", async () => {
  await using server = await serveMockArmorApi();
  const run = await listAccounts({
    ARMOR_BASE_URL: server.baseUrl,
    ARMOR_USERNAME: "demo@example.com",
    ARMOR_PASSWORD: "demo-password",
  });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(lines(run.stdout), [
    "1001\tDemo Production\tUSD\tClaimed",
    "1002\tDemo Staging\tUSD\tClaimed",
  ]);
});

Deno.test("list_accounts: a rejected password is one line with the server's code", async () => {
  await using server = await serveMockArmorApi({ dialect: "openapi", users: [OPS] });
  const run = await listAccounts({
    ARMOR_BASE_URL: server.baseUrl,
    ARMOR_USERNAME: OPS.username,
    ARMOR_PASSWORD: "not-the-Passw0rd-at-all",
  });
  const line = assertOneLine(run, 1);
  assert.match(line, /^POST \/auth\/authorize: the Armor API answered 401 invalid_credentials/);
  assertNoSecret(run, ["not-the-Passw0rd-at-all"]);
});

Deno.test("list_accounts: no credentials is one line saying what to set", async () => {
  const line = assertOneLine(await listAccounts({}), 2);
  assert.match(
    line,
    /^No Armor credentials in the environment: set ARMOR_USERNAME and ARMOR_PASSWORD, or ARMOR_API_KEY_ID/,
  );
});

Deno.test("list_accounts: a malformed ARMOR_BASE_URL is one line", async () => {
  const run = await listAccounts({
    ARMOR_BASE_URL: "api.armor.com",
    ARMOR_USERNAME: OPS.username,
    ARMOR_PASSWORD: OPS.password,
  });
  assert.match(assertOneLine(run, 2), /^ARMOR_BASE_URL must be an https:\/\/ address/);
});

Deno.test("list_accounts: with an API key, no login", async () => {
  const apiKey = { id: "5b7c3a1e-2f0d-4c55-9d1e-0a8b6c4d2e10", secret: "list-accounts-secret-key" };
  await using server = await serveMockArmorApi({
    users: [OPS],
    apiKeys: [{ ...apiKey, username: OPS.username }],
  });
  const run = await listAccounts({
    ARMOR_BASE_URL: server.baseUrl,
    ARMOR_API_KEY_ID: apiKey.id,
    ARMOR_API_SECRET_KEY: apiKey.secret,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(lines(run.stdout).length, 2);
  assert.equal(server.mock.count("/auth/authorize"), 0);
  assertNoSecret(run, secretsOf(server.mock, [apiKey.secret]));
});
