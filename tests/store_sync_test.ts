// Sharing a login through a token store (src/_store_sync.ts, the store parts of
// src/_login.ts): what the third review (issue 16) found, one test per finding, against
// the mock Armor API on a loopback socket and real stores.

import assert from "node:assert/strict";
import { ArmorSession, type ArmorStoredSession, MemoryTokenStore } from "../mod.ts";
import { DEFAULT_MOCK_USER } from "../src/testing/mod.ts";
import { MAX_SESSION_MINUTES } from "../src/renewal.ts";
import { connect, MINUTE, serve, SESSION_MS, START } from "./_session.ts";

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
