/**
 * `connectOptionsFromEnv`: the options of `ArmorSession.connect` from environment
 * variables, checked, with errors that name the variable and never show its value.
 *
 * @module
 */

import type { ArmorApiKey } from "./armor_psk.ts";
import type { ArmorConnectOptions } from "./session_options.ts";
import { checkBaseUrl } from "./_validate.ts";

type EnvSource =
  | ((name: string) => string | undefined)
  | Readonly<Record<string, string | undefined>>;

/** Every variable read, in the order a permission flag would list them. */
const VARIABLES = [
  "ARMOR_USERNAME",
  "ARMOR_PASSWORD",
  "ARMOR_API_KEY_ID",
  "ARMOR_API_SECRET_KEY",
  "ARMOR_API_BODY_SIGNING",
  "ARMOR_BASE_URL",
  "ARMOR_ACCOUNT_ID",
] as const;

type Variable = typeof VARIABLES[number];

const ALLOW_ENV = "--allow-env='ARMOR_*'";

/**
 * Reads the options of `ArmorSession.connect` from the environment:
 *
 * | variable | what |
 * | --- | --- |
 * | `ARMOR_USERNAME`, `ARMOR_PASSWORD` | a password login |
 * | `ARMOR_API_KEY_ID`, `ARMOR_API_SECRET_KEY` | an API key; it wins when both kinds are set |
 * | `ARMOR_API_BODY_SIGNING` | optional, with a key: `raw` (the default) or `sha512` |
 * | `ARMOR_BASE_URL` | optional: another server, `https://` (`http://` only on loopback) |
 * | `ARMOR_ACCOUNT_ID` | optional: the account to act on; default the first |
 *
 * An empty variable counts as unset (a `.env` line such as `ARMOR_ACCOUNT_ID=`). The
 * environment is read when this is called, never at import: `Deno.env` on Deno, else
 * `process.env` (Node, Bun). Elsewhere (Cloudflare Workers) pass `env`. On Deno, run
 * with `--allow-env='ARMOR_*'` (every variable above, nothing else); a `.env` file is
 * read by `deno run --env-file=.env`.
 *
 * The result holds the password or secret key, for `connect` only: it prints as
 * `[REDACTED]` in `JSON.stringify`, `console.log` and `Deno.inspect`.
 *
 * @param env Where to read: a function from a name to its value, or a record such as
 *   `process.env` or a Workers `env`. Default: the runtime's environment.
 * @returns The options for `ArmorSession.connect`: `username` and `password`, or
 *   `apiKey`, and `baseUrl` and `accountId` when set.
 * @throws {TypeError} No credentials at all (naming the variables to set); a pair set
 *   half (`ARMOR_USERNAME` without `ARMOR_PASSWORD`, a key id without its secret); a base
 *   URL that is not `https://` (loopback `http://` aside); an account id that is not a
 *   positive integer; an unknown `ARMOR_API_BODY_SIGNING`; a credential of only spaces; a
 *   key id with a colon or space. Each names the variable, never
 *   its value.
 * @throws {Error} On Deno, a variable the process may not read (`NotCapable`): the
 *   message names the `--allow-env` flag to add.
 *
 * @example Connect with whatever the environment holds
 * ```ts ignore
 * import { ArmorSession, connectOptionsFromEnv } from "@armor-api/auth";
 *
 * const session = await ArmorSession.connect(connectOptionsFromEnv());
 * ```
 *
 * @example From a record, as a Cloudflare Worker's `env` or a test gives it
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectOptionsFromEnv } from "@armor-api/auth";
 *
 * const options = connectOptionsFromEnv({
 *   ARMOR_API_KEY_ID: "20a37099-4a0b-432f-bf46-5fa690a0405c",
 *   ARMOR_API_SECRET_KEY: "my-secret-key",
 *   ARMOR_ACCOUNT_ID: "1002",
 * });
 * assert.equal(options.apiKey?.id, "20a37099-4a0b-432f-bf46-5fa690a0405c");
 * assert.equal(options.accountId, 1002);
 * assert.equal(JSON.stringify(options).includes("my-secret-key"), false);
 * assert.throws(
 *   () => connectOptionsFromEnv({ ARMOR_USERNAME: "ops@example.com" }),
 *   { name: "TypeError", message: /ARMOR_PASSWORD/ },
 * );
 * ```
 */
export function connectOptionsFromEnv(
  env?: ((name: string) => string | undefined) | Readonly<Record<string, string | undefined>>,
): ArmorConnectOptions {
  const read = reader(env);
  const value = (name: Variable): string | undefined => {
    const found = read(name);
    if (found !== undefined && typeof found !== "string") {
      throw new TypeError(`${name} must be a string in env`);
    }
    return found === "" ? undefined : found;
  };
  const username = value("ARMOR_USERNAME");
  const password = value("ARMOR_PASSWORD");
  const keyId = value("ARMOR_API_KEY_ID");
  const secret = value("ARMOR_API_SECRET_KEY");
  const bodySigning = value("ARMOR_API_BODY_SIGNING");
  const baseUrl = value("ARMOR_BASE_URL");
  const accountId = value("ARMOR_ACCOUNT_ID");

  checkPair("ARMOR_API_KEY_ID", keyId, "ARMOR_API_SECRET_KEY", secret);
  checkPair("ARMOR_USERNAME", username, "ARMOR_PASSWORD", password);
  for (const [name, found] of blankable(username, password, keyId, secret)) {
    if (found !== undefined && found.trim() === "") {
      throw new TypeError(`${name} is blank: set it to the value, or leave it unset`);
    }
  }
  if (keyId !== undefined && !KEY_ID.test(keyId)) {
    throw new TypeError(
      "ARMOR_API_KEY_ID must be the API key's id (a UUID): visible ASCII characters, no colon or space",
    );
  }
  const options: ArmorConnectOptions = {};
  if (keyId !== undefined && secret !== undefined) {
    const apiKey: ArmorApiKey & { bodySigning?: "raw" | "sha512" } = { id: keyId, secret };
    if (bodySigning !== undefined) {
      if (bodySigning !== "raw" && bodySigning !== "sha512") {
        throw new TypeError(
          "ARMOR_API_BODY_SIGNING must be raw or sha512 (or unset for raw, Armor's documented form)",
        );
      }
      apiKey.bodySigning = bodySigning;
    }
    options.apiKey = hideSecrets(apiKey, ["secret"]);
  } else if (username !== undefined && password !== undefined) {
    options.username = username;
    options.password = password;
  } else {
    throw new TypeError(
      "No Armor credentials in the environment: set ARMOR_USERNAME and ARMOR_PASSWORD, " +
        "or ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY",
    );
  }
  if (baseUrl !== undefined) options.baseUrl = checkEnvBaseUrl(baseUrl);
  if (accountId !== undefined) options.accountId = checkAccountId(accountId);
  return hideSecrets(options, ["password"]);
}

