// Runs an example as a user would: a child `deno run` (this very Deno, never one from
// PATH), in a scratch working directory under .tmp, with only the environment given.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { MockArmorApi } from "../src/testing/mod.ts";

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** What a run printed, and how it ended. */
export interface ExampleRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runExample}. */
export interface RunExampleOptions {
  /** The child's whole environment (besides what Deno itself needs). */
  env?: Record<string, string>;
  /** The `.env` file to put in the working directory; none when absent. */
  envFile?: string;
  /** Kills the child after this long. Default: 60 s. */
  timeout?: number;
}

/** The variables Deno itself needs to find its cache, where this test may read them. */
function denoEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["DENO_DIR", "HOME"]) {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") continue;
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Runs `deno run <flags> <script>` with the repository's config, in a fresh directory
 * under `.tmp` (removed afterwards), with `clearEnv`. Needs `--allow-run` for
 * `Deno.execPath()` and `--allow-read=.tmp --allow-write=.tmp`.
 *
 * @param flags The `deno run` flags, e.g. the example's permissions.
 * @param script The script, relative to the repository root.
 */
export async function runExample(
  flags: string[],
  script: string,
  options: RunExampleOptions = {},
): Promise<ExampleRun> {
  await Deno.mkdir(".tmp", { recursive: true });
  const cwd = await Deno.makeTempDir({ dir: ".tmp", prefix: "example-" });
  try {
    if (options.envFile !== undefined) await Deno.writeTextFile(`${cwd}/.env`, options.envFile);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--config=${ROOT}deno.json`, ...flags, `${ROOT}${script}`],
      cwd,
      clearEnv: true,
      env: { ...denoEnv(), ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeout ?? 60_000),
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/** Asserts that a run failed with one clean line on stderr: no stack, no Deno error. */
export function assertOneLine(run: ExampleRun, code: number): string {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  const errors = lines(run.stderr);
  assert.equal(errors.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /Uncaught|^\s+at /m, "no uncaught error, no stack");
  return errors[0];
}

/**
 * Every secret a mock saw or gave out: passwords and codes in request bodies, tokens it
 * issued or received, and signatures of signed requests; plus the `extra` ones.
 */
export function secretsOf(mock: MockArmorApi, extra: string[] = []): string[] {
  const secrets = new Set<string>([...extra, ...mock.issuedTokens]);
  for (const request of mock.requests) {
    const body = request.body;
    if (typeof body === "object" && body !== null) {
      for (const [name, value] of Object.entries(body)) {
        if (/password|code|token/i.test(name) && typeof value === "string") secrets.add(value);
      }
    }
    const authorization = request.headers["authorization"];
    if (authorization !== undefined) {
      // FH-AUTH <token>, or ARMOR-PSK <key id>:<signature>:<nonce>:<timestamp>
      const credentials = authorization.replace(/^\S+\s+/, "");
      const parts = credentials.split(":");
      secrets.add(parts.length === 4 ? parts[1] : credentials);
    }
  }
  return [...secrets].filter((secret) => secret.length >= 6);
}

/** Asserts that no secret appears in what a run printed. */
export function assertNoSecret(run: ExampleRun, secrets: string[]): void {
  const printed = run.stdout + run.stderr;
  for (const secret of secrets) {
    assert.ok(!printed.includes(secret), `a secret was printed: ${secret.slice(0, 3)}…`);
  }
}
