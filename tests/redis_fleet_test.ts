// A fleet of 8 separate Deno processes (tests/redis_fleet_child.ts, started with this very
// Deno), each with its own `npm:redis` connection to one real redis-server, sharing a
// login against the mock Armor API served here: one login and one reissue per renewal
// window across all of them; two users never adopt each other's token; Redis killed
// mid-run gives STORE errors and no lost session, and the fleet recovers when it returns.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_MOCK_USER,
  type MockUser,
  type ServedMockArmorApi,
  serveMockArmorApi,
} from "../src/testing/mod.ts";
import { connectRedis, dumpRedis, REDIS_MISSING, RedisServer } from "./redis_server.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const REISSUE = "/auth/token/reissue";
const OPS: MockUser = {
  username: "ops@example.com",
  password: "ops-password",
  accounts: [{ id: 3001, name: "Ops" }],
};

interface Reply {
  ok: boolean;
  error?: { name: string; code?: string; message: string };
  token?: string;
  active?: boolean;
  statuses?: Record<string, number>;
  tokens?: string[];
  strangers?: number;
  records?: { event: string; code?: string; outcome?: string }[];
}

/** One child process, driven one JSON line at a time. */
class Member {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  readonly stderr: Promise<string>;

  constructor(redisUrl: string, baseUrl: string, secret?: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--config=${ROOT}deno.json`,
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS,ARMOR_STORE_SECRET",
        `${ROOT}tests/redis_fleet_child.ts`,
        redisUrl,
        baseUrl,
      ],
      env: { NO_COLOR: "1", ...(secret === undefined ? {} : { ARMOR_STORE_SECRET: secret }) },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = lines(this.#child.stdout);
    this.stderr = new Response(this.#child.stderr).text();
  }

  async send(command: Record<string, unknown>): Promise<Reply> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
    const next = await this.#lines.next();
    if (next.done) throw new Error(`A fleet member exited: ${await this.stderr}`);
    return JSON.parse(next.value);
  }

  async close(): Promise<void> {
    try {
      await this.send({ op: "exit" });
      await this.#writer.close();
    } catch {
      // It is gone already.
    }
    const timer = setTimeout(() => {
      try {
        Deno.kill(this.#child.pid, "SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }, 5_000);
    await this.#child.status;
    clearTimeout(timer);
    await this.stderr;
  }
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
}

/** Processes sharing one Redis; each command goes to all of them at once. */
class Fleet implements AsyncDisposable {
  readonly members: Member[];
  constructor(size: number, redisUrl: string, baseUrl: string, secret?: string) {
    this.members = Array.from({ length: size }, () => new Member(redisUrl, baseUrl, secret));
  }
  all(command: Record<string, unknown>, members = this.members): Promise<Reply[]> {
    return Promise.all(members.map((member) => member.send(command)));
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.members.map((member) => member.close()));
  }
}

const DEMO = { username: DEFAULT_MOCK_USER.username, password: DEFAULT_MOCK_USER.password };

function assertOk(replies: Reply[], what: string): void {
  for (const [i, reply] of replies.entries()) {
    assert.ok(reply.ok, `${what}, member ${i}: ${JSON.stringify(reply.error)}`);
  }
}

/** Every call answered 200 with this member's own user. */
function assertAllServed(replies: Reply[]): void {
  assertOk(replies, "calls");
  for (const [i, reply] of replies.entries()) {
    assert.deepEqual(
      Object.keys(reply.statuses!),
      ["200"],
      `member ${i}: ${JSON.stringify(reply.statuses)}`,
    );
    assert.equal(reply.strangers, 0, `member ${i} was served as another user`);
  }
}

/**
 * One reissue per renewal window: each reissue renewed the newest token, in order, so no
 * token was renewed twice and no process renewed on its own.
 */
function assertOneReissuePerWindow(server: ServedMockArmorApi, since = 0): number {
  const issued = server.mock.issuedTokens.slice(since);
  const renewed = server.mock.requests
    .filter((r) => r.path === REISSUE)
    .map((r) => (r.body as { token: string }).token)
    .filter((token) => issued.includes(token));
  assert.deepEqual(
    renewed,
    issued.slice(0, renewed.length),
    "each reissue renews the newest token",
  );
  assert.equal(issued.length, renewed.length + 1, "every reissue's token is the next one renewed");
  return renewed.length;
}

function redisFleetTest(name: string, fn: (redis: RedisServer) => Promise<void>): void {
  Deno.test({
    name,
    ignore: REDIS_MISSING !== undefined,
    sanitizeResources: false, // child pipes close as the children exit
    fn: async () => {
      await using redis = await RedisServer.start();
      if (redis === undefined) return; // said in one line
      await fn(redis);
    },
  });
}

redisFleetTest(
  "8 processes on one Redis: 1 login, and 1 reissue per renewal window",
  async (redis) => {
    // 3-second sessions: renewal is due about every second.
    await using server = await serveMockArmorApi({ expiresIn: 0.05 });
    await using fleet = new Fleet(8, redis.url, server.baseUrl);

    const connected = await fleet.all({ op: "connect", ...DEMO });
    assertOk(connected, "connect");
    assert.equal(server.mock.count("/auth/authorize"), 1, "one login for 8 processes");
    assert.equal(server.mock.count("/auth/token"), 1);
    assert.equal(new Set(connected.map((r) => r.token)).size, 1);

    assertAllServed(await fleet.all({ op: "calls", ms: 4_500, every: 50 }));
    await fleet.all({ op: "idle" });
    const renewals = assertOneReissuePerWindow(server);
    assert.ok(renewals >= 3, `expected a renewal about every second, saw ${renewals}`);
    assert.ok(renewals <= 6, `at most one reissue per window, saw ${renewals}`);
    assert.equal(server.mock.count(REISSUE), renewals, "no reissue outside the chain");
    assert.equal(server.mock.count("/auth/authorize"), 1, "still one login");
  },
);

redisFleetTest(
  "two users, 4 processes each, on one Redis never adopt each other's token",
  async (redis) => {
    await using server = await serveMockArmorApi({
      expiresIn: 0.05,
      users: [DEFAULT_MOCK_USER, OPS],
    });
    await using fleet = new Fleet(8, redis.url, server.baseUrl);
    const demo = fleet.members.slice(0, 4);
    const ops = fleet.members.slice(4);

    const connected = await Promise.all([
      fleet.all({ op: "connect", ...DEMO }, demo),
      fleet.all({ op: "connect", username: OPS.username, password: OPS.password }, ops),
    ]);
    assertOk(connected.flat(), "connect");
    const logins = server.mock.requests
      .filter((r) => r.path === "/auth/authorize")
      .map((r) => (r.body as { username: string }).username)
      .sort();
    assert.deepEqual(logins, [DEMO.username, OPS.username], "one login per user");

    const [demoCalls, opsCalls] = await Promise.all([
      fleet.all({ op: "calls", ms: 3_500, every: 50 }, demo),
      fleet.all({ op: "calls", ms: 3_500, every: 50 }, ops),
    ]);
    assertAllServed([...demoCalls, ...opsCalls]);
    const demoTokens = new Set(demoCalls.flatMap((r) => r.tokens!));
    const opsTokens = new Set(opsCalls.flatMap((r) => r.tokens!));
    assert.ok(demoTokens.size >= 2 && opsTokens.size >= 2, "both renewed");
    for (const token of demoTokens) assert.ok(!opsTokens.has(token), "a token crossed users");
    const renewed = server.mock.requests.filter((r) => r.path === REISSUE)
      .map((r) => (r.body as { token: string }).token);
    assert.equal(new Set(renewed).size, renewed.length, "no token was reissued twice");
  },
);

redisFleetTest(
  "Redis killed mid-run: STORE errors, no lost session, and the fleet recovers when it returns",
  async (redis) => {
    // 12-second sessions: renewal is due after about 4 s, while Redis is down.
    await using server = await serveMockArmorApi({ expiresIn: 0.2 });
    await using fleet = new Fleet(8, redis.url, server.baseUrl);
    const connected = await fleet.all({ op: "connect", ...DEMO });
    assertOk(connected, "connect");
    assert.equal(server.mock.count("/auth/authorize"), 1);
    const first = connected[0].token;
    assertAllServed(await fleet.all({ op: "calls", ms: 300, every: 50 }));

    await redis.kill();
    // Reading the store fails, as STORE; a new login cannot start without the store.
    for (const reply of await fleet.all({ op: "load" })) {
      assert.equal(reply.ok, false);
      assert.equal(reply.error?.code, "STORE", JSON.stringify(reply.error));
    }
    const again = await fleet.members[0].send({ op: "connectAgain" });
    assert.equal(again.error?.code, "STORE", JSON.stringify(again));
    // Calls go on with the token each process holds, through the renewal point.
    assertAllServed(await fleet.all({ op: "calls", ms: 3_800, every: 50 }));
    assert.equal(server.mock.count(REISSUE), 0, "nobody renewed without the store");
    const during = await fleet.all({ op: "records" });
    assert.ok(
      during.some((r) => r.records!.some((x) => x.event === "renewal" && x.code === "STORE")),
      "the failed renewals are reported as STORE",
    );

    await redis.restart(); // same port, empty: nothing was saved
    assertAllServed(await fleet.all({ op: "calls", ms: 4_000, every: 50 }));
    await fleet.all({ op: "idle" });
    // Renewed once for the whole fleet (and once more only if the next window came).
    const renewals = assertOneReissuePerWindow(server);
    assert.ok(renewals >= 1 && renewals <= 2, `${renewals} reissues`);
    assert.equal(server.mock.count(REISSUE), renewals, "no reissue outside the chain");
    const loaded = await fleet.all({ op: "load" });
    assertOk(loaded, "load after Redis returned");
    const tokens = new Set(loaded.map((r) => r.token));
    assert.equal(tokens.size, 1, "the whole fleet holds the renewed token");
    assert.notEqual([...tokens][0], first);
    assert.ok((await fleet.members[0].send({ op: "connectAgain" })).ok);
  },
);

redisFleetTest(
  "8 processes on an encrypted Redis store: 1 login, 1 reissue per window, no token in Redis",
  async (redis) => {
    await using server = await serveMockArmorApi({ expiresIn: 0.05 });
    const secret = "a store secret for the fleet test, 32+ chars";
    await using fleet = new Fleet(8, redis.url, server.baseUrl, secret);
    assertOk(await fleet.all({ op: "connect", ...DEMO }), "connect");
    assert.equal(server.mock.count("/auth/authorize"), 1);
    assertAllServed(await fleet.all({ op: "calls", ms: 2_500, every: 50 }));
    await fleet.all({ op: "idle" });
    assert.ok(assertOneReissuePerWindow(server) >= 1);

    await using connection = await connectRedis(redis.url);
    const dump = await dumpRedis(connection.client);
    assert.match(dump, /sealed/);
    for (const token of server.mock.issuedTokens) {
      for (let at = 0; at + 8 <= token.length; at++) {
        assert.ok(!dump.includes(token.slice(at, at + 8)), "a piece of a token is in Redis");
      }
    }
    assert.ok(!dump.includes("demo@") && !dump.includes("example.com"), "a user name is in Redis");
    assert.ok(!dump.includes(DEMO.password));
  },
);
