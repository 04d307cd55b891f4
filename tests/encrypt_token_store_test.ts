// encryptTokenStore on MemoryTokenStore, Deno KV and a real Redis: the check-and-set
// contract passes through; a dump of the store holds no token and no user name; values
// tampered with, copied, unencrypted or written with another secret are read as absent
// (logged, never adopted, never an error) and a login overwrites them; secrets rotate.

import assert from "node:assert/strict";
import {
  type ArmorLogRecord,
  ArmorSession,
  type ArmorStoredSession,
  type ArmorStoreEntry,
  type ArmorTokenStore,
  encryptTokenStore,
  KvTokenStore,
  MemoryTokenStore,
} from "../mod.ts";
import { FileTokenStore } from "../src/file_token_store.ts";
import { RedisTokenStore } from "../src/redis/mod.ts";
import { DEFAULT_MOCK_USER, type MockUser } from "../src/testing/mod.ts";
import { connectRedis, dumpRedis, REDIS_MISSING, RedisServer } from "./redis_server.ts";
import { callMe, connect, MINUTE, serve, SESSION_MS, START } from "./_session.ts";

const SECRET = "correct horse battery staple, 32+ characters";
const OTHER_SECRET = "another secret of at least 32 characters long";
const TOKEN = "0123456789abcdef0123456789abcdef";
const KEY = "https://api.armor.com/#demo@example.com";
const STATE: ArmorStoredSession = {
  token: { accessToken: TOKEN, issuedAt: START, expiresAt: START + SESSION_MS },
  username: "demo@example.com",
};

/** A MemoryTokenStore whose whole content can be dumped, as a leaked backup would be. */
class DumpableStore implements ArmorTokenStore {
  readonly inner = new MemoryTokenStore();
  readonly keys = new Set<string>();
  get(key: string): Promise<ArmorStoreEntry | undefined> {
    return this.inner.get(key);
  }
  set(key: string, value: ArmorStoredSession | undefined, version: string | null) {
    this.keys.add(key);
    return this.inner.set(key, value, version);
  }
  /** Every key and value, as JSON. */
  async dump(): Promise<string> {
    const entries = [];
    for (const key of this.keys) entries.push([key, await this.inner.get(key)]);
    return JSON.stringify(entries);
  }
}

/** Fails unless no 8-character piece of any of `secrets` shows in `dump`. */
function assertHidden(dump: string, secrets: string[]): void {
  for (const secret of secrets) {
    for (let at = 0; at + 8 <= secret.length; at++) {
      const piece = secret.slice(at, at + 8);
      assert.ok(!dump.includes(piece), `"${piece}" shows in the dump`);
    }
  }
}

// ---- the store contract, through the wrapper ---------------------------------------------

interface StoreCase {
  name: string;
  ignore?: boolean;
  open(): Promise<{ store: ArmorTokenStore; dump(): Promise<string>; close(): Promise<void> }>;
}

const STORES: StoreCase[] = [
  {
    name: "MemoryTokenStore",
    open: () => {
      const store = new DumpableStore();
      return Promise.resolve({ store, dump: () => store.dump(), close: () => Promise.resolve() });
    },
  },
  {
    name: "KvTokenStore",
    open: async () => {
      const kv = await Deno.openKv(":memory:");
      return {
        store: new KvTokenStore(kv),
        dump: async () => {
          const all = [];
          for await (const entry of kv.list({ prefix: [] })) all.push([entry.key, entry.value]);
          return JSON.stringify(all);
        },
        close: () => Promise.resolve(kv.close()),
      };
    },
  },
  {
    name: "FileTokenStore",
    open: async () => {
      await Deno.mkdir(".tmp", { recursive: true });
      const dir = await Deno.makeTempDir({ dir: ".tmp", prefix: "encrypted-files-" });
      return {
        store: new FileTokenStore({ dir: `${dir}/store` }),
        dump: async () => {
          // Every name and every byte under the folder, as a copy of the disk would show.
          const all: string[] = [];
          const walk = async (path: string): Promise<void> => {
            for await (const entry of Deno.readDir(path)) {
              all.push(entry.name);
              const child = `${path}/${entry.name}`;
              if (entry.isDirectory) await walk(child);
              else if (entry.isFile) all.push(await Deno.readTextFile(child));
            }
          };
          await walk(dir);
          return all.join("\n");
        },
        close: () => Deno.remove(dir, { recursive: true }),
      };
    },
  },
  {
    name: "RedisTokenStore",
    ignore: REDIS_MISSING !== undefined,
    open: async () => {
      const redis = await RedisServer.start();
      if (redis === undefined) throw new Error("redis-server did not start");
      const connection = await connectRedis(redis.url);
      return {
        store: new RedisTokenStore(connection.eval),
        dump: () => dumpRedis(connection.client),
        close: async () => {
          await connection[Symbol.asyncDispose]();
          await redis[Symbol.asyncDispose]();
        },
      };
    },
  },
];

