/**
 * `armor-auth`: a command line that signs in to the Armor API once and serves tokens and
 * API calls to every script and terminal of the user on this machine, through a
 * `FileTokenStore` (from `@armor-api/auth/file-store`) in `~/.config/armor-api-auth` (0700, files 0600).
 *
 * Install it with the narrowest permissions (the shell expands `$HOME` once, at install):
 *
 * ```sh
 * deno install -g -n armor-auth --allow-net=api.armor.com \
 *   --allow-env=ARMOR_USERNAME,ARMOR_PASSWORD,ARMOR_BASE_URL,ARMOR_ACCOUNT_ID,ARMOR_API_KEY_ID,ARMOR_API_SECRET_KEY,ARMOR_API_BODY_SIGNING,HOME,XDG_CONFIG_HOME \
 *   --allow-read="$HOME/.config/armor-api-auth" --allow-write="$HOME/.config/armor-api-auth" \
 *   jsr:@armor-api/auth/cli
 * ```
 *
 * Commands: `login`, `token [--header | --json]`, `api <path> [-X <method>] [-d <body>]
 * [--account <id>]`, `status`, `accounts`, `use <account id>`, `logout`. Usage errors
 * exit 2, refused requests 1.
 *
 * @example Run a command from a program
 * ```ts ignore
 * import { main } from "@armor-api/auth/cli";
 *
 * const exitCode = await main(["status"]);
 * ```
 *
 * @module
 */

import {
  CliError,
  Context,
  parseArgs,
  type Parsed,
  tokenCommand,
  USAGE,
  UsageError,
} from "./_core.ts";

/**
 * Runs one `armor-auth` command, writing its answer to stdout and everything else to
 * stderr.
 *
 * @param args The arguments after the command name, e.g. `["token", "--header"]`.
 * @returns The exit code: 0 done, 1 refused or failed, 2 a usage error.
 *
 * @example Print the status
 * ```ts ignore
 * import { main } from "@armor-api/auth/cli";
 * Deno.exit(await main(["status"]));
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`armor-auth: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.flags.help || parsed.command === "help") {
    console.log(USAGE);
    return 0;
  }
  try {
    const context = new Context(parsed.flags);
    if (parsed.command === "token") {
      return await tokenCommand(context, parsed);
    }
    await context.checkServer();
    const { runCommand } = await import("./_commands.ts");
    return await runCommand(context, parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`armor-auth: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof CliError) {
      console.error(error.message);
      return error.exitCode;
    }
    if (error instanceof Deno.errors.NotCapable) {
      console.error(
        `armor-auth: ${(error as Error).message}: run it with the permissions in its install line`,
      );
      return 1;
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      // The system refused (not Deno's permissions): a file or folder that is not yours.
      console.error(
        `armor-auth: ${(error as Error).message}: check that the config folder and its files ` +
          "are yours and writable",
      );
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`armor-auth: ${message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
