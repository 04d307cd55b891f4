import assert from "node:assert/strict";
import {
  ArmorSession,
  type ArmorStoredSession,
  type ArmorTokenStore,
  KvTokenStore,
  MemoryTokenStore,
} from "../mod.ts";
import {
  DEFAULT_MOCK_USER,
  MockClock,
  type ServedMockArmorApi,
  serveMockArmorApi,
} from "../src/testing/mod.ts";
import { callMe, connect, REISSUE, RENEW_AFTER_MS, serve, SESSION_MS, START } from "./_session.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const STATE: ArmorStoredSession = {
  token: { accessToken: TOKEN, issuedAt: START, expiresAt: START + SESSION_MS },
};

// ---- the store contract, for both stores ------------------------------------------------

interface StoreCase {
  name: string;
  open(): Promise<{ store: ArmorTokenStore; close(): void }>;
}

const STORES: StoreCase[] = [
  {
    name: "MemoryTokenStore",
    open: () => Promise.resolve({ store: new MemoryTokenStore(), close() {} }),
  },
  {
    name: "KvTokenStore",
    open: async () => {
      const kv = await Deno.openKv(":memory:");
      return { store: new KvTokenStore(kv), close: () => kv.close() };
    },
  },
];

for (const { name, open } of STORES) {
  Deno.test(`${name}: a missing key reads as undefined`, async () => {
    const { store, close } = await open();
    try {
      assert.equal(await store.get("nothing"), undefined);
    } finally {
      close();
    }
  });

  Deno.test(`${name}: set with null creates a key only if it is absent`, async () => {
    const { store, close } = await open();
    try {
      const version = await store.set("k", STATE, null);
      assert.equal(typeof version, "string");
      assert.notEqual(version, "");
      assert.deepEqual(await store.get("k"), { value: STATE, version });

      assert.equal(await store.set("k", {}, null), null);
      assert.deepEqual((await store.get("k"))?.value, STATE);
    } finally {
      close();
    }
  });

  Deno.test(`${name}: set writes only over the version it was given`, async () => {
    const { store, close } = await open();
    try {
      const first = (await store.set("k", STATE, null))!;
      const changed: ArmorStoredSession = {
        ...STATE,
        claim: { owner: "a", purpose: "renew", until: START + 1_000 },
      };
      const second = await store.set("k", changed, first);
      assert.ok(second !== null && second !== first);
      assert.deepEqual(await store.get("k"), { value: changed, version: second });

      // The old version is stale now: the write is refused and nothing changes.
      assert.equal(await store.set("k", {}, first), null);
      assert.deepEqual(await store.get("k"), { value: changed, version: second });
    } finally {
      close();
    }
  });

  Deno.test(`${name}: set of undefined deletes, with the same version check`, async () => {
    const { store, close } = await open();
    try {
      const first = (await store.set("k", STATE, null))!;
      const second = (await store.set("k", {}, first))!;

      assert.equal(await store.set("k", undefined, first), null);
      assert.notEqual(await store.get("k"), undefined);

      assert.equal(await store.set("k", undefined, second), "");
      assert.equal(await store.get("k"), undefined);
      // Once deleted, the key can be created again.
      assert.notEqual(await store.set("k", STATE, null), null);
    } finally {
      close();
    }
  });

  Deno.test(`${name}: keys are independent`, async () => {
    const { store, close } = await open();
    try {
      await store.set("a", STATE, null);
      assert.equal(await store.get("b"), undefined);
      assert.notEqual(await store.set("b", {}, null), null);
      assert.deepEqual((await store.get("a"))?.value, STATE);
      assert.deepEqual((await store.get("b"))?.value, {});
    } finally {
      close();
    }
  });

  Deno.test(`${name}: of two writers holding one version, exactly one wins`, async () => {
    const { store, close } = await open();
    try {
      const version = (await store.set("k", STATE, null))!;
      const results = await Promise.all(
        ["a", "b", "c", "d"].map((owner) =>
          store.set("k", { ...STATE, claim: { owner, purpose: "renew", until: 0 } }, version)
        ),
      );
      assert.equal(results.filter((r) => r !== null).length, 1);
    } finally {
      close();
    }
  });

  Deno.test(`${name}: stored values are copies, not shared objects`, async () => {
    const { store, close } = await open();
    try {
      const value: ArmorStoredSession = structuredClone(STATE);
      await store.set("k", value, null);
      value.token!.accessToken = "f".repeat(32);
      const read = (await store.get("k"))!;
      assert.equal(read.value.token?.accessToken, TOKEN);
      read.value.token!.expiresAt = 0;
      assert.equal((await store.get("k"))?.value.token?.expiresAt, START + SESSION_MS);
    } finally {
      close();
    }
  });

  Deno.test(`${name}: Deno.inspect does not show the stored token`, async () => {
    const { store, close } = await open();
    try {
      await store.set("k", STATE, null);
      assert.ok(!Deno.inspect(store, { depth: Infinity, showHidden: true }).includes(TOKEN));
    } finally {
      close();
    }
  });
}

