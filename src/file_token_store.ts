/**
 * A token store in files, shared by every process of one user on one machine: the
 * `armor-auth` command line and `deno run` scripts alike.
 *
 * @example Reuse the command line's login in a script
 * ```ts ignore
 * import { ArmorSession } from "@armor-api/auth";
 * import { FileTokenStore } from "@armor-api/auth/file-store";
 *
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 *   store: new FileTokenStore(),
 * });
 * console.log((await session.fetch("/me")).status);
 * ```
 *
 * @module
 */

import type { ArmorStoredSession, ArmorStoreEntry, ArmorTokenStore } from "./token_store.ts";

export type { ArmorStoredSession, ArmorStoreEntry, ArmorTokenStore };
export type { ArmorAccount, ArmorIdentity } from "./identity.ts";
export type { ArmorLogger, ArmorLogRecord } from "./types.ts";
export type { ArmorApiErrorCode } from "./errors.ts";

/**
 * The name of the folder under `$XDG_CONFIG_HOME` (or `~/.config`) the store uses.
 *
 * @example
 * ```ts
 * import { FILE_STORE_FOLDER } from "@armor-api/auth/file-store";
 * console.log(FILE_STORE_FOLDER); // "armor-api-auth"
 * ```
 */
export const FILE_STORE_FOLDER = "armor-api-auth";

/** What every record file starts with: files without it are not this store's. */
const FORMAT = "armor-api-auth/token-store";
const FORMAT_VERSION = 1;

/**
 * Options of {@linkcode FileTokenStore}.
 *
 * @example Keep the files in a folder of your own
 * ```ts
 * import { FileTokenStore, type FileTokenStoreOptions } from "@armor-api/auth/file-store";
 *
 * const options: FileTokenStoreOptions = { dir: ".tmp/armor-store" };
 * const store = new FileTokenStore(options);
 * ```
 */
export interface FileTokenStoreOptions {
  /**
   * The folder the files live in. Default: `$XDG_CONFIG_HOME/armor-api-auth`, else
   * `$HOME/.config/armor-api-auth`.
   */
  dir?: string;
  /**
   * Receives warnings (a corrupt or foreign file ignored, a mode put right). Default:
   * `console.warn`, which writes to stderr. The messages never hold a token or secret.
   */
  warn?: (message: string) => void;
  /**
   * How long a write waits for the file's lock, in milliseconds, before it fails: a
   * process that holds it and does not let go (a stopped one, say) must not hang every
   * other. A killed holder frees it at once. Default: 15 000.
   */
  lockTimeout?: number;
}

/** The record kept in one file. */
interface FileRecord {
  format: typeof FORMAT;
  formatVersion: number;
  /** The store key, in full: a file whose key differs is not adopted. */
  key: string;
  version: string;
  value: ArmorStoredSession;
  /** The holder file of the process that wrote `value.claim`, if it has one. */
  holder?: string;
}

/**
 * The folder a {@linkcode FileTokenStore} uses by default: `$XDG_CONFIG_HOME/armor-api-auth`
 * when `XDG_CONFIG_HOME` is set to an absolute path, else `$HOME/.config/armor-api-auth`.
 *
 * @returns The folder's path.
 * @throws {Error} Neither variable is set (or readable).
 *
 * @example
 * ```ts ignore
 * import { defaultFileStoreDir } from "@armor-api/auth/file-store";
 * console.log(defaultFileStoreDir()); // e.g. /home/me/.config/armor-api-auth
 * ```
 */
