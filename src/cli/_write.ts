// What armor-auth writes besides the token store: settings.json (under its lock), the
// folder made private, and a renewal's outcome. Loaded only when something is written, off
// `token`'s hot path.

import {
  CliError,
  type Context,
  type Found,
  RENEW_BACKOFF_MS,
  type Settings,
  SETTINGS_FORMAT,
  type StoredToken,
  withoutClaim,
} from "./_core.ts";
import type { ArmorStoredSession } from "../token_store.ts";

const SETTINGS_LOCK_TIMEOUT_MS = 15_000;

/**
 * The store folder, made (0700) if missing and private if opened up (with a warning);
 * refused when it is open to others and cannot be made private (another user's): then
 * nothing of ours is written in it.
 */
export async function privateDir(context: Context): Promise<string> {
  const dir = context.store.dir;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await Deno.stat(dir);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    try {
      await Deno.chmod(dir, 0o700);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new CliError(
        `Cannot use ${dir}: it is open to others and cannot be made private (is it another ` +
          "user's?); use a folder of your own",
      );
    }
    console.error(`Warning: Made ${dir} private (mode 0700): it was open to others`);
  }
  return dir;
}

/** Changes the settings under the store folder's settings lock, atomically. */
export async function updateSettings(
  context: Context,
  change: (settings: Settings) => void,
): Promise<void> {
  const dir = await privateDir(context);
  try {
    // A lock is never taken through a link: remove whatever is not a plain file there.
    if (!(await Deno.lstat(`${dir}/settings.lock`)).isFile) {
      await Deno.remove(`${dir}/settings.lock`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const lock = await Deno.open(`${dir}/settings.lock`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    // At once when free, else polled: a stopped holder must not hang every process.
    const deadline = performance.now() + SETTINGS_LOCK_TIMEOUT_MS;
    for (let pause = 1; !await lock.tryLock(true); pause = Math.min(pause * 2, 25)) {
      if (performance.now() >= deadline) {
        throw new CliError(
          `The lock on ${dir}/settings.json stayed held for 15 s: a process holds it and ` +
            "does not let go (a stopped one?); end it, then try again",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    context.reloadSettings();
    const settings = context.settings();
    change(settings);
    // Temporary files are written under this lock: any left now is a killed writer's.
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.startsWith(".settings.") && entry.name.endsWith(".tmp")) {
        await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
      }
    }
    const temp = `${dir}/.settings.${crypto.randomUUID()}.tmp`;
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = new TextEncoder().encode(
        JSON.stringify({ format: SETTINGS_FORMAT, ...settings }),
      );
      for (let written = 0; written < bytes.length;) {
        written += await file.write(bytes.subarray(written));
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, `${dir}/settings.json`);
  } finally {
    lock.close();
  }
}

/** Reissues the token under this process's renewal claim and stores the new one. */
export async function reissue(
  context: Context,
  key: string,
  value: ArmorStoredSession,
  token: StoredToken,
  claimed: string,
): Promise<Found | undefined> {
  const { updateArmorApiToken } = await import("../update_armor_api_token.ts");
  let fresh;
  try {
    fresh = await updateArmorApiToken(token.accessToken, { baseUrl: context.server });
  } catch (error) {
    const status = (error as { status?: number }).status;
    const rest = withoutClaim(value);
    if (status === 401) {
      // The API no longer takes it: drop it, so nobody else tries it.
      const { token: _token, ...noToken } = rest;
      await context.store.set(key, noToken, claimed).catch(() => null);
      return undefined;
    }
    // Others print the token they have (still valid) instead of asking a failing server
    // again, for a while: written before the claim is given back, so none misses it.
    await context.updateSettings((settings) => {
      (settings.renewFailed ??= {})[key] = Date.now() + RENEW_BACKOFF_MS;
    }).catch(() => {});
    await context.store.set(key, rest, claimed).catch(() => null);
    console.error(
      `Warning: could not renew the token (${(error as Error).message}); it stays valid until ${
        new Date(token.expiresAt).toISOString()
      }`,
    );
    return { value: rest, token };
  }
  const next: StoredToken = {
    accessToken: fresh.access_token,
    issuedAt: fresh.issuedAt.getTime(),
    expiresAt: fresh.expiresAt.getTime(),
  };
  const stored = { ...withoutClaim(value), token: next };
  // If the claim was lost meanwhile, this token is still good for this process.
  await context.store.set(key, stored, claimed).catch(() => null);
  return { value: stored, token: next };
}
