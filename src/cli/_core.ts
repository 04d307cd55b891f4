// The command line's core, in one module because `armor-auth token` loads it on every call
// (each module costs a start-up a few tenths of a millisecond): the words (commands,
// flags, usage), where the state lives (the environment, the file store, the settings
// file beside it), and `token` itself. A valid stored token is printed after one file
// read with nothing else loaded; a token due for renewal is reissued once between all the
// processes that want it (a renewal claim in the store); with no login but credentials in
// the environment, `token` logs in (one login between all the processes at once). The
// other commands are loaded only when asked for.

import { FileTokenStore } from "../file_token_store.ts";
import type { ArmorStoredSession } from "../token_store.ts";

// ---- The words: commands, flags, usage ----

/** The usage, printed for `--help` and (on stderr) for a usage error. */
export const USAGE = `armor-auth: sign in to the Armor API once, then serve tokens and API calls

Usage:
  armor-auth login [--username <name>]    Sign in (password from ARMOR_PASSWORD or a prompt)
  armor-auth token [--header | --json]    Print a valid token, renewing it first when due
  armor-auth api <path> [-X <method>] [-d <body> | -d @<file> | -d @-] [--account <id>]
                                          Call the API; the response body goes to stdout
  armor-auth status                       Who is logged in, to which server, until when
  armor-auth accounts                     List the accounts of the login
  armor-auth use <account id>             Set the default account (X-Account-Context)
  armor-auth logout                       Remove the login from this machine

Flags for every command:
  --username <name>    The Armor user (else ARMOR_USERNAME, else the last login)
  --base-url <url>     The server (else ARMOR_BASE_URL, else https://api.armor.com)
  -h, --help           Show this help

Environment: ARMOR_USERNAME, ARMOR_PASSWORD, ARMOR_BASE_URL, ARMOR_ACCOUNT_ID,
ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY (an API key signs each request instead;
ARMOR_API_BODY_SIGNING=sha512 signs a body's SHA-512 digest, for a server that wants it).
The login is kept in $XDG_CONFIG_HOME/armor-api-auth (else ~/.config/armor-api-auth).
`;

/** A usage error: exit code 2, with the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure to report in one line: exit code 1 (or `exitCode`). */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The parsed command line. */
export interface Parsed {
  command: string;
  positionals: string[];
  flags: {
    username?: string;
    baseUrl?: string;
    header?: boolean;
    json?: boolean;
    method?: string;
    data?: string;
    account?: string;
    help?: boolean;
  };
}

const COMMANDS = new Set(["login", "token", "api", "status", "accounts", "use", "logout", "help"]);

/** Flags with a value, by spelling, and the commands that take them (`*`: every one). */
const VALUED: Record<string, { name: keyof Parsed["flags"]; commands: string[] }> = {
  "--username": { name: "username", commands: ["*"] },
  "--base-url": { name: "baseUrl", commands: ["*"] },
  "-X": { name: "method", commands: ["api"] },
  "--method": { name: "method", commands: ["api"] },
  "-d": { name: "data", commands: ["api"] },
  "--data": { name: "data", commands: ["api"] },
  "--account": { name: "account", commands: ["api"] },
};

const SWITCHES: Record<string, { name: keyof Parsed["flags"]; commands: string[] }> = {
  "--header": { name: "header", commands: ["token"] },
  "--json": { name: "json", commands: ["token"] },
  "--help": { name: "help", commands: ["*"] },
  "-h": { name: "help", commands: ["*"] },
};

/** How many positionals each command takes. */
const POSITIONALS: Record<string, number> = {
  login: 0,
  token: 0,
  api: 1,
  status: 0,
  accounts: 0,
  use: 1,
  logout: 0,
  help: 0,
};

function allowed(commands: string[], command: string): boolean {
  return commands.includes("*") || commands.includes(command);
}

/**
 * Parses the arguments.
 *
 * @throws {UsageError} An unknown command or flag, a missing value, a wrong count of
 *   arguments.
 */