for (const { name, ignore, open } of STORES) {
  const test = (
    title: string,
    fn: (inner: ArmorTokenStore, dump: () => Promise<string>) => Promise<void>,
  ) =>
    Deno.test({
      name: `encryptTokenStore(${name}): ${title}`,
      ignore,
      fn: async () => {
        const { store, dump, close } = await open();
        try {
          await fn(store, dump);
        } finally {
          await close();
        }
      },
    });

  test("reads back what it wrote, with the inner store's check-and-set", async (inner) => {
    const store = encryptTokenStore(inner, SECRET);
    assert.equal(await store.get(KEY), undefined);
    const first = (await store.set(KEY, STATE, null))!;
    assert.equal(typeof first, "string");
    assert.deepEqual(await store.get(KEY), { value: STATE, version: first });
    assert.equal(await store.set(KEY, {}, null), null, "null: only if absent");

    const claimed = { ...STATE, claim: { owner: "a", purpose: "renew" as const, until: 1 } };
    const second = (await store.set(KEY, claimed, first))!;
    assert.notEqual(second, first);
    assert.equal(await store.set(KEY, {}, first), null, "a stale version is refused");
    assert.deepEqual(await store.get(KEY), { value: claimed, version: second });

    const results = await Promise.all(
      ["a", "b", "c", "d"].map((owner) =>
        store.set(KEY, { ...STATE, claim: { owner, purpose: "renew", until: 2 } }, second)
      ),
    );
    assert.equal(results.filter((r) => r !== null).length, 1, "one writer wins");

    const third = (await store.get(KEY))!.version;
    assert.equal(await store.set(KEY, undefined, second), null);
    assert.equal(await store.set(KEY, undefined, third), "");
    assert.equal(await store.get(KEY), undefined);
    assert.notEqual(await store.set(KEY, STATE, null), null);
  });

  test("a dump of the store holds no token, no user name and no password", async (inner, dump) => {
    await using server = await serve();
    const store = encryptTokenStore(inner, SECRET);
    const session = await connect(server, { store });
    await callMe(server, session);
    const other = await connect(server, { store });
    assert.equal(server.mock.count("/auth/authorize"), 1, "the login is shared, decrypted");
    assert.equal(other.token, session.token);

    const text = await dump();
    assert.ok(text.includes('"sealed"') || text.includes("sealed"), "something is stored");
    assertHidden(text, [
      session.token,
      DEFAULT_MOCK_USER.password,
      "demo@example",
      "Demo Production",
    ]);
    assert.ok(!text.includes("api.armor.com") && !text.includes("127.0.0.1"), "no server");
    assert.ok(!text.includes("accessToken") && !text.includes("verifier"));
  });

  test("a value tampered with reads as absent and is logged; a login replaces it", async (inner) => {
    await using server = await serve();
    const records: ArmorLogRecord[] = [];
    const store = encryptTokenStore(inner, SECRET, { logger: (r) => records.push(r) });
    const first = await connect(server, { store });

    // Flip one character of the ciphertext under the stored key.
    const name = await nameFor(SECRET, first.storeKey);
    const entry = (await inner.get(name))!;
    const sealed = entry.value.sealed!;
    const flipped = sealed.ct[5] === "A" ? "B" : "A";
    const tampered = {
      sealed: { ...sealed, ct: sealed.ct.slice(0, 5) + flipped + sealed.ct.slice(6) },
    };
    assert.notEqual(await inner.set(name, tampered, entry.version), null);

    const read = await store.get(first.storeKey);
    assert.deepEqual(read?.value, {}, "read as empty, never adopted");
    assert.ok(records.some((r) => r.event === "error" && r.code === "STORE"));

    const second = await connect(server, { store });
    assert.equal(server.mock.count("/auth/authorize"), 2, "a fresh login, not an error");
    assert.notEqual(second.token, first.token);
    const third = await connect(server, { store });
    assert.equal(server.mock.count("/auth/authorize"), 2, "and the next one is shared again");
    assert.equal(third.token, second.token);
  });
}

