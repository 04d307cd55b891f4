// Runs examples/deploy.ts with `deno serve` (this very Deno, never one from PATH) against
// the mock Armor API: two isolates sharing one Deno KV file make one login and one
// reissue per renewal window; requests without the bearer secret get 401; the login
// kept in KV is encrypted with ARMOR_STORE_SECRET, without which a password login is
// refused.
// Deno KV comes from deno.json's "unstable": ["kv"], as on Deno Deploy: no flag.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type ServedMockArmorApi, serveMockArmorApi } from "../src/testing/mod.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SECRET = "a-bearer-secret-for-tests-0123456789";
const AUTH = { authorization: `Bearer ${SECRET}` };

/** Every setting the example reads: the ones not given are blank, whatever the shell has. */
const SETTINGS = [
  "ARMOR_USERNAME",
  "ARMOR_PASSWORD",
  "ARMOR_BASE_URL",
  "ARMOR_ACCOUNT_ID",
  "ARMOR_API_KEY_ID",
  "ARMOR_API_SECRET_KEY",
  "ARMOR_API_BODY_SIGNING",
  "ARMOR_KV_PATH",
  "ARMOR_STORE_SECRET",
  "ARMOR_STORE_SECRET_OLD",
  "DEPLOY_BEARER_SECRET",
];

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Polls the app until it answers, for at most `ms`. */
async function waitUntilServing(base: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (true) {
    try {
      const response = await fetch(`${base}/`);
      await response.body?.cancel();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`deno serve did not start: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

interface App extends AsyncDisposable {
  base: string;
  /** The KV folder under .tmp, removed on dispose. */
  dir: string;
}

/** Serves examples/deploy.ts on a free loopback port with `env`, and waits until it answers. */
async function serveExample(
  server: ServedMockArmorApi,
  env: Record<string, string>,
  parallel = false,
  /** A KV folder to use (and keep) instead of a new one. */
  kvDir?: string,
): Promise<App> {
  await Deno.mkdir(".tmp", { recursive: true });
  const dir = kvDir ?? await Deno.makeTempDir({ dir: ".tmp", prefix: "deploy-kv-" });
  const port = freePort();
  const blank = Object.fromEntries(SETTINGS.map((name) => [name, ""]));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      `--config=${ROOT}deno.json`,
      ...(parallel ? ["--parallel"] : []),
      "--host=127.0.0.1",
      `--port=${port}`,
      "--allow-net=127.0.0.1",
      // As the example's doc comment gives it: ARMOR_* covers ARMOR_STORE_SECRET(_OLD).
      "--allow-env=ARMOR_*,DEPLOY_BEARER_SECRET",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      `${ROOT}examples/deploy.ts`,
    ],
    env: {
      ...blank,
      DENO_JOBS: "2",
      NO_COLOR: "1",
      ARMOR_BASE_URL: server.baseUrl,
      ARMOR_KV_PATH: `${dir}/armor.sqlite3`,
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    if (kvDir === undefined) await Deno.remove(dir, { recursive: true });
  };
  child.stdout.pipeTo(new WritableStream()).catch(() => {});
  child.stderr.pipeTo(new WritableStream()).catch(() => {});
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(base, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, dir, [Symbol.asyncDispose]: stop };
}

const STORE_SECRET = "a-store-secret-for-tests-of-32-characters-or-more";

const PASSWORD_LOGIN = {
  ARMOR_USERNAME: "demo@example.com",
  ARMOR_PASSWORD: "demo-password",
  ARMOR_STORE_SECRET: STORE_SECRET,
  DEPLOY_BEARER_SECRET: SECRET,
};

/** Every byte of the KV database's files (the database, its WAL), as a copy would hold. */
async function kvBytes(dir: string): Promise<string> {
  let all = "";
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    all += new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${entry.name}`));
  }
  return all;
}