export function parseArgs(args: readonly string[]): Parsed {
  const words = [...args];
  const flags: Parsed["flags"] = {};
  const positionals: string[] = [];
  let command: string | undefined;
  const later: { flag: string; commands: string[] }[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === "--") {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (word.startsWith("-") && word !== "-") {
      const eq = word.startsWith("--") ? word.indexOf("=") : -1;
      const flag = eq === -1 ? word : word.slice(0, eq);
      const valued = VALUED[flag];
      const toggle = SWITCHES[flag];
      if (valued !== undefined) {
        let value: string | undefined;
        if (eq !== -1) value = word.slice(eq + 1);
        else if (i + 1 < words.length) value = words[++i];
        if (value === undefined) throw new UsageError(`${flag} needs a value`);
        (flags as Record<string, unknown>)[valued.name] = value;
        later.push({ flag, commands: valued.commands });
        continue;
      }
      if (toggle !== undefined && eq === -1) {
        (flags as Record<string, unknown>)[toggle.name] = true;
        later.push({ flag, commands: toggle.commands });
        continue;
      }
      if (flag === "--password") {
        throw new UsageError(
          "A password is never taken as an argument: set ARMOR_PASSWORD or answer the prompt",
        );
      }
      throw new UsageError(`Unknown flag ${flag}`);
    }
    if (command === undefined) {
      if (!COMMANDS.has(word)) throw new UsageError(`Unknown command ${JSON.stringify(word)}`);
      command = word;
    } else {
      positionals.push(word);
    }
  }
  if (command === undefined) {
    if (flags.help) return { command: "help", positionals, flags };
    throw new UsageError("No command given");
  }
  for (const { flag, commands } of later) {
    if (!allowed(commands, command)) throw new UsageError(`${command} takes no ${flag} flag`);
  }
  if (flags.header && flags.json) throw new UsageError("Give --header or --json, not both");
  if (!flags.help && positionals.length !== POSITIONALS[command]) {
    throw new UsageError(
      POSITIONALS[command] === 0
        ? `${command} takes no arguments`
        : `${command} takes exactly ${POSITIONALS[command]} argument`,
    );
  }
  return { command, positionals, flags };
}

// ---- The state: environment, store, settings ----

/**
 * `DEFAULT_BASE_URL` of defaults.ts, written out so that `token`'s hot path loads one
 * module less (tests/cli_test.ts checks they agree).
 */
export const CLI_DEFAULT_BASE_URL = "https://api.armor.com";

/** True for `a-z`, `0-9` and `-` (and, with `wide`, `A-Z`, `_` and `~`). */
function plainChars(text: string, wide: boolean): boolean {
  if (text === "") return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      !((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 ||
        (wide && ((c >= 65 && c <= 90) || c === 95 || c === 126)))
    ) return false;
  }
  return true;
}

/**
 * The `href` of a plain base URL (`https://host[:port][/path]`, or `http://` on 127.0.0.1
 * or localhost), which is itself plus a final slash; `undefined` for anything else. The
 * common case, read by hand: the first `new URL` costs a quarter of a millisecond at
 * start-up, and a regular expression for it about as much to compile.
 */
function plainHref(base: string): string | undefined {
  const https = base.startsWith("https://");
  if (!https && !base.startsWith("http://")) return undefined;
  const start = https ? 8 : 7;
  let end = base.indexOf("/", start);
  if (end === -1) end = base.length;
  const authority = base.slice(start, end);
  const colon = authority.indexOf(":");
  const host = colon === -1 ? authority : authority.slice(0, colon);
  if (colon !== -1) {
    const port = authority.slice(colon + 1);
    // 1 to 65535 as written (no leading zero), not the scheme's own: kept as it is.
    if (port === "" || port.length > 5 || port[0] === "0") return undefined;
    for (let i = 0; i < port.length; i++) {
      const c = port.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
    }
    if (Number(port) > 65535 || port === (https ? "443" : "80")) return undefined;
  }
  if (https) {
    // Labels of a-z, 0-9 and -, the last one starting with a letter.
    const labels = host.split(".");
    for (const label of labels) if (!plainChars(label, false)) return undefined;
    const first = labels[labels.length - 1].charCodeAt(0);
    if (first < 97 || first > 122) return undefined;
  } else if (host !== "127.0.0.1" && host !== "localhost") {
    return undefined;
  }
  const segments = base.slice(end + 1).split("/");
  for (let i = 0; i < segments.length; i++) {
    // Only the last may be empty: a final slash, or no path at all.
    if (segments[i] === "" && i === segments.length - 1) continue;
    if (!plainChars(segments[i], true)) return undefined;
  }
  return base.endsWith("/") ? base : `${base}/`;
}