export function defaultFileStoreDir(): string {
  const env = (name: string): string | undefined => {
    try {
      const value = Deno.env.get(name);
      return value === undefined || value === "" ? undefined : value;
    } catch {
      return undefined; // no permission: treat as unset
    }
  };
  const config = env("XDG_CONFIG_HOME");
  // XDG: a relative value is ignored. Absolute: /..., or C:\... and \\server\... on Windows.
  if (config !== undefined && /^(?:\/|[A-Za-z]:[\\/]|\\\\)/.test(config)) {
    return `${config}/${FILE_STORE_FOLDER}`;
  }
  const home = env("HOME") ?? env("USERPROFILE");
  if (home === undefined) {
    throw new Error(
      "Cannot find the config folder: set HOME or XDG_CONFIG_HOME (and allow reading them)",
    );
  }
  return `${home}/.config/${FILE_STORE_FOLDER}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The file name of a store key: the first 128 bits of its SHA-256, in hex, so that no
 * user name shows in a file name. Computed here, synchronously (a short key; the
 * command line's hot path saves a trip to WebCrypto's thread).
 */
function fileNameOf(key: string): string {
  return sha256Hex(encoder.encode(key)).slice(0, 32);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function notFound(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound;
}

/**
 * This process's holder files, by holders folder, made at its first claim there. They are
 * kept open and locked until the process ends; the OS releases them if it is killed.
 */
const holders = new Map<string, Promise<string>>();
/** The names of this process's holder files, known synchronously. */
const ownHolders = new Set<string>();
const holderFiles: Deno.FsFile[] = [];

/**
 * A token store in files: one file per server and user, in a folder only its owner can
 * read (0700, files 0600), written atomically (a temporary file, fsync, rename) and
 * changed only under an exclusive lock (`Deno.FsFile.lock`) on a lock file beside it, so
 * that processes running at once never corrupt the file or lose an update. The OS
 * releases a lock when its process dies, however it dies.
 *
 * A process that writes a login or renewal claim keeps a holder file locked for as long
 * as it lives: when it is killed (say while it waited for the phone approval), the next
 * reader finds the holder's lock free and reads the state without the claim, so it takes
 * over at once instead of waiting the claim out.
 *
 * A corrupt, truncated or foreign file (another format, or another key) is ignored with
 * a warning and replaced at the next write. It stores what every store stores: the
 * token, the identity and a salted PBKDF2 verifier of the password, never the password.
 *
 * Needs `--allow-read` and `--allow-write` for the folder, and `--allow-env=HOME,XDG_CONFIG_HOME`
 * unless `dir` is given.
 *
 * @example Share a login between scripts and the `armor-auth` command
 * ```ts ignore
 * import { ArmorSession } from "@armor-api/auth";
 * import { FileTokenStore } from "@armor-api/auth/file-store";
 *
 * const session = await ArmorSession.connect({
 *   username: Deno.env.get("ARMOR_USERNAME")!,
 *   password: Deno.env.get("ARMOR_PASSWORD")!,
 *   store: new FileTokenStore(),
 * });
 * ```
 *
 * @example Check-and-set
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileTokenStore } from "@armor-api/auth/file-store";
 *
 * await Deno.mkdir(".tmp", { recursive: true });
 * const dir = await Deno.makeTempDir({ dir: ".tmp" });
 * const store = new FileTokenStore({ dir: `${dir}/store` });
 * const version = await store.set("key", { server: "https://api.armor.com/" }, null);
 * assert.equal(typeof version, "string");
 * assert.equal(await store.set("key", {}, null), null); // it exists now
 * assert.equal((await store.get("key"))?.version, version);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileTokenStore implements ArmorTokenStore {
  readonly #dir: string;
  readonly #warn: (message: string) => void;
  readonly #lockTimeout: number;
  #ready?: Promise<void>;
  /** One writer at a time per key inside this process, before the cross-process lock. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** The folder's owner, once checked; files of another owner are not adopted. */
  #dirUid?: number | null;
  /** Set when the folder is open to others and cannot be made private: not ours. */
  #dirRefused?: string;

  /**
   * Makes a store on a folder; nothing is read or written until it is used.
   *
   * @param options The folder, and where warnings go.
   * @throws {Error} No `dir` and neither `XDG_CONFIG_HOME` nor `HOME` is set.
   */
  constructor(options: FileTokenStoreOptions = {}) {
    if (options.dir !== undefined && (typeof options.dir !== "string" || options.dir === "")) {
      throw new TypeError("dir must be a non-empty string");
    }
    const lockTimeout = options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT_MS;
    if (typeof lockTimeout !== "number" || !(lockTimeout >= 0) || lockTimeout > 2 ** 31 - 1) {
      throw new TypeError("lockTimeout must be a number of milliseconds, 0 to 2147483647");
    }
    this.#lockTimeout = lockTimeout;
    this.#dir = options.dir ?? defaultFileStoreDir();
    const warn = options.warn ?? ((message: string) => console.warn(message));
    // Once per message: a session polling a corrupt file must not flood stderr.
    const said = new Set<string>();
    this.#warn = (message) => {
      if (said.has(message)) return;
      said.add(message);
      warn(message);
    };
  }

  /** The folder the files live in. */
  get dir(): string {
    return this.#dir;
  }

  /**
   * The path of the file that holds a key.
   *
   * @param key The store key.
   * @returns The file's path.
   */
  pathOf(key: string): string {
    return `${this.#dir}/${fileNameOf(key)}.json`;
  }

  /**
   * Reads a key. A corrupt or foreign file reads as absent (with a warning). A claim whose
   * holder process is gone is left out, so the reader can take the login or renewal over.
   *
   * @param key The key.
   * @returns The entry, or `undefined`.
   */
  async get(key: string): Promise<ArmorStoreEntry | undefined> {
    if (!this.#checkDir()) return undefined;
    const name = fileNameOf(key);
    const record = this.#read(name, key);
    if (record === undefined) return undefined;
    let value = record.value;
    if (value.claim !== undefined && record.holder !== undefined) {
      if (await this.#holderGone(record.holder)) {
        const { claim: _claim, ...rest } = value;
        value = rest;
      }
    }
    return { value, version: record.version };
  }

  /**
   * Check-and-set under an exclusive lock on the key's lock file.
   *
   * @param key The key.
   * @param value The new state, or `undefined` to delete it.
   * @param version The expected version, or `null` for "absent".
   * @returns The new version when it wrote (`""` after a delete), else `null`.
   */
  set(
    key: string,
    value: ArmorStoredSession | undefined,
    version: string | null,
  ): Promise<string | null> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous.then(
      () => this.#set(key, value, version),
      () => this.#set(key, value, version),
    );
    const tail = next.catch(() => {});
    this.#queues.set(key, tail);
    tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return next;
  }

  /**
   * The keys stored in the folder (from inside the files: names are hashes).
   *
   * @returns The keys of the well-formed files.
   */
  async keys(): Promise<string[]> {
    const keys: string[] = [];
    if (!this.#checkDir()) return keys;
    try {
      for await (const entry of Deno.readDir(this.#dir)) {
        if (!entry.isFile || !/^[0-9a-f]{32}\.json$/.test(entry.name)) continue;
        const record = this.#read(entry.name.slice(0, -5), undefined);
        if (record !== undefined) keys.push(record.key);
      }
    } catch (error) {
      if (!notFound(error)) throw error;
    }
    return keys.sort();
  }

  async #set(
    key: string,
    value: ArmorStoredSession | undefined,
    version: string | null,
  ): Promise<string | null> {
    try {
      return await this.#setLocked(key, value, version);
    } catch (error) {
      const system = Object.values(Deno.errors).some((type) => error instanceof type);
      if (!system || error instanceof Deno.errors.NotCapable) throw error;
      // The system's message names a file whose name is a hash, which reads like a token
      // and would be withheld: say what is wrong with the folder instead.
      const reason = (error as Error).message.split(": ")[0];
      throw new Error(
        `Cannot write in ${this.#dir} (${reason})` +
          (error instanceof Deno.errors.PermissionDenied
            ? ": check that the folder is yours and writable"
            : ""),
      );
    }
  }

  async #setLocked(
    key: string,
    value: ArmorStoredSession | undefined,
    version: string | null,
  ): Promise<string | null> {
    await this.#ensureDir();
    const name = fileNameOf(key);
    const lock = await openLockFile(`${this.#dir}/${name}.lock`, this.#warn);
    try {
      await lockWithin(lock, this.#lockTimeout, this.#dir);
      const current = this.#read(name, key);
      if ((current?.version ?? null) !== version) return null;
      await this.#removeStaleTemps(name);
      const path = `${this.#dir}/${name}.json`;
      if (current === undefined) await this.#clearForeign(path);
      if (value === undefined) {
        try {
          await Deno.remove(path);
        } catch (error) {
          if (!notFound(error)) throw error;
        }
        return "";
      }
      const next = crypto.randomUUID();
      const record: FileRecord = {
        format: FORMAT,
        formatVersion: FORMAT_VERSION,
        key,
        version: next,
        value,
      };
      if (value.claim !== undefined) {
        record.holder = current?.value.claim?.owner === value.claim.owner &&
            current.holder !== undefined
          ? current.holder
          : await this.#processHolder();
      }
      await this.#writeAtomically(name, JSON.stringify(record));
      return next;
    } finally {
      lock.close(); // closing releases the lock
    }
  }

  /**
   * Removes the temporary files of a key that a killed writer left. Called under the key's
   * lock: every writer of the key writes its temporary file under that lock, so any there
   * now is a dead writer's.
   */
  async #removeStaleTemps(name: string): Promise<void> {
    const prefix = `.${name}.`;
    try {
      for await (const entry of Deno.readDir(this.#dir)) {
        if (entry.name.startsWith(prefix) && entry.name.endsWith(".tmp")) {
          await Deno.remove(`${this.#dir}/${entry.name}`).catch(() => {});
        }
      }
    } catch {
      // Clean-up only.
    }
  }

  /**
   * Clears the way for a file where something that is not a file stands (an empty folder,
   * a pipe): a rename would fail on it, and then no login could ever replace it. A folder
   * with something in it is left alone and named in the error.
   */
  async #clearForeign(path: string): Promise<void> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (error) {
      if (notFound(error)) return;
      throw error;
    }
    if (info.isFile || info.isSymlink) return; // a rename replaces either
    try {
      await Deno.remove(path);
    } catch {
      throw new Error(`${path} is a folder, not a token file: remove it, then log in again`);
    }
    this.#warn(`Removed ${path}: it was not a token file`);
  }

  /** Writes a temporary file (0600) in the folder, syncs it, renames it over the file. */
  async #writeAtomically(name: string, text: string): Promise<void> {
    const temp = `${this.#dir}/.${name}.${crypto.randomUUID()}.tmp`;
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } catch (error) {
      file.close();
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
    file.close();
    try {
      await Deno.rename(temp, `${this.#dir}/${name}.json`);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
  }

  /**
   * Reads and checks a record file; `undefined` when absent, corrupt or foreign. The read
   * is synchronous: one small local file, read in well under a millisecond, and the hot
   * path of the command line saves the thread-pool hops of async file calls.
   */
  #read(name: string, key: string | undefined): FileRecord | undefined {
    const path = `${this.#dir}/${name}.json`;
    let info: Deno.FileInfo;
    try {
      // lstat: a symbolic link is never followed, read or made private through.
      info = Deno.lstatSync(path);
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
    if (!info.isFile) {
      this.#warn(
        `Ignoring ${path}: not a regular file${info.isSymlink ? " (a symbolic link)" : ""}`,
      );
      return undefined;
    }
    if (info.size > MAX_FILE_BYTES) {
      this.#warn(`Ignoring ${path}: larger than 4 MiB, not a token file; log in again`);
      return undefined;
    }
    if (
      this.#dirUid !== undefined && this.#dirUid !== null && info.uid !== null &&
      info.uid !== this.#dirUid
    ) {
      this.#warn(`Ignoring ${path}: it belongs to another user than its folder; log in again`);
      return undefined;
    }
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      // Readable by others: put it right before anything else reads it.
      try {
        Deno.chmodSync(path, 0o600);
      } catch (error) {
        this.#warn(
          error instanceof Deno.errors.NotCapable
            ? `Ignoring ${path}: it is open to others; allow writing to its folder (--allow-write) to have it made private`
            : `Ignoring ${path}: it is open to others and cannot be made private`,
        );
        return undefined;
      }
      this.#warn(`Made ${path} private (mode 0600): it was readable by others`);
    }
    let text: string;
    try {
      // A rename may replace the file between the two calls: either one is whole.
      text = decoder.decode(Deno.readFileSync(path));
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      this.#warn(`Ignoring ${path}: not valid JSON (corrupt or truncated); log in again`);
      return undefined;
    }
    if (
      !isObject(record) || record.format !== FORMAT || record.formatVersion !== FORMAT_VERSION ||
      typeof record.key !== "string" || typeof record.version !== "string" ||
      !isObject(record.value) ||
      (record.holder !== undefined && typeof record.holder !== "string")
    ) {
      this.#warn(`Ignoring ${path}: not an armor-api-auth token file; log in again`);
      return undefined;
    }
    if (key !== undefined && record.key !== key) {
      this.#warn(`Ignoring ${path}: it belongs to another key`);
      return undefined;
    }
    return record as unknown as FileRecord;
  }

  /**
   * Checks the folder once: makes it private (0700, with a warning) if it is open to
   * others, and notes its owner. False when it is open and cannot be made private (another
   * user's folder): nothing in it is adopted. Synchronous, one `stat` on the hot path.
   */
  #checkDir(): boolean {
    if (this.#dirRefused !== undefined) return false;
    if (this.#dirUid !== undefined) return true;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(this.#dir);
    } catch (error) {
      if (notFound(error)) return true; // nothing there yet; checked again when made
      throw error;
    }
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      try {
        Deno.chmodSync(this.#dir, 0o700);
      } catch (error) {
        if (error instanceof Deno.errors.NotCapable) {
          // No --allow-write here: its own files are still read, and it says what to do.
          this.#warn(
            `${this.#dir} is open to others: allow writing to it (--allow-write) to have it ` +
              "made private, or run chmod 700 on it",
          );
          this.#dirUid = info.uid;
          return true;
        }
        this.#dirRefused = `${this.#dir}: it is open to others and cannot be made private ` +
          "(is it another user's?); use a folder of your own";
        this.#warn(`Ignoring ${this.#dirRefused}`);
        return false;
      }
      this.#warn(`Made ${this.#dir} private (mode 0700): it was open to others`);
    }
    this.#dirUid = info.uid;
    return true;
  }

  /** Creates the folder (0700) once, and makes it private if it is not. */
  #ensureDir(): Promise<void> {
    return this.#ready ??= (async () => {
      await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
      this.#dirUid = undefined;
      if (!this.#checkDir()) throw new Error(`Cannot use ${this.#dirRefused}`);
    })().catch((error) => {
      this.#ready = undefined;
      throw error;
    });
  }

  /** This process's holder file name: created locked, then moved in, kept locked. */
  #processHolder(): Promise<string> {
    const dir = `${this.#dir}/holders`;
    const existing = holders.get(dir);
    if (existing !== undefined) return existing;
    const made = (async () => {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      const name = crypto.randomUUID();
      // Locked before it can be seen in the folder: no reader takes it for a dead one.
      const temp = `${this.#dir}/.holder-${name}.tmp`;
      const file = await Deno.open(temp, { read: true, write: true, createNew: true, mode: 0o600 });
      try {
        await file.lock(true);
        await Deno.rename(temp, `${dir}/${name}`);
      } catch (error) {
        file.close();
        await Deno.remove(temp).catch(() => {});
        throw error;
      }
      holderFiles.push(file);
      ownHolders.add(name);
      const path = `${dir}/${name}`;
      globalThis.addEventListener?.("unload", () => {
        try {
          Deno.removeSync(path);
        } catch {
          // gone already
        }
      });
      await this.#sweepHolders(dir);
      return name;
    })();
    holders.set(dir, made);
    made.catch(() => holders.delete(dir));
    return made;
  }

  /**
   * Removes the holder files of processes that are gone (their lock is free); a holder is
   * locked before it is moved into the folder, so a free one is never a live process's.
   */
  async #sweepHolders(dir: string): Promise<void> {
    try {
      let looked = 0;
      for await (const entry of Deno.readDir(dir)) {
        if (ownHolders.has(entry.name) || !/^[0-9a-f-]{36}$/.test(entry.name)) continue;
        if (++looked > 64) break;
        await this.#holderGone(entry.name);
      }
    } catch {
      // Clean-up only.
    }
  }

  /** True when the process that wrote a claim no longer holds its holder file's lock. */
  async #holderGone(holder: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/.test(holder)) return false;
    if (ownHolders.has(holder)) return false;
    const path = `${this.#dir}/holders/${holder}`;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (error) {
      return notFound(error);
    }
    try {
      if (!await file.tryLock(true)) return false; // alive: it holds the lock
      // Dead: its lock is free. Clean up its file while holding the lock.
      await Deno.remove(path).catch(() => {});
      return true;
    } catch {
      return false;
    } finally {
      file.close();
    }
  }

  /**
   * Hides the stored tokens from `Deno.inspect`.
   *
   * @ignore
   */
  [Symbol.for("Deno.customInspect")](): string {
    return `FileTokenStore { dir: ${JSON.stringify(this.#dir)} }`;
  }
}

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const DEFAULT_LOCK_TIMEOUT_MS = 15_000;

