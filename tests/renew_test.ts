// The background renewal (src/_renew.ts): what the third review (issue 16) found.

import assert from "node:assert/strict";
import { type ArmorLogRecord, type ArmorTokenStore, MemoryTokenStore } from "../mod.ts";
import { callMe, connect, MINUTE, RENEW_AFTER_MS, serve } from "./_session.ts";

Deno.test("a clock that throws during a background renewal: no unhandled rejection, idle() resolves", async () => {
  await using server = await serve();
  const clock = server.mock.clock;
  let broken = false;
  let breakOnRead = false;
  const inner = new MemoryTokenStore();
  // The clock breaks while the renewal reads the store: it throws inside the renewal.
  const store: ArmorTokenStore = {
    get: (key) => {
      if (breakOnRead) broken = true;
      return inner.get(key);
    },
    set: (key, value, version) => inner.set(key, value, version),
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    const records: ArmorLogRecord[] = [];
    const session = await connect(server, {
      store,
      logger: (record) => records.push(record),
      now: () => {
        if (broken) throw new Error("clock broke");
        return clock.now();
      },
    });
    clock.advance(RENEW_AFTER_MS + 1);
    breakOnRead = true;
    // The call itself may fail (the clock is broken when it checks the token again).
    await session.fetch("/me").then((response) => response.body?.cancel(), () => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, [], "the renewal's failure escaped as an unhandled rejection");

    // Again, with idle() waiting for the renewal in flight.
    broken = false;
    const call = session.fetch("/me").then((response) => response.body?.cancel(), () => {});
    const idle = session.idle().then(() => "resolved", (error) => error);
    await call;
    assert.equal(await idle, "resolved", "idle() must never reject");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, []);
    const failed = records.filter((r) => r.event === "renewal" && r.outcome === "failed");
    assert.deepEqual(failed.map((r) => r.code), ["UNKNOWN", "UNKNOWN"]);

    // Once the clock works again, the session renews and calls go out.
    breakOnRead = false;
    broken = false;
    clock.advance(MINUTE);
    const sent = await callMe(server, session);
    await session.idle();
    assert.equal(sent !== undefined && server.mock.isTokenValid(session.token), true);
    await session.disconnect();
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
});
