// armor-auth as a user runs it: real processes against the mock Armor API on loopback.

import assert from "node:assert/strict";
import { ArmorSession } from "../mod.ts";
import { DEFAULT_BASE_URL } from "../src/defaults.ts";
import { CLI_DEFAULT_BASE_URL, serverKeyOf, wellFormedValue } from "../src/cli/_core.ts";
import { isWellFormed } from "../src/_store_sync.ts";
import { checkBaseUrl } from "../src/_validate.ts";
import { FileTokenStore } from "../src/file_token_store.ts";
import { serveMockArmorApi } from "../src/testing/mod.ts";
import {
  cli,
  CLI_ENV_NAMES,
  cliCommand,
  cliCommandLine,
  credentials,
  lines,
  loginDueForRenewal,
  PASSWORD,
  scratch,
  USER,
} from "./cli_helpers.ts";

const TOKEN = /^[a-z0-9]{32}$/;

/** The user name in `GET /me`, in either documented shape. */
function userOf(me: { User?: { UserName: string }[]; user?: { username: string } }): string {
  return me.User?.[0]?.UserName ?? me.user?.username ?? "";
}

Deno.test("usage errors print the usage and exit 2", async () => {
  await using tmp = await scratch();
  for (
    const args of [
      ["bogus"],
      ["token", "--bogus"],
      ["token", "extra"],
      ["login", "--password", "hunter2"],
      ["api"],
      ["status", "--header"],
      [],
    ]
  ) {
    const run = await cli(args, { home: tmp.home });
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, /Usage:/);
    assert.equal(run.stdout, "");
    assert.doesNotMatch(run.stderr, /hunter2/);
  }
  const help = await cli(["--help"], { home: tmp.home });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /armor-auth login/);
});

Deno.test("token with no login says so in one line and exits 1", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const run = await cli(["token"], { home: tmp.home, env: { ARMOR_BASE_URL: served.baseUrl } });
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.deepEqual(lines(run.stderr), ["Not logged in: run armor-auth login"]);
  assert.equal(served.mock.requests.length, 0);
});

Deno.test("missing credentials: one line naming the variables", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const noUser = await cli(["login"], { home: tmp.home, env: { ARMOR_BASE_URL: served.baseUrl } });
  assert.equal(noUser.code, 1);
  assert.equal(lines(noUser.stderr).length, 1);
  assert.match(noUser.stderr, /ARMOR_USERNAME/);
  const noPassword = await cli(["login"], {
    home: tmp.home,
    env: { ARMOR_BASE_URL: served.baseUrl, ARMOR_USERNAME: USER },
  });
  assert.equal(noPassword.code, 1);
  assert.equal(lines(noPassword.stderr).length, 1);
  assert.match(noPassword.stderr, /ARMOR_PASSWORD/);
  assert.equal(served.mock.requests.length, 0);
});

Deno.test("a wrong password shows the server's reason, exits 1, and echoes no secret", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi({ dialect: "openapi" });
  const run = await cli(["login"], {
    home: tmp.home,
    env: { ...credentials(served.baseUrl), ARMOR_PASSWORD: "wrong-secret-1234" },
  });
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.equal(lines(run.stderr).length, 1, run.stderr);
  assert.match(run.stderr, /401/);
  assert.match(run.stderr, /invalid_credentials/);
  assert.doesNotMatch(run.stderr, /wrong-secret-1234/);
});