Deno.test("KvTokenStore keeps the state, expiry included, in the value under its prefix", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvTokenStore(kv, ["my-app", "armor"]);
    const version = await store.set("https://api.armor.com/", STATE, null);
    const raw = await kv.get(["my-app", "armor", "https://api.armor.com/"]);
    assert.equal(raw.versionstamp, version);
    assert.deepEqual(raw.value, STATE);
    assert.equal((await kv.get(["armor-api-auth", "https://api.armor.com/"])).versionstamp, null);
  } finally {
    kv.close();
  }
});

Deno.test("KvTokenStore refuses something that is not a Deno.Kv", () => {
  assert.throws(() => new KvTokenStore({} as never), TypeError);
  assert.throws(() => new KvTokenStore(null as never), TypeError);
});

// ---- sessions sharing a store --------------------------------------------------------

/**
 * Two sessions share one login and one renewal: the second connect reuses the first's
 * login, both call at the renewal point, and after a second both use the new token.
 */
async function sharedLoginAndRenewal(
  server: ServedMockArmorApi,
  storeA: ArmorTokenStore,
  storeB: ArmorTokenStore,
): Promise<void> {
  const { mock } = server;
  const a = await connect(server, { store: storeA });
  const b = await connect(server, { store: storeB });
  assert.equal(mock.count("/auth/authorize"), 1);
  assert.equal(mock.count("/auth/token"), 1);
  const first = a.token;
  assert.equal(b.token, first);
  assert.equal(b.accountId, 1001);
  assert.equal(b.identity?.username, DEFAULT_MOCK_USER.username);
  assert.equal(b.expiresAt.getTime(), a.expiresAt.getTime());

  mock.clock.set(START + RENEW_AFTER_MS + 1);
  const sent = await Promise.all([callMe(server, a), callMe(server, b)]);
  await Promise.all([a.idle(), b.idle()]);
  assert.equal(mock.count(REISSUE), 1);
  const second = mock.issuedTokens.at(-1)!;
  assert.notEqual(second, first);
  // Each call goes out with the token it was made with, or with the one renewal's token
  // when the store check found it first (on a KV file that is a matter of timing).
  for (const token of sent) assert.ok(token === first || token === second);

  mock.clock.advance(1_000);
  assert.equal(await callMe(server, a), second);
  assert.equal(await callMe(server, b), second);
  await Promise.all([a.idle(), b.idle()]);
  assert.equal(mock.count(REISSUE), 1);
  assert.equal(a.token, second);
  assert.equal(b.token, second);
  assert.equal(b.expiresAt.getTime(), a.expiresAt.getTime());
}

/** A session that calls after another one renewed uses the renewed token at once. */
async function renewedByAnother(
  server: ServedMockArmorApi,
  storeA: ArmorTokenStore,
  storeB: ArmorTokenStore,
): Promise<void> {
  const { mock } = server;
  const a = await connect(server, { store: storeA });
  const b = await connect(server, { store: storeB });
  const first = a.token;

  mock.clock.set(START + RENEW_AFTER_MS + 1);
  assert.equal(await callMe(server, a), first);
  await a.idle();
  const second = mock.issuedTokens.at(-1)!;
  assert.equal(a.token, second);

  // b was idle during the renewal; its first call past the renewal point sends the
  // token a got, and makes no reissue of its own.
  assert.equal(await callMe(server, b), second);
  await b.idle();
  assert.equal(mock.count(REISSUE), 1);
  assert.equal(b.token, second);
  assert.equal(b.expiresAt.getTime(), a.expiresAt.getTime());
}

