// Sharing a login through a token store (src/_store_sync.ts, the store parts of
// src/_login.ts): what the third review (issue 16) found, one test per finding, against
// the mock Armor API on a loopback socket and real stores.

import assert from "node:assert/strict";
import { ArmorSession, type ArmorStoredSession, KvTokenStore, MemoryTokenStore } from "../mod.ts";
import { DEFAULT_MOCK_USER } from "../src/testing/mod.ts";
import { MAX_SESSION_MINUTES } from "../src/renewal.ts";
import {
  callMe,
  connect,
  MINUTE,
  REISSUE,
  RENEW_AFTER_MS,
  serve,
  SESSION_MS,
  START,
} from "./_session.ts";

// ---- issue 16 item 10: a record whose times cannot be a session's is not adopted --------

/** The stored record of `key`, changed by `change`, written back. */
async function tamper(
  store: MemoryTokenStore,
  key: string,
  change: (value: ArmorStoredSession) => ArmorStoredSession,
): Promise<void> {
  const entry = (await store.get(key))!;
  assert.notEqual(await store.set(key, change(entry.value), entry.version), null);
}

const BAD_TIMES: [string, (token: { issuedAt: number; expiresAt: number }) => object][] = [
  ["issued after it expires", (t) => ({ issuedAt: t.expiresAt + MINUTE })],
  [
    "longer than MAX_SESSION_MINUTES",
    (t) => ({ issuedAt: t.expiresAt - (MAX_SESSION_MINUTES + 1) * MINUTE }),
  ],
  // Its lifetime is a session's, but it starts tomorrow: it would be sent for a day with
  // no renewal, whenever it really lapses.
  ["issued a day from now", (t) => ({
    issuedAt: t.issuedAt + 24 * 60 * MINUTE,
    expiresAt: t.expiresAt + 24 * 60 * MINUTE,
  })],
  // Expiring within the cap of now, but issued over an hour from now: no renewal for an
  // hour and a half.
  ["issued an hour and a half from now", (t) => ({
    issuedAt: t.issuedAt + 90 * MINUTE,
    expiresAt: t.issuedAt + 90 * MINUTE + 100_000,
  })],
];

for (const [name, times] of BAD_TIMES) {
  Deno.test(`a stored token ${name} is treated as absent by connect and load`, async () => {
    await using server = await serve();
    const store = new MemoryTokenStore();
    const first = await connect(server, { store });
    const key = first.storeKey;
    await tamper(store, key, (value) => ({
      ...value,
      token: { ...value.token!, ...times(value.token!) },
    }));

    // load(): nothing to adopt.
    const loader = new ArmorSession({
      baseUrl: server.baseUrl,
      now: server.mock.clock.now,
      store,
      storeKey: key,
    });
    assert.equal(await loader.load(), false, "load() adopted a record with impossible times");

    // connect with the right password: a fresh login, not the malformed record.
    const second = await connect(server, { store });
    assert.equal(server.mock.count("/auth/authorize"), 2, "connect adopted the malformed record");
    assert.equal(second.expiresAt.getTime() - second.issuedAt.getTime(), SESSION_MS);
    const stored = (await store.get(key))!.value.token!;
    assert.equal(stored.accessToken, second.token);
    assert.ok(stored.issuedAt < stored.expiresAt);
    await second.disconnect();
  });
}

Deno.test("a renewal does not adopt a stored token whose lifetime is longer than the cap", async () => {
  await using server = await serve();
  const store = new MemoryTokenStore();
  const session = await connect(server, { store });
  const own = session.token;
  // Another writer leaves a "newer" token: valid at the mock, but its record claims a
  // ten-hour lifetime, so its renewal point would land long after it lapsed.
  const other = await connect(server, { username: DEFAULT_MOCK_USER.username });
  await tamper(store, session.storeKey, (value) => ({
    ...value,
    token: { accessToken: other.token, issuedAt: START, expiresAt: START + 10 * 60 * MINUTE },
  }));
  server.mock.clock.advance(5 * MINUTE + 1);
  const response = await session.fetch("/me");
  await response.body?.cancel();
  await session.idle();
  assert.notEqual(session.token, other.token, "the renewal adopted the malformed record");
  assert.ok(session.expiresAt.getTime() - session.issuedAt.getTime() <= SESSION_MS);
  assert.notEqual(session.token, own, "the session renewed its own token instead");
  await session.disconnect();
});

// ---- issue 16 item 3: a store's error never hands another session's secret over ---------

/**
 * A store that fails the way Upstash's and Vercel KV's clients do: the error message
 * quotes the command, with the value it was given or the value it read.
 */
