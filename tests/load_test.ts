// Load: many token calls at once against the served mock, and sessions under load
// while half their renewals fail. Figures are printed for the record.

import assert from "node:assert/strict";
import { ArmorSession, requestArmorApiToken } from "../mod.ts";
import { RETRY_MAX_MS, retryDelay, sessionLengthMs } from "../src/renewal.ts";
import { MockClock, serveMockArmorApi } from "../src/testing/mod.ts";

const DEMO = { username: "demo@example.com", password: "demo-password" };
const JSON_HEADERS = { "content-type": "application/json", accept: "application/json" };

/** Runs `task(0..count-1)` with at most `concurrency` in flight; collects the failures. */
async function pool<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<{ results: T[]; errors: unknown[] }> {
  const results = new Array<T>(count);
  const errors: unknown[] = [];
  let next = 0;
  let inFlight = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          results[index] = await task(index);
        } catch (error) {
          errors.push(error);
        } finally {
          inFlight--;
        }
      }
    }),
  );
  assert.equal(peak, Math.min(concurrency, count), "The pool did not reach its concurrency");
  return { results, errors };
}

Deno.test("load: 10,000 token requests at concurrency 100, no error, no duplicate", async () => {
  const REQUESTS = 10_000;
  const CONCURRENCY = 100;
  const served = await serveMockArmorApi();
  try {
    const { mock } = served;
    // Codes in bulk, straight from the mock.
    const authorize = await pool(REQUESTS, CONCURRENCY, async () => {
      const response = await fetch(`${served.baseUrl}/auth/authorize`, {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify(DEMO),
      });
      assert.equal(response.status, 200);
      return (await response.json()).code as string;
    });
    assert.deepEqual(authorize.errors, []);
    const codes = authorize.results;
    assert.equal(new Set(codes).size, REQUESTS);

    const started = performance.now();
    const { results: tokens, errors } = await pool(
      REQUESTS,
      CONCURRENCY,
      (i) => requestArmorApiToken(codes[i], { baseUrl: served.baseUrl, timeout: 30_000 }),
    );
    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(errors, [], `${errors.length} token requests failed`);
    const accessTokens = tokens.map((token) => token.access_token);
    const distinct = new Set(accessTokens);
    const duplicates = REQUESTS - distinct.size;
    assert.equal(duplicates, 0, "Two calls got the same token");
    // Every token is one the mock issued, each code was redeemed exactly once.
    assert.deepEqual(new Set(mock.issuedTokens), distinct);
    assert.equal(mock.count("/auth/token"), REQUESTS);
    const redeemed = mock.requests
      .filter((request) => request.path === "/auth/token")
      .map((request) => (request.body as { code: string }).code);
    assert.equal(new Set(redeemed).size, REQUESTS, "A code was sent twice");
    assert.ok(mock.requests.every((request) => request.status === 200));
    console.log(
      `load: ${REQUESTS} token requests at concurrency ${CONCURRENCY} in ${seconds.toFixed(2)} s ` +
        `(${(REQUESTS / seconds).toFixed(0)}/s), ${errors.length} errors, ${duplicates} duplicates`,
    );
  } finally {
    await served.close();
  }
});

/** A small seeded generator, so that a failing run can be replayed exactly. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Attempt {
  /** Mock clock time of the attempt. */
  time: number;
  /** The token it tried to renew. */
  token: string;
  ok: boolean;
  /** Seconds of Retry-After the failure asked for. */
  retryAfter?: number;
}

