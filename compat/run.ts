// `deno task compat`: runs the smoke flow of compat/smoke.mjs (connect, GET /me, reissue,
// GET /accounts, disconnect; an API key from connectOptionsFromEnv signing a POST raw and
// sha512) on Deno from source, and on Node, Bun and Cloudflare workerd
// (through Miniflare) from a bundle of mod.ts. The runtimes run at the same time, each
// against its own mock Armor API served here on 127.0.0.1.
//
// Prints `PASS <runtime>` or `FAIL <runtime>: <reason>` a line each, then
// `N passed, N failed`, and exits 1 on any failure. Installs Bun and Miniflare from
// compat/node/package-lock.json (`npm ci`) when compat/node/node_modules is missing or
// older than the lockfile. Bounded: the bundle and the install (at most 2 minutes, at
// the same time), then the runtimes (at most 45 s each, at the same time).

import { serveMockArmorApi } from "../src/testing/mod.ts";
import { API_KEYS } from "./smoke.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
const NPM = `${ROOT}compat/node`;
const BUN = `${NPM}/node_modules/.bin/bun`;
const WORKERD = `${NPM}/node_modules/.bin/workerd`;
/** What one runtime may take, start to exit. */
const RUNTIME_TIMEOUT_MS = 45_000;
/** What `npm ci` may take on a fresh machine (Bun and workerd are large downloads). */
const INSTALL_TIMEOUT_MS = 120_000;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

interface Report {
  ok?: boolean;
  steps?: string[];
  step?: string;
  error?: string;
}

interface Runtime {
  name: string;
  command: string;
  args: (baseUrl: string) => string[];
  /** Why it cannot run at all, e.g. the bundle failed. */
  blocked?: string;
}

/** Runs a command from the repository root in its own process group, killed after `ms`. */
async function run(command: string, args: string[], ms: number): Promise<Outcome> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      Deno.kill(-child.pid, "SIGKILL"); // the whole group: workerd runs as a grandchild
    } catch {
      // Already gone.
    }
  }, ms);
  try {
    const { code, stdout, stderr } = await child.output();
    const decoder = new TextDecoder();
    return {
      code: timedOut ? null : code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The last non-empty line of a text. */
function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.trim() ?? "";
}

/** Cuts a line to at most 300 characters. */
function shorten(line: string): string {
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

/** The line of a program's output that says what went wrong: its first error line. */
function errorLine(text: string): string {
  // deno prints a backtrace after the error when RUST_BACKTRACE is set. (NO_COLOR is set.)
  const plain = text.split("Stack backtrace:")[0];
  const lines = plain.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  return shorten(lines.find((line) => /error/i.test(line)) ?? lines.at(-1) ?? "no output");
}

function failure(outcome: Outcome, what: string, ms: number): string {
  if (outcome.timedOut) return `${what} did not finish within ${ms / 1000} s`;
  return `${what} exited with ${outcome.code}: ${errorLine(outcome.stderr || outcome.stdout)}`;
}

async function mtime(file: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(file)).mtime?.getTime();
  } catch {
    return undefined;
  }
}

/** Bundles mod.ts for the runtimes that cannot read TypeScript; the error, if any. */
async function bundle(output: string): Promise<string | undefined> {
  const args = ["bundle", "--quiet", "--platform=browser", "--format=esm", "-o", output, "mod.ts"];
  const outcome = await run(Deno.execPath(), args, INSTALL_TIMEOUT_MS);
  return outcome.code === 0 ? undefined : failure(outcome, "deno bundle", INSTALL_TIMEOUT_MS);
}

/** Installs compat/node/node_modules from the lockfile unless it is current; the error. */
async function install(): Promise<string | undefined> {
  const installed = await mtime(`${NPM}/node_modules/.package-lock.json`);
  const locked = await mtime(`${NPM}/package-lock.json`);
  if (installed !== undefined && locked !== undefined && installed >= locked) return undefined;
  const args = ["ci", "--prefix", NPM, "--no-audit", "--no-fund", "--loglevel=error"];
  try {
    const outcome = await run("npm", args, INSTALL_TIMEOUT_MS);
    return outcome.code === 0 ? undefined : failure(outcome, "npm ci", INSTALL_TIMEOUT_MS);
  } catch (error) {
    return `could not run npm: ${(error as Error).message}`;
  }
}

