// Runs examples/demo.ts with the flags of the `demo` task, against mocks served here, and
// checks what a user would read: who signed in, the accounts, and one clear line for
// each kind of failure, never a secret.

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { type MockUser, serveMockArmorApi } from "../src/testing/mod.ts";
import {
  assertNoSecret,
  assertOneLine,
  type ExampleRun,
  runExample,
  type RunExampleOptions,
  secretsOf,
} from "./_run_example.ts";

/** The `deno run` flags of the `demo` task, so the test runs what `deno task demo` runs. */
function demoFlags(): string[] {
  const words = denoJson.tasks.demo.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  assert.equal(words.at(-1), "examples/demo.ts");
  return words.slice(2, -1);
}

function runDemo(options: RunExampleOptions): Promise<ExampleRun> {
  return runExample(demoFlags(), "examples/demo.ts", options);
}

const OPS: MockUser = {
  username: "ops@example.com",
  password: "Tr0ub4dor&3-correct-horse",
  firstName: "Ada",
  lastName: "Lovelace",
  accounts: [
    { id: 2001, name: "Acme Production", currency: "EUR", status: "Claimed" },
    { id: 2002, name: "Acme Lab", currency: "EUR", status: "Pending", parent: 2001 },
  ],
};

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

for (const dialect of ["powershell", "openapi"] as const) {
  Deno.test(`demo: signs in to the ${dialect} mock and lists the accounts`, async () => {
    await using server = await serveMockArmorApi({ dialect, users: [OPS] });
    const run = await runDemo({
      env: {
        ARMOR_BASE_URL: server.baseUrl,
        ARMOR_USERNAME: OPS.username,
        ARMOR_PASSWORD: OPS.password,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /^Credentials found in the environment: signing in to http:\/\/127/);
    assert.match(
      run.stdout,
      /signed in as Ada Lovelace <ops@example\.com>, 2 account\(s\), acting on 2001 \(Acme Production\)/,
    );
    assert.match(run.stdout, /account 2001: Acme Production \(EUR, Claimed\)/);
    assert.match(run.stdout, /account 2002: Acme Lab \(EUR, Pending\)/);
    assert.match(run.stdout, /Disconnected\. Done\./);
    assert.equal(server.mock.count("/auth/token/reissue"), 1);
    const secrets = secretsOf(server.mock, [OPS.password]);
    assert.ok(secrets.length >= 4, "the password, the code and both tokens are looked for");
    assertNoSecret(run, secrets);
  });
}

Deno.test("demo: reads the settings from .env itself", async () => {
  await using server = await serveMockArmorApi({ dialect: "openapi", users: [OPS] });
  const run = await runDemo({
    envFile: [
      "# real credentials go here",
      `export ARMOR_BASE_URL="${server.baseUrl}"`,
      `ARMOR_USERNAME=${OPS.username}   # the ops user`,
      `ARMOR_PASSWORD='${OPS.password}'`,
      "ARMOR_ACCOUNT_ID=2002",
      "",
    ].join("\n"),
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Credentials found in \.env: signing in to/);
  assert.match(run.stdout, /acting on 2002 \(Acme Lab\)/);
  assertNoSecret(run, secretsOf(server.mock, [OPS.password]));
});

Deno.test("demo: a rejected password is one line with the server's code", async (t) => {
  for (
    const [dialect, serverCode] of [
      ["powershell", "access_denied"],
      ["openapi", "invalid_credentials"],
    ] as const
  ) {
    await t.step(dialect, async () => {
      await using server = await serveMockArmorApi({ dialect, users: [OPS] });
      const wrong = "not-the-Passw0rd-at-all";
      const run = await runDemo({
        env: {
          ARMOR_BASE_URL: server.baseUrl,
          ARMOR_USERNAME: OPS.username,
          ARMOR_PASSWORD: wrong,
        },
      });
      const line = assertOneLine(run, 1);
      assert.match(line, /^Sign-in refused: the Armor API rejected the user name or password/);
      assert.ok(line.includes("ops@example.com"), line);
      assert.ok(line.includes(`401 ${serverCode}`), line);
      assert.match(line, /check ARMOR_USERNAME and ARMOR_PASSWORD$/);
      assertNoSecret(run, [wrong, OPS.password]);
    });
  }
});

Deno.test("demo: a malformed ARMOR_BASE_URL is one line saying how to write it", async (t) => {
  const cases = [
    ["api.armor.com", /not an https:\/\/ address: .*ARMOR_BASE_URL=https:\/\/api\.armor\.com$/],
    ["http://api.armor.com", /uses plain http.*ARMOR_BASE_URL=https:\/\/api\.armor\.com$/],
    ["https://ops:hunter22@api.armor.com", /must not hold a user name or password/],
  ] as const;
  for (const [baseUrl, expected] of cases) {
    await t.step(baseUrl, async () => {
      const run = await runDemo({
        env: { ARMOR_BASE_URL: baseUrl, ARMOR_USERNAME: "ops", ARMOR_PASSWORD: "pw-never-sent" },
      });
      const line = assertOneLine(run, 2);
      assert.match(line, /^ARMOR_BASE_URL /);
      assert.match(line, expected);
      assertNoSecret(run, ["hunter22", "pw-never-sent"]);
    });
  }
});

Deno.test("demo: an unreachable server names the host and the reason", async () => {
  const host = `127.0.0.1:${freePort()}`; // closed: nothing listens there
  const run = await runDemo({
    env: {
      ARMOR_BASE_URL: `http://${host}`,
      ARMOR_USERNAME: OPS.username,
      ARMOR_PASSWORD: OPS.password,
    },
  });
  const line = assertOneLine(run, 1);
  assert.ok(line.startsWith(`Could not reach ${host}: `), line);
  assert.match(line, /connection refused/i);
  assertNoSecret(run, [OPS.password]);
});

Deno.test("demo: says it waits for the multi-factor approval, with the time left", async () => {
  await using server = await serveMockArmorApi({ users: [{ ...OPS, mfaDelayMs: 3_000 }] });
  const run = await runDemo({
    env: {
      ARMOR_BASE_URL: server.baseUrl,
      ARMOR_USERNAME: OPS.username,
      ARMOR_PASSWORD: OPS.password,
    },
  });
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout.split("\n");
  const asked = out.findIndex((line) => line.includes("→ POST /auth/authorize"));
  const waiting = out.findIndex((line) => line.includes("waiting for the multi-factor approval"));
  const answered = out.findIndex((line, i) => i > asked && line.includes("← 200"));
  assert.ok(asked >= 0 && asked < waiting && waiting < answered, run.stdout);
  assert.match(out[waiting], /approve the sign-in on your phone \(2:5\d left\)$/);
  assert.match(run.stdout, /signed in as Ada Lovelace/);
});

Deno.test("demo: without .env it says so in one line and runs both flows on the mock", async () => {
  const run = await runDemo({});
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "", "no warning from Deno about a missing .env");
  const first = run.stdout.split("\n")[0];
  assert.match(
    first,
    /^No \.env file: using the mock Armor API at http:\/\/127\.0\.0\.1:\d+ as its demo user demo@example\.com; for your own account, copy \.env\.example to \.env/,
  );
  assert.match(run.stdout, /signed in as Demo User <demo@example\.com>/);
  assert.match(run.stdout, /account 1001: Demo Production \(USD, Claimed\)/);
  assert.match(run.stdout, /6\. The same with an API key instead/);
  assert.match(run.stdout, /signs each request \(ARMOR-PSK, HMAC-SHA512\): no token, no renewal/);
  assert.doesNotMatch(run.stdout, /demo-password/);
});

Deno.test("demo: a .env without credentials also falls back to the mock", async () => {
  const run = await runDemo({ envFile: "ARMOR_USERNAME=\nARMOR_PASSWORD=\n" });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^No credentials in \.env: using the mock Armor API/);
});

Deno.test("demo: an API key signs each request: no login, no token", async () => {
  const apiKey = {
    id: "20a37099-4a0b-432f-bf46-5fa690a0405c",
    secret: "s3cr3t-key-armor-never-shown",
  };
  await using server = await serveMockArmorApi({
    dialect: "openapi",
    users: [OPS],
    apiKeys: [{ ...apiKey, username: OPS.username }],
  });
  const run = await runDemo({
    envFile: [
      `ARMOR_BASE_URL=${server.baseUrl}`,
      `ARMOR_API_KEY_ID=${apiKey.id}`,
      `ARMOR_API_SECRET_KEY=${apiKey.secret}`,
      "",
    ].join("\n"),
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^API key found in \.env: calling http:\/\/127\.0\.0\.1:\d+ with key 20a3/,
  );
  assert.match(run.stdout, /signs each request \(ARMOR-PSK, HMAC-SHA512\): no token, no renewal/);
  assert.match(run.stdout, /signed in as Ada Lovelace <ops@example\.com>/);
  assert.match(run.stdout, /account 2001: Acme Production/);
  assert.equal(server.mock.count("/auth/authorize"), 0);
  assert.equal(server.mock.count("/auth/token"), 0);
  assertNoSecret(run, secretsOf(server.mock, [apiKey.secret]));

  const refused = await runDemo({
    env: {
      ARMOR_BASE_URL: server.baseUrl,
      ARMOR_API_KEY_ID: apiKey.id,
      ARMOR_API_SECRET_KEY: "a-wrong-secret-key",
    },
  });
  const line = assertOneLine(refused, 1);
  assert.match(line, /^The Armor API rejected the API key 20a37099-.* \(401\b.*\): check/);
  assertNoSecret(refused, ["a-wrong-secret-key", apiKey.secret]);
});