Deno.test("deploy example: two isolates share one login and reissue once per window", async () => {
  // A 3-second session: renewal is due every second, so the test sees several windows.
  await using server = await serveMockArmorApi({ expiresIn: 0.05 });
  await using app = await serveExample(server, PASSWORD_LOGIN, true);

  const burst = async (n: number) => {
    const responses = await Promise.all(
      Array.from(
        { length: n },
        (_, i) => fetch(`${app.base}/${i % 2 ? "identity" : "accounts"}`, { headers: AUTH }),
      ),
    );
    const bodies = await Promise.all(responses.map((r) => r.json()));
    for (const [i, response] of responses.entries()) {
      assert.equal(response.status, 200, JSON.stringify(bodies[i]));
    }
    return bodies;
  };

  const first = await burst(100);
  assert.equal(server.mock.count("/auth/authorize"), 1, "one login for both isolates");
  assert.equal(server.mock.count("/auth/token"), 1);
  assert.equal(first[1].username, "demo@example.com");
  assert.equal(first[1].accountId, 1001);
  assert.deepEqual(first[1].accounts.map((a: { id: number }) => a.id), [1001, 1002]);
  assert.deepEqual(first[0].map((a: { id: number }) => a.id), [1001, 1002]);

  // Keep the app busy through about three renewal windows.
  const until = Date.now() + 3_500;
  while (Date.now() < until) {
    await burst(20);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const reissued = server.mock.requests
    .filter((r) => r.path === "/auth/token/reissue")
    .map((r) => (r.body as { token: string }).token);
  assert.ok(reissued.length >= 2, `expected renewals, saw ${reissued.length}`);
  assert.ok(reissued.length <= 5, `at most one reissue per window, saw ${reissued.length}`);
  assert.equal(new Set(reissued).size, reissued.length, "no token was reissued twice");
  assert.equal(server.mock.count("/auth/authorize"), 1, "still one login");
});

Deno.test("deploy example: no bearer secret, or a wrong one, gets 401 and calls nothing", async () => {
  await using server = await serveMockArmorApi();
  await using app = await serveExample(server, PASSWORD_LOGIN);

  const refusals: [string, HeadersInit][] = [
    ["no Authorization header", {}],
    ["a wrong secret", { authorization: "Bearer not-the-secret-at-all-0123456789" }],
    ["the secret plus one character", { authorization: `Bearer ${SECRET}x` }],
    ["a prefix of the secret", { authorization: `Bearer ${SECRET.slice(0, -1)}` }],
    ["another scheme", { authorization: `Basic ${btoa(`user:${SECRET}`)}` }],
    ["an empty bearer", { authorization: "Bearer " }],
  ];
  for (const path of ["/identity", "/accounts", "/nowhere"]) {
    for (const [what, headers] of refusals) {
      const response = await fetch(`${app.base}${path}`, { headers });
      const body = await response.text();
      assert.equal(response.status, 401, `${what} on ${path}: ${body}`);
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.ok(!body.includes(SECRET), "the answer does not show the secret");
    }
  }
  assert.equal(server.mock.requests.length, 0, "no refused request reached the Armor API");

  const allowed = await fetch(`${app.base}/identity`, {
    headers: { authorization: `bearer ${SECRET}` },
  });
  assert.equal(allowed.status, 200, await allowed.clone().text());
  assert.equal((await allowed.json()).username, "demo@example.com");
  assert.ok((await Deno.stat(`${app.dir}/armor.sqlite3`)).isFile, "a password login uses KV");
});

Deno.test("deploy example: without DEPLOY_BEARER_SECRET it serves nothing", async () => {
  await using server = await serveMockArmorApi();
  await using app = await serveExample(server, { ...PASSWORD_LOGIN, DEPLOY_BEARER_SECRET: "" });

  const attempts: HeadersInit[] = [{}, { authorization: `Bearer ${SECRET}` }];
  for (const headers of attempts) {
    const response = await fetch(`${app.base}/identity`, { headers });
    const body = await response.json();
    assert.equal(response.status, 500);
    assert.match(body.error, /^Set DEPLOY_BEARER_SECRET/);
  }
  assert.equal(server.mock.requests.length, 0);
});

Deno.test("deploy example: an API key wins over a password and needs no login and no KV", async () => {
  const key = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "a-secret-key-for-tests" };
  await using server = await serveMockArmorApi({ apiKeys: [key] });
  await using app = await serveExample(server, {
    ...PASSWORD_LOGIN,
    ARMOR_API_KEY_ID: key.id,
    ARMOR_API_SECRET_KEY: key.secret,
  });

  const identity = await fetch(`${app.base}/identity`, { headers: AUTH });
  const me = await identity.json();
  assert.equal(identity.status, 200, JSON.stringify(me));
  assert.equal(me.username, "demo@example.com");
  const accounts = await fetch(`${app.base}/accounts`, { headers: AUTH });
  const list = await accounts.json();
  assert.equal(accounts.status, 200, JSON.stringify(list));
  assert.deepEqual(list.map((a: { id: number }) => a.id), [1001, 1002]);
  assert.ok(!JSON.stringify([me, list]).includes(key.secret), "no answer shows the secret key");

  assert.ok(server.mock.requests.length >= 2);
  for (const request of server.mock.requests) {
    assert.match(request.headers["authorization"], new RegExp(`^ARMOR-PSK ${key.id}:`));
    assert.ok(!request.path.startsWith("/auth/"), `no login call, saw ${request.path}`);
  }
  await assert.rejects(Deno.stat(`${app.dir}/armor.sqlite3`), Deno.errors.NotFound, "no KV");
});

