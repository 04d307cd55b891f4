// RedisTokenStore against a real redis-server (started and stopped by these tests),
// through `npm:redis` and the one-line adapter the docs give: the check-and-set
// contract, expiry, prefixes, values it did not write, errors that hold no token, and
// sessions sharing a login through it (no store call on the hot path; a renewal costs
// one reissue and at most three round trips; Redis down keeps the session working).

import assert from "node:assert/strict";
import {
  ArmorApiError,
  type ArmorLogRecord,
  type ArmorStoredSession,
  type ArmorTokenStore,
  encryptTokenStore,
  MemoryTokenStore,
} from "../mod.ts";
import { type RedisEvalClient, RedisTokenStore } from "../src/redis/mod.ts";
import { DEFAULT_MOCK_USER, type MockUser } from "../src/testing/mod.ts";
import {
  commandCounts,
  connectRedis,
  REDIS_MISSING,
  type RedisConnection,
  RedisServer,
} from "./redis_server.ts";
import { callMe, connect, MINUTE, REISSUE, RENEW_AFTER_MS, serve, START } from "./_session.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const DAY = 86_400_000;

function stateUntil(expiresAt: number): ArmorStoredSession {
  return { token: { accessToken: TOKEN, issuedAt: expiresAt - 15 * MINUTE, expiresAt } };
}

const STATE = stateUntil(Date.now() + 15 * MINUTE);

/** A test that needs a Redis server; skipped (with one line said) where there is none. */
function redisTest(
  name: string,
  fn: (redis: RedisServer, connection: RedisConnection) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: REDIS_MISSING !== undefined,
    fn: async () => {
      await using redis = await RedisServer.start();
      if (redis === undefined) return; // said in one line
      await using connection = await connectRedis(redis.url);
      await fn(redis, connection);
    },
  });
}

// ---- the store contract --------------------------------------------------------------

redisTest("RedisTokenStore: a missing key reads as undefined", async (_, { eval: client }) => {
  assert.equal(await new RedisTokenStore(client).get("nothing"), undefined);
});

redisTest(
  "RedisTokenStore: set with null creates a key only if it is absent",
  async (_, { eval: client }) => {
    const store = new RedisTokenStore(client);
    const version = await store.set("k", STATE, null);
    assert.equal(typeof version, "string");
    assert.notEqual(version, "");
    assert.deepEqual(await store.get("k"), { value: STATE, version });
    assert.equal(await store.set("k", {}, null), null);
    assert.deepEqual((await store.get("k"))?.value, STATE);
  },
);

redisTest(
  "RedisTokenStore: set writes only over the version it was given",
  async (_, { eval: client }) => {
    const store = new RedisTokenStore(client);
    const first = (await store.set("k", STATE, null))!;
    const changed: ArmorStoredSession = {
      ...STATE,
      claim: { owner: "a", purpose: "renew", until: Date.now() + 1_000 },
    };
    const second = await store.set("k", changed, first);
    assert.ok(second !== null && second !== first);
    assert.deepEqual(await store.get("k"), { value: changed, version: second });
    assert.equal(await store.set("k", {}, first), null);
    assert.deepEqual(await store.get("k"), { value: changed, version: second });
  },
);

redisTest(
  "RedisTokenStore: set of undefined deletes, with the same version check",
  async (_, { eval: client, client: raw }) => {
    const store = new RedisTokenStore(client);
    const first = (await store.set("k", STATE, null))!;
    const second = (await store.set("k", {}, first))!;
    assert.equal(await store.set("k", undefined, first), null);
    assert.notEqual(await store.get("k"), undefined);
    assert.equal(await store.set("k", undefined, second), "");
    assert.equal(await store.get("k"), undefined);
    assert.equal(await raw.exists("armor-api-auth:k"), 0);
    // Deleted and created again: a new version, so the old one can never match (no ABA).
    const third = (await store.set("k", STATE, null))!;
    assert.ok(![first, second].includes(third));
    assert.equal(await store.set("k", {}, first), null);
  },
);

redisTest("RedisTokenStore: keys are independent", async (_, { eval: client }) => {
  const store = new RedisTokenStore(client);
  await store.set("a", STATE, null);
  assert.equal(await store.get("b"), undefined);
  assert.notEqual(await store.set("b", {}, null), null);
  assert.deepEqual((await store.get("a"))?.value, STATE);
  assert.deepEqual((await store.get("b"))?.value, {});
});