Deno.test("login, token, status, accounts, use, api, logout", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const home = tmp.home;
  const env = credentials(served.baseUrl);
  const login = await cli(["login"], { home, env });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, "");
  assert.match(login.stderr, /Logged in to .* as demo@example\.com/);
  assert.equal(served.mock.count("/auth/authorize"), 1);
  const issued = served.mock.issuedTokens[0];

  // From here on, no password in the environment: the stored login serves everything.
  const bare = { ARMOR_BASE_URL: served.baseUrl };
  const token = await cli(["token"], { home, env: bare });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${issued}\n`);
  assert.equal(token.stderr, "");

  const header = await cli(["token", "--header"], { home, env: bare });
  assert.equal(header.stdout, `FH-AUTH ${issued}\n`);

  const json = JSON.parse((await cli(["token", "--json"], { home, env: bare })).stdout);
  assert.equal(json.token, issued);
  assert.equal(json.account, 1001);
  assert.ok(Date.parse(json.expiresAt) > Date.now() + 10 * 60_000);

  const status = await cli(["status"], { home, env: bare });
  assert.equal(status.code, 0);
  assert.match(status.stdout, /demo@example\.com/);
  assert.ok(status.stdout.includes(new URL(served.baseUrl).host));
  assert.match(status.stdout, /1001 \(Demo Production\)/);
  assert.match(status.stdout, /valid until/);
  assert.ok(!status.stdout.includes(issued) && !status.stderr.includes(issued));

  const accounts = await cli(["accounts"], { home, env: bare });
  assert.equal(accounts.code, 0);
  assert.deepEqual(lines(accounts.stdout), ["* 1001\tDemo Production", "  1002\tDemo Staging"]);

  const bad = await cli(["use", "4242"], { home, env: bare });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /4242 is not one of/);
  const use = await cli(["use", "1002"], { home, env: bare });
  assert.equal(use.code, 0, use.stderr);
  assert.match((await cli(["status"], { home, env: bare })).stdout, /1002 \(Demo Staging\)/);

  const me = await cli(["api", "/me"], { home, env: bare });
  assert.equal(me.code, 0, me.stderr);
  assert.equal(userOf(JSON.parse(me.stdout)), USER);
  const sent = served.mock.requests.at(-1)!;
  assert.equal(sent.path, "/me");
  assert.equal(sent.headers["authorization"], `FH-AUTH ${issued}`);
  assert.equal(sent.headers["x-account-context"], "1002");

  const other = await cli(["api", "accounts", "--account", "1001"], { home, env: bare });
  assert.equal(other.code, 0, other.stderr);
  assert.equal(JSON.parse(other.stdout).length, 2);
  assert.equal(served.mock.requests.at(-1)!.headers["x-account-context"], "1001");

  const missing = await cli(["api", "/nowhere"], { home, env: bare });
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, "");
  assert.match(missing.stderr, /^HTTP 404/);

  const posted = await cli(["api", "/auth/token/reissue", "-d", `{"token":"${"0".repeat(32)}"}`], {
    home,
    env: bare,
  });
  assert.equal(posted.code, 1);
  assert.match(posted.stderr, /^HTTP 401/);
  const post = served.mock.requests.at(-1)!;
  assert.equal(post.method, "POST");
  assert.deepEqual(post.body, { token: "0".repeat(32) });

  const fromStdin = await cli(["api", "/auth/token/reissue", "-d", "@-"], {
    home,
    env: bare,
    stdin: `{"token":"${"1".repeat(32)}"}`,
  });
  assert.equal(fromStdin.code, 1);
  assert.deepEqual(served.mock.requests.at(-1)!.body, { token: "1".repeat(32) });

  const getWithBody = await cli(["api", "/me", "-X", "GET", "-d", "{}"], { home, env: bare });
  assert.equal(getWithBody.code, 2);

  const logout = await cli(["logout"], { home, env: bare });
  assert.equal(logout.code, 0, logout.stderr);
  const after = await cli(["token"], { home, env: { ...bare, ARMOR_USERNAME: USER } });
  assert.equal(after.code, 1);
  assert.deepEqual(lines(after.stderr), ["Not logged in: run armor-auth login"]);
  assert.deepEqual(await new FileTokenStore({ dir: tmp.dir }).keys(), []);
  // Only the one login was ever made.
  assert.equal(served.mock.count("/auth/authorize"), 1);
  // No secret on stderr, ever; the token on stdout only where it was asked for.
  const all = [login, token, header, status, accounts, bad, use, me, other, missing, posted];
  for (const run of [...all, fromStdin, getWithBody, logout, after]) {
    assert.ok(!run.stderr.includes(issued), run.stderr);
    assert.ok(!run.stderr.includes(PASSWORD), run.stderr);
  }
  for (const run of [login, status, accounts, use, me, other, logout]) {
    assert.ok(!run.stdout.includes(issued));
  }
});

Deno.test("the folder is 0700 and the files 0600; the file holds no password", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const run = await cli(["login"], { home: tmp.home, env: credentials(served.baseUrl) });
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await Deno.stat(tmp.dir)).mode! & 0o777, 0o700);
  for await (const entry of Deno.readDir(tmp.dir)) {
    if (!entry.isFile) continue;
    const path = `${tmp.dir}/${entry.name}`;
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, entry.name);
    assert.ok(!entry.name.includes("demo"), `no user name in a file name: ${entry.name}`);
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes(PASSWORD), `${entry.name} holds the password`);
  }
  const stored = await new FileTokenStore({ dir: tmp.dir }).get(
    `${served.url.href}#${USER}`,
  );
  assert.match(stored!.value.login!.verifier, /^[0-9a-f]{64}$/);
  assert.equal(stored!.value.token!.accessToken, served.mock.issuedTokens[0]);
});