/**
 * Takes an exclusive lock on an open file, waiting at most `timeout` ms: at once when it
 * is free, else by polling (a blocking wait could not be given up).
 *
 * @throws {Error} The lock stayed held for `timeout` ms.
 */
async function lockWithin(file: Deno.FsFile, timeout: number, dir: string): Promise<void> {
  if (await file.tryLock(true)) return;
  const deadline = performance.now() + timeout;
  for (let pause = 1;; pause = Math.min(pause * 2, 25)) {
    if (performance.now() >= deadline) {
      throw new Error(
        `A lock in ${dir} stayed held for ${Math.round(timeout / 1000)} s: a process holds it ` +
          "and does not let go (a stopped one?); end it, then try again",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    if (await file.tryLock(true)) return;
  }
}

/**
 * Opens (creating it 0600) a lock file. A symbolic link or anything else that is not a
 * regular file at its path is removed first, with a warning: a lock is never taken
 * through a link to a file elsewhere.
 */
async function openLockFile(path: string, warn: (message: string) => void): Promise<Deno.FsFile> {
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile) {
      await Deno.remove(path);
      warn(`Removed ${path}: not a regular file`);
    }
  } catch (error) {
    if (!notFound(error)) throw error;
  }
  return await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
}

/** SHA-256 round constants. */
const K = [
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
];
/** SHA-256 (FIPS 180-4) of `data`, in hex; the tests check file names against WebCrypto. */
function sha256Hex(data: Uint8Array): string {
  const n = data.length;
  const blocks = ((n + 9 + 63) >> 6) << 4; // words
  const m = new Int32Array(blocks);
  for (let i = 0; i < n; i++) m[i >> 2] |= data[i] << (24 - ((i & 3) << 3));
  m[n >> 2] |= 0x80 << (24 - ((n & 3) << 3));
  m[blocks - 2] = Math.floor(n / 0x20000000);
  m[blocks - 1] = n << 3;
  let h0 = 0x6a09e667, h1 = 0xbb67ae85 | 0, h2 = 0x3c6ef372, h3 = 0xa54ff53a | 0;
  let h4 = 0x510e527f, h5 = 0x9b05688c | 0, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
  const w = new Int32Array(64);
  for (let o = 0; o < blocks; o += 16) {
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i = 0; i < 64; i++) {
      let x: number;
      if (i < 16) x = m[o + i];
      else {
        const u = w[i - 15], v = w[i - 2];
        x = (((u >>> 7) | (u << 25)) ^ ((u >>> 18) | (u << 14)) ^ (u >>> 3)) + w[i - 7] +
          (((v >>> 17) | (v << 15)) ^ ((v >>> 19) | (v << 13)) ^ (v >>> 10)) + w[i - 16];
      }
      w[i] = x;
      const t1 =
        h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          ((e & f) ^ (~e & g)) + K[i] + x | 0;
      const t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & b) ^ (a & c) ^ (b & c)) | 0;
      h = g;
      g = f;
      f = e;
      e = d + t1 | 0;
      d = c;
      c = b;
      b = a;
      a = t1 + t2 | 0;
    }
    h0 = h0 + a | 0;
    h1 = h1 + b | 0;
    h2 = h2 + c | 0;
    h3 = h3 + d | 0;
    h4 = h4 + e | 0;
    h5 = h5 + f | 0;
    h6 = h6 + g | 0;
    h7 = h7 + h | 0;
  }
  let out = "";
  for (const x of [h0, h1, h2, h3, h4, h5, h6, h7]) out += (x >>> 0).toString(16).padStart(8, "0");
  return out;
}
