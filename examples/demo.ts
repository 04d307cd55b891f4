/**
 * The Armor API's two ways in, step by step, each failure explained in one line.
 *
 *     deno task demo                # or: npx -y deno@2.9.6 task demo
 *
 * The task runs `deno run --env-file=.env ...`: settings come from the environment and
 * from `.env` (see `.env.example`), read by `connectOptionsFromEnv`.
 *
 * - No credentials set at all: it serves the mock Armor API on a loopback port and runs
 *   the password flow (authorize → token → `/me` → reissue → `/accounts`) as the mock's
 *   demo user `demo@example.com` / `demo-password`, then the API-key flow, and says so.
 * - `ARMOR_USERNAME` and `ARMOR_PASSWORD`: the password flow against `ARMOR_BASE_URL`
 *   (default: the real API, https://api.armor.com).
 * - `ARMOR_API_KEY_ID` and `ARMOR_API_SECRET_KEY`: the API-key flow (ARMOR-PSK): no
 *   login, no token, every request signed. A key wins over a password.
 * - Half of a pair, a bad `ARMOR_BASE_URL` or `ARMOR_ACCOUNT_ID`: one line saying what
 *   to fix, and nothing is sent.
 *
 * Tokens are shown shortened; no password, code, token or secret key is ever shown.
 *
 * @module
 */

import {
  ArmorApiError,
  type ArmorConnectOptions,
  type ArmorLogRecord,
  ArmorSession,
  connectOptionsFromEnv,
  updateArmorApiToken,
} from "../mod.ts";
import { serveMockArmorApi } from "../src/testing/mod.ts";

const CREDENTIALS = [
  "ARMOR_USERNAME",
  "ARMOR_PASSWORD",
  "ARMOR_API_KEY_ID",
  "ARMOR_API_SECRET_KEY",
];

