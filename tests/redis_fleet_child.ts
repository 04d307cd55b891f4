// One process of a fleet, for redis_fleet_test.ts: a session sharing its login through
// Redis (`npm:redis`, through the adapter the docs give), driven by the test one JSON
// command a line on stdin, answering one JSON line each on stdout.
//
//   ARMOR_STORE_SECRET=... (optional: encrypt the store) deno run --allow-net=127.0.0.1 \
//     --allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS,ARMOR_STORE_SECRET \
//     tests/redis_fleet_child.ts <redis url> <mock base url>

import { createClient } from "redis";
import {
  ArmorApiError,
  type ArmorLogRecord,
  ArmorSession,
  type ArmorTokenStore,
  encryptTokenStore,
} from "../mod.ts";
import { RedisTokenStore } from "../src/redis/mod.ts";

const [redisUrl, baseUrl] = Deno.args;
const secret = Deno.env.get("ARMOR_STORE_SECRET") || undefined;

const client = createClient({
  url: redisUrl,
  disableOfflineQueue: true, // fail at once while Redis is down, do not queue
  socket: { connectTimeout: 1_000, reconnectStrategy: () => 100 },
});
client.on("error", () => {}); // it reconnects by itself
await client.connect();

function makeStore(): ArmorTokenStore {
  const redis = new RedisTokenStore({
    eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
  });
  return secret === undefined ? redis : encryptTokenStore(redis, secret);
}

const records: ArmorLogRecord[] = [];
let session: ArmorSession | undefined;
let username = "";
let password = "";

function connect(): Promise<ArmorSession> {
  return ArmorSession.connect({
    baseUrl,
    username,
    password,
    store: makeStore(),
    timeout: 2_000,
    logger: (record) => {
      if (record.event !== "request" && record.event !== "response") records.push(record);
    },
  });
}

function failure(error: unknown): { name: string; code?: string; message: string } {
  return error instanceof ArmorApiError
    ? { name: error.name, code: error.code, message: error.message }
    : { name: (error as Error)?.name ?? "Error", message: String((error as Error)?.message) };
}

/** Calls `/me` for `ms`, one call every `every` ms; counts what came back. */
async function calls(ms: number, every: number) {
  const statuses: Record<string, number> = {};
  const tokens = new Set<string>();
  let strangers = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const response = await session!.fetch("/me");
      const body = await response.text();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      // The user the API says the token belongs to must be this process's user.
      if (response.status === 200 && !body.includes(JSON.stringify(username))) strangers++;
      tokens.add(session!.token);
    } catch (error) {
      const key = error instanceof ArmorApiError ? error.code : "THROWN";
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  return { statuses, tokens: [...tokens], strangers };
}

type Command =
  | { op: "connect"; username: string; password: string }
  | { op: "calls"; ms: number; every: number }
  | { op: "load" }
  | { op: "connectAgain" }
  | { op: "idle" }
  | { op: "records" }
  | { op: "exit" };

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case "connect":
      username = command.username;
      password = command.password;
      session = await connect();
      return { token: session.token };
    case "calls":
      return await calls(command.ms, command.every);
    case "load":
      return { active: await session!.load(), token: session!.token };
    case "connectAgain":
      return { token: (await connect()).token };
    case "idle":
      await session!.idle();
      return { token: session!.token };
    case "records":
      return { records: records.splice(0) };
    case "exit":
      return {};
  }
}

const encoder = new TextEncoder();
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buffered = "";
outer: for await (const chunk of lines) {
  buffered += chunk;
  let newline: number;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const command = JSON.parse(buffered.slice(0, newline)) as Command;
    buffered = buffered.slice(newline + 1);
    let reply: unknown;
    try {
      reply = { ok: true, ...(await run(command) as object) };
    } catch (error) {
      reply = { ok: false, error: failure(error) };
    }
    await Deno.stdout.write(encoder.encode(JSON.stringify(reply) + "\n"));
    if (command.op === "exit") break outer;
  }
}
client.destroy();
