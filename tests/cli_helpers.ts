// Runs `armor-auth` as a user would: a child `deno run` of src/cli/main.ts (this very Deno)
// with the narrow permissions of its install line, aimed at a mock Armor API on loopback,
// with its config folder in a scratch directory under .tmp.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { FileTokenStore } from "../src/file_token_store.ts";
import type { ServedMockArmorApi } from "../src/testing/mod.ts";

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The command line's entry. */
export const CLI = `${ROOT}src/cli/main.ts`;

/** The variables the command reads: all of them, so a test's environment never leaks in. */
export const CLI_ENV_NAMES = [
  "ARMOR_USERNAME",
  "ARMOR_PASSWORD",
  "ARMOR_BASE_URL",
  "ARMOR_ACCOUNT_ID",
  "ARMOR_API_KEY_ID",
  "ARMOR_API_SECRET_KEY",
  "ARMOR_API_BODY_SIGNING",
  "HOME",
  "XDG_CONFIG_HOME",
];

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

/** A scratch config home under .tmp; the folder the store uses is `<home>/armor-api-auth`. */
export async function scratch(
  prefix = "cli-",
): Promise<{ home: string; dir: string } & AsyncDisposable> {
  await Deno.mkdir(`${ROOT}.tmp`, { recursive: true });
  const home = await Deno.makeTempDir({ dir: `${ROOT}.tmp`, prefix });
  return {
    home,
    dir: `${home}/armor-api-auth`,
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }).catch(() => {}),
  };
}

/** What a run printed, and how it ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Options of {@linkcode cliCommand}. */
export interface CliOptions {
  /** The scratch config home (`XDG_CONFIG_HOME`). */
  home: string;
  /** ARMOR_* variables; the rest are set empty. */
  env?: Record<string, string>;
  /** Input on stdin; none by default. */
  stdin?: string;
  /** The `deno run` permissions; default: the install line's, for this home and loopback. */
  flags?: string[];
  /** Kills the process after this long. Default: 60 s. */
  timeout?: number;
}

/** The install line's permissions, for a config home and the loopback mock. */
export function cliFlags(home: string): string[] {
  return [
    "--allow-net=127.0.0.1",
    `--allow-env=${CLI_ENV_NAMES.join(",")}`,
    `--allow-read=${home}/armor-api-auth`,
    `--allow-write=${home}/armor-api-auth`,
  ];
}

/** Builds the child process of one `armor-auth` invocation. */
export function cliCommand(args: string[], options: CliOptions): Deno.Command {
  const env: Record<string, string> = denoEnv();
  for (const name of CLI_ENV_NAMES) if (name !== "HOME") env[name] = "";
  Object.assign(env, options.env, { XDG_CONFIG_HOME: options.home });
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--config=${ROOT}deno.json`,
      ...(options.flags ?? cliFlags(options.home)),
      CLI,
      ...args,
    ],
    cwd: ROOT,
    clearEnv: true,
    env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeout ?? 60_000),
  });
}

/** The same invocation as one shell command line (for `script`, which makes a terminal). */
export function cliCommandLine(args: string[], home: string): string {
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    `--config=${ROOT}deno.json`,
    ...cliFlags(home),
    CLI,
    ...args,
  ].map(quote).join(" ");
}

/** Runs one `armor-auth` invocation to its end. */
export async function cli(args: string[], options: CliOptions): Promise<CliRun> {
  const start = performance.now();
  const child = cliCommand(args, options).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    ms: performance.now() - start,
  };
}

/** The mock's default user, as the environment gives it to the command. */
export const USER = "demo@example.com";
export const PASSWORD = "demo-password";

/** The environment of a user with credentials, against a mock. */
export function credentials(baseUrl: string): Record<string, string> {
  return { ARMOR_BASE_URL: baseUrl, ARMOR_USERNAME: USER, ARMOR_PASSWORD: PASSWORD };
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/**
 * Logs in with `armor-auth login` on `served`, then moves the stored token's times so that
 * renewal is due (two thirds of a 15-minute session gone) while the token is still good.
 * Returns the store, the key the login is kept under, and the stored (due) token.
 */
export async function loginDueForRenewal(
  home: string,
  dir: string,
  served: ServedMockArmorApi,
  gone = 11 * 60_000,
): Promise<{ store: FileTokenStore; key: string; due: { accessToken: string } }> {
  const login = await cli(["login"], { home, env: credentials(served.baseUrl) });
  assert.equal(login.code, 0, login.stderr);
  const store = new FileTokenStore({ dir });
  const key = `${served.url.href}#${USER}`;
  const entry = (await store.get(key))!;
  const now = Date.now();
  const due = { ...entry.value.token!, issuedAt: now - gone, expiresAt: now + 15 * 60_000 - gone };
  assert.ok(await store.set(key, { ...entry.value, token: due }, entry.version));
  return { store, key, due };
}