/** Prints each request and answer; while authorize is unanswered, says it waits for a phone. */
function stepLogger(): { log: (record: ArmorLogRecord) => void; stop: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = { at: 0 };
  const left = () => {
    const s = Math.max(0, Math.round((180_000 - (performance.now() - started.at)) / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")} left`;
  };
  const stop = () => clearTimeout(timer);
  const log = (record: ArmorLogRecord) => {
    const path = record.url === undefined ? "" : new URL(record.url).pathname;
    if (record.event === "request") {
      console.log(`  → ${record.method} ${path}`);
      if (path.endsWith("/auth/authorize")) {
        started.at = performance.now();
        const remind = (first: boolean) => {
          console.log(
            first
              ? `  … waiting for the multi-factor approval: approve the sign-in on your phone (${left()})`
              : `  … still waiting for the approval (${left()})`,
          );
          timer = setTimeout(() => remind(false), 30_000);
        };
        timer = setTimeout(() => remind(true), 2_000);
      }
    } else {
      stop();
      if (record.event === "response") console.log(`  ← ${record.status} in ${record.ms} ms`);
    }
  };
  return { log, stop };
}

/** The first characters of a token and its length: never the whole of it. */
function shorten(token: string): string {
  return `${token.slice(0, 4)}… (${token.length} chars)`;
}

function signedIn(session: ArmorSession): string {
  const me = session.identity!;
  const name = [me.firstName, me.lastName].filter(Boolean).join(" ");
  const account = me.accounts.find((a) => a.id === session.accountId);
  return `${name ? `${name} <${me.username}>` : me.username}, ${me.accounts.length} account(s), ` +
    `acting on ${session.accountId}${account ? ` (${account.name})` : ""}`;
}

/** `GET /accounts`: a top-level array with lower-case keys. */
async function listAccounts(session: ArmorSession): Promise<void> {
  const response = await session.fetch("/accounts");
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET /accounts answered ${response.status}`);
  }
  for (const account of await response.json()) {
    const details = [account.currency?.trim(), account.status].filter(Boolean).join(", ");
    console.log(`  account ${account.id}: ${account.name} (${details})`);
  }
}

async function passwordFlow(options: ArmorConnectOptions): Promise<void> {
  console.log("\n1-3. Log in: authorize with the credentials, redeem the code, read /me");
  const session = await ArmorSession.connect(options);
  try {
    console.log(`  token ${shorten(session.token)}, expires ${session.expiresAt.toISOString()}`);
    console.log(`  signed in as ${signedIn(session)}`);
    console.log(`  the session prints as ${Deno.inspect(session)}`);

    console.log("\n4. Reissue the token before it expires (Update-ArmorApiToken)");
    const before = session.token;
    await updateArmorApiToken(undefined, { session });
    console.log(`  ${shorten(before)} → ${shorten(session.token)}`);

    console.log("\n5. Call the API with the new token: GET /accounts");
    await listAccounts(session);
  } finally {
    await session.disconnect();
  }
}

async function apiKeyFlow(options: ArmorConnectOptions, title: string): Promise<void> {
  console.log(`\n${title}`);
  console.log(
    `  key ${options.apiKey!.id} signs each request (ARMOR-PSK, HMAC-SHA512): no token, no renewal`,
  );
  const session = await ArmorSession.connect(options);
  try {
    console.log(`  signed in as ${signedIn(session)}`);
    await listAccounts(session);
  } finally {
    await session.disconnect();
  }
}

/** The innermost reason of a network failure: `Connection refused`. */
function networkReason(cause: unknown): string {
  let reason = "";
  for (let error = cause, depth = 0; error instanceof Error && depth < 5; depth++) {
    if (error.message && error.message !== "fetch failed") reason = error.message;
    error = error.cause;
  }
  return reason.replace(/^error sending request for url \([^)]*\):\s*/, "")
    .replace(/^client error \(\w+\):\s*/, "").replace(/\s*\(os error \d+\)/g, "")
    .replace(/[\p{Cc}\p{Cf}]+/gu, " ").slice(0, 200);
}

/** One line for a failure a user can act on; undefined for a bug. */
function explain(error: unknown, options: ArmorConnectOptions): [string, number] | undefined {
  const who = options.apiKey
    ? "ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY"
    : "ARMOR_USERNAME and ARMOR_PASSWORD";
  if (error instanceof TypeError) return [error.message, 2]; // a setting: nothing was sent
  if (error instanceof Deno.errors.NotCapable) {
    return [`${error.message.split(",")[0]}: add the host to --allow-net`, 2];
  }
  if (!(error instanceof ArmorApiError)) {
    return error instanceof Error ? [error.message, 1] : undefined;
  }
  const said = [error.status, error.serverCode, error.serverMessage].filter(Boolean).join(" ");
  if (error.status === 401 || error.status === 403) {
    const whom = options.apiKey
      ? `the API key ${options.apiKey.id}`
      : `the user name or password for ${options.username}`;
    return [`Sign-in refused: the Armor API rejected ${whom} (${said}): check ${who}`, 1];
  }
  if (error.code === "NETWORK") {
    const host = new URL(String(options.baseUrl ?? "https://api.armor.com")).host;
    return [`Could not reach ${host}: ${networkReason(error.cause) || "no answer"} (NETWORK)`, 1];
  }
  if (error.code === "TIMEOUT" && !options.apiKey && error.message.includes("/auth/authorize")) {
    return [
      "No multi-factor approval in time: approve the sign-in on your phone, and run again",
      1,
    ];
  }
  if (error.code === "UNKNOWN_ACCOUNT") {
    return [`${error.message}; set ARMOR_ACCOUNT_ID to one of them`, 2];
  }
  return [`Failed: ${error.message} (${error.code})`, 1];
}

const steps = stepLogger();
let options: ArmorConnectOptions = {};
try {
  if (CREDENTIALS.some((name) => Deno.env.get(name))) {
    options = { ...connectOptionsFromEnv(), logger: steps.log }; // refuses a half-set pair
    const server = new URL(String(options.baseUrl ?? "https://api.armor.com")).origin;
    if (options.apiKey) {
      console.log(`API key found: calling ${server} with key ${options.apiKey.id}`);
      await apiKeyFlow(options, "1. Connect with the API key and read /me");
    } else {
      console.log(`Credentials found: signing in to ${server} as ${options.username}`);
      await passwordFlow(options);
    }
  } else {
    // No credentials at all: the same two flows against the mock Armor API.
    const key = { id: crypto.randomUUID(), secret: crypto.randomUUID() };
    await using mock = await serveMockArmorApi({ apiKeys: [key] });
    console.log(
      `No credentials set: using the mock Armor API at ${mock.baseUrl} as its demo user ` +
        "demo@example.com; for your own account, copy .env.example to .env and set " +
        "ARMOR_USERNAME and ARMOR_PASSWORD (or ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY)",
    );
    const base = { baseUrl: mock.baseUrl, logger: steps.log };
    options = { ...base, username: "demo@example.com", password: "demo-password" };
    await passwordFlow(options);
    options = { ...base, apiKey: key };
    await apiKeyFlow(options, "6. The same with an API key instead: no login at all");
  }
  console.log("\nDisconnected. Done.");
} catch (error) {
  const explained = explain(error, options);
  if (explained === undefined) throw error;
  console.error(explained[0]);
  Deno.exitCode = explained[1];
} finally {
  steps.stop();
}