async function version(command: string): Promise<string> {
  try {
    const outcome = await run(command, ["--version"], 10_000);
    return outcome.code === 0 ? lastLine(outcome.stdout) : "unknown";
  } catch {
    return "not found";
  }
}

/** Runs the flow on one runtime; the reason it failed, or undefined. */
async function smokeOn(runtime: Runtime): Promise<string | undefined> {
  if (runtime.blocked !== undefined) return runtime.blocked;
  await using server = await serveMockArmorApi({ apiKeys: API_KEYS });
  // For the timeout step: a path the mock holds for 5 s before answering.
  server.mock.inject({ path: "/slow", delayMs: 5_000, status: 200, body: {}, times: Infinity });
  let outcome: Outcome;
  try {
    outcome = await run(runtime.command, runtime.args(server.baseUrl), RUNTIME_TIMEOUT_MS);
  } catch (error) {
    return `could not start ${runtime.command}: ${(error as Error).message}`;
  }
  let report: Report | undefined;
  try {
    report = JSON.parse(lastLine(outcome.stdout));
  } catch {
    report = undefined;
  }
  if (report?.ok === false) {
    return `${report.step ?? "?"} failed: ${shorten(report.error ?? "no error")}`;
  }
  if (report?.ok !== true) return failure(outcome, runtime.name, RUNTIME_TIMEOUT_MS);
  if (outcome.timedOut) {
    return `the flow passed but the process did not exit within ${RUNTIME_TIMEOUT_MS / 1000} s`;
  }
  if (outcome.code !== 0) return failure(outcome, runtime.name, RUNTIME_TIMEOUT_MS);
  const logins = server.mock.count("/auth/authorize");
  const reissues = server.mock.count("/auth/token/reissue");
  if (logins !== 1 || reissues !== 1) {
    return `the mock saw ${logins} logins and ${reissues} reissues, expected 1 and 1`;
  }
  return undefined;
}

// The bundle goes to a fresh folder under .tmp/ that is removed at the end, so that no
// other command (`deno test --doc`) finds a stale copy of the module there.
await Deno.mkdir(`${ROOT}.tmp`, { recursive: true });
const outDir = await Deno.makeTempDir({ dir: `${ROOT}.tmp`, prefix: "compat-" });
let failed = 0;
try {
  const bundled = `${outDir}/mod.mjs`;
  const [bundleError, installError] = await Promise.all([bundle(bundled), install()]);
  const runtimes: Runtime[] = [
    {
      name: "deno",
      command: Deno.execPath(),
      args: (base) => ["run", "--allow-net=127.0.0.1", "compat/deno_entry.ts", base],
    },
    {
      name: "node",
      command: "node",
      args: (base) => ["compat/node/node_entry.mjs", bundled, base],
      blocked: bundleError,
    },
    {
      name: "bun",
      command: BUN,
      args: (base) => ["compat/node/node_entry.mjs", bundled, base],
      blocked: bundleError ?? installError,
    },
    {
      name: "workerd",
      command: "node",
      args: (base) => ["compat/node/workerd_entry.mjs", bundled, base],
      blocked: bundleError ?? installError,
    },
  ];
  const [node, bun, workerd] = await Promise.all([
    version("node"),
    installError ? "not installed" : version(BUN),
    installError ? "workerd not installed" : version(WORKERD),
  ]);
  console.log(
    `compat: deno ${Deno.version.deno}, node ${node}, bun ${bun}, ${workerd} (Miniflare)`,
  );

  const reasons = await Promise.all(runtimes.map(smokeOn));
  for (const [i, runtime] of runtimes.entries()) {
    const reason = reasons[i];
    if (reason !== undefined) failed++;
    console.log(reason === undefined ? `PASS ${runtime.name}` : `FAIL ${runtime.name}: ${reason}`);
  }
  console.log(`${runtimes.length - failed} passed, ${failed} failed`);
} finally {
  await Deno.remove(outDir, { recursive: true });
}
if (failed > 0) Deno.exit(1);