/** The key a wrapper with `secret` stores `key` under, found by writing through another. */
async function nameFor(secret: string, key: string): Promise<string> {
  const probe = new DumpableStore();
  await encryptTokenStore(probe, secret).set(key, {}, null);
  const [name] = probe.keys;
  assert.match(name, /^[A-Za-z0-9_-]{43}$/, "an HMAC-SHA-256 in base64url");
  return name;
}

// ---- wrong secrets, copies, plain values ------------------------------------------------

Deno.test("encryptTokenStore: a value written with another secret is never adopted; one login replaces it", async () => {
  await using server = await serve();
  const inner = new DumpableStore();
  const records: ArmorLogRecord[] = [];
  const a = await connect(server, { store: encryptTokenStore(inner, SECRET) });
  const wrong = encryptTokenStore(inner, OTHER_SECRET, { logger: (r) => records.push(r) });
  // Same user and server, so the same key in clear, but the HMAC differs per secret: for
  // the worst case, put a's value under the key the other secret reads.
  const name = await nameFor(SECRET, a.storeKey);
  const theirs = await nameFor(OTHER_SECRET, a.storeKey);
  assert.notEqual(theirs, name, "the other secret names the key differently");
  await inner.set(theirs, (await inner.get(name))!.value, null);

  const b = await connect(server, { store: wrong });
  assert.ok(records.some((r) => r.code === "STORE"), "the undecryptable value is reported");
  assert.notEqual(b.token, a.token, "never adopted");
  assert.equal(server.mock.count("/auth/authorize"), 2, "one fresh login");
  const c = await connect(server, { store: encryptTokenStore(inner, OTHER_SECRET) });
  assert.equal(c.token, b.token);
  assert.equal(server.mock.count("/auth/authorize"), 2, "no loop: the next connect shares it");
  // a's own login, under its own secret, is untouched.
  assert.equal(await a.load(), true);
  assert.equal(a.token, (await connect(server, { store: encryptTokenStore(inner, SECRET) })).token);
});

Deno.test("encryptTokenStore: a value copied under another user's key does not decrypt", async () => {
  const users: MockUser[] = [
    DEFAULT_MOCK_USER,
    {
      username: "ops@example.com",
      password: "ops-password",
      accounts: [{ id: 3001, name: "Ops" }],
    },
  ];
  await using server = await serve({ users });
  const inner = new DumpableStore();
  const store = encryptTokenStore(inner, SECRET);
  const demo = await connect(server, { store });
  const ops = await connect(server, {
    store,
    username: "ops@example.com",
    password: "ops-password",
  });
  const demoName = await nameFor(SECRET, demo.storeKey);
  const opsName = await nameFor(SECRET, ops.storeKey);
  assert.notEqual(demoName, opsName);

  // An attacker with write access copies demo's sealed value over ops's.
  const opsEntry = (await inner.get(opsName))!;
  await inner.set(opsName, (await inner.get(demoName))!.value, opsEntry.version);
  assert.deepEqual((await store.get(ops.storeKey))?.value, {});
  const again = await connect(server, {
    store,
    username: "ops@example.com",
    password: "ops-password",
  });
  assert.notEqual(again.token, demo.token);
  assert.equal(again.identity?.username, "ops@example.com");
});

