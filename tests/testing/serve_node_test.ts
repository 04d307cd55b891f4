// serveMockArmorApi off Deno: bundles src/testing/mod.ts and runs serve_node_smoke.mjs on
// Node (and on Bun when compat/node has installed it). Needs --allow-run and
// --allow-read/--allow-write on .tmp; ignored without them or without a `node` on PATH.
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const SMOKE = new URL("./serve_node_smoke.mjs", import.meta.url).pathname;
const BUN = `${ROOT}compat/node/node_modules/.bin/bun`;
const TIMEOUT_MS = 60_000;

async function granted(...descriptors: Deno.PermissionDescriptor[]): Promise<boolean> {
  for (const descriptor of descriptors) {
    if ((await Deno.permissions.query(descriptor)).state !== "granted") return false;
  }
  return true;
}

async function run(command: string, args: string[]) {
  const output = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function has(command: string): Promise<boolean> {
  try {
    return (await run(command, ["--version"])).code === 0;
  } catch {
    return false;
  }
}

const canRun = await granted(
  { name: "run" },
  { name: "read", path: `${ROOT}.tmp` },
  { name: "write", path: `${ROOT}.tmp` },
);
const runtimes: [name: string, command: string][] = [];
if (canRun && await has("node")) runtimes.push(["node", "node"]);
if (canRun && await has(BUN)) runtimes.push(["bun", BUN]);

Deno.test({
  name: "serveMockArmorApi serves, faults and closes on Node and Bun (from a bundle)",
  ignore: runtimes.length === 0,
  async fn(t) {
    await Deno.mkdir(`${ROOT}.tmp`, { recursive: true });
    const dir = await Deno.makeTempDir({ dir: `${ROOT}.tmp`, prefix: "mock-node-" });
    try {
      const bundle = `${dir}/testing.mjs`;
      const bundled = await run(Deno.execPath(), [
        "bundle",
        "--quiet",
        "--platform=browser",
        "--format=esm",
        "-o",
        bundle,
        "src/testing/mod.ts",
      ]);
      assert.equal(bundled.code, 0, bundled.stderr);
      for (const [name, command] of runtimes) {
        await t.step(name, async () => {
          const result = await run(command, [SMOKE, bundle]);
          assert.equal(result.code, 0, result.stderr);
          const seen = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
          assert.equal(seen.deno, "undefined");
          assert.match(seen.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
          assert.equal(seen.tokenType, "FH-AUTH");
          assert.deepEqual(seen.me, [200, "demo@example.com"]);
          assert.deepEqual(seen.fault, [503, "1", "injected_fault"]);
          assert.equal(seen.pending, 503);
          assert.ok(seen.closeMs < 2_000, `close took ${seen.closeMs} ms`);
          assert.deepEqual(seen.log, [200, 200, 200, 503, 503]);
          assert.equal(seen.afterClose, "refused");
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
