/**
 * The Armor API's two ways in, step by step, explaining every failure in one line.
 *
 *     deno task demo
 *
 * Where the settings come from: the environment first, then `.env` in the working
 * directory (read by the demo itself, so a missing `.env` is explained rather than
 * warned about; see `.env.example`).
 *
 * - No credentials: it serves the mock Armor API on a loopback port and runs the
 *   password flow (authorize → token → `/me` → reissue → `/accounts`) as the mock's demo
 *   user `demo@example.com` / `demo-password`, then the API-key flow.
 * - `ARMOR_USERNAME` and `ARMOR_PASSWORD`: the password flow against `ARMOR_BASE_URL`
 *   (default: the real API, https://api.armor.com).
 * - `ARMOR_API_KEY_ID` and `ARMOR_API_SECRET_KEY`: the API-key flow (ARMOR-PSK): no
 *   login, no token, no renewal, every request signed. A key wins over a password.
 *
 * Tokens are shown shortened; no password, code, token or secret key is ever shown.
 *
 * @module
 */

import { ArmorApiError, type ArmorLogRecord, ArmorSession, updateArmorApiToken } from "../mod.ts";
import { DEFAULT_AUTHORIZE_TIMEOUT_MS } from "../src/renewal.ts";
import { type ServedMockArmorApi, serveMockArmorApi } from "../src/testing/mod.ts";

/** After this long without an answer from `/auth/authorize`, say it waits for a phone. */
const MFA_NOTICE_MS = 2_000;
/** Then repeat the notice this often, with the time left. */
const MFA_REPEAT_MS = 30_000;
const DEFAULT_BASE_URL = "https://api.armor.com";
const MOCK_USER = { username: "demo@example.com", password: "demo-password" };

/** Exit codes: 1 the Armor API or the network failed, 2 a setting is wrong. */
const FAILED = 1;
const BAD_SETTING = 2;

const SETTINGS = [
  "ARMOR_USERNAME",
  "ARMOR_PASSWORD",
  "ARMOR_BASE_URL",
  "ARMOR_ACCOUNT_ID",
  "ARMOR_API_KEY_ID",
  "ARMOR_API_SECRET_KEY",
] as const;
type Setting = typeof SETTINGS[number];

/** A failure the demo has already explained in one line. */
class Explained extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

// ── Settings: the environment, then .env ─────────────────────────────────────────────

/**
 * `KEY=value` lines as Deno's `--env-file` reads them, minus variable expansion: blank
 * lines and `#` comments skipped, an optional `export `, single or double quotes (with
 * `\n`, `\"` and `\\` in double quotes), a ` # comment` after an unquoted value. The
 * first value of a key wins.
 */
