// A real `redis-server` for the Redis tests: started on a free loopback port with no
// persistence (`--save '' --appendonly no`) in a folder under .tmp, stopped by its
// process id. Where redis-server is not installed (or may not be run), `REDIS_MISSING`
// says why, and the tests skip with one line.

import { createClient, type RedisClientType } from "redis";
import type { RedisEvalClient } from "../src/redis/mod.ts";

/** Why the Redis tests cannot run here, or `undefined` when redis-server is installed. */
export const REDIS_MISSING: string | undefined = probe();

function probe(): string | undefined {
  try {
    const out = new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success ? undefined : "redis-server --version failed";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "redis-server is not installed";
    return `redis-server cannot be run (${(error as Error).name})`;
  }
}

let told = false;

/** Says once per test file, in one line, that the Redis tests are skipped and why. */
export function sayRedisSkipped(reason = REDIS_MISSING): void {
  if (told) return;
  told = true;
  console.log(
    `skip: Redis tests (${reason}; install it with: apt-get install redis-server)`,
  );
}

if (REDIS_MISSING !== undefined) sayRedisSkipped();

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves true once something on `port` answers PING with PONG, false after `ms`. */
async function waitForPong(port: number, ms: number, exited: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !exited()) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buffer = new Uint8Array(16);
        const n = await conn.read(buffer);
        if (n !== null && new TextDecoder().decode(buffer.subarray(0, n)).startsWith("+PONG")) {
          return true;
        }
      } finally {
        conn.close();
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

/** A running redis-server. */
export class RedisServer implements AsyncDisposable {
  readonly port: number;
  readonly dir: string;
  #child?: Deno.ChildProcess;
  #exited = false;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /** The URL clients connect to. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The process id of the server, while it runs. */
  get pid(): number | undefined {
    return this.#exited ? undefined : this.#child?.pid;
  }

  /** Starts a server on a free port; `undefined` (and one line said) when it cannot start. */
  static async start(): Promise<RedisServer | undefined> {
    if (REDIS_MISSING !== undefined) return undefined;
    await Deno.mkdir(".tmp", { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = await Deno.makeTempDir({ dir: ".tmp", prefix: "redis-" });
      const server = new RedisServer(freePort(), dir);
      if (await server.#spawn()) return server;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    sayRedisSkipped("redis-server did not start");
    return undefined;
  }

  async #spawn(): Promise<boolean> {
    const child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#child = child;
    this.#exited = false;
    child.status.then(() => {
      if (this.#child === child) this.#exited = true;
    });
    if (await waitForPong(this.port, 10_000, () => this.#exited)) return true;
    await this.#stop("SIGKILL");
    return false;
  }

  async #stop(signal: Deno.Signal): Promise<void> {
    const child = this.#child;
    if (child === undefined || this.#exited) return;
    try {
      Deno.kill(child.pid, signal);
    } catch {
      // Already gone.
    }
    await child.status;
    this.#exited = true;
  }

  /** Kills the server by its process id (SIGKILL: as a crash), and waits until it is gone. */
  kill(): Promise<void> {
    return this.#stop("SIGKILL");
  }

  /** Starts the server again on the same port (empty: nothing was saved). */
  async restart(): Promise<void> {
    if (!this.#exited) throw new Error("The Redis server is still running");
    if (!await this.#spawn()) throw new Error(`redis-server did not start again on ${this.port}`);
  }

  /** Stops the server and removes its folder. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stop("SIGTERM");
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** A connected `npm:redis` client, its `eval` adapter, and how to close it. */
export interface RedisConnection extends AsyncDisposable {
  client: RedisClientType;
  /** The one-line adapter the docs give for `npm:redis`. */
  eval: RedisEvalClient;
}

/**
 * Connects `npm:redis` to `url`: commands fail at once while Redis is down (no offline
 * queue), and it reconnects every 100 ms.
 */
export async function connectRedis(url: string): Promise<RedisConnection> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 1_000, reconnectStrategy: () => 100 },
  }) as RedisClientType;
  client.on("error", () => {}); // reconnects by itself; commands meanwhile reject
  await client.connect();
  return {
    client,
    eval: {
      eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
    },
    [Symbol.asyncDispose]: async () => {
      client.destroy();
      await Promise.resolve();
    },
  };
}

/** How many times Redis ran each command so far (`INFO commandstats`), e.g. `{ eval: 3 }`. */
export async function commandCounts(client: RedisClientType): Promise<Record<string, number>> {
  const info = await client.info("commandstats");
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}

/** Every key and its raw value (strings only), as a dump of the server would show them. */
export async function dumpRedis(client: RedisClientType): Promise<string> {
  const lines: string[] = [];
  for (const key of await client.keys("*")) {
    const type = await client.type(key);
    const value = type === "string" ? await client.get(key) : `(${type})`;
    lines.push(`${key} ${value}`);
  }
  return lines.join("\n");
}