/** Two sessions that connect at the same time log in once between them. */
async function concurrentConnect(
  server: ServedMockArmorApi,
  storeA: ArmorTokenStore,
  storeB: ArmorTokenStore,
): Promise<void> {
  const [a, b] = await Promise.all([
    connect(server, { store: storeA }),
    connect(server, { store: storeB }),
  ]);
  assert.equal(server.mock.count("/auth/authorize"), 1);
  assert.equal(server.mock.count("/auth/token"), 1);
  assert.equal(a.token, b.token);
  assert.equal(await callMe(server, a), await callMe(server, b));
}

Deno.test("two sessions on one MemoryTokenStore share one login and one renewal", async () => {
  await using server = await serve();
  const store = new MemoryTokenStore();
  await sharedLoginAndRenewal(server, store, store);
});

Deno.test("a session on a MemoryTokenStore uses the token another session renewed", async () => {
  await using server = await serve();
  const store = new MemoryTokenStore();
  await renewedByAnother(server, store, store);
});

Deno.test("two sessions connecting at once on one MemoryTokenStore log in once", async () => {
  await using server = await serve();
  const store = new MemoryTokenStore();
  await concurrentConnect(server, store, store);
});

Deno.test("two sessions on one KvTokenStore share one login and one renewal", async () => {
  await using server = await serve();
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvTokenStore(kv);
    await sharedLoginAndRenewal(server, store, store);
  } finally {
    kv.close();
  }
});

Deno.test("a session on a KvTokenStore uses the token another session renewed", async () => {
  await using server = await serve();
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvTokenStore(kv);
    await renewedByAnother(server, store, store);
  } finally {
    kv.close();
  }
});

Deno.test("two sessions connecting at once on one KvTokenStore log in once", async () => {
  await using server = await serve();
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvTokenStore(kv);
    await concurrentConnect(server, store, store);
  } finally {
    kv.close();
  }
});

Deno.test("KvTokenStore holds the session's expiry in its value, and no claim after login", async () => {
  await using server = await serve();
  const kv = await Deno.openKv(":memory:");
  try {
    const session = await connect(server, { store: new KvTokenStore(kv) });
    const raw = await kv.get<ArmorStoredSession>(["armor-api-auth", session.storeKey]);
    assert.equal(raw.value?.token?.accessToken, session.token);
    assert.equal(raw.value?.token?.expiresAt, session.expiresAt.getTime());
    assert.equal(raw.value?.token?.expiresAt, START + SESSION_MS);
    assert.equal(raw.value?.identity?.username, DEFAULT_MOCK_USER.username);
    assert.equal(raw.value?.claim, undefined);
    // Who logged in, as a salted verifier: never the password itself.
    assert.equal(raw.value?.login?.username, DEFAULT_MOCK_USER.username);
    assert.match(raw.value?.login?.verifier ?? "", /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(raw.value).includes(DEFAULT_MOCK_USER.password));

    await session.disconnect();
    const after = await kv.get<ArmorStoredSession>(["armor-api-auth", session.storeKey]);
    assert.equal(after.value?.token, undefined);
  } finally {
    kv.close();
  }
});

Deno.test("a session disconnected on a shared store does not end the other's login", async () => {
  await using server = await serve();
  const store = new MemoryTokenStore();
  const a = await connect(server, { store: store });
  const b = await connect(server, { store: store });
  await a.disconnect();
  assert.equal(a.isActive(), false);
  await assert.rejects(a.fetch("/me"), { name: "ArmorApiError", code: "NOT_AUTHORIZED" });
  // b keeps its token and can still call.
  assert.equal(b.isActive(), true);
  assert.equal(await callMe(server, b), b.token);
});

// Two Deno.openKv handles on one file stand in for two isolates. A file path needs
// --allow-read and --allow-write, which `deno task test` does not grant: skipped there.
// The test task grants read and write on the scratch folder .tmp only.
const canUseFiles =
  Deno.permissions.querySync({ name: "read", path: ".tmp" }).state === "granted" &&
  Deno.permissions.querySync({ name: "write", path: ".tmp" }).state === "granted";