function quotingStore(inner: MemoryTokenStore) {
  const fail = { reads: false, writes: false };
  const store = {
    get: async (key: string) => {
      const entry = await inner.get(key);
      if (!fail.reads) return entry;
      throw new Error(`WRONGTYPE ["GET","${key}"] held ${JSON.stringify(entry?.value)}`);
    },
    set: (key: string, value: ArmorStoredSession | undefined, version: string | null) => {
      if (!fail.writes) return inner.set(key, value, version);
      const error = new Error(`Command failed: ["SET","${key}",${JSON.stringify(value)}]`);
      return Promise.reject(new Error("Upstash request failed", { cause: error }));
    },
  };
  return { store, fail };
}

/** Every secret a stored record holds: its token and its login verifier. */
function secretsOf(value: ArmorStoredSession): string[] {
  return [value.token!.accessToken, value.login!.verifier];
}

Deno.test("a wrong password on a store whose write error quotes the value gets no secret of the owner", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  const { store, fail } = quotingStore(inner);
  const owner = await connect(server, { store });
  const record = (await inner.get(owner.storeKey))!.value;
  const secrets = secretsOf(record);
  assert.equal(secrets[0], owner.token);

  fail.writes = true;
  const error = await connect(server, { store, password: "wrong-password" }).catch((e) => e);
  assert.equal(error.code, "STORE", String(error));
  const shown = Deno.inspect(error, { depth: Infinity, showHidden: true }) + error.stack +
    JSON.stringify(error);
  for (const secret of secrets) assert.ok(!shown.includes(secret), "the owner's secret leaked");
  assert.ok(error.cause instanceof Error, "the cause is kept, with its details withheld");
  assert.ok(owner.isActive() && server.mock.isTokenValid(owner.token));
  await owner.disconnect();
});

Deno.test("a wrong password on a store whose read error quotes the record gets no secret of the owner", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  const { store, fail } = quotingStore(inner);
  const owner = await connect(server, { store });
  const secrets = secretsOf((await inner.get(owner.storeKey))!.value);

  fail.reads = true;
  const error = await connect(server, { store, password: "wrong-password" }).catch((e) => e);
  assert.equal(error.code, "STORE", String(error));
  const shown = Deno.inspect(error, { depth: Infinity, showHidden: true }) + error.stack;
  for (const secret of secrets) assert.ok(!shown.includes(secret), "the owner's secret leaked");
  // A store error with no secret in it keeps its details.
  const plain = { get: () => Promise.reject(new Error("ECONNREFUSED 127.0.0.1:6379")) };
  const down = await connect(server, { store: { ...store, ...plain } }).catch((e) => e);
  assert.equal(down.cause?.message, "ECONNREFUSED 127.0.0.1:6379");
  fail.reads = false;
  await owner.disconnect();
});

/**
 * Store errors that show the value they were given only when they are printed: through an
 * own getter or `toJSON` (run by `JSON.stringify`), a custom inspect (run by
 * `Deno.inspect` and `console.log`), `toString`, or in capitals.
 */
const QUOTING_ERRORS: [string, (quoted: string) => unknown][] = [
  ["an own getter", (quoted) => {
    const error = new Error("Command failed");
    Object.defineProperty(error, "command", { get: () => quoted, enumerable: true });
    return error;
  }],
  ["toJSON", (quoted) => {
    class RequestError extends Error {
      toJSON() {
        return { message: this.message, body: quoted };
      }
    }
    return new RequestError("Request failed");
  }],
  ["a custom inspect", (quoted) => {
    class RequestError extends Error {
      [Symbol.for("Deno.customInspect")]() {
        return `RequestError: ${quoted}`;
      }
    }
    return new RequestError("Request failed");
  }],
  ["toString", (quoted) => ({ toString: () => `Command failed: ${quoted}` })],
  ["capitals", (quoted) => new Error(`ERR ${quoted.toUpperCase()}`)],
];

for (const [name, quoting] of QUOTING_ERRORS) {
  Deno.test(`a store error that quotes the value through ${name} shows no secret of the owner`, async () => {
    await using server = await serve();
    const inner = new MemoryTokenStore();
    const owner = await connect(server, { store: inner });
    const secrets = secretsOf((await inner.get(owner.storeKey))!.value);
    const store = {
      get: (key: string) => inner.get(key),
      set: (_key: string, value: ArmorStoredSession | undefined) =>
        Promise.reject(quoting(JSON.stringify(value))),
    };
    const error = await connect(server, { store, password: "wrong-password" }).catch((e) => e);
    assert.equal(error.code, "STORE", String(error));
    const shown = [
      Deno.inspect(error, { depth: Infinity, showHidden: true }),
      JSON.stringify(error),
      JSON.stringify(error.cause),
      String(error.cause),
    ].join("\n").toLowerCase();
    for (const secret of secrets) assert.ok(!shown.includes(secret), "the owner's secret leaked");
    await owner.disconnect();
  });
}

