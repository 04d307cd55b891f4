/**
 * Signs in and lists the Armor accounts you can act on, one a line:
 * `id<TAB>name<TAB>currency<TAB>status`.
 *
 *     cp .env.example .env   # then set ARMOR_USERNAME and ARMOR_PASSWORD, or an API key
 *     deno run --env-file=.env --allow-net=api.armor.com --allow-env='ARMOR_*' \
 *       examples/list_accounts.ts
 *
 * `ARMOR_BASE_URL` picks another server, e.g. a mock Armor API on a loopback port
 * (`http://127.0.0.1:<port>`, with `--allow-net=127.0.0.1`; its demo user is
 * `demo@example.com` / `demo-password`). With `ARMOR_API_KEY_ID` and
 * `ARMOR_API_SECRET_KEY` set, it signs each request with the key instead of logging in.
 *
 * @module
 */

import { ArmorApiError, ArmorSession, connectOptionsFromEnv } from "../mod.ts";

/** One entry of `GET /accounts`: a top-level array with lower-case keys. */
interface AccountEntry {
  id: number;
  name: string;
  /** May be padded with spaces: `"USD       "`. */
  currency?: string;
  status?: string;
}

try {
  const session = await ArmorSession.connect(connectOptionsFromEnv());
  try {
    const response = await session.fetch("/accounts");
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`GET /accounts answered ${response.status}`);
    }
    const accounts: AccountEntry[] = await response.json();
    for (const account of accounts) {
      const columns = [account.id, account.name, account.currency?.trim(), account.status];
      console.log(columns.map((column) => column ?? "").join("\t"));
    }
  } finally {
    await session.disconnect();
  }
} catch (error) {
  // One line: a setting to fix (exit 2), or the call, the status and the server's code.
  if (!(error instanceof Error)) throw error;
  console.error(
    error instanceof ArmorApiError ? `${error.message} (${error.code})` : error.message,
  );
  Deno.exitCode = error instanceof TypeError ? 2 : 1;
}
