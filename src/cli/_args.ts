// The command line's words: commands, flags, and the usage text.

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
ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY (an API key signs each request instead).
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
