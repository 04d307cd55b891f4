/**
 * Signs in and lists the Armor accounts you can act on, one a line:
 * `id<TAB>name<TAB>currency<TAB>status`.
 *
 *     cp .env.example .env   # then set ARMOR_USERNAME and ARMOR_PASSWORD, or an API key
 *     deno run --env-file=.env --allow-net=api.armor.com \
 *       --allow-env=ARMOR_USERNAME,ARMOR_PASSWORD,ARMOR_BASE_URL,ARMOR_API_KEY_ID,ARMOR_API_SECRET_KEY \
 *       examples/list_accounts.ts
 *
 * `ARMOR_BASE_URL` picks another server, e.g. a mock Armor API on a loopback port
 * (`http://127.0.0.1:<port>`, with `--allow-net=127.0.0.1`; its demo user is
 * `demo@example.com` / `demo-password`). With `ARMOR_API_KEY_ID` and
 * `ARMOR_API_SECRET_KEY` set, it signs each request with the key instead of logging in.
 *
 * @module
 */

import { ArmorApiError, ArmorSession } from "../mod.ts";

/** One entry of `GET /accounts`: a top-level array with lower-case keys. */
interface AccountEntry {
  id: number;
  name: string;
  /** May be padded with spaces: `"USD       "`. */
  currency?: string;
  status?: string;
}

function env(name: string): string | undefined {
  return Deno.env.get(name)?.trim() || undefined;
}

const baseUrl = env("ARMOR_BASE_URL");
const keyId = env("ARMOR_API_KEY_ID");
const keySecret = env("ARMOR_API_SECRET_KEY");
const username = env("ARMOR_USERNAME");
const password = Deno.env.get("ARMOR_PASSWORD");
if (!(keyId && keySecret) && !(username && password)) {
  console.error(
    "Set ARMOR_USERNAME and ARMOR_PASSWORD, or ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY, in .env (see .env.example)",
  );
  Deno.exit(2);
}

try {
  const session = keyId && keySecret
    ? await ArmorSession.connect({ apiKey: { id: keyId, secret: keySecret }, baseUrl })
    : await ArmorSession.connect({ username: username!, password: password!, baseUrl });
  const response = await session.fetch("/accounts");
  if (!response.ok) {
    await response.body?.cancel();
    console.error(`GET /accounts answered ${response.status}`);
    Deno.exit(1);
  }
  const accounts: AccountEntry[] = await response.json();
  for (const account of accounts) {
    const columns = [account.id, account.name, account.currency?.trim(), account.status];
    console.log(columns.map((column) => column ?? "").join("\t"));
  }
  await session.disconnect();
} catch (error) {
  // One line: the message names the call, the status and the server's own code.
  if (error instanceof ArmorApiError) console.error(`${error.message} (${error.code})`);
  else if (error instanceof TypeError) console.error(error.message); // e.g. a bad ARMOR_BASE_URL
  else throw error;
  Deno.exit(1);
}