Deno.test("encryptTokenStore: a value stored without encryption is not adopted", async () => {
  await using server = await serve();
  const inner = new DumpableStore();
  const plain = await connect(server, { store: inner }); // no encryption
  // Put the plain value where the wrapper looks.
  const sealedKey = await nameFor(SECRET, plain.storeKey);
  await inner.set(sealedKey, (await inner.get(plain.storeKey))!.value, null);

  const records: ArmorLogRecord[] = [];
  const store = encryptTokenStore(inner, SECRET, { logger: (r) => records.push(r) });
  assert.deepEqual((await store.get(plain.storeKey))?.value, {});
  assert.equal(records.length, 1);
  const session = await connect(server, { store });
  assert.notEqual(session.token, plain.token);
  assert.equal(server.mock.count("/auth/authorize"), 2);
});

// ---- rotation ------------------------------------------------------------------------------

Deno.test("encryptTokenStore: [new, old] reads what the old secret wrote, and moves it under the new", async () => {
  await using server = await serve();
  const inner = new DumpableStore();
  const before = await connect(server, { store: encryptTokenStore(inner, OTHER_SECRET) });

  const rotated = encryptTokenStore(inner, [SECRET, OTHER_SECRET]);
  const after = await connect(server, { store: rotated });
  assert.equal(server.mock.count("/auth/authorize"), 1, "the old login is reused");
  assert.equal(after.token, before.token);

  // The next write (here a renewal) uses the new secret, under the new key.
  server.mock.clock.set(START + 5 * MINUTE + 1);
  await callMe(server, after);
  await after.idle();
  assert.equal(server.mock.count("/auth/token/reissue"), 1);
  const onlyNew = await connect(server, { store: encryptTokenStore(inner, SECRET) });
  assert.equal(onlyNew.token, after.token, "readable with the new secret alone");
  assert.equal(server.mock.count("/auth/authorize"), 1);
  const oldName = await nameFor(OTHER_SECRET, before.storeKey);
  assert.equal(await inner.get(oldName), undefined, "the old copy is gone");
});

// ---- secrets and keys ----------------------------------------------------------------------

Deno.test("encryptTokenStore refuses short or missing secrets without showing them", () => {
  const store = new MemoryTokenStore();
  const short = "short-secret-do-not-echo";
  for (
    const secret of [
      short,
      "",
      new Uint8Array(31),
      42,
      undefined,
      null,
      [],
      [SECRET, short],
      new ArrayBuffer(64),
    ]
  ) {
    assert.throws(() => encryptTokenStore(store, secret as never), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.ok(!error.message.includes(short), error.message);
      assert.match(error.message, /^secret/);
      return true;
    });
  }
  assert.throws(() => encryptTokenStore({} as never, SECRET), TypeError);
  assert.throws(() => encryptTokenStore(store, SECRET, { logger: 1 as never }), TypeError);
  encryptTokenStore(store, new Uint8Array(32));
  encryptTokenStore(store, "x".repeat(32));
});

Deno.test("encryptTokenStore derives its keys once, not per call", async () => {
  const deriveKey = crypto.subtle.deriveKey;
  let derived = 0;
  crypto.subtle.deriveKey = function (this: SubtleCrypto, ...args: Parameters<typeof deriveKey>) {
    derived++;
    return deriveKey.apply(this, args);
  } as typeof deriveKey;
  try {
    const store = encryptTokenStore(new MemoryTokenStore(), [SECRET, OTHER_SECRET]);
    assert.equal(derived, 0, "nothing at construction");
    for (let i = 0; i < 20; i++) {
      const entry = await store.get(`key-${i % 3}`);
      await store.set(`key-${i % 3}`, STATE, entry?.version ?? null);
    }
    assert.equal(derived, 4, "an AES and an HMAC key per secret, once");
  } finally {
    crypto.subtle.deriveKey = deriveKey;
  }
});

