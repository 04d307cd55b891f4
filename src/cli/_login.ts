// Logging in from the command line: `ArmorSession.connect` on the file store, with the
// multi-factor wait shown on stderr, and a refusal turned into one line.

import { CliError, type Context } from "./_core.ts";
import { ArmorSession } from "../armor_session.ts";
import { DEFAULT_AUTHORIZE_TIMEOUT_MS } from "../defaults.ts";
import { ArmorApiError } from "../errors.ts";
import type { ArmorLogRecord } from "../types.ts";

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

/** Logs in on the file store (or reuses a live login of the same credentials there). */
export async function logIn(
  context: Context,
  username: string,
  password: string,
): Promise<ArmorSession> {
  const notices = mfaNotices(username, DEFAULT_AUTHORIZE_TIMEOUT_MS);
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
    throw loginFailure(error);
  } finally {
    notices.stop();
  }
  await context.updateSettings((settings) => {
    settings.users[context.server] = username;
  });
  return session;
}
