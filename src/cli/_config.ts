// Where the command line's state lives: the environment, the token store, and the small
// settings file beside it (the last user per server, the default account per login).

import { CliError } from "./_args.ts";
import { FileTokenStore } from "../file_token_store.ts";

/**
 * `DEFAULT_BASE_URL` of defaults.ts, written out so that `token`'s hot path loads one
 * module less (tests/cli_test.ts checks they agree).
 */
export const CLI_DEFAULT_BASE_URL = "https://api.armor.com";

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
}

const SETTINGS_FORMAT = "armor-api-auth/cli-settings";

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
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new CliError("Bad base URL: use e.g. https://api.armor.com", 2);
    }
    if (!url.pathname.endsWith("/")) url.pathname += "/";
    this.#base = base;
    this.server = url.href;
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
    try {
      const parsed = JSON.parse(Deno.readTextFileSync(`${this.store.dir}/settings.json`));
      if (
        parsed?.format === SETTINGS_FORMAT && typeof parsed.users === "object" &&
        typeof parsed.accounts === "object"
      ) {
        this.#settings = { users: { ...parsed.users }, accounts: { ...parsed.accounts } };
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

  /** Changes the settings under the store folder's settings lock, atomically. */
  async updateSettings(change: (settings: Settings) => void): Promise<void> {
    const dir = this.store.dir;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const lock = await Deno.open(`${dir}/settings.lock`, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    try {
      await lock.lock(true);
      this.#settings = undefined;
      const settings = this.settings();
      change(settings);
      const temp = `${dir}/.settings.${crypto.randomUUID()}.tmp`;
      const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
      try {
        await file.write(
          new TextEncoder().encode(JSON.stringify({ format: SETTINGS_FORMAT, ...settings })),
        );
        await file.sync();
      } finally {
        file.close();
      }
      await Deno.rename(temp, `${dir}/settings.json`);
    } finally {
      lock.close();
    }
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

/** The API key from the environment, if both halves are set. */
export function apiKeyFromEnv(): { id: string; secret: string } | undefined {
  const id = env("ARMOR_API_KEY_ID");
  const secret = env("ARMOR_API_SECRET_KEY");
  if (id === undefined && secret === undefined) return undefined;
  if (id === undefined || secret === undefined) {
    throw new CliError("Set both ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY to use an API key");
  }
  return { id, secret };
}

/** The not-logged-in line. */
export const NOT_LOGGED_IN = "Not logged in: run armor-auth login";
