// Figure 9: a login shared through Redis (RedisTokenStore on `npm:redis`, against a
// redis-server this script starts on a free loopback port and stops by its pid).
//
// 9a. `session.fetch("/me")` in steady state on a session sharing its login through Redis,
//     against the same session on a MemoryTokenStore and a bare `fetch` with the same
//     headers, interleaved in one run (bound: Redis / memory ≤ 1.02). Redis's own count
//     of EVAL commands (INFO commandstats) during the timed calls must stay at 0.
// 9b. A renewal through Redis (clock injected with `now`): reissues and store round trips
//     (EVAL commands) per renewal (bound: exactly 1 reissue, at most 3 round trips).
// 9c. What encryptTokenStore adds to a renewal through Redis: renewals on an encrypted
//     and a plain RedisTokenStore, interleaved (bound: at most 0.2 ms a renewal).
//
// Where redis-server is not installed, it says so and reports no figure.
//
//   deno run --allow-net=127.0.0.1 --allow-run --allow-read=.tmp --allow-write=.tmp \
//     --allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS bench/redis_store.ts
//     [--rounds=N] [--block=N] [--renewals=N]

import { ArmorSession, type ArmorTokenStore, encryptTokenStore, MemoryTokenStore } from "../mod.ts";
import { RedisTokenStore } from "../src/redis/mod.ts";
import { commandCounts, connectRedis, REDIS_MISSING, RedisServer } from "../tests/redis_server.ts";
import { assertSameRequests, compareSides, type SeenRequest } from "./_interleave.ts";
import { intArg, report, serveLoopback, showSummary, summarize } from "./_stats.ts";

const PLAN = {
  rounds: intArg("rounds", 200),
  block: intArg("block", 100),
  warmup: intArg("warmup", 2_000),
};
const RENEWAL_ROUNDS = intArg("renewal-rounds", 100);
const RENEWALS = intArg("renewals", 20);
const VS_MEMORY = 1.02;
const MAX_ROUND_TRIPS = 3;
const MAX_ENCRYPTION_MS = 0.2;

const ACCOUNT = 1001;
const BODY = JSON.stringify({ UserName: "demo@example.com", FirstName: "Demo", ID: ACCOUNT });
const MINUTE = 60_000;
const SECRET = "a store secret for the benchmark, at least 32 chars";

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

if (REDIS_MISSING !== undefined) {
  console.error(`Figure 9 skipped: ${REDIS_MISSING}`);
  Deno.exit(0);
}
await using redis = await RedisServer.start();
if (redis === undefined) Deno.exit(0);
await using connection = await connectRedis(redis.url);
const evals = async () => (await commandCounts(connection.client)).eval ?? 0;

let reissues = 0;
const seen: SeenRequest[] = [];
const { server, origin } = serveLoopback(async (request) => {
  if (request.method === "POST" && new URL(request.url).pathname === "/auth/token/reissue") {
    reissues++;
    await request.body?.cancel();
    return Response.json({
      access_token: newToken(),
      id_token: null,
      expires_in: 15,
      token_type: "Bearer",
    });
  }
  if (seen.length < 3) seen.push({ headers: Object.fromEntries(request.headers) });
  return new Response(BODY, { headers: { "content-type": "application/json" } });
});