// ---- issue 16 item 7: a revoked token of a trimmed identity is forgotten ---------------

const BIG_USER = {
  username: "big@example.com",
  password: "big-password",
  // Over the store's identity cap (16 KiB of JSON): stored as the user name only.
  accounts: Array.from({ length: 1_000 }, (_, i) => ({ id: 10_000 + i, name: `Customer ${i}` })),
  departments: [],
  permissions: {},
  features: [],
};

Deno.test("a revoked stored token of a trimmed identity is forgotten and connect logs in afresh", async () => {
  await using server = await serve({ users: [BIG_USER] });
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvTokenStore(kv);
    const options = { store, username: BIG_USER.username, password: BIG_USER.password };
    const first = await connect(server, options);
    const stored = await store.get(first.storeKey);
    assert.equal(stored?.value.identityTrimmed, true, "the identity was stored trimmed");

    // The stored token is revoked (an admin ended the session, a password change).
    server.mock.revokeToken(first.token);
    const second = await connect(server, options);
    assert.notEqual(second.token, first.token);
    assert.ok(server.mock.isTokenValid(second.token));
    assert.equal(second.accounts.length, 1_000);
    assert.equal(server.mock.count("/auth/authorize"), 2);
    assert.equal((await store.get(first.storeKey))?.value.token?.accessToken, second.token);

    // The next connect reuses the fresh login.
    const third = await connect(server, options);
    assert.equal(third.token, second.token);
    assert.equal(server.mock.count("/auth/authorize"), 2);
    await second.disconnect();
  } finally {
    kv.close();
  }
});

// ---- issue 16 item 6: a claim whose write's outcome is unknown is given back -----------

const STORE_TIMEOUT_MS = 400;

interface LateWrite {
  landsAfter: number;
  answersAfter: number;
  fails?: boolean;
}

/**
 * A store whose next claim write (of `purpose`) lands at `landsAfter` ms and answers at
 * `answersAfter` ms (after the session's store timeout), or lands and then fails.
 */
function lateClaimStore(inner: MemoryTokenStore, purpose: "login" | "renew" = "login") {
  const pending: Promise<unknown>[] = [];
  const plan: LateWrite[] = [];
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const store = {
    get: (key: string) => inner.get(key),
    set: (key: string, value: ArmorStoredSession | undefined, version: string | null) => {
      const next = value?.claim?.purpose === purpose ? plan.shift() : undefined;
      if (next === undefined) return inner.set(key, value, version);
      const landed = wait(next.landsAfter).then(() => inner.set(key, value, version));
      const answer = landed.then(async (written) => {
        await wait(next.answersAfter - next.landsAfter);
        if (next.fails) throw new Error("ECONNRESET: the connection closed before the answer");
        return written;
      });
      pending.push(answer.catch(() => {}));
      return answer;
    },
  };
  return { store, plan, settled: () => Promise.all(pending) };
}

const LATE_CLAIMS: [string, LateWrite][] = [
  ["lands at once, answers after the timeout", { landsAfter: 0, answersAfter: 700 }],
  ["lands after the timeout, answers later", { landsAfter: 500, answersAfter: 700 }],
  ["lands, then fails", { landsAfter: 0, answersAfter: 0, fails: true }],
];

for (const [name, timing] of LATE_CLAIMS) {
  Deno.test(`a login claim whose write ${name} is given back: the next connect does not wait`, async () => {
    await using server = await serve();
    const inner = new MemoryTokenStore();
    const { store, plan, settled } = lateClaimStore(inner);
    const options = { store, timeout: STORE_TIMEOUT_MS };
    plan.push(timing);
    const error = await connect(server, options).catch((e) => e);
    assert.equal(error.code, "STORE", String(error));
    await settled();
    // Every other connect for the user goes ahead (it would wait about four minutes for
    // a claim left behind: the authorize timeout, two store timeouts and a grace).
    const started = performance.now();
    const next = await connect(server, { ...options, signal: AbortSignal.timeout(5_000) });
    assert.ok(next.isActive());
    assert.ok(performance.now() - started < 3_000, `waited ${performance.now() - started} ms`);
    const stored = (await inner.get(next.storeKey))!.value;
    assert.equal(stored.claim, undefined);
    assert.equal(stored.token?.accessToken, next.token);
    await next.disconnect();
  });
}

