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
  // The task shell takes the quotes off 'ARMOR_*'; Deno.Command passes words as they are.
  return words.slice(2, -1).map((word) => word.replace(/'/g, ""));
}

/**
 * The run without Deno's own one-line note that `--env-file=.env` found no `.env` (the
 * task passes the flag; with no file, Deno says so and goes on).
 */
function withoutEnvFileWarning(run: ExampleRun): ExampleRun {
  const stderr = run.stderr.replace(/^.*The `--env-file` flag was used, but .*\n/m, "");
  return { ...run, stderr };
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
    assert.equal(withoutEnvFileWarning(run).stderr, "");
    assert.match(run.stdout, /^Credentials found: signing in to http:\/\/127/);
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

Deno.test("demo: reads the settings from .env (Deno's --env-file, in the task)", async () => {
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
  assert.equal(run.stderr, "");
  assert.match(run.stdout, /^Credentials found: signing in to/);
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
      const line = assertOneLine(withoutEnvFileWarning(run), 1);
      assert.match(line, /^Sign-in refused: the Armor API rejected the user name or password/);
      assert.ok(line.includes("ops@example.com"), line);
      assert.ok(line.includes(`401 ${serverCode}`), line);
      assert.match(line, /check ARMOR_USERNAME and ARMOR_PASSWORD$/);
      assertNoSecret(run, [wrong, OPS.password]);
    });
  }
});

Deno.test("demo: a malformed ARMOR_BASE_URL is one line saying how to write it", async (t) => {
  const expected =
    /^ARMOR_BASE_URL must be an https:\/\/ address such as https:\/\/api\.armor\.com/;
  for (
    const baseUrl of ["api.armor.com", "http://api.armor.com", "https://ops:hunter22@api.armor.com"]
  ) {
    await t.step(baseUrl, async () => {
      const run = await runDemo({
        env: { ARMOR_BASE_URL: baseUrl, ARMOR_USERNAME: "ops", ARMOR_PASSWORD: "pw-never-sent" },
      });
      const line = assertOneLine(withoutEnvFileWarning(run), 2);
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
  const line = assertOneLine(withoutEnvFileWarning(run), 1);
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

Deno.test("demo: with no credentials at all it says so and runs both flows on the mock", async () => {
  const run = await runDemo({});
  assert.equal(run.code, 0, run.stderr);
  assert.equal(withoutEnvFileWarning(run).stderr, "", "nothing but Deno's note on a missing .env");
  const first = run.stdout.split("\n")[0];
  assert.match(
    first,
    /^No credentials set: using the mock Armor API at http:\/\/127\.0\.0\.1:\d+ as its demo user demo@example\.com; for your own account, copy \.env\.example to \.env/,
  );
  assert.match(run.stdout, /signed in as Demo User <demo@example\.com>/);
  assert.match(run.stdout, /account 1001: Demo Production \(USD, Claimed\)/);
  assert.match(run.stdout, /6\. The same with an API key instead/);
  assert.match(run.stdout, /signs each request \(ARMOR-PSK, HMAC-SHA512\): no token, no renewal/);
  assert.doesNotMatch(run.stdout, /demo-password/);
});

Deno.test("demo: a .env with empty credentials (a fresh copy of .env.example) uses the mock", async () => {
  // .env.example's settings, as a fresh copy has them.
  const envFile =
    "ARMOR_USERNAME=\nARMOR_PASSWORD=\nARMOR_BASE_URL=https://api.armor.com\nARMOR_ACCOUNT_ID=\n";
  const run = await runDemo({ envFile });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  assert.match(run.stdout, /^No credentials set: using the mock Armor API/);
});

Deno.test("demo: half-filled credentials are refused, never replaced by the mock", async (t) => {
  const cases = [
    [{ ARMOR_USERNAME: "ops@example.com" }, /^ARMOR_USERNAME is set but ARMOR_PASSWORD is not/],
    [{ ARMOR_PASSWORD: "pw-half-set-81" }, /^ARMOR_PASSWORD is set but ARMOR_USERNAME is not/],
    [{ ARMOR_API_KEY_ID: "20a37099-4a0b-432f-bf46-5fa690a0405c" }, /^ARMOR_API_KEY_ID is set but/],
    [{ ARMOR_API_SECRET_KEY: "key-half-set-55" }, /^ARMOR_API_SECRET_KEY is set but/],
  ] as const;
  for (const [env, expected] of cases) {
    await t.step(Object.keys(env)[0], async () => {
      const envFile = Object.entries(env).map(([name, value]) => `${name}=${value}`).join("\n");
      const run = await runDemo({ envFile });
      const line = assertOneLine(run, 2);
      assert.match(line, expected);
      assert.equal(run.stdout, "", "nothing run, no mock");
      assertNoSecret(run, ["pw-half-set-81", "key-half-set-55"]);
    });
  }
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
    /^API key found: calling http:\/\/127\.0\.0\.1:\d+ with key 20a3/,
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
  const line = assertOneLine(withoutEnvFileWarning(refused), 1);
  assert.match(
    line,
    /^Sign-in refused: the Armor API rejected the API key 20a37099-.* \(401\b.*\): check ARMOR_API_KEY_ID/,
  );
  assertNoSecret(refused, ["a-wrong-secret-key", apiKey.secret]);
});