// Visible ASCII except the colon that separates the ARMOR-PSK header's fields.
const KEY_ID = /^[!-9;-~]+$/;

/** The credentials with their variables' names, for the blank check. */
function blankable(
  username: string | undefined,
  password: string | undefined,
  keyId: string | undefined,
  secret: string | undefined,
): [Variable, string | undefined][] {
  return [
    ["ARMOR_USERNAME", username],
    ["ARMOR_PASSWORD", password],
    ["ARMOR_API_KEY_ID", keyId],
    ["ARMOR_API_SECRET_KEY", secret],
  ];
}

/** The function that reads one variable from `env`, or from the runtime's environment. */
function reader(env: EnvSource | undefined): (name: Variable) => unknown {
  if (typeof env === "function") return (name) => env(name);
  if (typeof env === "object" && env !== null) {
    return (name) => Object.hasOwn(env, name) ? env[name] : undefined;
  }
  if (env !== undefined) {
    throw new TypeError("env must be a function from a name to a value, or a record of strings");
  }
  const runtime = globalThis as {
    Deno?: { env?: { get(name: string): string | undefined } };
    process?: { env?: Record<string, string | undefined> };
  };
  const denoEnv = runtime.Deno?.env;
  if (denoEnv !== undefined) {
    return (name) => {
      try {
        return denoEnv.get(name);
      } catch (error) {
        throw permissionError(error, name);
      }
    };
  }
  const processEnv = runtime.process?.env;
  if (processEnv !== undefined) return (name) => processEnv[name];
  throw new TypeError(
    "No environment to read here (no Deno.env or process.env): pass it, e.g. connectOptionsFromEnv(env)",
  );
}

/** Deno refused to read `name`: the same kind of error, saying which flag to add. */
function permissionError(error: unknown, name: string): unknown {
  if (!(error instanceof Error) || !/^(NotCapable|PermissionDenied)$/.test(error.name)) {
    return error;
  }
  const Kind = error.constructor as new (message: string, options?: ErrorOptions) => Error;
  const message = `Reading ${name} needs permission: run with ${ALLOW_ENV} (or pass env)`;
  try {
    const replaced = new Kind(message, { cause: error });
    return replaced instanceof Error && replaced.message === message ? replaced : error;
  } catch {
    return error;
  }
}

/** Throws when one of a pair of variables is set and the other is not. */
function checkPair(first: Variable, a: unknown, second: Variable, b: unknown): void {
  if ((a === undefined) === (b === undefined)) return;
  const [set, unset] = a === undefined ? [second, first] : [first, second];
  throw new TypeError(`${set} is set but ${unset} is not: set both, or neither`);
}

/** The base URL, checked by the rules `connect` applies; the error names the variable only. */
function checkEnvBaseUrl(value: string): string {
  try {
    checkBaseUrl(value);
  } catch {
    throw new TypeError(
      "ARMOR_BASE_URL must be an https:// address such as https://api.armor.com, with no user " +
        "name, password, query or fragment (http:// only for a loopback host such as " +
        "http://127.0.0.1:8080)",
    );
  }
  return value;
}

function checkAccountId(value: string): number {
  const id = /^[1-9][0-9]*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new TypeError(
      "ARMOR_ACCOUNT_ID must be a positive integer such as 1001 (or unset for the first account)",
    );
  }
  return id;
}

/**
 * Makes `object` print its secret fields as `[REDACTED]` in `JSON.stringify`,
 * `Deno.inspect` and Node's `util.inspect`; the fields themselves stay as they are.
 */
function hideSecrets<T extends object>(object: T, secrets: readonly string[]): T {
  const shown = (): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...(object as Record<string, unknown>) };
    for (const key of secrets) if (key in copy) copy[key] = "[REDACTED]";
    return copy;
  };
  const hidden = { enumerable: false, configurable: true, writable: true };
  Object.defineProperties(object, {
    toJSON: { ...hidden, value: shown },
    [Symbol.for("Deno.customInspect")]: {
      ...hidden,
      value: (inspect: (value: unknown, options: unknown) => string, options: unknown) =>
        inspect(shown(), options),
    },
    [Symbol.for("nodejs.util.inspect.custom")]: {
      ...hidden,
      value: (_depth: unknown, options: unknown, inspect: (v: unknown, o: unknown) => string) =>
        inspect(shown(), options),
    },
  });
  return object;
}