for (const [name, timing] of LATE_CLAIMS) {
  Deno.test(`a renewal claim whose write ${name} is given back: another session renews`, async () => {
    await using server = await serve();
    const inner = new MemoryTokenStore();
    const { store, plan, settled } = lateClaimStore(inner, "renew");
    const options = { store, timeout: STORE_TIMEOUT_MS };
    const a = await connect(server, options);
    const b = await connect(server, options);
    server.mock.clock.advance(RENEW_AFTER_MS + 1);
    plan.push(timing);
    await callMe(server, a); // a's renewal claim goes wrong: it backs off
    await a.idle();
    await settled();
    assert.equal(server.mock.count(REISSUE), 0);
    // b renews now (the mock's clock has not moved), not once a's claim lapses.
    await callMe(server, b);
    await b.idle();
    assert.equal(server.mock.count(REISSUE), 1, "b waited for a claim left behind");
    assert.ok(server.mock.isTokenValid(b.token));
    assert.equal((await inner.get(b.storeKey))!.value.claim, undefined);
    await a.disconnect();
    await b.disconnect();
  });
}

/** A store that refuses (without writing) its next write that `matches`. */
function refusingStore(inner: MemoryTokenStore) {
  let matches: ((value: ArmorStoredSession | undefined) => boolean) | undefined;
  const store = {
    get: (key: string) => inner.get(key),
    set: (key: string, value: ArmorStoredSession | undefined, version: string | null) => {
      if (matches?.(value)) {
        matches = undefined;
        return Promise.reject(new Error("ETIMEDOUT: no answer from the store"));
      }
      return inner.set(key, value, version);
    },
  };
  return { store, refuseNext: (match: typeof matches) => matches = match };
}

Deno.test("a login claim whose give-back fails is removed: the next connect does not wait", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  const { store, refuseNext } = refusingStore(inner);
  const options = { store, timeout: STORE_TIMEOUT_MS };
  // A wrong password: the login fails, and the write that gives its claim back fails too.
  refuseNext((value) => value !== undefined && value.claim === undefined);
  const error = await connect(server, { ...options, password: "wrong-password" }).catch((e) => e);
  assert.equal(error.status, 401, String(error));
  const started = performance.now();
  const next = await connect(server, { ...options, signal: AbortSignal.timeout(5_000) });
  assert.ok(performance.now() - started < 3_000, `waited ${performance.now() - started} ms`);
  assert.equal((await inner.get(next.storeKey))!.value.claim, undefined);
  await next.disconnect();
});

Deno.test("a renewal claim whose give-back fails is removed: another session renews", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  const { store, refuseNext } = refusingStore(inner);
  const options = { store, timeout: STORE_TIMEOUT_MS };
  const a = await connect(server, options);
  const b = await connect(server, options);
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  // a's reissue fails, and so does the write that gives its claim back.
  server.mock.inject({ path: REISSUE, status: 503, body: {}, times: 1 });
  refuseNext((value) => value !== undefined && value.claim === undefined);
  await callMe(server, a);
  await a.idle();
  assert.equal(server.mock.count(REISSUE), 1);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the clean-up runs in the background
  await callMe(server, b);
  await b.idle();
  assert.equal(server.mock.count(REISSUE), 2, "b waited for a claim left behind");
  assert.ok(server.mock.isTokenValid(b.token));
  await a.disconnect();
  await b.disconnect();
});

// ---- connect's waits for the store end when its signal aborts ----------------------------

/** A store whose reads or writes (`stalls`) never answer. */
function stalledStore(inner: MemoryTokenStore, stalls: "get" | "set") {
  return {
    get: (key: string) => stalls === "get" ? new Promise<never>(() => {}) : inner.get(key),
    set: (key: string, value: ArmorStoredSession | undefined, version: string | null) =>
      stalls === "set" ? new Promise<never>(() => {}) : inner.set(key, value, version),
  };
}

for (const stalls of ["get", "set"] as const) {
  Deno.test(`connect: an abort ends a wait for a store ${stalls} that does not answer at once`, async () => {
    await using server = await serve();
    const store = stalledStore(new MemoryTokenStore(), stalls);
    const started = performance.now();
    const error = await connect(server, {
      store,
      timeout: 5_000,
      signal: AbortSignal.timeout(100),
    }).catch((e) => e);
    const took = performance.now() - started;
    assert.equal(error.code, "ABORTED", String(error));
    assert.ok(took < 1_000, `settled after ${took} ms, not at the abort`);
    assert.equal(server.mock.count("/auth/authorize"), 0);
  });
}