Deno.test({
  name: "two isolates (two KV handles on one file) share one login and one renewal",
  ignore: !canUseFiles,
  fn: async () => {
    await using server = await serve();
    await Deno.mkdir(".tmp", { recursive: true });
    const dir = await Deno.makeTempDir({ dir: ".tmp", prefix: "armor-kv-" });
    const kvA = await Deno.openKv(`${dir}/kv.sqlite`);
    const kvB = await Deno.openKv(`${dir}/kv.sqlite`);
    try {
      await sharedLoginAndRenewal(server, new KvTokenStore(kvA), new KvTokenStore(kvB));
    } finally {
      kvA.close();
      kvB.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "two isolates (two KV handles on one file) connecting at once log in once",
  ignore: !canUseFiles,
  fn: async () => {
    await using server = await serve();
    await Deno.mkdir(".tmp", { recursive: true });
    const dir = await Deno.makeTempDir({ dir: ".tmp", prefix: "armor-kv-" });
    const kvA = await Deno.openKv(`${dir}/kv.sqlite`);
    const kvB = await Deno.openKv(`${dir}/kv.sqlite`);
    try {
      await concurrentConnect(server, new KvTokenStore(kvA), new KvTokenStore(kvB));
    } finally {
      kvA.close();
      kvB.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a shared login is reused only with the same user name and password", async () => {
  const alice = { username: "alice@example.com", password: "alice-password" };
  const bob = { username: "bob@example.com", password: "bob-password" };
  await using server = await serveMockArmorApi({
    clock: new MockClock(START),
    users: [alice, bob],
  });
  const store = new MemoryTokenStore();
  const options = { baseUrl: server.baseUrl, now: server.mock.clock.now, store };
  const a = await ArmorSession.connect({ ...options, ...alice });
  // Wrong password for alice: not handed alice's live login.
  await assert.rejects(
    ArmorSession.connect({ ...options, username: alice.username, password: "WRONG-password" }),
    { name: "ArmorApiError", code: "HTTP_STATUS", status: 401 },
  );
  // Another user: logs in for itself, under its own key.
  const b = await ArmorSession.connect({ ...options, ...bob });
  assert.equal(b.identity?.username, bob.username);
  assert.notEqual(b.token, a.token);
  assert.notEqual(b.storeKey, a.storeKey);
  // Alice again, right password: reused, no new login.
  const logins = server.mock.count("/auth/authorize");
  const a2 = await ArmorSession.connect({ ...options, ...alice });
  assert.equal(a2.token, a.token);
  assert.equal(server.mock.count("/auth/authorize"), logins);
});

Deno.test("disconnect during a background renewal leaves no live token in the store", async () => {
  await using server = await serve();
  const store = new MemoryTokenStore();
  const a = await connect(server, { store: store });
  server.mock.inject({ delayMs: 200, path: "/auth/token/reissue" });
  server.mock.clock.advance(SESSION_MS / 3 + 1);
  const response = await a.fetch("/me"); // starts the renewal in the background
  await response.body?.cancel();
  await a.disconnect();
  assert.equal(a.isActive(), false);
  const other = new ArmorSession({
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    store,
    storeKey: a.storeKey,
  });
  assert.equal(await other.load(), false, "nothing live left to load");
  await assert.rejects(a.fetch("/me"), { code: "NOT_AUTHORIZED" });
});

Deno.test("a store error whose name echoes the value written shows no token and no verifier", async () => {
  await using server = await serve();
  const inner = new MemoryTokenStore();
  let failing = false;
  const store: ArmorTokenStore = {
    get: (key) => inner.get(key),
    set: (key, value, version) => {
      if (!failing) return inner.set(key, value, version);
      const error = new Error("Command failed");
      error.name = `StoreError ${JSON.stringify(value)}`; // the name echoes what was written
      return Promise.reject(error);
    },
  };
  const first = await connect(server, { store });
  const token = first.token!;
  const { verifier } = (await inner.get(first.storeKey))!.value.login!;
  failing = true;
  server.mock.clock.set(START + SESSION_MS + 1); // expired: the next connect writes a claim
  const error = await connect(server, { store }).catch((error: unknown) => error);
  assert.equal((error as { code?: string }).code, "STORE");
  const cause = (error as Error).cause as Error;
  const shown = `${cause.name} ${cause.message} ${Deno.inspect(error, { depth: Infinity })}`;
  assert.ok(!shown.includes(token), shown);
  assert.ok(!shown.includes(verifier), shown);
});

Deno.test("a store that rejects with a throwing proxy is a STORE error", async () => {
  await using server = await serve();
  const throwing = new Proxy({}, {
    get: () => {
      throw new Error("a getter ran");
    },
    ownKeys: () => {
      throw new Error("a trap ran");
    },
  });
  const inner = new MemoryTokenStore();
  const store: ArmorTokenStore = {
    get: () => Promise.reject(throwing),
    set: (key, value, version) => inner.set(key, value, version),
  };
  await assert.rejects(connect(server, { store }), { name: "ArmorApiError", code: "STORE" });
});
