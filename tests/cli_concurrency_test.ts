// The figures of issue 19, as real processes at once against the mock on loopback:
// one login for 20 cold processes, one reissue for 20 at the renewal point, a file that
// survives 200 invocations with random kills, and a killed claim holder taken over fast.

import assert from "node:assert/strict";
import { FileTokenStore } from "../src/file_token_store.ts";
import { serveMockArmorApi } from "../src/testing/mod.ts";
import {
  cli,
  cliCommand,
  credentials,
  loginDueForRenewal,
  PASSWORD,
  scratch,
  USER,
} from "./cli_helpers.ts";

const TOKEN = /^[a-z0-9]{32}$/;

Deno.test("20 token processes at once, no login, credentials in the environment: one authorize, one token", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi({
    users: [{
      username: USER,
      password: PASSWORD,
      accounts: [{ id: 1001, name: "Prod" }],
      mfaDelayMs: 1_500,
    }],
  });
  const env = credentials(served.baseUrl);
  const runs = await Promise.all(
    Array.from({ length: 20 }, () => cli(["token"], { home: tmp.home, env })),
  );
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  assert.equal(served.mock.count("/auth/authorize"), 1);
  assert.equal(served.mock.count("/auth/token"), 1);
  const tokens = new Set(runs.map((run) => run.stdout));
  assert.deepEqual([...tokens], [`${served.mock.issuedTokens[0]}\n`]);
  // The one that signs in counts down the approval; the others say they wait for it.
  const stderr = runs.map((run) => run.stderr).join("");
  assert.match(stderr, /approve the sign-in \(multi-factor authentication\)/);
  assert.match(stderr, /Waiting for a sign-in in progress elsewhere/);
  assert.ok(!stderr.includes(served.mock.issuedTokens[0]) && !stderr.includes(PASSWORD));
});

Deno.test("20 token processes at once at the renewal point: one reissue", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  // Two thirds of a 15-minute session are gone: renewal is due, the token still good.
  const { store, key, due } = await loginDueForRenewal(tmp.home, tmp.dir, served, 10.5 * 60_000);
  const env = { ARMOR_BASE_URL: served.baseUrl };
  const runs = await Promise.all(
    Array.from({ length: 20 }, () => cli(["token"], { home: tmp.home, env })),
  );
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  assert.equal(served.mock.count("/auth/token/reissue"), 1);
  const renewed = served.mock.issuedTokens.at(-1)!;
  assert.notEqual(renewed, due.accessToken);
  assert.deepEqual([...new Set(runs.map((run) => run.stdout.trim()))], [renewed]);
  assert.equal((await store.get(key))!.value.token!.accessToken, renewed);
});