redisTest(
  "RedisTokenStore: of eight writers on eight connections holding one version, exactly one wins",
  async (redis, { eval: client }) => {
    const version = (await new RedisTokenStore(client).set("k", STATE, null))!;
    const connections = await Promise.all(
      Array.from({ length: 8 }, () => connectRedis(redis.url)),
    );
    try {
      const results = await Promise.all(
        connections.map((connection, i) =>
          new RedisTokenStore(connection.eval).set("k", {
            ...STATE,
            claim: { owner: `owner-${i}`, purpose: "renew", until: Date.now() + 1_000 },
          }, version)
        ),
      );
      assert.equal(results.filter((r) => r !== null).length, 1);
      const winner = results.findIndex((r) => r !== null);
      const stored = await new RedisTokenStore(client).get("k");
      assert.equal(stored?.value.claim?.owner, `owner-${winner}`);
      assert.equal(stored?.version, results[winner]);
    } finally {
      for (const connection of connections) await connection[Symbol.asyncDispose]();
    }
  },
);

redisTest(
  "RedisTokenStore: of 64 creates, and of 64 writes and deletes holding one version, one wins",
  async (_, { eval: client }) => {
    const store = new RedisTokenStore(client);
    const creates = await Promise.all(
      Array.from({ length: 64 }, () => store.set("k", STATE, null)),
    );
    assert.equal(creates.filter((r) => r !== null).length, 1);
    const version = (await store.get("k"))!.version;
    const mixed = await Promise.all(
      Array.from({ length: 64 }, (_, i) => store.set("k", i % 2 ? undefined : STATE, version)),
    );
    assert.equal(mixed.filter((r) => r !== null).length, 1);
    const winner = mixed.findIndex((r) => r !== null);
    assert.equal((await store.get("k"))?.version, winner % 2 ? undefined : mixed[winner]);
  },
);

redisTest(
  "RedisTokenStore: a version it never issued is refused without a write",
  async (_, { eval: client }) => {
    const store = new RedisTokenStore(client);
    const version = (await store.set("k", STATE, null))!;
    for (const other of ["", "1", "00000000000000000001", version.toUpperCase(), `${version}0`]) {
      assert.equal(await store.set("k", {}, other), null, other);
    }
    assert.deepEqual(await store.get("k"), { value: STATE, version });
  },
);

redisTest(
  "RedisTokenStore: keys go under the prefix, and two prefixes do not meet",
  async (_, { eval: client, client: raw }) => {
    const mine = new RedisTokenStore(client, { prefix: "app-a:" });
    const theirs = new RedisTokenStore(client, { prefix: "app-b:" });
    await mine.set("https://api.armor.com/#demo", STATE, null);
    assert.equal(await theirs.get("https://api.armor.com/#demo"), undefined);
    assert.deepEqual(await raw.keys("*"), ["app-a:https://api.armor.com/#demo"]);
    const plain = new RedisTokenStore(client);
    await plain.set("x", STATE, null);
    assert.equal(await raw.exists("armor-api-auth:x"), 1);
  },
);

redisTest(
  "RedisTokenStore: every value expires a day after its token, its claim, or now",
  async (_, { eval: client, client: raw }) => {
    const store = new RedisTokenStore(client);
    const ttl = async (key: string) => Number(await raw.pTTL(`armor-api-auth:${key}`));
    const near = (actual: number, expected: number) =>
      assert.ok(Math.abs(actual - expected) < 5_000, `${actual} vs ${expected}`);

    await store.set("token", stateUntil(Date.now() + 15 * MINUTE), null);
    near(await ttl("token"), 15 * MINUTE + DAY);

    const claimOnly = { claim: { owner: "o", purpose: "login", until: Date.now() + MINUTE } };
    await store.set("claim", claimOnly as ArmorStoredSession, null);
    near(await ttl("claim"), MINUTE + DAY);

    await store.set("empty", {}, null);
    near(await ttl("empty"), DAY);

    await store.set("expired", stateUntil(Date.now() - DAY), null);
    near(await ttl("expired"), DAY);

    // A clock far ahead cannot keep a value for ever: at most 7 days, then a day more.
    await store.set("far", stateUntil(Date.now() + 1_000 * DAY), null);
    near(await ttl("far"), 8 * DAY);

    const sealed = { sealed: { v: 1, kid: "k", iv: "i", ct: "c", until: Date.now() + MINUTE } };
    await store.set("sealed", sealed as ArmorStoredSession, null);
    near(await ttl("sealed"), MINUTE + DAY);

    // A rewrite sets the expiry again.
    const version = (await store.get("claim"))!.version;
    await store.set("claim", stateUntil(Date.now() + 2 * MINUTE), version);
    near(await ttl("claim"), 2 * MINUTE + DAY);

    for (const key of await raw.keys("*")) {
      assert.ok(Number(await raw.pTTL(key)) > 0, `${key} has no expiry`);
    }
  },
);