Deno.test("load: sessions under load while half the reissues fail renew with backoff, never sending a dead token", async () => {
  const SESSIONS = 10;
  const CALLS_PER_ROUND = 100; // concurrent session.fetch calls, spread over the sessions
  const STEP_MS = 5_000; // the mock clock moves this much between rounds
  const TOTAL_MS = 45 * 60_000; // three 15-minute sessions' worth: nine renewal windows
  const MAX_FAILURES_IN_A_ROW = 6;
  const seed = 20261123;
  const clock = new MockClock(Date.UTC(2026, 10, 23, 10, 0));
  const served = await serveMockArmorApi({ clock });
  try {
    const { mock } = served;
    const issuedAt = new Map<string, number>(); // token -> mock time it was issued
    const attempts: Attempt[][] = [];
    let peakRenewals = 0;

    /** What session `i` fetches with: records every token issued, fails reissues at random. */
    const wrap = (i: number): typeof fetch => {
      const random = mulberry32(seed + i);
      const log: Attempt[] = (attempts[i] = []);
      let inFlight = 0;
      let failuresInARow = 0;
      return async (input, init) => {
        const path = new URL(String(input)).pathname;
        if (path !== "/auth/token" && path !== "/auth/token/reissue") {
          return await fetch(input, init);
        }
        const time = clock.now();
        if (path === "/auth/token/reissue") {
          inFlight++;
          peakRenewals = Math.max(peakRenewals, inFlight);
        }
        try {
          if (path === "/auth/token/reissue" && random() < 0.5) {
            if (failuresInARow < MAX_FAILURES_IN_A_ROW) {
              failuresInARow++;
              const token = JSON.parse(String(init?.body)).token;
              const kind = Math.floor(random() * 3);
              if (kind === 0) {
                log.push({ time, token, ok: false });
                throw new TypeError("error sending request: connection reset by peer");
              }
              const retryAfter = kind === 1 ? 2 : undefined;
              log.push({ time, token, ok: false, retryAfter });
              return new Response('{"Message":"Busy"}', {
                status: kind === 1 ? 503 : 500,
                headers: {
                  "content-type": "application/json",
                  ...(retryAfter === undefined ? {} : { "retry-after": String(retryAfter) }),
                },
              });
            }
          }
          const response = await fetch(input, init);
          const body = await response.clone().json();
          if (response.status === 200) issuedAt.set(body.access_token, clock.now());
          if (path === "/auth/token/reissue") {
            failuresInARow = 0;
            log.push({
              time,
              token: JSON.parse(String(init?.body)).token,
              ok: response.status === 200,
            });
          }
          return response;
        } finally {
          if (path === "/auth/token/reissue") inFlight--;
        }
      };
    };

    const sessions = await Promise.all(
      Array.from({ length: SESSIONS }, (_, i) =>
        ArmorSession.connect({
          ...DEMO,
          baseUrl: served.baseUrl,
          now: clock.now,
          random: () => 0,
          fetch: wrap(i),
          timeout: 10_000,
        })),
    );

    const started = performance.now();
    let calls = 0;
    const failures: unknown[] = [];
    for (let elapsed = 0; elapsed <= TOTAL_MS; elapsed += STEP_MS) {
      const { errors } = await pool(CALLS_PER_ROUND, CALLS_PER_ROUND, async (index) => {
        const response = await sessions[index % SESSIONS].fetch("/me");
        await response.body?.cancel();
        if (response.status !== 200) throw new Error(`/me answered ${response.status}`);
      });
      calls += CALLS_PER_ROUND;
      failures.push(...errors);
      await Promise.all(sessions.map((session) => session.idle()));
      clock.advance(STEP_MS);
    }
    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(failures.map(String), [], "Calls failed under load");

    // No request the mock saw carried an empty token, or one already dead by its clock.
    const lifetime = sessionLengthMs(15);
    let checked = 0;
    let logins = 0;
    for (const record of mock.requests) {
      let token: string | undefined;
      if (record.path === "/me") {
        const match = /^FH-AUTH ([0-9a-f]{32})$/.exec(record.headers.authorization ?? "");
        assert.ok(match, `A call without a token: ${record.headers.authorization}`);
        token = match[1];
        assert.equal(record.status, 200, "The mock refused a token");
        // The login's own /me goes before an account is chosen; every later call names it.
        if (record.headers["x-account-context"] === undefined) logins++;
        else assert.equal(record.headers["x-account-context"], "1001");
      } else if (record.path === "/auth/token/reissue") {
        token = (record.body as { token: string }).token;
        assert.match(token, /^[0-9a-f]{32}$/);
        assert.equal(record.status, 200, "The mock refused a reissue");
      } else {
        continue;
      }
      const issued = issuedAt.get(token);
      assert.ok(issued !== undefined, "A token the mock never issued");
      assert.ok(record.time < issued + lifetime, "A token sent after it expired");
      checked++;
    }
    assert.equal(logins, SESSIONS);
    for (const log of attempts) {
      for (const attempt of log) {
        assert.ok(attempt.time < issuedAt.get(attempt.token)! + lifetime, "Renewed a dead token");
      }
    }

    // Renewals: with backoff after failures, only when due, never more than one at once.
    let renewals = 0;
    let failed = 0;
    for (const log of attempts) {
      let failuresInARow = 0;
      let last: Attempt | undefined;
      for (const attempt of log) {
        if (last !== undefined) {
          const gap = attempt.time - last.time;
          if (!last.ok) {
            const wait = retryDelay(failuresInARow, last.retryAfter);
            assert.ok(gap >= wait, `Retried after ${gap} ms, backoff ${wait} ms`);
            assert.equal(attempt.token, last.token, "A retry renews the same token");
          } else {
            // A renewed token is renewed again only once two thirds of it remain.
            assert.ok(gap >= lifetime / 3, `Renewed again after ${gap} ms`);
          }
        } else {
          assert.ok(attempt.time - issuedAt.get(attempt.token)! >= lifetime / 3);
        }
        failuresInARow = attempt.ok ? 0 : failuresInARow + 1;
        if (attempt.ok) renewals++;
        else failed++;
        last = attempt;
      }
      // Several windows renewed: at least one renewal per five minutes, less slack.
      assert.ok(log.filter((a) => a.ok).length >= TOTAL_MS / (lifetime / 3) - 2);
    }
    assert.equal(peakRenewals, 1, "Two renewals of one session at once");
    const attemptsTotal = renewals + failed;
    assert.ok(attemptsTotal < calls / 50, `${attemptsTotal} reissues for ${calls} calls`);
    assert.ok(failed > attemptsTotal / 4, `Only ${failed} of ${attemptsTotal} reissues failed`);
    assert.ok(RETRY_MAX_MS >= 1_000);
    assert.equal(new Set(mock.issuedTokens).size, mock.issuedTokens.length, "A duplicate token");
    console.log(
      `load: ${SESSIONS} sessions, ${calls} session.fetch calls (${CALLS_PER_ROUND} at once) over ` +
        `${TOTAL_MS / 60_000} min of mock time in ${
          seconds.toFixed(2)
        } s; ${attemptsTotal} reissues ` +
        `(${failed} failed, ${renewals} renewed); ${checked} requests checked, none with a dead token`,
    );
  } finally {
    await served.close();
  }
});