Deno.test("encryptTokenStore: the wrapper shows no secret in Deno.inspect or JSON", async () => {
  const store = encryptTokenStore(new MemoryTokenStore(), SECRET);
  await store.set(KEY, STATE, null);
  for (
    const shown of [
      Deno.inspect(store, { depth: Infinity, showHidden: true }),
      JSON.stringify(store),
    ]
  ) {
    assertHidden(shown, [SECRET, TOKEN]);
  }
});

Deno.test("encryptTokenStore: two wrappers with one secret read each other's values", async () => {
  const inner = new MemoryTokenStore();
  const version = await encryptTokenStore(inner, SECRET).set(KEY, STATE, null);
  assert.deepEqual(
    await encryptTokenStore(inner, new TextEncoder().encode(SECRET)).get(KEY),
    { value: STATE, version },
  );
});

Deno.test({
  name: "encryptTokenStore(RedisTokenStore): Redis keeps each sealed value a day past its token",
  ignore: REDIS_MISSING !== undefined,
  fn: async () => {
    await using redis = await RedisServer.start();
    if (redis === undefined) return;
    await using connection = await connectRedis(redis.url);
    const store = encryptTokenStore(new RedisTokenStore(connection.eval), SECRET);
    const expiresAt = Date.now() + 15 * MINUTE;
    await store.set(KEY, { token: { accessToken: TOKEN, issuedAt: Date.now(), expiresAt } }, null);
    const [key] = await connection.client.keys("*");
    const ttl = Number(await connection.client.pTTL(key));
    assert.ok(Math.abs(ttl - (15 * MINUTE + 86_400_000)) < 5_000, String(ttl));
  },
});

Deno.test("a session on an encrypted store renews once and shares it", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  const a = await connect(server, { store: encryptTokenStore(inner, SECRET) });
  const b = await connect(server, { store: encryptTokenStore(inner, SECRET) });
  server.mock.clock.set(START + 5 * MINUTE + 1);
  await Promise.all([callMe(server, a), callMe(server, b)]);
  await Promise.all([a.idle(), b.idle()]);
  server.mock.clock.advance(1_000);
  await Promise.all([callMe(server, a), callMe(server, b)]);
  assert.equal(server.mock.count("/auth/token/reissue"), 1);
  assert.equal(a.token, b.token);
  assert.ok(a instanceof ArmorSession);
});

Deno.test("encryptTokenStore reads back its own last write without decrypting it again", async () => {
  const decrypt = crypto.subtle.decrypt;
  let decrypted = 0;
  crypto.subtle.decrypt = function (this: SubtleCrypto, ...args: Parameters<typeof decrypt>) {
    decrypted++;
    return decrypt.apply(this, args);
  } as typeof decrypt;
  try {
    const inner = new MemoryTokenStore();
    const mine = encryptTokenStore(inner, SECRET);
    const version = await mine.set(KEY, STATE, null);
    assert.deepEqual(await mine.get(KEY), { value: STATE, version });
    assert.equal(decrypted, 0);
    // Another wrapper (another process) must decrypt, once; then it knows the value too.
    const theirs = encryptTokenStore(inner, SECRET);
    assert.deepEqual(await theirs.get(KEY), { value: STATE, version });
    assert.deepEqual(await theirs.get(KEY), { value: STATE, version });
    assert.equal(decrypted, 1);
    // A changed ciphertext is decrypted (and here refused), never taken from memory.
    const entry = (await inner.get(await nameFor(SECRET, KEY)))!;
    const sealed = entry.value.sealed!;
    const ct = (sealed.ct[0] === "A" ? "B" : "A") + sealed.ct.slice(1);
    await inner.set(await nameFor(SECRET, KEY), { sealed: { ...sealed, ct } }, entry.version);
    assert.deepEqual((await mine.get(KEY))?.value, {});
    assert.equal(decrypted, 2);
  } finally {
    crypto.subtle.decrypt = decrypt;
  }
});