function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match === null || values.has(match[1])) continue;
    let value = match[2];
    const quoted = /^(["'])(.*)\1(?:\s+#.*)?$/.exec(value);
    if (quoted?.[1] === '"') {
      value = quoted[2].replace(/\\([n"\\])/g, (_, c: string) => c === "n" ? "\n" : c);
    } else if (quoted) value = quoted[2];
    else value = value.replace(/(^|\s+)#.*$/, "");
    values.set(match[1], value);
  }
  return values;
}

/** `.env` in the working directory: its values, or why there are none. */
function readEnvFile(): Map<string, string> | "missing" | "not allowed" {
  if (Deno.permissions.querySync({ name: "read", path: ".env" }).state !== "granted") {
    return "not allowed";
  }
  try {
    return parseEnvFile(Deno.readTextFileSync(".env"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "missing";
    throw new Explained(`Could not read .env: ${(error as Error).message}`, BAD_SETTING);
  }
}

/** A setting, from the environment (where allowed) or else `.env`; blank counts as unset. */
function setting(name: Setting, file: Map<string, string> | undefined): string | undefined {
  const allowed = Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  const value = (allowed ? Deno.env.get(name) : undefined) ?? file?.get(name);
  return value?.trim() ? value.trim() : undefined;
}

function isLoopback(hostname: string): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(hostname);
}

/** The base URL, or a one-line explanation of what is wrong with it and how to write it. */
function checkBaseUrl(raw: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // Explained below.
  }
  const shown = raw.includes("@") ? "" : ` ${JSON.stringify(raw.slice(0, 80))}`;
  if (url === undefined || !/^https?:$/.test(url.protocol)) {
    const like = /^[a-z0-9.-]+(:\d+)?\/?$/i.test(raw) ? `https://${raw}` : DEFAULT_BASE_URL;
    throw new Explained(
      `ARMOR_BASE_URL${shown} is not an https:// address: write it in full, e.g. ARMOR_BASE_URL=${like}`,
      BAD_SETTING,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new Explained(
      "ARMOR_BASE_URL must not hold a user name or password: put them in ARMOR_USERNAME and ARMOR_PASSWORD",
      BAD_SETTING,
    );
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    throw new Explained(
      `ARMOR_BASE_URL ${url.origin} uses plain http, which the Armor API does not serve (http is only for a loopback mock): write ARMOR_BASE_URL=https://${url.host}`,
      BAD_SETTING,
    );
  }
  return url;
}

function checkAccountId(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const id = Number(raw);
  if (/^\d+$/.test(raw) && Number.isSafeInteger(id) && id > 0) return id;
  throw new Explained("ARMOR_ACCOUNT_ID must be a positive whole number, e.g. 1001", BAD_SETTING);
}

// ── What the demo shows ──────────────────────────────────────────────────────────────

/** Shows the first four characters of a token and its length: never the whole of it. */
function shorten(secret: string): string {
  return `${secret.slice(0, 4)}… (${secret.length} chars)`;
}

function minutes(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * Prints each request and answer, and while `POST /auth/authorize` is unanswered, says
 * after {@linkcode MFA_NOTICE_MS} that it waits for a multi-factor approval, with the
 * time left. It also remembers which call failed last, to explain the failure.
 */
class Steps {
  lastFailed?: string;
  #waiting?: ReturnType<typeof setTimeout>;
  #repeating?: ReturnType<typeof setInterval>;

  constructor(readonly authorizeTimeout: number) {}

  readonly log = (record: ArmorLogRecord): void => {
    const path = record.url === undefined ? "" : new URL(record.url).pathname;
    const authorize = path.endsWith("/auth/authorize");
    if (record.event === "request") {
      console.log(`  → ${record.method} ${path}`);
      if (authorize) this.#startWaiting();
    } else if (record.event === "response" || record.event === "error") {
      if (authorize) this.stopWaiting();
      if (record.event === "response") console.log(`  ← ${record.status} in ${record.ms} ms`);
      else this.lastFailed = path;
    }
  };

  #startWaiting(): void {
    this.stopWaiting();
    const started = performance.now();
    const left = () => minutes(this.authorizeTimeout - (performance.now() - started));
    this.#waiting = setTimeout(() => {
      console.log(
        `  … waiting for the multi-factor approval: approve the sign-in on your phone (${left()} left)`,
      );
      this.#repeating = setInterval(() => {
        console.log(`  … still waiting for the approval (${left()} left)`);
      }, MFA_REPEAT_MS);
    }, MFA_NOTICE_MS);
  }

  stopWaiting(): void {
    clearTimeout(this.#waiting);
    clearInterval(this.#repeating);
  }
}

function signedIn(session: ArmorSession): string {
  const me = session.identity;
  if (me === undefined) return `account ${session.accountId}`;
  const name = [me.firstName, me.lastName].filter(Boolean).join(" ");
  const account = me.accounts.find((a) => a.id === session.accountId);
  return `${name ? `${name} <${me.username}>` : me.username}, ${me.accounts.length} account(s), ` +
    `acting on ${session.accountId}${account ? ` (${account.name})` : ""}`;
}

/** `GET /accounts` through the session: a top-level array with lower-case keys. */
async function listAccounts(session: ArmorSession): Promise<void> {
  const response = await session.fetch("/accounts");
  if (!response.ok) {
    await response.body?.cancel();
    throw new Explained(`GET /accounts answered ${response.status}`, FAILED);
  }
  const accounts: unknown = await response.json();
  if (!Array.isArray(accounts)) throw new Explained("GET /accounts sent no list", FAILED);
  for (const account of accounts as Record<string, unknown>[]) {
    const details = [account.currency, account.status]
      .filter((value) => typeof value === "string" && value.trim() !== "")
      .map((value) => (value as string).trim());
    console.log(`  account ${account.id}: ${account.name} (${details.join(", ")})`);
  }
}

// ── The two flows ────────────────────────────────────────────────────────────────────

async function passwordFlow(
  baseUrl: string,
  credentials: { username: string; password: string },
  accountId: number | undefined,
  steps: Steps,
): Promise<void> {
  console.log("\n1-3. Log in: authorize with the credentials, redeem the code, read /me");
  const session = await ArmorSession.connect({
    ...credentials,
    baseUrl,
    accountId,
    authorizeTimeout: steps.authorizeTimeout,
    logger: steps.log,
  });
  console.log(`  token ${shorten(session.token)}, expires ${session.expiresAt.toISOString()}`);
  console.log(`  signed in as ${signedIn(session)}`);
  console.log(`  the session prints as ${Deno.inspect(session)}`);

  console.log("\n4. Reissue the token before it expires (Update-ArmorApiToken)");
  const before = session.token;
  await updateArmorApiToken(undefined, { session });
  console.log(`  ${shorten(before)} → ${shorten(session.token)}`);
  console.log(`  expires ${session.expiresAt.toISOString()}`);

  console.log("\n5. Call the API with the new token: GET /accounts");
  await listAccounts(session);
  await session.disconnect();
}

async function apiKeyFlow(
  baseUrl: string,
  apiKey: { id: string; secret: string },
  accountId: number | undefined,
  steps: Steps,
  title: string,
): Promise<void> {
  console.log(`\n${title}`);
  console.log(
    `  key ${apiKey.id} signs each request (ARMOR-PSK, HMAC-SHA512): no token, no renewal`,
  );
  const session = await ArmorSession.connect({ apiKey, baseUrl, accountId, logger: steps.log });
  console.log(`  signed in as ${signedIn(session)}`);
  await listAccounts(session);
  await session.disconnect();
}

// ── Failures, in one line each ───────────────────────────────────────────────────────

/** The reason of a network failure, from its (scrubbed) cause: `Connection refused`. */
function networkReason(cause: unknown): string {
  let reason = "";
  for (let error = cause, depth = 0; error instanceof Error && depth < 5; depth++) {
    if (error.message && error.message !== "fetch failed") reason = error.message;
    error = error.cause;
  }
  return reason
    .replace(/^error sending request for url \([^)]*\):\s*/, "")
    .replace(/^client error \(\w+\):\s*/, "")
    .replace(/\s*\(os error \d+\)/g, "")
    .replace(/[\p{Cc}\p{Cf}]+/gu, " ")
    .slice(0, 200);
}

function serverSaid(error: ArmorApiError): string {
  const said = [error.serverCode, error.serverMessage].filter(Boolean).join(": ");
  return `${error.status ?? ""}${said ? ` ${said}` : ""}`.trim();
}

function explain(
  error: unknown,
  context: { host: string; who: string; apiKey: boolean; steps: Steps },
): Explained | undefined {
  if (error instanceof Explained) return error;
  if (error instanceof Deno.errors.NotCapable) {
    // The demo task lets the demo reach api.armor.com and loopback only.
    return new Explained(
      `${error.message.split(",")[0]}: for another ARMOR_BASE_URL, run ` +
        `deno run --allow-net=${context.host} --allow-env --allow-read=.env examples/demo.ts`,
      BAD_SETTING,
    );
  }
  if (error instanceof TypeError) {
    return new Explained(`Not started: ${error.message}`, BAD_SETTING);
  }
  if (!(error instanceof ArmorApiError)) return undefined;
  const failed = context.steps.lastFailed;
  if ((error.status === 401 || error.status === 403) && failed?.endsWith("/auth/authorize")) {
    return new Explained(
      `Sign-in refused: the Armor API rejected the user name or password for ${context.who} ` +
        `(${serverSaid(error)}): check ARMOR_USERNAME and ARMOR_PASSWORD`,
      FAILED,
    );
  }
  if (error.status === 401 && context.apiKey) {
    return new Explained(
      `The Armor API rejected the API key ${context.who} (${serverSaid(error)}): check ` +
        "ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY, and that the key was not revoked",
      FAILED,
    );
  }
  if (error.status === 429) {
    const wait = error.retryAfter === undefined ? "a while" : `${error.retryAfter} s`;
    return new Explained(
      `Too many attempts (${serverSaid(error)}): wait ${wait} and try again`,
      FAILED,
    );
  }
  if (error.code === "NETWORK") {
    const reason = networkReason(error.cause);
    return new Explained(
      `Could not reach ${context.host}: ${reason || "no answer"} (NETWORK)`,
      FAILED,
    );
  }
  if (error.code === "TIMEOUT" && failed?.endsWith("/auth/authorize")) {
    return new Explained(
      `No multi-factor approval within ${minutes(context.steps.authorizeTimeout)} min: ` +
        "approve the sign-in on your phone when asked, and run the demo again",
      FAILED,
    );
  }
  if (error.code === "UNKNOWN_ACCOUNT") {
    return new Explained(`${error.message}; set ARMOR_ACCOUNT_ID to one of them`, BAD_SETTING);
  }
  return new Explained(`Failed: ${error.message} (${error.code})`, FAILED);
}

// ── Main ─────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const steps = new Steps(DEFAULT_AUTHORIZE_TIMEOUT_MS);
  let mock: ServedMockArmorApi | undefined;
  const context = { host: "", who: "", apiKey: false, steps };
  try {
    const file = readEnvFile();
    const values = file instanceof Map ? file : undefined;
    const get = (name: Setting) => setting(name, values);
    const accountId = checkAccountId(get("ARMOR_ACCOUNT_ID"));
    const keyId = get("ARMOR_API_KEY_ID");
    const keySecret = get("ARMOR_API_SECRET_KEY");
    const username = get("ARMOR_USERNAME");
    const password = get("ARMOR_PASSWORD");
    if ((keyId === undefined) !== (keySecret === undefined)) {
      throw new Explained(
        "Set both ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY, or neither",
        BAD_SETTING,
      );
    }

    if (keyId === undefined && (username === undefined || password === undefined)) {
      const why = file === "missing"
        ? "No .env file"
        : file === "not allowed"
        ? ".env not read (no --allow-read=.env)"
        : "No credentials in .env";
      // Both flows against the mock: a password login, then an API key.
      const key = { id: crypto.randomUUID(), secret: crypto.randomUUID().replaceAll("-", "") };
      mock = await serveMockArmorApi({ apiKeys: [key] });
      context.host = new URL(mock.baseUrl).host;
      console.log(
        `${why}: using the mock Armor API at ${mock.baseUrl} as its demo user ` +
          `${MOCK_USER.username}; for your own account, copy .env.example to .env and set ` +
          "ARMOR_USERNAME and ARMOR_PASSWORD (or ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY)",
      );
      context.who = MOCK_USER.username;
      await passwordFlow(mock.baseUrl, MOCK_USER, accountId, steps);
      context.who = key.id;
      context.apiKey = true;
      await apiKeyFlow(
        mock.baseUrl,
        key,
        accountId,
        steps,
        "6. The same with an API key instead: no login at all",
      );
    } else {
      const base = checkBaseUrl(get("ARMOR_BASE_URL") ?? DEFAULT_BASE_URL);
      const baseUrl = base.href;
      context.host = base.host;
      const from = values?.has(keyId ? "ARMOR_API_KEY_ID" : "ARMOR_USERNAME")
        ? ".env"
        : "the environment";
      if (keyId !== undefined) {
        context.who = keyId;
        context.apiKey = true;
        console.log(`API key found in ${from}: calling ${base.origin} with key ${keyId}`);
        await apiKeyFlow(
          baseUrl,
          { id: keyId, secret: keySecret! },
          accountId,
          steps,
          "1. Connect with the API key and read /me",
        );
      } else {
        context.who = username!;
        console.log(`Credentials found in ${from}: signing in to ${base.origin} as ${username}`);
        await passwordFlow(baseUrl, { username: username!, password: password! }, accountId, steps);
      }
    }
    console.log("\nDisconnected. Done.");
  } catch (error) {
    const explained = explain(error, context);
    if (explained === undefined) throw error;
    console.error(explained.message);
    Deno.exitCode = explained.exitCode;
  } finally {
    steps.stopWaiting();
    await mock?.close();
  }
}

await main();