redisTest(
  "RedisTokenStore: a value it did not write reads as empty and can be replaced",
  async (_, { eval: client, client: raw }) => {
    const store = new RedisTokenStore(client);
    await raw.hSet("armor-api-auth:hash", "token", TOKEN);
    await raw.set("armor-api-auth:text", "hello");
    await raw.set("armor-api-auth:junk", "v0123 {not json");
    await raw.set("armor-api-auth:array", "v0123 [1,2]");
    for (const key of ["hash", "text", "junk", "array"]) {
      const entry = await store.get(key);
      assert.deepEqual(entry?.value, {}, key);
      const version = await store.set(key, STATE, entry!.version);
      assert.notEqual(version, null, key);
      assert.deepEqual(await store.get(key), { value: STATE, version }, key);
    }
  },
);

redisTest(
  "RedisTokenStore works for a Redis user limited as the docs say (ACL), and only under its prefix",
  async (redis, { client: admin }) => {
    await admin.sendCommand([
      "ACL",
      "SETUSER",
      "armor",
      "on",
      ">an-acl-password-for-tests",
      "~my-app:armor:*",
      "+eval",
      "+type",
      "+get",
      "+set",
      "+del",
    ]);
    await using limited = await connectRedis(
      `redis://armor:an-acl-password-for-tests@127.0.0.1:${redis.port}`,
    );
    await using server = await serve();
    const store = new RedisTokenStore(limited.eval, { prefix: "my-app:armor:" });
    const session = await connect(server, { store });
    assert.equal((await store.get(session.storeKey))?.value.token?.accessToken, session.token);
    const elsewhere = new RedisTokenStore(limited.eval, { prefix: "another-app:" });
    await assert.rejects(elsewhere.get("k"), { name: "ArmorApiError", code: "STORE" });
  },
);

redisTest("RedisTokenStore: Deno.inspect shows neither the client nor a token", async (_, c) => {
  const store = new RedisTokenStore(c.eval, { prefix: "p:" });
  await store.set("k", STATE, null);
  const shown = Deno.inspect(store, { depth: Infinity, showHidden: true });
  assert.ok(!shown.includes(TOKEN));
  assert.equal(shown, 'RedisTokenStore { prefix: "p:" }');
});

Deno.test("RedisTokenStore refuses a client without eval, and a prefix that is not a string", () => {
  assert.throws(() => new RedisTokenStore({} as never), TypeError);
  assert.throws(() => new RedisTokenStore(null as never), TypeError);
  const client: RedisEvalClient = { eval: () => Promise.resolve(null) };
  assert.throws(() => new RedisTokenStore(client, { prefix: 1 as never }), TypeError);
  assert.throws(() => new RedisTokenStore(client, null as never), TypeError);
});

// ---- failures --------------------------------------------------------------------------

/** Every piece of 8 characters of the token: none may show. */
function assertNoTokenIn(text: string): void {
  for (let at = 0; at + 8 <= TOKEN.length; at++) {
    assert.ok(!text.includes(TOKEN.slice(at, at + 8)), `a piece of the token shows: ${text}`);
  }
}

/** Clients that fail the way real ones do, echoing the command and its values. */
const ECHOING: [string, (script: string, keys: string[], args: string[]) => unknown][] = [
  // Upstash: the whole command, JSON-encoded, in the message.
  ["Upstash-style", (script, keys, args) => {
    throw new Error(`ERR something failed, command was: ${JSON.stringify([script, keys, args])}`);
  }],
  // A client that cuts the echoed arguments short, in the middle of the token.
  ["cut short", (_script, _keys, args) => {
    throw new Error(`ERR failed: ${args.join(" ").slice(0, args[0].length + 60)}...`);
  }],
  // The values kept on the error object and in its cause, not in the message.
  ["on the error", (_script, keys, args) => {
    const error = new Error("Command failed", { cause: new Error(String(args[1])) });
    Object.assign(error, { command: { name: "EVAL", keys, args } });
    throw error;
  }],
  ["not an Error", (_script, _keys, args) => {
    throw `failed: ${args[1]}`;
  }],
];