Deno.test("encryptTokenStore: truncated or garbage values read as absent, each reported, never a throw", async () => {
  const inner = new DumpableStore();
  const records: ArmorLogRecord[] = [];
  const store = encryptTokenStore(inner, SECRET, { logger: (r) => records.push(r) });
  await store.set(KEY, STATE, null);
  const name = await nameFor(SECRET, KEY);
  const good = (await inner.get(name))!.value.sealed!;
  const garbage: unknown[] = [
    null,
    "text",
    [],
    {},
    { sealed: null },
    { sealed: { ...good, v: 2 } },
    { sealed: { ...good, iv: 5 } },
    { sealed: { ...good, iv: "!!!" } },
    { sealed: { ...good, iv: good.iv.slice(0, 8) } },
    { sealed: { ...good, ct: good.ct.slice(0, 10) } },
    { sealed: { ...good, ct: good.ct.slice(0, -1) } },
    { sealed: { ...good, ct: `${good.ct}A` } },
    { sealed: { ...good, ct: "" } },
    { sealed: { ...good, ct: "*".repeat(40) } },
    { sealed: { ...good, until: good.until + 1 } },
    { sealed: { ...good, until: String(good.until) } },
    { sealed: { ...good, kid: "another-kid" } },
  ];
  for (const [i, value] of garbage.entries()) {
    const entry = (await inner.get(name))!;
    assert.notEqual(await inner.set(name, value as ArmorStoredSession, entry.version), null);
    const read = await store.get(KEY);
    assert.deepEqual(read?.value, {}, JSON.stringify(value));
    assert.equal(records.length, i + 1, "each one reported");
    assert.deepEqual(records[i], { event: "error", code: "STORE" });
  }
  // Clear fields next to a good sealed value are ignored: only the sealed state counts.
  const entry = (await inner.get(name))!;
  const planted = { ...STATE.token!, accessToken: "f".repeat(32) };
  await inner.set(name, { sealed: good, token: planted }, entry.version);
  assert.deepEqual((await store.get(KEY))?.value, STATE);
});

Deno.test("encryptTokenStore: an older value put back under its own key is read (a replay), and gains nothing", async () => {
  // The ciphertext is bound to its key, key id and end, not to a version: whoever can
  // write to the store can put back a value this login had before. It holds a token this
  // user really had, which a session takes only when it is live and newer than its own.
  await using server = await serve();
  const inner = new DumpableStore();
  const store = encryptTokenStore(inner, SECRET);
  const session = await connect(server, { store });
  const name = await nameFor(SECRET, session.storeKey);
  const old = (await inner.get(name))!.value;
  const first = session.token;

  server.mock.clock.set(START + 5 * MINUTE + 1);
  await callMe(server, session);
  await session.idle();
  assert.equal(server.mock.count("/auth/token/reissue"), 1);
  const renewed = session.token;
  assert.notEqual(renewed, first);

  await inner.set(name, old, (await inner.get(name))!.version); // the replay
  assert.equal((await store.get(session.storeKey))?.value.token?.accessToken, first);
  await session.load();
  assert.equal(session.token, renewed, "an older token is not taken over a newer one");

  server.mock.clock.set(START + SESSION_MS + 1); // the replayed token has expired
  const later = await connect(server, { store });
  assert.notEqual(later.token, first, "an expired replay is never used");
});

Deno.test("encryptTokenStore: a rotation in two steps, [old, new] then [new, old], costs no login", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  await connect(server, { store: encryptTokenStore(inner, OTHER_SECRET) }); // the old secret
  const first = await connect(server, { store: encryptTokenStore(inner, [OTHER_SECRET, SECRET]) });
  const second = await connect(server, { store: encryptTokenStore(inner, [SECRET, OTHER_SECRET]) });
  assert.equal(server.mock.count("/auth/authorize"), 1);
  // Each renews in turn (each write moves the login under its first secret's key); the
  // other reads it wherever it is.
  for (let window = 1; window <= 4; window++) {
    server.mock.clock.set(START + window * (5 * MINUTE + 1_000));
    const [renewing, reading] = window % 2 ? [second, first] : [first, second];
    await callMe(server, renewing);
    await renewing.idle();
    await reading.load();
    assert.equal(reading.token, renewing.token, `window ${window}`);
  }
  assert.equal(server.mock.count("/auth/token/reissue"), 4);
  assert.equal(server.mock.count("/auth/authorize"), 1, "no login during the rotation");
});

