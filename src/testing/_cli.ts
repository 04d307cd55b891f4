// The mock Armor API from the command line: `deno run --allow-net=127.0.0.1
// jsr:@armor-api/auth/testing --port 8080 --api-key <id>:<secret>` serves it until
// Ctrl-C. Run by the `import.meta.main` block of mod.ts, on Deno only.
import { DEFAULT_MOCK_USER } from "./mock_armor_api.ts";
import { MockClock } from "./mock_clock.ts";
import type { MockApiKey, MockDialect, MockUser } from "./_types.ts";
import { serveMockArmorApi, type ServeMockArmorApiOptions } from "./serve_mock_armor_api.ts";

/** The help text, printed by `--help` and after a usage error. */
export const USAGE = `Serve the mock Armor API (from @armor-api/auth/testing) until Ctrl-C.

Usage:
  deno run --allow-net=127.0.0.1 jsr:@armor-api/auth/testing [options]

Options:
  --port <n>             Port to listen on; 0 (the default) picks a free one
  --hostname <address>   Address to listen on; default 127.0.0.1 (loopback only)
  --api-key <id>:<secret>
                         Accept this API key (ARMOR-PSK); repeat for more keys
  --body-signing <mode>  How the keys sign request bodies: raw (default) or sha512
  --user <name>:<password>
                         Accept this user, with accounts 1001 and 1002; repeat for more.
                         Default: ${DEFAULT_MOCK_USER.username} / ${DEFAULT_MOCK_USER.password}
  --dialect <name>       openapi (default) or powershell
  --expires-in <n>       The expires_in the token calls send (<= 120: minutes, else seconds)
  --help                 Show this help

The first line printed is the base URL, e.g. "http://127.0.0.1:8080".`;

/** What the command line asks for. */
export interface CliOptions {
  help: boolean;
  serve: ServeMockArmorApiOptions;
}

/**
 * Reads the command line.
 *
 * @throws {TypeError} If an option is unknown, lacks its value or has a malformed one;
 * the message never contains a secret
 */
export function parseArgs(args: readonly string[]): CliOptions {
  const serve: ServeMockArmorApiOptions = {};
  const apiKeys: MockApiKey[] = [];
  const users: MockUser[] = [];
  let bodySigning: "raw" | "sha512" | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    const equals = arg.indexOf("=");
    const name = equals === -1 ? arg : arg.slice(0, equals);
    const value = () => {
      if (equals !== -1) return arg.slice(equals + 1);
      const next = args[++i];
      if (next === undefined) throw new TypeError(`Option ${name} needs a value: see --help`);
      return next;
    };
    switch (name) {
      case "--port": {
        const text = value();
        const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
        if (!(port <= 65_535)) {
          throw new TypeError(`Option --port must be a number from 0 to 65535, got "${text}"`);
        }
        serve.port = port;
        break;
      }
      case "--hostname":
        serve.hostname = value();
        break;
      case "--api-key": {
        const [id, secret] = splitPair(value(), "--api-key", "<id>:<secret>");
        apiKeys.push({ id, secret });
        break;
      }
      case "--body-signing": {
        const mode = value();
        if (mode !== "raw" && mode !== "sha512") {
          throw new TypeError(`Option --body-signing must be raw or sha512, got "${mode}"`);
        }
        bodySigning = mode;
        break;
      }
      case "--user": {
        const [username, password] = splitPair(value(), "--user", "<name>:<password>");
        users.push({ ...DEFAULT_MOCK_USER, firstName: "", lastName: "", username, password });
        break;
      }
      case "--dialect": {
        const dialect = value();
        if (dialect !== "openapi" && dialect !== "powershell") {
          throw new TypeError(`Option --dialect must be openapi or powershell, got "${dialect}"`);
        }
        serve.dialect = dialect as MockDialect;
        break;
      }
      case "--expires-in": {
        const text = value();
        const expiresIn = Number(text);
        if (text.trim() === "" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
          throw new TypeError(`Option --expires-in must be a positive number, got "${text}"`);
        }
        serve.expiresIn = expiresIn;
        break;
      }
      default:
        throw new TypeError(`Unknown option "${name}": see --help`);
    }
  }
  if (bodySigning !== undefined) {
    for (const key of apiKeys) key.bodySigning = bodySigning;
  }
  if (apiKeys.length > 0) serve.apiKeys = apiKeys;
  if (users.length > 0) serve.users = users;
  return { help, serve };
}

/** Splits `first:rest` at its first colon; neither part may be empty. */
function splitPair(text: string, option: string, shape: string): [string, string] {
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1) {
    throw new TypeError(`Option ${option} must be ${shape}`);
  }
  return [text.slice(0, colon), text.slice(colon + 1)];
}

/**
 * Serves the mock as the command line asks until SIGINT or SIGTERM, then closes it.
 *
 * @returns The process's exit code
 */
export async function main(args: readonly string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const stopped = new AbortController();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const stop = () => stopped.abort();
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  try {
    let served;
    try {
      // A mock that serves for a while keeps real time (API-key timestamps, lifetimes).
      served = await serveMockArmorApi({ clock: MockClock.realTime(), ...options.serve });
    } catch (error) {
      console.error(`Cannot serve the mock Armor API: ${(error as Error).message}`);
      return 1;
    }
    const { mock } = served;
    const users = options.serve.users ?? [DEFAULT_MOCK_USER];
    console.log(served.baseUrl);
    console.error(
      [
        `Mock Armor API (${mock.dialect} dialect) listening on ${served.baseUrl}; Ctrl-C stops it`,
        ...users.map((user) => `  user ${user.username}, accounts 1001 and 1002`),
        ...(options.serve.apiKeys ?? []).map((key) =>
          `  API key ${key.id} (bodies signed ${key.bodySigning ?? "raw"})`
        ),
      ].join("\n"),
    );
    await new Promise((resolve) => stopped.signal.addEventListener("abort", resolve));
    await served.close();
    return 0;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
  }
}
