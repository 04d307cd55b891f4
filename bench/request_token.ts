// Figure 2: `requestArmorApiToken` (default timeout on) against, in the same interleaved
// run, sequential calls to the same loopback server:
//
// - hand-written: what a user would write instead of the module: `fetch` POST with
//   `AbortSignal.timeout(30_000)` and `redirect: "manual"`, a status check, `JSON.parse`
//   of `await res.text()` and a token check (32 lower-case hex/alphanumerics in
//   access_token, a number in expires_in);
// - bare: `fetch` POST of the same body, then `response.json()`, no checks.
//
// What lies between the two is also timed in process: the call's preparation (options,
// URL, plan) and the token's checks.
//
//   deno run --allow-net=127.0.0.1 bench/request_token.ts [--rounds=N] [--block=N]

import { requestArmorApiToken } from "../mod.ts";
import { resolveCall } from "../src/_call.ts";
import { redeemRequest } from "../src/_token_core.ts";
import { parseTokenBody } from "../src/token.ts";
import { assertSameRequests, compareSides, type SeenRequest } from "./_interleave.ts";
import { intArg, report, serveLoopback, showSummary, summarize } from "./_stats.ts";

const PLAN = {
  rounds: intArg("rounds", 200),
  block: intArg("block", 100),
  warmup: intArg("warmup", 2_000),
};
const VS_HAND = 1.00;
const VS_BARE = 1.08;

const CODE = "+8oaKtcO9kuVbjUXlfnlHCY3HmXXCidHjzOBGwr+iTo=";
const TOKEN_BODY = JSON.stringify({
  access_token: "2261bac252204c2ea93ed32ea1ffd3ab",
  id_token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl",
  expires_in: 15,
  token_type: "Bearer",
});

const seen: SeenRequest[] = [];
const { server, origin } = serveLoopback(async (request) => {
  const body = await request.text();
  if (seen.length < 3) seen.push({ headers: Object.fromEntries(request.headers), body });
  if (request.method !== "POST" || new URL(request.url).pathname !== "/auth/token") {
    return new Response(null, { status: 404 });
  }
  return new Response(TOKEN_BODY, { headers: { "content-type": "application/json" } });
});

/** The median time of `run`, in µs, over 21 batches of 2,000 calls. */
function microseconds(run: () => void): number {
  const batches: number[] = [];
  for (let b = 0; b < 21; b++) {
    const start = performance.now();
    for (let i = 0; i < 2_000; i++) run();
    batches.push(((performance.now() - start) * 1000) / 2_000);
  }
  return summarize(batches).median;
}

try {
  const url = `${origin}/auth/token`;
  const headers = { accept: "application/json", "content-type": "application/json" };

  const viaModule = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const token = await requestArmorApiToken(CODE, { baseUrl: origin });
      if (token.expires_in !== 15) throw new Error("Unexpected token");
    }
  };
  const viaHand = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ code: CODE, grant_type: "authorization_code" }),
        redirect: "manual",
        signal: AbortSignal.timeout(30_000),
      });
      if (res.status !== 200) throw new Error(`Token request failed: HTTP ${res.status}`);
      const token = JSON.parse(await res.text());
      if (
        typeof token.access_token !== "string" || !/^[a-z0-9]{32}$/.test(token.access_token) ||
        typeof token.expires_in !== "number"
      ) {
        throw new Error("Unexpected token");
      }
    }
  };
  const viaBare = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ code: CODE, grant_type: "authorization_code" }),
      });
      const json = await response.json();
      if (json.expires_in !== 15) throw new Error("Unexpected token");
    }
  };

  // Every side must send the same request.
  await viaModule(1);
  await viaHand(1);
  await viaBare(1);
  assertSameRequests(seen, Object.keys(headers));

  const sides = await compareSides(PLAN, [
    { name: "module", run: viaModule },
    { name: "hand", run: viaHand },
    { name: "bare", run: viaBare },
    // The same hand-written side twice: the A/A ratio is the machine's noise floor.
    { name: "hand-again", run: viaHand },
  ]);
  const prepare = microseconds(() =>
    redeemRequest(resolveCall({ baseUrl: origin }).endpoint, CODE)
  );
  const tokenJson = JSON.parse(TOKEN_BODY);
  const check = microseconds(() => parseTokenBody(tokenJson, Date.now(), [CODE]));
  const vsHand = sides.ratio("module", "hand");
  const vsBare = sides.ratio("module", "bare");
  const metric = `${PLAN.rounds} interleaved rounds of ${PLAN.block} sequential calls a side ` +
    "(module, hand-written, bare), default timeout (30 s)";
  report(
    {
      id: 2,
      name: "requestArmorApiToken vs hand-written fetch + checks, loopback",
      metric: `time ratio requestArmorApiToken / hand-written, ${metric}`,
      ratio: vsHand,
      bound: `≤ ${VS_HAND.toFixed(2)}`,
      met: vsHand.median <= VS_HAND,
      notes: [
        `µs/call: requestArmorApiToken ${showSummary(sides.perCall("module"), 1)}`,
        `µs/call: hand-written ${showSummary(sides.perCall("hand"), 1)}`,
        `µs/call: bare fetch ${showSummary(sides.perCall("bare"), 1)}`,
        `hand-written / bare ${showSummary(sides.ratio("hand", "bare"))}`,
        `A/A noise, hand-written / the same hand-written ${
          showSummary(sides.ratio("hand-again", "hand"))
        }`,
        `in process, µs a call: preparation (resolveCall + redeemRequest) ${
          prepare.toFixed(2)
        }, token checks (parseTokenBody) ${check.toFixed(2)}`,
      ],
    },
    {
      id: 2,
      name: "requestArmorApiToken vs bare fetch POST + json(), loopback",
      metric: `time ratio requestArmorApiToken / bare fetch, same run`,
      ratio: vsBare,
      bound: `≤ ${VS_BARE.toFixed(2)}`,
      met: vsBare.median <= VS_BARE,
      notes: [],
    },
  );
} finally {
  await server.shutdown();
}