Deno.test("a login claim left by a killed process is taken over within seconds", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  // The first sign-in waits a minute for its approval; the process is killed meanwhile.
  served.mock.inject({ path: "/auth/authorize", delayMs: 60_000 });
  const env = credentials(served.baseUrl);
  const first = cliCommand(["login"], { home: tmp.home, env }).spawn();
  const store = new FileTokenStore({ dir: tmp.dir });
  const key = `${served.url.href}#${USER}`;
  // Killed once it holds the claim and its sign-in waits at the server.
  for (
    let i = 0;
    (await store.get(key))?.value.claim === undefined || served.mock.count("/auth/authorize") < 1;
    i++
  ) {
    assert.ok(i < 200, "the first process never claimed the login");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal((await store.get(key))!.value.claim!.purpose, "login");
  assert.ok((await store.get(key))!.value.claim!.until > Date.now() + 60_000);
  first.kill("SIGKILL");
  await first.output();
  const run = await cli(["token"], { home: tmp.home, env, timeout: 15_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout.trim(), TOKEN);
  assert.ok(run.ms < 5_000, `took over in ${Math.round(run.ms)} ms`);
  assert.equal(served.mock.count("/auth/authorize"), 2);
});

Deno.test("200 invocations with random kills: the file is never corrupt, and the next token works", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const env = credentials(served.baseUrl);
  const store = new FileTokenStore({ dir: tmp.dir, warn: (message) => warnings.push(message) });
  const warnings: string[] = [];
  const key = `${served.url.href}#${USER}`;
  const path = store.pathOf(key);
  let seed = 19;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const plans: string[][] = [["token"], ["token"], ["token"], ["logout"], ["api", "/me"], [
    "status",
  ], ["use", "1002"]];
  let next = 0;
  let killed = 0;
  let reads = 0;
  const worker = async () => {
    while (next < 200) {
      next++;
      const args = plans[Math.floor(random() * plans.length)];
      const child = cliCommand(args, { home: tmp.home, env }).spawn();
      let id: ReturnType<typeof setTimeout> | undefined;
      if (random() < 0.5) {
        // Within the first 150 ms: a process that has started and not yet finished, most
        // of the time, whatever the machine's speed.
        id = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // ended already
          }
        }, random() * 150);
      }
      const { signal } = await child.output();
      clearTimeout(id);
      if (signal === "SIGKILL") killed++; // counted only where it landed
      // The files are absent or whole at every moment.
      for (const file of [path, `${tmp.dir}/settings.json`]) {
        try {
          JSON.parse(await Deno.readTextFile(file));
          reads++;
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  assert.ok(killed >= 40, `only ${killed} kills`);
  assert.ok(reads > 0);
  await store.get(key);
  assert.deepEqual(warnings, [], "no corrupt or foreign file seen");
  const run = await cli(["token"], { home: tmp.home, env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout.trim(), TOKEN);
  assert.ok(served.mock.isTokenValid(run.stdout.trim()));
  for await (const entry of Deno.readDir(tmp.dir)) {
    if (entry.name.endsWith(".json")) {
      assert.equal((await Deno.stat(`${tmp.dir}/${entry.name}`)).mode! & 0o777, 0o600);
    }
  }
});

Deno.test("a renewal claim left by a killed process is taken over within seconds", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const { store, key } = await loginDueForRenewal(tmp.home, tmp.dir, served);
  // The first renewal hangs at the server; its process is killed while it holds the claim.
  served.mock.inject({ path: "/auth/token/reissue", delayMs: 60_000 });
  const env = { ARMOR_BASE_URL: served.baseUrl };
  const first = cliCommand(["token"], { home: tmp.home, env }).spawn();
  for (
    let i = 0;
    (await store.get(key))?.value.claim === undefined ||
    served.mock.count("/auth/token/reissue") < 1;
    i++
  ) {
    assert.ok(i < 200, "the first process never claimed the renewal");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal((await store.get(key))!.value.claim!.purpose, "renew");
  first.kill("SIGKILL");
  await first.output();
  const run = await cli(["token"], { home: tmp.home, env, timeout: 15_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.ms < 5_000, `took over in ${Math.round(run.ms)} ms`);
  assert.equal(served.mock.count("/auth/token/reissue"), 2);
  assert.equal(run.stdout.trim(), served.mock.issuedTokens.at(-1));
  assert.equal((await store.get(key))!.value.token!.accessToken, run.stdout.trim());
});

Deno.test("20 token processes at once with a wrong password: one authorize, all refused with its reason", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi({
    users: [{
      username: USER,
      password: PASSWORD,
      accounts: [{ id: 1001, name: "Prod" }],
      mfaDelayMs: 1_000,
    }],
  });
  const wrong = { ...credentials(served.baseUrl), ARMOR_PASSWORD: "not-the-password-19" };
  const runs = await Promise.all(
    Array.from({ length: 20 }, () => cli(["token"], { home: tmp.home, env: wrong })),
  );
  // One refusal between them all: 20 would lock the account (and the mock does after 5).
  assert.equal(served.mock.count("/auth/authorize"), 1);
  for (const run of runs) {
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^Login failed: .*401 invalid_credentials/m);
    assert.ok(!run.stderr.includes("not-the-password-19"));
  }
  const settings = await Deno.readTextFile(`${tmp.dir}/settings.json`);
  assert.ok(!settings.includes("not-the-password-19"), "the password is never stored");
  // A process started after the refusal tries again: with the right password it logs in.
  const right = await cli(["token"], { home: tmp.home, env: credentials(served.baseUrl) });
  assert.equal(right.code, 0, right.stderr);
  assert.equal(right.stdout.trim(), served.mock.issuedTokens[0]);
  assert.equal(served.mock.count("/auth/authorize"), 2);
  assert.ok(!(await Deno.readTextFile(`${tmp.dir}/settings.json`)).includes('failures":{"'));
});

Deno.test("20 token processes at the renewal point with the server down: one reissue, the valid token for all", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const { due } = await loginDueForRenewal(tmp.home, tmp.dir, served);
  served.mock.inject({
    path: "/auth/token/reissue",
    status: 503,
    body: { error: "unavailable" },
    times: 100,
  });
  const env = { ARMOR_BASE_URL: served.baseUrl };
  const runs = await Promise.all(
    Array.from({ length: 20 }, () => cli(["token"], { home: tmp.home, env })),
  );
  // Not twenty attempts against a server that is down: one, and the others back off.
  assert.equal(served.mock.count("/auth/token/reissue"), 1);
  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), due.accessToken, "the token, still valid");
  }
  const warned = runs.filter((run) => /could not renew the token/.test(run.stderr));
  assert.equal(warned.length, 1);
  assert.ok(!warned[0].stderr.includes(due.accessToken));
});
