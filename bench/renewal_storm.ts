// Figure 3: the renewal storm. 10,000 concurrent `session.fetch` calls made just past the
// renewal point (clock injected with `now`) against the same 10,000 calls with no renewal
// due: the server must see exactly one reissue per storm, and the p99 latency of the calls
// must stay within 1.2x of the storm without renewal. A call's latency runs from the start
// of the storm to its body read: the calls are made in one synchronous loop, and timing
// each from its own start would leave out the loop's work from one side and not the other
// (the renewal path defers its sending to after the loop, the plain path does it within).
//
// The 10,000 calls share one HTTP/2 (prior knowledge) connection: with HTTP/1.1 each would
// open its own socket, and client and server sockets together pass the open-file limit.
//
//   deno run --allow-net=127.0.0.1 bench/renewal_storm.ts [--rounds=N] [--calls=N]

import { ArmorSession } from "../mod.ts";
import { intArg, percentile, report, serveLoopback, showSummary, summarize } from "./_stats.ts";

/** Storms with renewal; as many without, interleaved. */
const ROUNDS = intArg("rounds", 8);
const CALLS = intArg("calls", 10_000);

const BODY = JSON.stringify({ UserName: "demo@example.com", ID: 1001 });
const MINUTE = 60_000;

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

let reissues = 0;
const live = new Set<string>();
const sentWith = new Map<string, number>();
const { server, origin } = serveLoopback(async (request) => {
  const path = new URL(request.url).pathname;
  if (request.method === "POST" && path === "/auth/token/reissue") {
    reissues++;
    const { token } = await request.json();
    if (!live.has(token)) return Response.json({ Message: "Denied" }, { status: 401 });
    const fresh = newToken();
    live.add(fresh);
    return Response.json({
      access_token: fresh,
      id_token: null,
      expires_in: 15,
      token_type: "Bearer",
    });
  }
  const auth = request.headers.get("authorization") ?? "";
  sentWith.set(auth, (sentWith.get(auth) ?? 0) + 1);
  return new Response(BODY, { headers: { "content-type": "application/json" } });
});
const client = Deno.createHttpClient({ http1: false, http2: true });

interface Storm {
  p99: number;
  p50: number;
  /** The p99 with each call timed from its own start instead. */
  p99OwnStart: number;
  reissues: number;
}

/** One storm: a new session authorized at t0, the clock moved to `at`, CALLS calls at once. */
async function storm(renewalDue: boolean): Promise<Storm> {
  const t0 = Date.UTC(2026, 10, 23, 10, 0);
  let clock = t0;
  const session = new ArmorSession({
    baseUrl: origin,
    now: () => clock,
    fetch: (input, init) => fetch(input, { ...init, client }),
  });
  const token = newToken();
  live.add(token);
  session.authorize(token, 15);
  await new Promise((resolve) => setTimeout(resolve, 0)); // let the store take it
  // Just past the 1/3 point (5 min of 15) when renewal is due, else at 1 min.
  clock = t0 + (renewalDue ? 5 * MINUTE + 1 : MINUTE);
  const before = reissues;
  sentWith.clear();

  const latencies = new Array<number>(CALLS);
  const ownStart = new Array<number>(CALLS);
  const calls = new Array<Promise<void>>(CALLS);
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) {
    ownStart[i] = performance.now();
    calls[i] = session.fetch("/me").then(async (response) => {
      if (response.status !== 200) throw new Error(`The server answered ${response.status}`);
      await response.text();
      latencies[i] = performance.now() - start;
    });
  }
  await Promise.all(calls);
  await session.idle();
  const count = reissues - before;
  if (count !== (renewalDue ? 1 : 0)) {
    throw new Error(`Expected ${renewalDue ? 1 : 0} reissue(s), the server saw ${count}`);
  }
  if (renewalDue && session.token === token) throw new Error("The session was not renewed");
  if ((sentWith.get(`FH-AUTH ${token}`) ?? 0) !== CALLS) {
    throw new Error("Some calls waited for the renewal instead of using the good token");
  }
  live.delete(token);
  const fromOwnStart = latencies.map((ms, i) => ms - (ownStart[i] - start));
  return {
    p99: percentile(latencies, 99),
    p50: percentile(latencies, 50),
    p99OwnStart: percentile(fromOwnStart, 99),
    reissues: count,
  };
}

try {
  // Warm up: the connection, the JIT, the server.
  await storm(false);
  await storm(true);

  const ratios: number[] = [];
  const withRenewal: Storm[] = [];
  const without: Storm[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let renewed: Storm;
    let plain: Storm;
    if (round % 2 === 0) {
      renewed = await storm(true);
      plain = await storm(false);
    } else {
      plain = await storm(false);
      renewed = await storm(true);
    }
    withRenewal.push(renewed);
    without.push(plain);
    ratios.push(renewed.p99 / plain.p99);
  }
  const ratio = summarize(ratios);
  const reissueCounts = [...new Set(withRenewal.map((s) => s.reissues))].join(", ");
  report({
    id: 3,
    name: "renewal storm: 10,000 concurrent session.fetch at the renewal point",
    metric: `p99 latency ratio storm with renewal / storm without, ${ROUNDS} pairs of ` +
      `${CALLS} concurrent calls, latency from the storm's start to the body read`,
    ratio,
    bound: "≤ 1.2, and exactly 1 reissue a storm",
    met: ratio.median <= 1.2 && reissueCounts === "1",
    notes: [
      `reissues a storm with renewal (server count): ${reissueCounts}; without: ${
        [...new Set(without.map((s) => s.reissues))].join(", ")
      }`,
      `p99 ms with renewal ${showSummary(summarize(withRenewal.map((s) => s.p99)), 1)}`,
      `p99 ms without ${showSummary(summarize(without.map((s) => s.p99)), 1)}`,
      `p50 ms with renewal ${showSummary(summarize(withRenewal.map((s) => s.p50)), 1)}`,
      `p50 ms without ${showSummary(summarize(without.map((s) => s.p50)), 1)}`,
      `p99 ratio with each call timed from its own start ${
        showSummary(summarize(withRenewal.map((s, i) => s.p99OwnStart / without[i].p99OwnStart)))
      }`,
    ],
  });
} finally {
  client.close();
  await server.shutdown();
}
