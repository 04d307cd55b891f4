// Attack: a user with thousands of accounts. Deno KV refuses values over 64 KiB, so a
// stored session holding the whole `/me` failed to write, the login claim stayed, and
// every other isolate's `connect` waited for it (about 245 s). Only what is needed is
// stored now, and a claim is given back on every failure path.

import assert from "node:assert/strict";
import { ArmorSession, KvTokenStore } from "../mod.ts";
import { MockClock, serveMockArmorApi } from "../src/testing/mod.ts";

const START = Date.UTC(2026, 10, 23, 10, 0);
const USER = {
  username: "big@example.com",
  password: "big-password",
  accounts: Array.from({ length: 5_000 }, (_, i) => ({ id: 10_000 + i, name: `Customer ${i}` })),
  // Kept small so that /me stays under the 1 MiB response cap with 5,000 accounts.
  departments: [],
  permissions: {},
  features: [],
};

Deno.test("attack: 5,000 accounts make no stored session too large for Deno KV", async () => {
  await using server = await serveMockArmorApi({ clock: new MockClock(START), users: [USER] });
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvTokenStore(kv);
    const options = {
      baseUrl: server.baseUrl,
      username: USER.username,
      password: USER.password,
      now: server.mock.clock.now,
      store,
      timeout: 5_000,
    };
    const first = await ArmorSession.connect(options);
    assert.equal(first.accounts.length, 5_000);

    // A second isolate's connect reuses the login at once: no claim left behind, no wait.
    const started = performance.now();
    const second = await ArmorSession.connect(options);
    const waited = performance.now() - started;
    assert.ok(waited < 3_000, `the second connect waited ${Math.round(waited)} ms`);
    assert.equal(server.mock.count("/auth/authorize"), 1, "one login between them");
    assert.equal(second.token, first.token);
    // It read the whole identity itself, since the store kept only the user name.
    assert.equal(second.accounts.length, 5_000);
    assert.equal(second.accountId, 10_000);

    const raw = await kv.get(["armor-api-auth", first.storeKey]);
    const size = new TextEncoder().encode(JSON.stringify(raw.value)).length;
    assert.ok(size < 65_536, `the stored value is ${size} bytes`);
  } finally {
    kv.close();
  }
});

Deno.test("attack: a store write that fails gives the login claim back", async () => {
  await using server = await serveMockArmorApi({ clock: new MockClock(START) });
  const kv = await Deno.openKv(":memory:");
  try {
    const inner = new KvTokenStore(kv);
    let failWrites = true;
    // A store that refuses to save a token (as KV refuses a value over 64 KiB).
    const store = {
      get: (key: string) => inner.get(key),
      set: (key: string, value: Parameters<KvTokenStore["set"]>[1], version: string | null) =>
        failWrites && value?.token !== undefined
          ? Promise.reject(new TypeError("Value too large (max 65536 bytes)"))
          : inner.set(key, value, version),
    };
    const options = {
      baseUrl: server.baseUrl,
      username: "demo@example.com",
      password: "demo-password",
      now: server.mock.clock.now,
      store,
      timeout: 5_000,
    };
    const first = await ArmorSession.connect(options);
    assert.ok(first.isActive(), "the login itself worked; only the sharing failed");
    const stored = await inner.get(first.storeKey);
    assert.equal(stored?.value.claim, undefined, "the claim was given back");

    failWrites = false;
    const started = performance.now();
    const second = await ArmorSession.connect(options);
    assert.ok(performance.now() - started < 3_000, "no wait for a claim left behind");
    assert.ok(second.isActive());
  } finally {
    kv.close();
  }
});