/**
 * The base URL as `checkBaseUrl` normalizes it (its `href`, ending with a slash): the
 * server part of a store key.
 */
export function serverKeyOf(base: string): string {
  const plain = plainHref(base);
  if (plain !== undefined) return plain;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new CliError("Bad base URL: use e.g. https://api.armor.com", 2);
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url.href;
}

/** Writes a line to stdout, whole. */
export function printLine(text: string): void {
  const bytes = new TextEncoder().encode(`${text}\n`);
  for (let written = 0; written < bytes.length;) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

/** Reads a variable; unset, empty, or not permitted all read as `undefined`. */
export function env(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === undefined || value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/** What `settings.json` holds. */
export interface Settings {
  /** The last user logged in, by server. */
  users: Record<string, string>;
  /** The default account, by store key. */
  accounts: Record<string, number>;
  /**
   * The last refused login, by store key: when, what the server said, and a salted PBKDF2
   * verifier of the password it refused (never the password), so that processes waiting
   * for that login with the same password share its answer instead of trying again.
   */
  failures?: Record<string, LoginFailure>;
  /**
   * Until when (epoch ms) no process retries a renewal that just failed (a server that is
   * down), by store key: one attempt between all the processes that ask at once.
   */
  renewFailed?: Record<string, number>;
}

/** A refused login, as `settings.json` keeps it. */
export interface LoginFailure {
  at: number;
  message: string;
  login: { username: string; salt: string; verifier: string };
}

/** The `format` of settings.json. */
export const SETTINGS_FORMAT = "armor-api-auth/cli-settings";

/** The resolved server, user and store of one invocation. */
export class Context {
  readonly server: string;
  readonly store: FileTokenStore;
  readonly flagUser?: string;
  readonly #base: string;
  #settings?: Settings;

  constructor(flags: { baseUrl?: string; username?: string }) {
    const base = flags.baseUrl ?? env("ARMOR_BASE_URL") ?? CLI_DEFAULT_BASE_URL;
    // The key's form only (as `checkBaseUrl` normalizes it); checkServer() checks the rules
    // before anything is sent: reading a file needs no more.
    this.#base = base;
    this.server = serverKeyOf(base);
    this.flagUser = flags.username ?? env("ARMOR_USERNAME");
    try {
      this.store = new FileTokenStore({ warn: (message) => console.error(`Warning: ${message}`) });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  }

  /** Checks the base URL as the library does (https, or http on loopback) before a call. */
  async checkServer(): Promise<void> {
    const { checkBaseUrl } = await import("../_validate.ts");
    try {
      checkBaseUrl(this.#base);
    } catch (error) {
      throw new CliError(`Bad base URL: ${(error as Error).message}`, 2);
    }
  }

  /** The store key of a user's login on this server, as `ArmorSession.connect` makes it. */
  keyOf(username: string): string {
    return `${this.server}#${username}`;
  }

  /** The settings; empty when the file is missing or unreadable. */
  settings(): Settings {
    if (this.#settings !== undefined) return this.#settings;
    const empty: Settings = { users: {}, accounts: {} };
    const path = `${this.store.dir}/settings.json`;
    try {
      const info = Deno.lstatSync(path);
      if (!info.isFile) {
        // Never read through a link: the next change replaces it with a file.
        console.error("Warning: ignoring settings.json: not a regular file");
        return this.#settings = empty;
      }
      if (info.mode !== null && (info.mode & 0o077) !== 0) {
        try {
          Deno.chmodSync(path, 0o600);
          console.error(`Warning: Made ${path} private (mode 0600): it was readable by others`);
        } catch (error) {
          if (error instanceof Deno.errors.NotCapable) throw error;
          console.error("Warning: ignoring settings.json: open to others, cannot be made private");
          return this.#settings = empty;
        }
      }
      const parsed = JSON.parse(Deno.readTextFileSync(path));
      if (
        parsed?.format === SETTINGS_FORMAT && typeof parsed.users === "object" &&
        typeof parsed.accounts === "object"
      ) {
        this.#settings = { users: { ...parsed.users }, accounts: { ...parsed.accounts } };
        if (typeof parsed.failures === "object" && parsed.failures !== null) {
          this.#settings.failures = { ...parsed.failures };
        }
        if (typeof parsed.renewFailed === "object" && parsed.renewFailed !== null) {
          this.#settings.renewFailed = { ...parsed.renewFailed };
        }
      } else {
        console.error("Warning: ignoring settings.json: not an armor-auth settings file");
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        console.error("Warning: ignoring settings.json: it cannot be read or parsed");
      }
    }
    return this.#settings ??= empty;
  }

  /** Forgets the settings read so far: the next read reads the file again. */
  reloadSettings(): void {
    this.#settings = undefined;
  }

  /** See privateDir in _write.ts (loaded only to write). */
  async privateDir(): Promise<string> {
    return await (await import("./_write.ts")).privateDir(this);
  }

  /** See updateSettings in _write.ts (loaded only to write). */
  async updateSettings(change: (settings: Settings) => void): Promise<void> {
    await (await import("./_write.ts")).updateSettings(this, change);
  }

  /**
   * The user to act for: `--username`, else `ARMOR_USERNAME`, else the last login on this
   * server, else the only login of this server in the store; `undefined` for none.
   */
  async user(): Promise<string | undefined> {
    if (this.flagUser !== undefined) return this.flagUser;
    const last = this.settings().users[this.server];
    if (typeof last === "string") return last;
    const prefix = `${this.server}#`;
    const keys = (await this.store.keys()).filter((key) => key.startsWith(prefix));
    return keys.length === 1 ? keys[0].slice(prefix.length) : undefined;
  }

  /** The default account: `use`, else `ARMOR_ACCOUNT_ID`; `undefined` for the first. */
  account(username: string): number | undefined {
    const chosen = this.settings().accounts[this.keyOf(username)];
    if (Number.isSafeInteger(chosen) && chosen > 0) return chosen;
    const fromEnv = env("ARMOR_ACCOUNT_ID");
    if (fromEnv === undefined) return undefined;
    const id = Number(fromEnv);
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new CliError("ARMOR_ACCOUNT_ID must be a positive integer account id");
    }
    return id;
  }
}

/**
 * The API key from the environment, if both halves are set, with its body signing from
 * `ARMOR_API_BODY_SIGNING` (`raw`, the default, or `sha512`).
 */
export function apiKeyFromEnv():
  | { id: string; secret: string; bodySigning: "raw" | "sha512" }
  | undefined {
  const id = env("ARMOR_API_KEY_ID");
  const secret = env("ARMOR_API_SECRET_KEY");
  if (id === undefined && secret === undefined) return undefined;
  if (id === undefined || secret === undefined) {
    throw new CliError("Set both ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY to use an API key");
  }
  const bodySigning = env("ARMOR_API_BODY_SIGNING") ?? "raw";
  if (bodySigning !== "raw" && bodySigning !== "sha512") {
    throw new CliError("ARMOR_API_BODY_SIGNING must be raw or sha512 (or unset for raw)", 2);
  }
  return { id, secret, bodySigning };
}

/** The not-logged-in line. */
export const NOT_LOGGED_IN = "Not logged in: run armor-auth login";

// ---- `armor-auth token` ----

/** How long `token` waits for another process's renewal or login before giving up. */
const WAIT_MAX_MS = 35_000;
const POLL_MS = 100;
/** How often a wait for another process's sign-in is shown on stderr. */
const NOTICE_EVERY_MS = 10_000;
/** How long a renewal claim lasts: the call's timeout and a grace. */
const RENEW_CLAIM_MS = 35_000;

/** A stored token. */
export type StoredToken = NonNullable<ArmorStoredSession["token"]>;

/** A stored login and its live token. */
export interface Found {
  value: ArmorStoredSession;
  token: StoredToken;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function withoutClaim(value: ArmorStoredSession): ArmorStoredSession {
  const { claim: _claim, ...rest } = value;
  return rest;
}

/** The longest lifetime a stored token can have, as in renewal.ts (MAX_SESSION_MINUTES). */
const MAX_SESSION_MS = 120 * 60_000;

/**
 * True when a stored value has the shape the library writes (`isWellFormed` of
 * _store_sync.ts, which scripts use, written out here so that `armor-auth token` loads no
 * more modules; tests/cli_test.ts checks they agree). Anything else is a corrupt or
 * foreign record: ignored with a warning, never printed or used, replaced at the next
 * login.
 */
export function wellFormedValue(value: unknown): value is ArmorStoredSession {
  if (!isObject(value)) return false;
  const { token, claim, identity, login, server, username, identityTrimmed } = value;
  if (token !== undefined) {
    if (!isObject(token)) return false;
    if (typeof token.accessToken !== "string" || !/^[a-z0-9]{32}$/.test(token.accessToken)) {
      return false;
    }
    const { issuedAt, expiresAt } = token;
    if (!Number.isFinite(issuedAt) || !Number.isFinite(expiresAt)) return false;
    const lifetime = (expiresAt as number) - (issuedAt as number);
    if (!(lifetime > 0 && lifetime <= MAX_SESSION_MS)) return false;
  }
  if (claim !== undefined) {
    if (!isObject(claim) || typeof claim.owner !== "string") return false;
    if (!Number.isFinite(claim.until)) return false;
    if (claim.purpose !== "login" && claim.purpose !== "renew") return false;
  }
  if (identity !== undefined) {
    if (!isObject(identity) || typeof identity.username !== "string") return false;
    if (!Array.isArray(identity.accounts)) return false;
    for (const account of identity.accounts) {
      if (!isObject(account) || !Number.isSafeInteger(account.id) || (account.id as number) <= 0) {
        return false;
      }
    }
  }
  if (login !== undefined) {
    if (!isObject(login) || typeof login.username !== "string") return false;
    if (typeof login.salt !== "string" || typeof login.verifier !== "string") return false;
  }
  if (server !== undefined && typeof server !== "string") return false;
  if (identityTrimmed !== undefined && typeof identityTrimmed !== "boolean") return false;
  if (username !== undefined && typeof username !== "string") return false;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const warnedAbout = new Set<string>();

/**
 * A stored entry's value when it is well formed; else `undefined`, with a warning (once).
 */
export function wellFormedEntry(
  context: Context,
  key: string,
  value: ArmorStoredSession | undefined,
): ArmorStoredSession | undefined {
  if (value === undefined || wellFormedValue(value)) return value;
  const path = context.store.pathOf(key);
  if (!warnedAbout.has(path)) {
    warnedAbout.add(path);
    console.error(
      `Warning: Ignoring ${path}: it holds no valid login (corrupt or foreign); log in again`,
    );
  }
  return undefined;
}

/**
 * Whether a token is due for renewal, by the rule in renewal.ts; that module is loaded
 * only near the due point (two thirds of the session left), off the hot path.
 */
async function renewalDue(token: StoredToken, now: number): Promise<boolean> {
  const length = token.expiresAt - token.issuedAt;
  if (now < token.issuedAt + length * 0.3) return false; // well before a third of it
  const { renewAt } = await import("../renewal.ts");
  return now >= renewAt(token.issuedAt, length);
}

/**
 * The stored live token of a login, renewed first when due (once between every process
 * that asks); `undefined` when there is no live login.
 */
export async function liveToken(context: Context, key: string): Promise<Found | undefined> {
  let owner: string | undefined; // drawn when this process claims a renewal
  const started = performance.now();
  let nextNotice = 0; // say so at once, then every NOTICE_EVERY_MS
  for (;;) {
    const entry = await context.store.get(key);
    const value = wellFormedEntry(context, key, entry?.value);
    if (value === undefined || entry === undefined) return undefined;
    if (value.server !== undefined && value.server !== context.server) return undefined;
    const now = Date.now();
    // Only a token of the shape Armor issues, with real times, is ever printed: checked
    // with the rest of the record by wellFormedEntry.
    const token = value.token;
    const claim = value.claim !== undefined && value.claim.owner !== owner &&
        value.claim.until > now
      ? value.claim
      : undefined;
    const waited = performance.now() - started;
    if (token === undefined || !(token.expiresAt > now)) {
      // A login in progress elsewhere (another terminal waiting for the phone): wait.
      if (claim?.purpose === "login" && waited < WAIT_MAX_MS) {
        if (waited >= nextNotice) {
          nextNotice += NOTICE_EVERY_MS;
          const left = Math.max(0, Math.round((claim.until - now) / 1000));
          console.error(
            "Waiting for a sign-in in progress elsewhere (it may wait for a multi-factor " +
              `approval): at most ${Math.floor(left / 60)}:${
                String(left % 60).padStart(2, "0")
              } left`,
          );
        }
        await sleep(POLL_MS);
        continue;
      }
      return undefined;
    }
    if (!await renewalDue(token, now)) return { value, token };
    if (claim === undefined && renewalBackedOff(context, key, token, now)) return { value, token };
    if (claim !== undefined) {
      // Another process is renewing: wait for its token, within reason.
      if (waited < WAIT_MAX_MS) {
        await sleep(POLL_MS);
        continue;
      }
      return { value, token };
    }
    const claimed = await context.store.set(
      key,
      {
        ...value,
        claim: {
          owner: owner ??= crypto.randomUUID(),
          purpose: "renew",
          until: now + RENEW_CLAIM_MS,
        },
      },
      entry.version,
    );
    if (claimed === null) {
      await sleep(10 + Math.random() * 20);
      continue;
    }
    await context.checkServer();
    const { reissue } = await import("./_write.ts");
    return await reissue(context, key, value, token, claimed);
  }
}

/** How long a failed renewal is not retried, and the token life left below which it is. */
export const RENEW_BACKOFF_MS = 30_000;
const RENEW_BACKOFF_UNTIL_LEFT_MS = 60_000;

/** True while a renewal that failed just now is not to be retried (by any process). */
function renewalBackedOff(context: Context, key: string, token: StoredToken, now: number) {
  if (token.expiresAt - now < RENEW_BACKOFF_UNTIL_LEFT_MS) return false;
  context.reloadSettings();
  const until = context.settings().renewFailed?.[key];
  return typeof until === "number" && until > now && until <= now + RENEW_BACKOFF_MS;
}

/** `armor-auth token [--header | --json]`. */
export async function tokenCommand(context: Context, parsed: Parsed): Promise<number> {
  if (apiKeyFromEnv() !== undefined) {
    throw new CliError(
      "An API key has no token: ARMOR-PSK signs each request instead. Use armor-auth api, " +
        "or unset ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY to use a login",
    );
  }
  const username = await context.user();
  const password = env("ARMOR_PASSWORD");
  if (username === undefined) {
    if (password !== undefined) {
      throw new CliError("Missing credentials: set ARMOR_USERNAME (or --username)");
    }
    throw new CliError(NOT_LOGGED_IN);
  }
  let found = await liveToken(context, context.keyOf(username));
  let accountId: number | undefined;
  if (found === undefined) {
    if (password === undefined) throw new CliError(NOT_LOGGED_IN);
    await context.checkServer();
    const { logIn } = await import("./_login.ts");
    const session = await logIn(context, username, password);
    found = {
      value: { identity: session.identity },
      token: {
        accessToken: session.token,
        issuedAt: session.issuedAt.getTime(),
        expiresAt: session.expiresAt.getTime(),
      },
    };
    accountId = session.accountId;
  }
  const { token } = found;
  if (parsed.flags.header) {
    printLine(`FH-AUTH ${token.accessToken}`);
  } else if (parsed.flags.json) {
    accountId = await context.account(username) ?? accountId ??
      found.value.identity?.accounts[0]?.id;
    printLine(JSON.stringify({
      token: token.accessToken,
      expiresAt: new Date(token.expiresAt).toISOString(),
      account: accountId ?? null,
      username,
      server: context.server,
    }));
  } else {
    printLine(token.accessToken);
  }
  return 0;
}
