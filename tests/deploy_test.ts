// Runs examples/deploy.ts with `deno serve --parallel` (two isolates sharing one Deno KV
// file) against the mock Armor API, and counts logins and reissues at the mock.

import assert from "node:assert/strict";
import { serveMockArmorApi } from "../src/testing/mod.ts";

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

Deno.test("deploy example: two isolates share one login and reissue once per window", async () => {
  // A 3-second session: renewal is due every second, so the test sees several windows.
  await using server = await serveMockArmorApi({ expiresIn: 0.05 });
  await Deno.mkdir(".tmp", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: ".tmp", prefix: "deploy-kv-" });
  const port = freePort();
  const child = new Deno.Command("deno", {
    args: [
      "serve",
      "--parallel",
      "--host=127.0.0.1",
      `--port=${port}`,
      "--unstable-kv",
      "--allow-net=127.0.0.1",
      "--allow-env",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      "examples/deploy.ts",
    ],
    env: {
      DENO_JOBS: "2",
      ARMOR_USERNAME: "demo@example.com",
      ARMOR_PASSWORD: "demo-password",
      ARMOR_BASE_URL: server.baseUrl,
      ARMOR_KV_PATH: `${dir}/armor.sqlite3`,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    child.stdout.pipeTo(new WritableStream()).catch(() => {});
    child.stderr.pipeTo(new WritableStream()).catch(() => {});
    const base = `http://127.0.0.1:${port}`;
    await waitUntilServing(base, 30_000);

    const burst = async (n: number) => {
      const responses = await Promise.all(
        Array.from({ length: n }, (_, i) => fetch(`${base}/${i % 2 ? "identity" : "accounts"}`)),
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
    assert.equal(first[1].UserName, "demo@example.com");
    assert.deepEqual(first[0].map((a: { ID: number }) => a.ID), [1001, 1002]);

    // Keep the app busy through about three renewal windows.
    const until = Date.now() + 3_500;
    while (Date.now() < until) {
      await burst(20);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const reissued = server.mock.requests
      .filter((r) => r.path === "/auth/token/reissue")
      .map((r) => (r.body as { token: string }).token);
    console.log(`reissues: ${reissued.length}, logins: ${server.mock.count("/auth/authorize")}`);
    assert.ok(reissued.length >= 2, `expected renewals, saw ${reissued.length}`);
    assert.ok(reissued.length <= 5, `at most one reissue per window, saw ${reissued.length}`);
    assert.equal(new Set(reissued).size, reissued.length, "no token was reissued twice");
    assert.equal(server.mock.count("/auth/authorize"), 1, "still one login");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
