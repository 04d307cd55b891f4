/**
 * Logs in with the credentials in `.env` and lists the Armor accounts you can act on.
 *
 *     cp .env.example .env   # then fill in ARMOR_USERNAME and ARMOR_PASSWORD
 *     deno run --env-file=.env --allow-env=ARMOR_USERNAME,ARMOR_PASSWORD,ARMOR_BASE_URL \
 *       --allow-net=api.armor.com examples/list_accounts.ts
 *
 * @module
 */

import { ArmorApiError, ArmorSession } from "../mod.ts";

const username = Deno.env.get("ARMOR_USERNAME");
const password = Deno.env.get("ARMOR_PASSWORD");
if (!username || !password) {
  console.error("Set ARMOR_USERNAME and ARMOR_PASSWORD in .env (see .env.example)");
  Deno.exit(2);
}

try {
  const session = await ArmorSession.connect({
    baseUrl: Deno.env.get("ARMOR_BASE_URL") || undefined,
    username,
    password,
  });
  const response = await session.fetch("/accounts");
  if (!response.ok) throw new Error(`GET /accounts answered ${response.status}`);
  const accounts: { ID: number; Name: string; Status?: string }[] = await response.json();
  for (const account of accounts) {
    console.log(`${account.ID}\t${account.Name}\t${account.Status ?? ""}`);
  }
  await session.disconnect();
} catch (error) {
  if (!(error instanceof ArmorApiError)) throw error;
  console.error(`${error.message} (${error.code})`);
  Deno.exit(1);
}