for (const [name, fail] of ECHOING) {
  Deno.test(`RedisTokenStore: a ${name} client error is a STORE error with no token in it`, async () => {
    const store = new RedisTokenStore({
      eval: (script, keys, args) => Promise.resolve().then(() => fail(script, keys, args)),
    });
    const value: ArmorStoredSession = {
      ...STATE,
      login: { username: "demo", salt: "0f".repeat(16), verifier: "ab".repeat(32) },
    };
    const error = await store.set("k", value, null).then(
      () => assert.fail("the write should fail"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof ArmorApiError);
    assert.equal(error.code, "STORE");
    assert.match(error.message, /^Redis failed a write/);
    const shown = Deno.inspect(error, { depth: Infinity, showHidden: true }) + error.stack;
    assertNoTokenIn(shown);
    assert.ok(!shown.includes(value.login!.verifier));
    assert.ok(!shown.includes("accessToken"));
  });
}

Deno.test("RedisTokenStore: a client error whose name echoes the command shows no token", async () => {
  const store = new RedisTokenStore({
    eval: (_script, _keys, args) => {
      const error = new Error("Command failed");
      error.name = `ReplyError ${args.join(" ")}`; // the name, not the message, echoes it
      return Promise.reject(error);
    },
  });
  const value: ArmorStoredSession = {
    ...STATE,
    login: { username: "demo", salt: "0f".repeat(16), verifier: "ab".repeat(32) },
  };
  const error = await store.set("k", value, null).catch((error: unknown) => error);
  assert.ok(error instanceof ArmorApiError);
  assert.equal(error.code, "STORE");
  const cause = error.cause as Error;
  const shown = `${cause.name} ${cause.message} ${Deno.inspect(error, { depth: Infinity })}`;
  assertNoTokenIn(shown);
  assert.ok(!shown.includes(value.login!.verifier));
  // A plain name is kept.
  const plain = new RedisTokenStore({
    eval: (_script, _keys, args) => {
      const error = new Error(`ERR ${args.join(" ")}`);
      error.name = "ReplyError";
      return Promise.reject(error);
    },
  });
  const withheld = await plain.set("k", value, null).catch((error: unknown) => error);
  assert.equal((withheld as ArmorApiError).code, "STORE");
  assert.equal(((withheld as ArmorApiError).cause as Error).name, "ReplyError");
});

Deno.test("RedisTokenStore: a client that throws something unprintable still gives STORE", async () => {
  const throwing = new Proxy({}, {
    get: () => {
      throw new Error("no");
    },
    ownKeys: () => {
      throw new Error("no");
    },
  });
  for (const thrown of [Object.create(null), throwing]) {
    const store = new RedisTokenStore({ eval: () => Promise.reject(thrown) });
    await assert.rejects(store.get("k"), { name: "ArmorApiError", code: "STORE" });
    await assert.rejects(store.set("k", STATE, null), { name: "ArmorApiError", code: "STORE" });
  }
});

Deno.test("RedisTokenStore: a client error without a secret keeps its message and cause", async () => {
  const failure = new Error("connect ECONNREFUSED 127.0.0.1:6379");
  const store = new RedisTokenStore({ eval: () => Promise.reject(failure) });
  await assert.rejects(store.get("k"), (error: unknown) => {
    assert.ok(error instanceof ArmorApiError);
    assert.equal(error.code, "STORE");
    assert.match(error.message, /^Redis failed a read \(connect ECONNREFUSED 127\.0\.0\.1:6379\)/);
    assert.equal(error.cause, failure);
    return true;
  });
});

Deno.test("a hung Redis client: connect ends at the session's timeout, or at once when aborted", async () => {
  await using server = await serve();
  // As npm:redis without disableOfflineQueue while Redis is down: it never answers.
  const hung = new RedisTokenStore({ eval: () => new Promise(() => {}) });
  let started = performance.now();
  await assert.rejects(connect(server, { store: hung, timeout: 300 }), {
    name: "ArmorApiError",
    code: "STORE",
  });
  assert.ok(performance.now() - started < 3_000, "ended at the timeout");

  started = performance.now();
  await assert.rejects(
    connect(server, { store: hung, timeout: 60_000, signal: AbortSignal.timeout(100) }),
    { name: "ArmorApiError", code: "ABORTED" },
  );
  assert.ok(performance.now() - started < 3_000, "ended at the abort, not the timeout");

  // Reads answer, the claim's write hangs: the abort ends it, and the claim, when it lands
  // late, is given back at once.
  const inner = new MemoryTokenStore();
  let land: (() => void) | undefined;
  const slowWrites: ArmorTokenStore = {
    get: (key) => inner.get(key),
    set: (key, value, version) =>
      new Promise((resolve) => land = () => resolve(inner.set(key, value, version))),
  };
  const controller = new AbortController();
  const connecting = connect(server, {
    store: slowWrites,
    timeout: 60_000,
    signal: controller.signal,
  });
  while (land === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await assert.rejects(connecting, { name: "ArmorApiError", code: "ABORTED" });
  const writeClaim = land;
  land = undefined;
  writeClaim();
  while (land === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  (land as () => void)(); // the give-back
  await new Promise((resolve) => setTimeout(resolve, 20));
  const key = `${server.baseUrl}/#${DEFAULT_MOCK_USER.username}`;
  const stored = await inner.get(key);
  assert.equal(stored?.value.claim, undefined, "no claim left for others to wait on");
  assert.equal(server.mock.count("/auth/authorize"), 0);
});

Deno.test("RedisTokenStore: a client that answers something unexpected gives STORE", async () => {
  for (const reply of [42, ["v1", "{}"], { value: 1 }, "no version here"]) {
    const store = new RedisTokenStore({ eval: () => Promise.resolve(reply) });
    await assert.rejects(store.get("k"), { name: "ArmorApiError", code: "STORE" });
    await assert.rejects(store.set("k", STATE, null), { name: "ArmorApiError", code: "STORE" });
  }
});

redisTest(
  "RedisTokenStore: with Redis stopped, reads and writes are STORE errors; it works again after",
  async (redis, { eval: client }) => {
    const store = new RedisTokenStore(client);
    await store.set("k", STATE, null);
    await redis.kill();
    await assert.rejects(store.get("k"), { name: "ArmorApiError", code: "STORE" });
    const error = await store.set("k", STATE, null).catch((e) => e);
    assert.equal(error.code, "STORE");
    assertNoTokenIn(Deno.inspect(error, { depth: Infinity }) + error.stack);
    await redis.restart();
    const deadline = Date.now() + 5_000;
    while (true) {
      try {
        assert.equal(await store.get("k"), undefined); // nothing was saved
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    assert.notEqual(await store.set("k", STATE, null), null);
  },
);

// ---- sessions sharing a login through Redis ---------------------------------------------

redisTest(
  "two sessions on two Redis connections share one login and one renewal",
  async (redis, a) => {
    await using server = await serve();
    await using b = await connectRedis(redis.url);
    const { mock } = server;
    const [one, two] = await Promise.all([
      connect(server, { store: new RedisTokenStore(a.eval) }),
      connect(server, { store: new RedisTokenStore(b.eval) }),
    ]);
    assert.equal(mock.count("/auth/authorize"), 1);
    assert.equal(one.token, two.token);
    const first = one.token;

    mock.clock.set(START + RENEW_AFTER_MS + 1);
    await Promise.all([callMe(server, one), callMe(server, two)]);
    await Promise.all([one.idle(), two.idle()]);
    mock.clock.advance(1_000);
    await Promise.all([callMe(server, one), callMe(server, two)]);
    await Promise.all([one.idle(), two.idle()]);
    assert.equal(mock.count(REISSUE), 1);
    assert.notEqual(one.token, first);
    assert.equal(one.token, two.token);
    assert.equal(one.token, mock.issuedTokens.at(-1));
  },
);

redisTest(
  "session.fetch in steady state makes no Redis call; a renewal makes at most three",
  async (_, { eval: client, client: raw }) => {
    await using server = await serve();
    const session = await connect(server, { store: new RedisTokenStore(client) });
    const evals = async () => (await commandCounts(raw)).eval ?? 0;

    const before = await evals();
    for (let i = 0; i < 200; i++) await callMe(server, session);
    assert.equal(await evals(), before, "no store call on the hot path");

    server.mock.clock.set(START + RENEW_AFTER_MS + 1);
    await callMe(server, session);
    await session.idle();
    assert.equal(server.mock.count(REISSUE), 1);
    const renewal = (await evals()) - before;
    assert.ok(renewal >= 1 && renewal <= 3, `a renewal made ${renewal} store round trips`);

    const after = await evals();
    for (let i = 0; i < 100; i++) await callMe(server, session);
    assert.equal(await evals(), after, "none again after the renewal");
  },
);

redisTest(
  "with Redis down a session keeps calling with its token; load is STORE; it renews once Redis is back",
  async (redis, { eval: client }) => {
    await using server = await serve();
    const records: ArmorLogRecord[] = [];
    const session = await connect(server, {
      store: new RedisTokenStore(client),
      timeout: 2_000,
      logger: (record) => records.push(record),
    });
    const first = session.token;
    await redis.kill();

    assert.equal(await callMe(server, session), first);
    await assert.rejects(session.load(), { name: "ArmorApiError", code: "STORE" });
    await assert.rejects(
      connect(server, { store: new RedisTokenStore(client), timeout: 2_000 }),
      { name: "ArmorApiError", code: "STORE" },
    );

    // Renewal is due: the store fails, so the session keeps its token and backs off.
    server.mock.clock.set(START + RENEW_AFTER_MS + 1);
    assert.equal(await callMe(server, session), first);
    await session.idle();
    assert.equal(server.mock.count(REISSUE), 0);
    assert.ok(records.some((r) => r.event === "renewal" && r.code === "STORE"));
    assert.equal(await callMe(server, session), first);
    assert.equal(session.isActive(), true);

    await redis.restart();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the client reconnects
    server.mock.clock.advance(60_000); // past the backoff
    assert.equal(await callMe(server, session), first);
    await session.idle();
    assert.equal(server.mock.count(REISSUE), 1);
    assert.equal(await callMe(server, session), server.mock.issuedTokens.at(-1));
    assert.equal(await session.load(), true, "the store answers again");
    assert.equal(server.mock.count("/auth/authorize"), 1);
    assert.equal(DEFAULT_MOCK_USER.username, session.identity?.username);
  },
);

redisTest(
  "with Redis hung (SIGSTOP), store calls end at the session's timeout; it renews once Redis answers",
  async (redis, { eval: client }) => {
    await using server = await serve();
    const session = await connect(server, { store: new RedisTokenStore(client), timeout: 500 });
    const first = session.token;
    Deno.kill(redis.pid!, "SIGSTOP");
    try {
      let started = performance.now();
      await assert.rejects(
        connect(server, { store: new RedisTokenStore(client), timeout: 500 }),
        { name: "ArmorApiError", code: "STORE" },
      );
      await assert.rejects(session.load(), { name: "ArmorApiError", code: "STORE" });
      assert.ok(performance.now() - started < 4_000, "each ended at the 500 ms timeout");

      server.mock.clock.set(START + RENEW_AFTER_MS + 1);
      started = performance.now();
      assert.equal(await callMe(server, session), first, "calls go on with the token");
      assert.ok(performance.now() - started < 2_000);
      await session.idle();
      assert.equal(server.mock.count(REISSUE), 0, "no renewal without the store");
    } finally {
      Deno.kill(redis.pid!, "SIGCONT");
    }
    server.mock.clock.advance(60_000); // past the backoff
    await callMe(server, session);
    await session.idle();
    assert.equal(server.mock.count(REISSUE), 1);
    assert.equal(await session.load(), true);
    assert.equal(server.mock.count("/auth/authorize"), 1);
  },
);

redisTest(
  "on one Redis, no session adopts another's login: same name on two servers, names differing in case, one key forced",
  async (_, { eval: client, client: raw }) => {
    const users: MockUser[] = [
      { username: "demo@example.com", password: "demo-password", accounts: [{ id: 1, name: "A" }] },
      {
        username: "Demo@example.com",
        password: "other-password",
        accounts: [{ id: 2, name: "B" }],
      },
    ];
    const upper = { username: "Demo@example.com", password: "other-password" };
    await using one = await serve({ users });
    await using two = await serve({ users });
    const stores = [
      () => new RedisTokenStore(client),
      () =>
        encryptTokenStore(new RedisTokenStore(client), "a store secret of 32 characters or more"),
    ];
    for (const store of stores) {
      const a = await connect(one, { store: store() });
      const b = await connect(two, { store: store() });
      assert.notEqual(b.token, a.token, "the same user name on another server");
      const c = await connect(one, { store: store(), ...upper });
      assert.notEqual(c.token, a.token, "a user name differing in case");
      assert.equal(c.identity?.username, "Demo@example.com");
      // Two users forced onto one key: each logs in for itself, neither adopts the other.
      const x = await connect(one, { store: store(), storeKey: "shared" });
      const y = await connect(one, { store: store(), storeKey: "shared", ...upper });
      assert.notEqual(y.token, x.token);
      assert.equal(y.identity?.username, "Demo@example.com");
      await assert.rejects(connect(one, { store: store(), password: "not-the-password" }));
      await raw.flushAll();
    }
  },
);