Deno.test("encryptTokenStore: an undecryptable value is reported to the reading session's logger too, once", async () => {
  await using server = await serve();
  const inner = new DumpableStore();
  const first = await connect(server, { store: encryptTokenStore(inner, SECRET) });
  const name = await nameFor(SECRET, first.storeKey);
  const entry = (await inner.get(name))!;
  const sealed = entry.value.sealed!;
  const ct = (sealed.ct[0] === "A" ? "B" : "A") + sealed.ct.slice(1);
  await inner.set(name, { sealed: { ...sealed, ct } }, entry.version);

  // The wrapper has no logger of its own: the session's is told.
  const sessionRecords: ArmorLogRecord[] = [];
  await connect(server, {
    store: encryptTokenStore(inner, SECRET),
    logger: (record) => sessionRecords.push(record),
  });
  assert.equal(server.mock.count("/auth/authorize"), 2, "a fresh login replaced it");
  assert.deepEqual(sessionRecords.filter((r) => r.code === "STORE"), [{
    event: "error",
    code: "STORE",
  }]);

  // One logger given to both: told once per value, not twice.
  const again = (await inner.get(name))!;
  await inner.set(name, { sealed: { ...again.value.sealed!, ct } }, again.version);
  const shared: ArmorLogRecord[] = [];
  const logger = (record: ArmorLogRecord) => shared.push(record);
  await connect(server, { store: encryptTokenStore(inner, SECRET, { logger }), logger });
  assert.equal(shared.filter((r) => r.code === "STORE").length, 1);
});

Deno.test("a claim added to or taken from the stored state costs no encryption; a new token one", async () => {
  const dumpable = new DumpableStore();
  const inner = dumpable.inner;
  const store = encryptTokenStore(dumpable, SECRET);
  const encrypt = crypto.subtle.encrypt;
  let encryptions = 0;
  crypto.subtle.encrypt = (...args: Parameters<SubtleCrypto["encrypt"]>) => {
    encryptions++;
    return encrypt.apply(crypto.subtle, args);
  };
  try {
    const v1 = await store.set(KEY, STATE, null);
    assert.equal(encryptions, 1);
    const [name] = [...dumpable.keys];
    const sealedBefore = (await inner.get(name))!.value.sealed;
    // A renewal's claim, then the claim given back: the same ciphertext, the claim in clear.
    const claim = { owner: "owner-1", purpose: "renew" as const, until: START + 60_000 };
    const v2 = await store.set(KEY, { ...STATE, claim }, v1);
    assert.ok(v2 !== null);
    const claimed = (await inner.get(name))!.value;
    assert.deepEqual(claimed.sealed, sealedBefore);
    assert.deepEqual(claimed.claim, claim);
    assert.ok(!JSON.stringify(claimed).includes(TOKEN));
    assert.deepEqual((await store.get(KEY))?.value, { ...STATE, claim });
    const v3 = await store.set(KEY, STATE, v2);
    assert.ok(v3 !== null);
    assert.equal(encryptions, 1);
    assert.deepEqual((await store.get(KEY))?.value, STATE);
    // A new token is sealed anew.
    const renewed = { ...STATE, token: { ...STATE.token!, accessToken: "f".repeat(32) } };
    assert.ok(await store.set(KEY, { ...renewed, claim }, v3) !== null);
    assert.equal(encryptions, 2);
    assert.notDeepEqual((await inner.get(name))!.value.sealed, sealedBefore);
  } finally {
    crypto.subtle.encrypt = encrypt;
  }
});