Deno.test("deploy example: the login kept in KV is encrypted: its files hold no token and no user name", async () => {
  await using server = await serveMockArmorApi();
  await using app = await serveExample(server, PASSWORD_LOGIN);
  const response = await fetch(`${app.base}/identity`, { headers: AUTH });
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal((await response.json()).username, "demo@example.com");

  const bytes = await kvBytes(app.dir);
  const [token] = server.mock.issuedTokens;
  assert.equal(typeof token, "string");
  for (const secret of [token, "demo@example.com", "demo-password", server.baseUrl]) {
    assert.ok(!bytes.includes(secret), `${secret} shows in the KV files`);
  }
  assert.ok(bytes.includes("sealed"), "the login is in KV, sealed");
});

Deno.test("deploy example: a password login without ARMOR_STORE_SECRET is refused and says what to set", async () => {
  await using server = await serveMockArmorApi();
  for (
    const [env, message] of [
      [{ ARMOR_STORE_SECRET: "" }, /^Set ARMOR_STORE_SECRET to a secret of at least 32 characters/],
      [{ ARMOR_STORE_SECRET: "too-short-store-secret" }, /^Set ARMOR_STORE_SECRET/],
      [{ ARMOR_STORE_SECRET_OLD: "too-short-old-secret" }, /^ARMOR_STORE_SECRET_OLD must be/],
    ] as const
  ) {
    await using app = await serveExample(server, { ...PASSWORD_LOGIN, ...env });
    const response = await fetch(`${app.base}/identity`, { headers: AUTH });
    const body = await response.json();
    assert.equal(response.status, 500, JSON.stringify(body));
    assert.match(body.error, message);
    assert.ok(!JSON.stringify(body).includes("too-short"), "the answer never shows a secret");
    await assert.rejects(Deno.stat(`${app.dir}/armor.sqlite3`), Deno.errors.NotFound, "no KV");
  }
  assert.equal(server.mock.requests.length, 0, "no login was made");
});

Deno.test("deploy example: with ARMOR_STORE_SECRET_OLD, a login stored under the old secret is reused", async () => {
  await using server = await serveMockArmorApi();
  const old = "the-previous-store-secret-of-32-characters-or-more";
  await Deno.mkdir(".tmp", { recursive: true });
  const kvDir = await Deno.makeTempDir({ dir: ".tmp", prefix: "deploy-rotate-" });
  try {
    const before = { ...PASSWORD_LOGIN, ARMOR_STORE_SECRET: old };
    {
      await using app = await serveExample(server, before, false, kvDir);
      const response = await fetch(`${app.base}/identity`, { headers: AUTH });
      assert.equal(response.status, 200, await response.clone().text());
    }
    assert.equal(server.mock.count("/auth/authorize"), 1);
    const rotated = { ...before, ARMOR_STORE_SECRET: STORE_SECRET, ARMOR_STORE_SECRET_OLD: old };
    await using app = await serveExample(server, rotated, false, kvDir);
    const response = await fetch(`${app.base}/identity`, { headers: AUTH });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(server.mock.count("/auth/authorize"), 1, "the old secret's login is reused");
  } finally {
    await Deno.remove(kvDir, { recursive: true });
  }
});