Deno.test("connect: a claim that lands after an abort is given back when its answer comes", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  let slow = true;
  let answered: Promise<unknown> = Promise.resolve();
  const store = {
    get: (key: string) => inner.get(key),
    set: (key: string, value: ArmorStoredSession | undefined, version: string | null) => {
      if (!slow) return inner.set(key, value, version);
      slow = false; // the claim lands after the abort (200 ms), its answer later still
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const written = pause(200).then(() => inner.set(key, value, version));
      const late = written.then(async (version) => (await pause(100), version));
      answered = late.then(() => new Promise((resolve) => setTimeout(resolve, 50)));
      return late;
    },
  };
  const error = await connect(server, { store, timeout: 5_000, signal: AbortSignal.timeout(100) })
    .catch((e) => e);
  assert.equal(error.code, "ABORTED", String(error));
  await answered;
  const started = performance.now();
  const next = await connect(server, { store, signal: AbortSignal.timeout(5_000) });
  assert.ok(performance.now() - started < 3_000, `waited ${performance.now() - started} ms`);
  assert.equal((await inner.get(next.storeKey))!.value.claim, undefined);
  await next.disconnect();
});

Deno.test("a renewal whose write of the new token fails puts it in its claim's place: the others go on", async () => {
  // A server that revokes the old token on reissue: a session sharing the store can only
  // go on with the new token, and must not find the renewal's claim left behind.
  await using server = await serve({ revokeOnReissue: true });
  const inner = new MemoryTokenStore();
  let failNext = false;
  const store = {
    get: (key: string) => inner.get(key),
    set: (key: string, value: ArmorStoredSession | undefined, version: string | null) => {
      if (failNext && value?.token !== undefined && value.claim === undefined) {
        failNext = false; // the renewal's write of its new token (over its claim)
        return Promise.reject(new Error("ECONNRESET"));
      }
      return inner.set(key, value, version);
    },
  };
  const a = await connect(server, { store });
  const b = await connect(server, { store });
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  failNext = true;
  await callMe(server, a);
  await a.idle();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the clean-up runs in the background
  const stored = (await inner.get(a.storeKey))!.value;
  assert.equal(stored.claim, undefined, "the renewal's claim was left behind");
  assert.equal(stored.token?.accessToken, a.token);
  // b's token was revoked by a's reissue: b takes a's from the store.
  assert.equal(await callMe(server, b), a.token);
  assert.ok(b.isActive());
  assert.equal(server.mock.count(REISSUE), 1);
  await a.disconnect();
});

Deno.test("a stored claim that would last longer than any session is ignored: renewals and logins go on", async () => {
  await using server = await serve();
  const store = new MemoryTokenStore();
  const session = await connect(server, { store });
  // A claim no session writes: ten years long (a corrupted or hostile record).
  await tamper(store, session.storeKey, (value) => ({
    ...value,
    claim: { owner: "ghost", purpose: "renew", until: START + 10 * 365 * 24 * 60 * MINUTE },
  }));
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  await callMe(server, session);
  await session.idle();
  assert.equal(server.mock.count(REISSUE), 1, "the claim stopped the renewal");
  await tamper(store, session.storeKey, (value) => ({
    ...value,
    token: undefined,
    claim: { owner: "ghost", purpose: "login", until: START + 10 * 365 * 24 * 60 * MINUTE },
  }));
  const started = performance.now();
  const other = await connect(server, { store, signal: AbortSignal.timeout(5_000) });
  assert.ok(performance.now() - started < 3_000, `waited ${performance.now() - started} ms`);
  await other.disconnect();
  await session.disconnect();
});

Deno.test("connect: an abort ends the wait for sharing the login with a store that does not answer", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  const store = {
    get: (key: string) => inner.get(key),
    // Claims are written; the login's token (written over the claim) never answers.
    set: (key: string, value: ArmorStoredSession | undefined, version: string | null) =>
      value?.token === undefined ? inner.set(key, value, version) : new Promise<never>(() => {}),
  };
  const signal = AbortSignal.timeout(300);
  const started = performance.now();
  const error = await connect(server, { store, timeout: 5_000, signal }).catch((e) => e);
  const took = performance.now() - started;
  assert.equal(error.code, "ABORTED", String(error));
  assert.ok(took < 1_000, `settled after ${took} ms, not at the abort`);
  assert.equal(server.mock.count("/auth/authorize"), 1);
});