Deno.test("while the sign-in waits for approval, stderr says so with the time left", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi({
    users: [{
      username: USER,
      password: PASSWORD,
      accounts: [{ id: 7, name: "A" }],
      mfaDelayMs: 1_800,
    }],
  });
  const run = await cli(["token"], { home: tmp.home, env: credentials(served.baseUrl) });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^[a-z0-9]{32}\n$/);
  assert.match(
    run.stderr,
    /approve the sign-in \(multi-factor authentication\): [0-9]+:[0-5][0-9] left/,
  );
  assert.ok(!run.stderr.includes(run.stdout.trim()), "no token on stderr");
  assert.ok(!run.stderr.includes(PASSWORD));
});

Deno.test("a corrupt store file is ignored with a warning and replaced at the next login", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const env = credentials(served.baseUrl);
  assert.equal((await cli(["login"], { home: tmp.home, env })).code, 0);
  const store = new FileTokenStore({ dir: tmp.dir });
  const path = store.pathOf(`${served.url.href}#${USER}`);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, text.slice(0, text.length >> 1)); // truncated
  const bare = { ARMOR_BASE_URL: served.baseUrl, ARMOR_USERNAME: USER };
  const run = await cli(["token"], { home: tmp.home, env: bare });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /Warning: Ignoring .*corrupt or truncated/);
  assert.match(run.stderr, /Not logged in: run armor-auth login/);
  const again = await cli(["token"], { home: tmp.home, env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), served.mock.issuedTokens[1]);
  JSON.parse(await Deno.readTextFile(path));
});

Deno.test("a script with FileTokenStore reuses the command's login, and the other way round", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const env = credentials(served.baseUrl);
  assert.equal((await cli(["login"], { home: tmp.home, env })).code, 0);
  const session = await ArmorSession.connect({
    username: USER,
    password: PASSWORD,
    baseUrl: served.baseUrl,
    store: new FileTokenStore({ dir: tmp.dir }),
  });
  assert.equal(session.token, served.mock.issuedTokens[0]);
  assert.equal(served.mock.count("/auth/authorize"), 1);
  // With another password, the script does not reuse it: the verifier tells them apart,
  // so the server is asked, and refuses.
  await assert.rejects(
    ArmorSession.connect({
      username: USER,
      password: "not-the-password",
      baseUrl: served.baseUrl,
      store: new FileTokenStore({ dir: tmp.dir }),
    }),
    (error: Error) => /401/.test(error.message),
  );
  assert.equal(served.mock.count("/auth/authorize"), 2);
  // ...and the command's login is still there.
  const still = await cli(["token"], { home: tmp.home, env: { ARMOR_BASE_URL: served.baseUrl } });
  assert.equal(still.stdout.trim(), served.mock.issuedTokens[0]);

  await using other = await scratch();
  const script = await ArmorSession.connect({
    username: USER,
    password: PASSWORD,
    baseUrl: served.baseUrl,
    store: new FileTokenStore({ dir: other.dir }),
  });
  assert.equal(served.mock.count("/auth/authorize"), 3);
  // No user name anywhere but in the store: the command finds the one login there.
  const run = await cli(["token"], { home: other.home, env: { ARMOR_BASE_URL: served.baseUrl } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), script.token);
  assert.equal(served.mock.count("/auth/authorize"), 3);
});

Deno.test("with an API key, api signs each request and token explains there is none", async () => {
  await using tmp = await scratch();
  const key = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "psk-secret-value-42" };
  await using served = await serveMockArmorApi({ apiKeys: [key] });
  const env = {
    ARMOR_BASE_URL: served.baseUrl,
    ARMOR_API_KEY_ID: key.id,
    ARMOR_API_SECRET_KEY: key.secret,
  };
  const me = await cli(["api", "/me"], { home: tmp.home, env });
  assert.equal(me.code, 0, me.stderr);
  assert.equal(userOf(JSON.parse(me.stdout)), USER);
  assert.match(served.mock.requests.at(-1)!.headers["authorization"], /^ARMOR-PSK /);
  const token = await cli(["token"], { home: tmp.home, env });
  assert.equal(token.code, 1);
  assert.equal(token.stdout, "");
  assert.match(token.stderr, /An API key has no token/);
  for (const run of [me, token]) assert.ok(!run.stderr.includes(key.secret));
  assert.equal(served.mock.count("/auth/authorize"), 0);
});

