// The commands other than `token`: login, api, status, accounts, use, logout.

import {
  apiKeyFromEnv,
  CliError,
  type Context,
  env,
  liveToken,
  NOT_LOGGED_IN,
  type Parsed,
  UsageError,
  wellFormedEntry,
} from "./_core.ts";
import { logIn, loginFailure } from "./_login.ts";
import { promptSecret } from "./_prompt.ts";
import { ArmorSession } from "../armor_session.ts";
import type { ArmorAccount, ArmorIdentity } from "../identity.ts";

/** Runs a command other than `token`. */
export async function runCommand(context: Context, parsed: Parsed): Promise<number> {
  switch (parsed.command) {
    case "login":
      return await login(context);
    case "api":
      return await api(context, parsed);
    case "status":
      return await status(context);
    case "accounts":
      return await accounts(context);
    case "use":
      return await use(context, parsed.positionals[0]);
    case "logout":
      return await logout(context);
  }
  throw new UsageError(`Unknown command ${parsed.command}`);
}

const MISSING_CREDENTIALS =
  "Missing credentials: set ARMOR_USERNAME (or --username) and ARMOR_PASSWORD " +
  "(or run on a terminal to be asked), or ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY";

function describeAccount(account: ArmorAccount | undefined, id: number): string {
  return account === undefined ? String(id) : `${id} (${account.name})`;
}

/** `armor-auth login`. */
async function login(context: Context): Promise<number> {
  const username = context.flagUser;
  if (username === undefined) {
    if (apiKeyFromEnv() !== undefined) {
      throw new CliError(
        "An API key needs no login: armor-auth api signs each request with ARMOR_API_KEY_ID",
      );
    }
    throw new CliError("Missing user name: set ARMOR_USERNAME or pass --username");
  }
  let password = env("ARMOR_PASSWORD");
  if (password === undefined) {
    if (!Deno.stdin.isTerminal()) {
      throw new CliError(
        "Missing password: set ARMOR_PASSWORD, or run armor-auth login on a terminal to be asked",
      );
    }
    password = await promptSecret(`Password for ${username} at ${context.server}: `);
    if (password === "") throw new CliError("No password given");
  }
  const session = await logIn(context, username, password);
  const id = await context.account(username) ?? session.accountId;
  const account = session.accounts.find((a) => a.id === id);
  console.error(
    `Logged in to ${context.server} as ${username}` +
      (id === undefined ? "" : `, account ${describeAccount(account, id)}`) +
      `; the token is valid until ${session.expiresAt.toISOString()} and renewed as it is used`,
  );
  return 0;
}

/** The stored login of the current user, or a "not logged in" error. */
async function storedLogin(context: Context) {
  const username = await context.user();
  if (username === undefined) throw new CliError(NOT_LOGGED_IN);
  const found = await liveToken(context, context.keyOf(username));
  if (found === undefined) throw new CliError(NOT_LOGGED_IN);
  return { username, ...found };
}

/** A session for `api`: an API key from the environment, else the stored login. */
async function apiSession(context: Context, accountId: number | undefined) {
  const apiKey = apiKeyFromEnv();
  if (apiKey !== undefined) {
    try {
      return await ArmorSession.connect({
        apiKey,
        baseUrl: context.server,
        // As for a login: --account, else the one chosen with `use`, else ARMOR_ACCOUNT_ID.
        accountId: accountId ?? context.account(keyUser(apiKey)),
      });
    } catch (error) {
      throw loginFailure(error);
    }
  }
  const username = await context.user();
  if (username === undefined) {
    throw new CliError(env("ARMOR_PASSWORD") === undefined ? NOT_LOGGED_IN : MISSING_CREDENTIALS);
  }
  const session = new ArmorSession({
    baseUrl: context.server,
    store: context.store,
    storeKey: context.keyOf(username),
    accountId: accountId ?? await context.account(username),
  });
  // Renew first when due, as `token` does, then adopt the stored token.
  const found = await liveToken(context, context.keyOf(username));
  if (found !== undefined && await session.load()) return session;
  const password = env("ARMOR_PASSWORD");
  if (password === undefined) throw new CliError(NOT_LOGGED_IN);
  const fresh = await logIn(context, username, password);
  const id = accountId ?? await context.account(username);
  if (id !== undefined) fresh.useAccount(id);
  return fresh;
}

