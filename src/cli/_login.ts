// Logging in from the command line: `ArmorSession.connect` on the file store, with the
// multi-factor wait shown on stderr, and a refusal turned into one line.

import { CliError, type Context, type LoginFailure } from "./_core.ts";
import { ArmorSession } from "../armor_session.ts";
import { DEFAULT_AUTHORIZE_TIMEOUT_MS } from "../defaults.ts";
import { ArmorApiError } from "../errors.ts";
import type { ArmorLogRecord } from "../types.ts";
import { makeLogin, sameLogin } from "../_verifier.ts";

/** How often the multi-factor wait is shown again, and when first. */
export const MFA_NOTICE_EVERY_MS = 10_000;
const MFA_FIRST_NOTICE_MS = 1_000;

function left(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Shows on stderr that the sign-in waits for approval, with the time left. */
function mfaNotices(username: string, timeout: number) {
  let first: ReturnType<typeof setTimeout> | undefined;
  let every: ReturnType<typeof setInterval> | undefined;
  let deadline = 0;
  const say = () =>
    console.error(
      `Waiting for ${username} to approve the sign-in (multi-factor authentication): ` +
        `${left(deadline - performance.now())} left`,
    );
  const stop = () => {
    clearTimeout(first);
    clearInterval(every);
    first = every = undefined;
  };
  const logger = (record: ArmorLogRecord) => {
    if (!record.url?.endsWith("/auth/authorize")) return;
    if (record.event === "request") {
      stop();
      deadline = performance.now() + timeout;
      first = setTimeout(() => {
        say();
        every = setInterval(say, MFA_NOTICE_EVERY_MS);
      }, MFA_FIRST_NOTICE_MS);
    } else {
      stop();
    }
  };
  return { logger, stop };
}

/** Turns a failed login into one line, with the server's reason and no secret. */
export function loginFailure(error: unknown): CliError {
  if (error instanceof ArmorApiError) {
    // A store failure says why (a folder not writable, say): the cause is the file
    // system's, about paths, and the library has withheld it if it held a secret.
    const cause = error.code === "STORE" && error.cause instanceof Error
      ? `: ${error.cause.message}`
      : "";
    return new CliError(`Login failed: ${error.message}${cause}`);
  }
  if (error instanceof TypeError) return new CliError(`Login failed: ${error.message}`, 2);
  return new CliError(`Login failed: ${error instanceof Error ? error.message : String(error)}`);
}

/** When this process started, by the wall clock: a refusal since then is one it waited for. */
const processStart = Date.now() - performance.now();

/** How long a login waits for another process's login of the same user to end. */
const LOGIN_LOCK_WAIT_MS = DEFAULT_AUTHORIZE_TIMEOUT_MS + 60_000;
const LOGIN_LOCK_POLL_MS = 100;

/**
 * Takes the login lock of a store key: one `armor-auth` login of a user at a time on
 * this machine, held until its outcome is stored (its token, or its refusal). The OS
 * frees it when its process dies. Waits with a notice on stderr; `undefined` if it is
 * still held after LOGIN_LOCK_WAIT_MS (a stopped process): then the login goes ahead.
 */
async function loginLock(context: Context, key: string): Promise<Deno.FsFile | undefined> {
  const path = context.store.pathOf(key).replace(/\.json$/, ".login.lock");
  await context.privateDir();
  try {
    // Never through a link: remove whatever is not a plain file there.
    if (!(await Deno.lstat(path)).isFile) await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
    throw new CliError(
      `Login failed: Cannot write in ${context.store.dir} (${error.message.split(": ")[0]}): ` +
        "check that the folder is yours and writable",
    );
  }
  const started = performance.now();
  let nextNotice = 0;
  try {
    while (!await file.tryLock(true)) {
      const waited = performance.now() - started;
      if (waited >= LOGIN_LOCK_WAIT_MS) {
        file.close();
        return undefined;
      }
      if (waited >= nextNotice) {
        nextNotice += MFA_NOTICE_EVERY_MS;
        console.error(
          "Waiting for a sign-in in progress elsewhere (it may wait for a multi-factor " +
            `approval): at most ${left(LOGIN_LOCK_WAIT_MS - waited)} left`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, LOGIN_LOCK_POLL_MS));
    }
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}

/**
 * Logs in on the file store (or reuses a live login of the same credentials there). One
 * login of a user at a time between every `armor-auth` process: those that wait for it
 * take its token, or, if it was refused with the same password since they started, its
 * refusal, without asking the server (and the phone) again.
 */
export async function logIn(
  context: Context,
  username: string,
  password: string,
): Promise<ArmorSession> {
  const key = context.keyOf(username);
  const lock = await loginLock(context, key);
  try {
    context.reloadSettings();
    const failure = context.settings().failures?.[key] as Partial<LoginFailure> | undefined;
    if (
      typeof failure?.at === "number" && failure.at >= processStart &&
      typeof failure.message === "string" && typeof failure.login === "object" &&
      failure.login !== null && typeof failure.login.salt === "string" &&
      typeof failure.login.verifier === "string" &&
      await sameLogin(failure.login, username, password)
    ) {
      throw new CliError(failure.message);
    }
    const notices = mfaNotices(username, DEFAULT_AUTHORIZE_TIMEOUT_MS);
    // A login of this user in progress elsewhere (a script's, waiting for the phone):
    // connect waits for it; say so, with the time its claim has left.
    const claim = (await context.store.get(key))?.value.claim;
    let elsewhere: ReturnType<typeof setInterval> | undefined;
    if (claim?.purpose === "login" && typeof claim.until === "number" && claim.until > Date.now()) {
      const say = () =>
        console.error(
          "Waiting for a sign-in in progress elsewhere (it may wait for a multi-factor " +
            `approval): at most ${left(claim.until - Date.now())} left`,
        );
      say();
      elsewhere = setInterval(say, MFA_NOTICE_EVERY_MS);
    }
    let session: ArmorSession;
    try {
      session = await ArmorSession.connect({
        username,
        password,
        baseUrl: context.server,
        store: context.store,
        authorizeTimeout: DEFAULT_AUTHORIZE_TIMEOUT_MS,
        logger: notices.logger,
      });
    } catch (error) {
      notices.stop();
      clearInterval(elsewhere);
      const refused = loginFailure(error);
      const login = await makeLogin(username, password);
      await context.updateSettings((settings) => {
        (settings.failures ??= {})[key] = { at: Date.now(), message: refused.message, login };
      }).catch(() => {});
      throw refused;
    }
    notices.stop();
    clearInterval(elsewhere);
    await context.updateSettings((settings) => {
      settings.users[context.server] = username;
      if (settings.failures !== undefined) delete settings.failures[key];
    });
    return session;
  } finally {
    lock?.close();
  }
}