Deno.test("with an API key, ARMOR_API_BODY_SIGNING=sha512 signs a body's digest", async () => {
  await using tmp = await scratch();
  const key = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "psk-secret-value-42" };
  await using served = await serveMockArmorApi({ apiKeys: [{ ...key, bodySigning: "sha512" }] });
  const env = {
    ARMOR_BASE_URL: served.baseUrl,
    ARMOR_API_KEY_ID: key.id,
    ARMOR_API_SECRET_KEY: key.secret,
  };
  const post = ["api", "/users/1/keys", "-X", "POST", "-d", '{"name":"ci"}'];
  // The mock answers 403 (a key cannot manage keys) to a good signature, 401 to a bad one.
  const raw = await cli(post, { home: tmp.home, env });
  assert.equal(raw.code, 1);
  assert.match(raw.stderr, /401/);
  const digest = await cli(post, {
    home: tmp.home,
    env: { ...env, ARMOR_API_BODY_SIGNING: "sha512" },
  });
  assert.equal(digest.code, 1);
  assert.match(digest.stderr, /403/);
  const bad = await cli(post, { home: tmp.home, env: { ...env, ARMOR_API_BODY_SIGNING: "md5" } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /ARMOR_API_BODY_SIGNING must be raw or sha512/);
  for (const run of [raw, digest, bad]) assert.ok(!run.stderr.includes(key.secret));
});