/** Reads `-d`: the text, `@file`, or `@-` for stdin. */
async function readData(data: string | undefined): Promise<string | undefined> {
  if (data === undefined || !data.startsWith("@")) return data;
  const path = data.slice(1);
  if (path === "-") return await new Response(Deno.stdin.readable).text();
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new CliError(`Cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The server's short reason for a refusal, from any documented error body. */
function reasonOf(text: string): string {
  try {
    const json = JSON.parse(text);
    if (typeof json === "object" && json !== null) {
      const parts = [
        json.error ?? json.errorCode ?? json.ErrorCode,
        json.error_description ?? json.message ?? json.Message ?? json.Detail,
        json.referenceId ?? json.ReferenceId,
      ].filter((part) => typeof part === "string" && part !== "");
      if (parts.length > 0) return parts.join(": ");
    }
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 300);
}

/** `armor-auth api <path>`. */
async function api(context: Context, parsed: Parsed): Promise<number> {
  let path = parsed.positionals[0];
  if (!path.startsWith("/")) path = `/${path}`;
  if (path.startsWith("//")) throw new UsageError("The path must be a path such as /me");
  let accountId: number | undefined;
  if (parsed.flags.account !== undefined) {
    accountId = Number(parsed.flags.account);
    if (!Number.isSafeInteger(accountId) || accountId <= 0) {
      throw new UsageError("--account must be a positive integer account id");
    }
  }
  const method = (parsed.flags.method ?? (parsed.flags.data === undefined ? "GET" : "POST"))
    .toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`Bad method ${parsed.flags.method}`);
  const body = await readData(parsed.flags.data);
  if (body !== undefined && (method === "GET" || method === "HEAD")) {
    throw new UsageError(`A ${method} request has no body: add -X POST (or PUT, PATCH)`);
  }
  const session = await apiSession(context, accountId);
  // The token the call is sent with: a 401 ends the session, and the token it rejected
  // (which may be echoed in the answer) is then no longer the session's.
  const sentWith = currentToken(session);
  let response: Response;
  try {
    response = await session.fetch(path.slice(1), { method, body });
  } catch (error) {
    throw new CliError(`The call failed: ${(error as Error).message}`);
  }
  const secrets = [
    sentWith,
    currentToken(session),
    env("ARMOR_PASSWORD"),
    env("ARMOR_API_SECRET_KEY"),
  ].filter((secret): secret is string => secret !== undefined);
  const { scrubText } = await import("../_redact.ts");
  let text = scrubText(await response.text(), secrets);
  if (!response.ok) {
    console.error(
      `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}: ${
        reasonOf(text) || "no reason given"
      }`,
    );
    return 1;
  }
  if (Deno.stdout.isTerminal()) {
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON: as it came
    }
  }
  if (text !== "") await writeOut(text.endsWith("\n") ? text : `${text}\n`);
  return 0;
}

/** The session's token, if it has one now. */
function currentToken(session: ArmorSession): string | undefined {
  return session.scheme === "FH-AUTH" && session.isActive() ? session.token : undefined;
}

async function writeOut(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}

/** `armor-auth status`: who, where, which account, until when; never the token. */
async function status(context: Context): Promise<number> {
  const apiKey = apiKeyFromEnv();
  if (apiKey !== undefined) {
    console.log(
      `API key ${apiKey.id} (from ARMOR_API_KEY_ID) for ${context.server}: every request is ` +
        "signed, there is no token",
    );
  }
  const username = await context.user();
  const entry = username === undefined
    ? undefined
    : await context.store.get(context.keyOf(username));
  const value = username === undefined
    ? undefined
    : wellFormedEntry(context, context.keyOf(username), entry?.value);
  const token = value?.token;
  if (username === undefined || token === undefined) {
    if (apiKey !== undefined) return 0;
    console.log(`Not logged in to ${context.server}: run armor-auth login`);
    return 1;
  }
  const identity = value!.identity;
  const id = await context.account(username) ?? identity?.accounts[0]?.id;
  const now = Date.now();
  const live = token.expiresAt > now;
  const minutes = Math.round(Math.abs(token.expiresAt - now) / 60_000);
  console.log(`Logged in to ${context.server} as ${username}`);
  if (id !== undefined) {
    console.log(`Account: ${describeAccount(identity?.accounts.find((a) => a.id === id), id)}`);
  }
  console.log(
    live
      ? `Token: valid until ${new Date(token.expiresAt).toISOString()} (${minutes} min left)`
      : `Token: expired at ${new Date(token.expiresAt).toISOString()}: run armor-auth login`,
  );
  console.log(`Store: ${context.store.pathOf(context.keyOf(username))}`);
  return live ? 0 : 1;
}

/** The identity of the stored login, read from `/me` when the store kept only the name. */
async function identityOf(
  context: Context,
): Promise<{ username: string; label: string; identity: ArmorIdentity }> {
  const apiKey = apiKeyFromEnv();
  if (apiKey !== undefined) {
    // The key's own accounts: `api` signs with the key whenever one is set.
    const session = await apiSession(context, undefined);
    const identity = session.identity;
    if (identity === undefined) throw new CliError("The API key's identity could not be read");
    return { username: keyUser(apiKey), label: `API key ${apiKey.id}`, identity };
  }
  const { username: label, ...rest } = await identityOfLogin(context);
  return { username: label, label, ...rest };
}

/** The name an API key's settings (its default account) are kept under. */
function keyUser(apiKey: { id: string }): string {
  return `apikey:${apiKey.id}`;
}

async function identityOfLogin(
  context: Context,
): Promise<{ username: string; identity: ArmorIdentity }> {
  const { username, value } = await storedLogin(context);
  if (value.identity !== undefined && !value.identityTrimmed) {
    return { username, identity: value.identity };
  }
  const session = await apiSession(context, undefined);
  const response = await session.fetch("me");
  if (!response.ok) throw new CliError(`GET /me answered ${response.status}`);
  const { parseIdentity } = await import("../identity.ts");
  return { username, identity: parseIdentity(await response.json()) };
}

/** `armor-auth accounts`. */
async function accounts(context: Context): Promise<number> {
  const { username, label, identity } = await identityOf(context);
  const current = await context.account(username) ?? identity.accounts[0]?.id;
  if (identity.accounts.length === 0) console.error(`${label} has no accounts`);
  for (const account of identity.accounts) {
    console.log(`${account.id === current ? "*" : " "} ${account.id}\t${account.name}`);
  }
  return 0;
}

/** `armor-auth use <account id>`. */
async function use(context: Context, word: string): Promise<number> {
  const id = Number(word);
  if (!/^[0-9]+$/.test(word) || !Number.isSafeInteger(id) || id <= 0) {
    throw new UsageError("use takes a positive integer account id, e.g. armor-auth use 1001");
  }
  const { username, label, identity } = await identityOf(context);
  const account = identity.accounts.find((a) => a.id === id);
  if (account === undefined) {
    throw new CliError(
      `Account ${id} is not one of ${label}'s accounts: ${
        identity.accounts.map((a) => a.id).join(", ") || "none"
      }`,
    );
  }
  await context.updateSettings((settings) => {
    settings.accounts[context.keyOf(username)] = id;
  });
  console.error(`Default account for ${label}: ${describeAccount(account, id)}`);
  return 0;
}

/** `armor-auth logout`: removes the login from the store. */
async function logout(context: Context): Promise<number> {
  const apiKey = apiKeyFromEnv();
  if (apiKey !== undefined) {
    // A key has no login to remove; forget the account chosen for it with `use`.
    await context.updateSettings((settings) => {
      delete settings.accounts[context.keyOf(keyUser(apiKey))];
    });
  }
  const username = await context.user();
  if (username === undefined) {
    console.error(`Not logged in to ${context.server}: nothing to remove`);
    return 0;
  }
  const key = context.keyOf(username);
  for (let attempt = 0; attempt < 20; attempt++) {
    const entry = await context.store.get(key);
    if (entry === undefined) break;
    if (await context.store.set(key, undefined, entry.version) !== null) break;
  }
  await context.updateSettings((settings) => {
    if (settings.users[context.server] === username) delete settings.users[context.server];
    delete settings.accounts[key];
    if (settings.failures !== undefined) delete settings.failures[key];
  });
  console.error(`Logged out ${username} from ${context.server}`);
  return 0;
}