try {
  // ---- 9a: steady state ------------------------------------------------------------------
  const token = newToken();
  const onRedis = new ArmorSession({
    baseUrl: origin,
    accountId: ACCOUNT,
    store: new RedisTokenStore(connection.eval),
  });
  onRedis.authorize(token, 15);
  const onMemory = new ArmorSession({
    baseUrl: origin,
    accountId: ACCOUNT,
    store: new MemoryTokenStore(),
  });
  onMemory.authorize(token, 15);
  await onRedis.idle();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the token is shared
  const url = `${origin}/me`;
  const headers = {
    accept: "application/json",
    authorization: `FH-AUTH ${token}`,
    "x-account-context": String(ACCOUNT),
  };
  const via = (session: ArmorSession) => async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await session.fetch("/me");
      if (res.status !== 200) throw new Error(`GET /me failed: HTTP ${res.status}`);
      JSON.parse(await res.text());
    }
  };
  const viaBare = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(url, { headers });
      JSON.parse(await res.text());
    }
  };
  await via(onRedis)(1);
  await via(onMemory)(1);
  await viaBare(1);
  assertSameRequests(seen, Object.keys(headers));

  const before = await evals();
  const sides = await compareSides(PLAN, [
    { name: "redis", run: via(onRedis) },
    { name: "memory", run: via(onMemory) },
    { name: "bare", run: viaBare },
    { name: "memory-again", run: via(onMemory) },
  ]);
  const hotEvals = (await evals()) - before;
  const vsMemory = sides.ratio("redis", "memory");

  // ---- 9b and 9c: renewals ---------------------------------------------------------------
  /** A session renewing through `store`, `RENEWALS` times a block, on its own clock. */
  const renewer = (store: ArmorTokenStore) => {
    let clock = Date.UTC(2026, 10, 23, 10, 0);
    const session = new ArmorSession({
      baseUrl: origin,
      accountId: ACCOUNT,
      store,
      now: () => clock,
      random: () => 0,
      storeKey: newToken(), // its own key: nothing to adopt
    });
    session.authorize(newToken(), 15);
    return async (n: number) => {
      await session.idle();
      for (let i = 0; i < n; i++) {
        clock += 5 * MINUTE + 1; // just past the renewal point
        const res = await session.fetch("/me");
        await res.body?.cancel();
        await session.idle();
      }
    };
  };
  const plain = renewer(new RedisTokenStore(connection.eval));
  const encrypted = renewer(encryptTokenStore(new RedisTokenStore(connection.eval), SECRET));
  const memory = renewer(new MemoryTokenStore());
  const plainAgain = renewer(new RedisTokenStore(connection.eval));
  await plainAgain(1);
  await plain(1);
  await encrypted(1);
  await memory(1);
  await new Promise((resolve) => setTimeout(resolve, 50));

  // Round trips and reissues of renewals alone (the authorize's own write is done).
  const countedRenewals = 50;
  const evalsBefore = await evals();
  const reissuesBefore = reissues;
  await plain(countedRenewals);
  const tripsPerRenewal = ((await evals()) - evalsBefore) / countedRenewals;
  const reissuesPerRenewal = (reissues - reissuesBefore) / countedRenewals;

  const renewals = await compareSides(
    { rounds: RENEWAL_ROUNDS, block: RENEWALS, warmup: RENEWALS },
    [
      { name: "plain", run: plain },
      { name: "encrypted", run: encrypted },
      { name: "memory", run: memory },
      // A second plain renewer: the A/A difference is the floor under which 9c means nothing.
      { name: "plain-again", run: plainAgain },
    ],
  );
  const added = summarize(
    renewals.times.encrypted.map((ms, i) => (ms - renewals.times.plain[i]) / RENEWALS),
  );
  const floor = summarize(
    renewals.times["plain-again"].map((ms, i) => (ms - renewals.times.plain[i]) / RENEWALS),
  );

  report(
    {
      id: 9,
      name: "session.fetch sharing its login through Redis vs the same on a memory store",
      metric: `time ratio, ${PLAN.rounds} interleaved rounds of ${PLAN.block} sequential ` +
        `calls a side (Redis store, memory store, bare fetch), body parsed`,
      ratio: vsMemory,
      bound: `≤ ${VS_MEMORY.toFixed(2)}, 0 EVAL`,
      met: vsMemory.median <= VS_MEMORY && hotEvals === 0,
      notes: [
        `Redis EVAL commands during the ${
          PLAN.rounds * PLAN.block * 2
        } timed calls on Redis and memory: ${hotEvals}`,
        `µs/call: on Redis ${showSummary(sides.perCall("redis"), 1)}`,
        `µs/call: on memory ${showSummary(sides.perCall("memory"), 1)}`,
        `µs/call: bare fetch ${showSummary(sides.perCall("bare"), 1)}`,
        `on Redis / bare fetch ${showSummary(sides.ratio("redis", "bare"))}`,
        `A/A noise, memory / the same memory ${showSummary(sides.ratio("memory-again", "memory"))}`,
      ],
    },
    {
      id: 9,
      name: "a renewal through Redis: reissues and store round trips",
      metric: `EVAL round trips per renewal, over ${countedRenewals} renewals (INFO commandstats)`,
      ratio: summarize([tripsPerRenewal]),
      bound: `1 reissue, ≤ ${MAX_ROUND_TRIPS} round trips`,
      met: reissuesPerRenewal === 1 && tripsPerRenewal <= MAX_ROUND_TRIPS,
      notes: [
        `reissues per renewal: ${reissuesPerRenewal}`,
        `EVAL round trips per renewal: ${tripsPerRenewal}`,
        `ms/renewal (fetch + reissue + store): Redis ${
          showSummary(summarize(renewals.times.plain.map((ms) => ms / RENEWALS)))
        }`,
        `ms/renewal: memory store ${
          showSummary(summarize(renewals.times.memory.map((ms) => ms / RENEWALS)))
        }`,
      ],
    },
    {
      id: 9,
      name: "what encryptTokenStore adds to a renewal through Redis",
      metric: `ms a renewal, encrypted minus plain, ${RENEWAL_ROUNDS} interleaved rounds of ` +
        `${RENEWALS} renewals a side`,
      ratio: added,
      bound: `≤ ${MAX_ENCRYPTION_MS} ms`,
      met: added.median <= MAX_ENCRYPTION_MS,
      notes: [
        `added ms/renewal: ${showSummary(added)}`,
        `A/A noise, plain again minus plain, ms/renewal: ${showSummary(floor)}`,
        `ms/renewal encrypted ${
          showSummary(summarize(renewals.times.encrypted.map((ms) => ms / RENEWALS)))
        }`,
      ],
    },
  );
} finally {
  await server.shutdown();
}