Deno.test("a token is printed renewed when it is due", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const { store, key } = await loginDueForRenewal(tmp.home, tmp.dir, served);
  const run = await cli(["token"], { home: tmp.home, env: { ARMOR_BASE_URL: served.baseUrl } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(served.mock.count("/auth/token/reissue"), 1);
  assert.equal(run.stdout.trim(), served.mock.issuedTokens.at(-1));
  assert.match(run.stdout.trim(), TOKEN);
  assert.equal((await store.get(key))!.value.token!.accessToken, run.stdout.trim());
});

Deno.test("the command's default server is the library's", () => {
  assert.equal(CLI_DEFAULT_BASE_URL, DEFAULT_BASE_URL);
});

Deno.test("a base URL that is not https is refused before anything is sent", async () => {
  await using tmp = await scratch();
  for (const args of [["token"], ["login"], ["api", "/me"]]) {
    const run = await cli(args, {
      home: tmp.home,
      env: { ...credentials("http://example.com"), ARMOR_BASE_URL: "http://example.com" },
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /Bad base URL: baseUrl must use https:/);
  }
});

Deno.test("on a terminal, login asks for the password without echoing it", async (t) => {
  const hasScript = await new Deno.Command("script", { args: ["--version"], stdout: "null" })
    .output().then((o) => o.success, () => false);
  if (!hasScript) {
    console.log("No `script` (util-linux) to make a terminal: the prompt test did not run");
    return;
  }
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const inner = cliCommandLine(["login"], tmp.home);
  const child = new Deno.Command("script", {
    args: ["-qec", inner, "/dev/null"],
    env: {
      ...Object.fromEntries(CLI_ENV_NAMES.filter((n) => n !== "HOME").map((n) => [n, ""])),
      ARMOR_BASE_URL: served.baseUrl,
      ARMOR_USERNAME: USER,
      XDG_CONFIG_HOME: tmp.home,
      NO_COLOR: "1",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("Password for")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  assert.match(seen, /Password for demo@example\.com at /);
  await new Promise((resolve) => setTimeout(resolve, 300)); // raw mode is on
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`${PASSWORD}\r`));
  await writer.close();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  const status = await child.status;
  await t.step("logged in", () => {
    assert.equal(status.code, 0, seen);
    assert.match(seen, /Logged in to .* as demo@example\.com/);
    assert.equal(served.mock.count("/auth/authorize"), 1);
  });
  await t.step("the password was never shown", () => {
    assert.ok(!seen.includes(PASSWORD), seen);
  });
});

Deno.test("the store key's server part is the base URL as the library normalizes it", () => {
  for (
    const base of [
      "https://api.armor.com",
      "https://api.armor.com/",
      "https://API.Armor.com",
      "https://api.armor.com:443",
      "https://api.armor.com:0443/x",
      "https://api.armor.com:8443",
      "https://api.armor.com/v1/",
      "https://api.armor.com/a/./b/../c",
      "https://api.armor.com/%7Euser",
      "https://xn--bcher-kva.example/",
      "https://bücher.example",
      "http://127.0.0.1:46521",
      "http://127.0.0.1:80",
      "http://localhost/",
      "http://[::1]:8080",
      "https://1.2.3.4:65535/",
      "https://a.b/c_d~e-f",
      "https://010.1.1.1/",
      "https://0x7f.1",
      "https://a.1",
      "https://-a.com",
      "https://a..b",
      "https://host/a//b",
      "https://host/./a",
      "https://host.com.",
      "http://localhost:8080/x/",
      "https://HOST.com/x",
      "https://host:4430",
      "https://host:44300",
      "https://host:65535/x",
      "https://host:65536",
      "https://host:99999",
      "http://127.0.0.1:65535/",
      "http://localhost:80/",
      "https://host/a_b~c-d/",
    ]
  ) {
    let expected: string | undefined;
    try {
      expected = checkBaseUrl(base).href;
    } catch {
      assert.throws(() => serverKeyOf(base), base); // not a URL at all
      continue;
    }
    assert.equal(serverKeyOf(base), expected, base);
  }
});

Deno.test("a stored token of the wrong shape is never printed", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const store = new FileTokenStore({ dir: tmp.dir });
  const key = `${served.url.href}#${USER}`;
  const now = Date.now();
  for (
    const token of [
      { accessToken: "0123456789abcdef0123456789abcdef\nX", issuedAt: now, expiresAt: now + 9e5 },
      { accessToken: "0123456789abcdef0123456789abcdef", issuedAt: now, expiresAt: "later" },
      { accessToken: "0123456789ABCDEF0123456789ABCDEF", issuedAt: now, expiresAt: now + 9e5 },
    ]
  ) {
    const entry = await store.get(key);
    await store.set(
      key,
      { server: served.url.href, username: USER, token: token as never },
      entry?.version ?? null,
    );
    const run = await cli(["token"], { home: tmp.home, env: { ARMOR_BASE_URL: served.baseUrl } });
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /Not logged in/);
  }
});

Deno.test("api pretty-prints JSON on a terminal and passes it through otherwise", async () => {
  const hasScript = await new Deno.Command("script", { args: ["--version"], stdout: "null" })
    .output().then((o) => o.success, () => false);
  if (!hasScript) {
    console.log("No `script` (util-linux) to make a terminal: the pretty-print test did not run");
    return;
  }
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  assert.equal(
    (await cli(["login"], { home: tmp.home, env: credentials(served.baseUrl) })).code,
    0,
  );
  const piped = await cli(["api", "/accounts"], {
    home: tmp.home,
    env: { ARMOR_BASE_URL: served.baseUrl },
  });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(lines(piped.stdout).length, 1, "as it came: one line");
  const output = await new Deno.Command("script", {
    args: ["-qec", cliCommandLine(["api", "/accounts"], tmp.home), "/dev/null"],
    env: {
      ...Object.fromEntries(CLI_ENV_NAMES.filter((n) => n !== "HOME").map((n) => [n, ""])),
      ARMOR_BASE_URL: served.baseUrl,
      XDG_CONFIG_HOME: tmp.home,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, text);
  assert.match(text, /^\[\r?\n {2}\{\r?\n {4}"id": 1001,/);
  assert.deepEqual(JSON.parse(text.replaceAll("\r", "")), JSON.parse(piped.stdout));
});

Deno.test("a store file with a malformed login crashes no command: ignored, with a warning", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const store = new FileTokenStore({ dir: tmp.dir, warn: () => {} });
  const key = `${served.url.href}#${USER}`;
  const now = Date.now();
  const token = {
    accessToken: "0123456789abcdef0123456789abcdef",
    issuedAt: now,
    expiresAt: now + 9e5,
  };
  const env = { ARMOR_BASE_URL: served.baseUrl, ARMOR_USERNAME: USER };
  for (
    const value of [
      { token, identity: { accounts: "x" } },
      { token, identity: 7 },
      { token, identity: { username: USER, accounts: [null, 5] } },
      { token: { ...token, expiresAt: 9_999_999_999_999 } },
    ]
  ) {
    const entry = await store.get(key);
    await store.set(key, value as never, entry?.version ?? null);
    for (const args of [["status"], ["accounts"], ["token", "--json"], ["use", "1001"]]) {
      const run = await cli(args, { home: tmp.home, env });
      assert.equal(run.code, 1, `${args.join(" ")}: ${run.stdout}`);
      assert.ok(!run.stdout.includes(token.accessToken), "never printed");
      assert.match(run.stderr, /Warning: Ignoring .*no valid login/);
      assert.doesNotMatch(run.stderr, /TypeError|Cannot read properties|is not a function/);
    }
  }
  // Replaced by the next login.
  const login = await cli(["login"], { home: tmp.home, env: credentials(served.baseUrl) });
  assert.equal(login.code, 0, login.stderr);
  assert.equal((await store.get(key))!.value.token!.accessToken, served.mock.issuedTokens[0]);
});

Deno.test("a config folder opened up is made private again by a plain token", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  assert.equal(
    (await cli(["login"], { home: tmp.home, env: credentials(served.baseUrl) })).code,
    0,
  );
  await Deno.chmod(tmp.dir, 0o755);
  await Deno.chmod(`${tmp.dir}/settings.json`, 0o644);
  const run = await cli(["token"], { home: tmp.home, env: { ARMOR_BASE_URL: served.baseUrl } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await Deno.stat(tmp.dir)).mode! & 0o777, 0o700);
  assert.match(run.stderr, /Warning: Made .* private \(mode 0700\)/);
  // settings.json names the user (and may keep a refused password's verifier): 0600 too.
  assert.equal((await Deno.stat(`${tmp.dir}/settings.json`)).mode! & 0o777, 0o600);
  assert.match(run.stderr, /Warning: Made .*settings\.json private \(mode 0600\)/);
});

Deno.test("a config folder the system refuses to write says so, not that a flag is missing", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const env = credentials(served.baseUrl);
  assert.equal((await cli(["login"], { home: tmp.home, env })).code, 0);
  // An immutable folder (chattr +i): even root may not write in it.
  const chattr = (flag: string) =>
    new Deno.Command("chattr", { args: [flag, tmp.dir], stderr: "null" }).output().then(
      (o) => o.success,
      () => false,
    );
  if (!await chattr("+i")) {
    console.log("No chattr +i here (not root, or no ext4): the refused-write case did not run");
    return;
  }
  try {
    const use = await cli(["use", "1002"], { home: tmp.home, env });
    assert.equal(use.code, 1);
    assert.match(use.stderr, /yours and writable/);
    assert.doesNotMatch(use.stderr, /install line/);
    const login = await cli(["login", "--base-url", `${served.baseUrl}/v2`], {
      home: tmp.home,
      env,
    });
    assert.equal(login.code, 1);
    assert.equal(lines(login.stderr).length, 1, login.stderr);
    assert.match(
      login.stderr,
      /^Login failed: .*Cannot write in .*armor-api-auth .*yours and writable/,
    );
  } finally {
    await chattr("-i");
  }
});

Deno.test("settings.json and its lock are never read or locked through a link, nor trusted blindly", async () => {
  await using tmp = await scratch();
  await using elsewhere = await scratch("elsewhere-");
  await using served = await serveMockArmorApi();
  const env = credentials(served.baseUrl);
  assert.equal((await cli(["login"], { home: tmp.home, env })).code, 0);
  const ln = async (target: string, path: string) => {
    await Deno.remove(path).catch(() => {});
    const { success } = await new Deno.Command("ln", { args: ["-s", target, path] }).output();
    assert.ok(success);
  };
  // A planted settings file elsewhere, linked in: it would choose the account.
  const key = `${served.url.href}#${USER}`;
  await Deno.writeTextFile(
    `${elsewhere.home}/settings.json`,
    JSON.stringify({ format: "armor-api-auth/cli-settings", users: {}, accounts: { [key]: 1002 } }),
  );
  await ln(`${elsewhere.home}/settings.json`, `${tmp.dir}/settings.json`);
  await ln(`${elsewhere.home}/made-by-lock`, `${tmp.dir}/settings.lock`);
  const bare = { ARMOR_BASE_URL: served.baseUrl, ARMOR_USERNAME: USER };
  const json = await cli(["token", "--json"], { home: tmp.home, env: bare });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).account, 1001, "the linked settings were not read");
  assert.match(json.stderr, /Warning: ignoring settings\.json: not a regular file/);
  const use = await cli(["use", "1002"], { home: tmp.home, env: bare });
  assert.equal(use.code, 0, use.stderr);
  assert.ok((await Deno.lstat(`${tmp.dir}/settings.json`)).isFile, "replaced by a file");
  assert.ok((await Deno.lstat(`${tmp.dir}/settings.lock`)).isFile);
  await assert.rejects(Deno.lstat(`${elsewhere.home}/made-by-lock`), Deno.errors.NotFound);
  // A malformed refusal record crashes nothing.
  await Deno.writeTextFile(
    `${tmp.dir}/settings.json`,
    JSON.stringify({
      format: "armor-api-auth/cli-settings",
      users: {},
      accounts: {},
      failures: { [key]: { at: 9e15, message: "x", login: null } },
    }),
  );
  assert.equal((await cli(["logout"], { home: tmp.home, env: bare })).code, 0);
  const token = await cli(["token"], { home: tmp.home, env });
  assert.equal(token.code, 0, token.stderr);
});

Deno.test("api never prints a token the server echoes, even in the 401 that rejects it", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  const env = credentials(served.baseUrl);
  assert.equal((await cli(["login"], { home: tmp.home, env })).code, 0);
  const token = served.mock.issuedTokens[0];
  for (const status of [500, 401]) {
    served.mock.inject({
      path: "/me",
      status,
      body: { error: "echo", error_description: `token ${token}, password ${PASSWORD}` },
      times: status === 401 ? 3 : 1,
    });
    const run = await cli(["api", "/me"], { home: tmp.home, env });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^HTTP ${status}.*\\[REDACTED\\]`));
    assert.ok(!run.stderr.includes(token), `${status}: ${run.stderr}`);
    assert.ok(!run.stderr.includes(PASSWORD), `${status}: ${run.stderr}`);
  }
});

Deno.test("a config folder open to others that cannot be made private is not written in", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi();
  // Open to all and immutable (chattr +i): chmod fails, as on another user's folder.
  await Deno.mkdir(tmp.dir, { mode: 0o777 });
  await Deno.chmod(tmp.dir, 0o777);
  const chattr = (flag: string) =>
    new Deno.Command("chattr", { args: [flag, tmp.dir], stderr: "null" }).output().then(
      (o) => o.success,
      () => false,
    );
  if (!await chattr("+i")) {
    console.log("No chattr +i here (not root, or no ext4): the foreign-folder case did not run");
    return;
  }
  try {
    const env = credentials(served.baseUrl);
    for (const args of [["login"], ["token"], ["logout"], ["use", "1001"]]) {
      const run = await cli(args, { home: tmp.home, env });
      assert.notEqual(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /open to others and cannot be made private/);
    }
    assert.equal(served.mock.count("/auth/authorize"), 0, "no login into a folder not ours");
  } finally {
    await chattr("-i");
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(tmp.dir)) names.push(entry.name);
  assert.deepEqual(names, []);
});

Deno.test("the command judges a stored login as the library does", () => {
  const now = Date.now();
  const token = {
    accessToken: "0123456789abcdef0123456789abcdef",
    issuedAt: now,
    expiresAt: now + 9e5,
  };
  const values: unknown[] = [
    undefined,
    null,
    [],
    "x",
    {},
    { token },
    { token, identity: { username: "u", accounts: [{ id: 1, name: "A" }] } },
    { token, identity: { accounts: "x" } },
    { token, identity: 7 },
    { token, identity: { username: "u", accounts: [null, 5] } },
    { token, identity: { username: "u", accounts: [{ id: -1 }] } },
    { token, identity: { username: "u", accounts: [{ id: 1.5 }] } },
    { token: { ...token, expiresAt: 9_999_999_999_999 } },
    { token: { ...token, expiresAt: now } },
    { token: { ...token, expiresAt: "later" } },
    { token: { ...token, issuedAt: Number.NaN } },
    { token: { ...token, accessToken: "0123456789ABCDEF0123456789ABCDEF" } },
    { token: { ...token, accessToken: "0123456789abcdef0123456789abcdef\n" } },
    { token: null },
    { claim: { owner: "o", purpose: "login", until: now } },
    { claim: { owner: "o", purpose: "steal", until: now } },
    { claim: { owner: 1, purpose: "renew", until: now } },
    { login: { username: "u", salt: "00", verifier: "11" } },
    { login: { username: "u", salt: 1, verifier: "11" } },
    { server: 1 },
    { server: "https://api.armor.com/" },
    { username: ["u"] },
    { identityTrimmed: "yes" },
    { identityTrimmed: true },
    { sealed: { v: 1, kid: "k", iv: "i", ct: "c", until: now } },
  ];
  for (const value of values) {
    assert.equal(wellFormedValue(value), isWellFormed(value), JSON.stringify(value));
  }
});

Deno.test("with an API key, accounts lists the key's accounts and use picks the one api sends", async () => {
  await using tmp = await scratch();
  const key = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "psk-secret-value-42" };
  await using served = await serveMockArmorApi({ apiKeys: [key] });
  const env = {
    ARMOR_BASE_URL: served.baseUrl,
    ARMOR_API_KEY_ID: key.id,
    ARMOR_API_SECRET_KEY: key.secret,
  };
  const accounts = await cli(["accounts"], { home: tmp.home, env });
  assert.equal(accounts.code, 0, accounts.stderr);
  assert.deepEqual(lines(accounts.stdout), ["* 1001\tDemo Production", "  1002\tDemo Staging"]);
  const fromEnv = await cli(["api", "/me"], {
    home: tmp.home,
    env: { ...env, ARMOR_ACCOUNT_ID: "1002" },
  });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(served.mock.requests.at(-1)!.headers["x-account-context"], "1002");
  const use = await cli(["use", "1002"], { home: tmp.home, env });
  assert.equal(use.code, 0, use.stderr);
  assert.match((await cli(["accounts"], { home: tmp.home, env })).stdout, /\* 1002/);
  assert.equal((await cli(["api", "/me"], { home: tmp.home, env })).code, 0);
  assert.equal(served.mock.requests.at(-1)!.headers["x-account-context"], "1002");
  assert.equal((await cli(["logout"], { home: tmp.home, env })).code, 0);
  assert.equal((await cli(["api", "/me"], { home: tmp.home, env })).code, 0);
  assert.equal(served.mock.requests.at(-1)!.headers["x-account-context"], "1001");
  assert.equal(served.mock.count("/auth/authorize"), 0);
  for (const run of [accounts, fromEnv, use]) assert.ok(!run.stderr.includes(key.secret));
});

Deno.test("login says so when it waits for a script's sign-in in progress", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi({
    users: [{
      username: USER,
      password: PASSWORD,
      accounts: [{ id: 1001, name: "Prod" }],
      mfaDelayMs: 2_500,
    }],
  });
  // A script signs in through the same store, waiting for its approval.
  const script = ArmorSession.connect({
    username: USER,
    password: PASSWORD,
    baseUrl: served.baseUrl,
    store: new FileTokenStore({ dir: tmp.dir }),
  });
  const store = new FileTokenStore({ dir: tmp.dir });
  const key = `${served.url.href}#${USER}`;
  for (let i = 0; (await store.get(key))?.value.claim === undefined; i++) {
    assert.ok(i < 200, "the script never claimed the login");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const run = await cli(["login"], { home: tmp.home, env: credentials(served.baseUrl) });
  const session = await script;
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /^Waiting for a sign-in in progress elsewhere .*[0-9]:[0-5][0-9] left$/m,
  );
  assert.equal(served.mock.count("/auth/authorize"), 1, "one login for both");
  assert.equal(session.token, served.mock.issuedTokens[0]);
  await session.disconnect();
});

Deno.test("no secret in the process's arguments while it signs in (what ps shows)", async () => {
  await using tmp = await scratch();
  await using served = await serveMockArmorApi({
    users: [{
      username: USER,
      password: PASSWORD,
      accounts: [{ id: 1001, name: "Prod" }],
      mfaDelayMs: 1_500,
    }],
  });
  const child = cliCommand(["login"], { home: tmp.home, env: credentials(served.baseUrl) })
    .spawn();
  // While it waits for the approval, read its command line as any user could.
  for (let i = 0; served.mock.count("/auth/authorize") < 1; i++) {
    assert.ok(i < 300, "it never signed in");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const cmdline = await new Deno.Command("cat", { args: [`/proc/${child.pid}/cmdline`] })
    .output().then((o) => new TextDecoder().decode(o.stdout), () => undefined);
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  if (cmdline === undefined || cmdline === "") {
    console.log("No /proc here: the command line was not read");
    return;
  }
  assert.match(cmdline, /login/);
  assert.ok(!cmdline.includes(PASSWORD), "the password is in the command line");
  const token = served.mock.issuedTokens[0];
  assert.ok(!cmdline.includes(token));
});
