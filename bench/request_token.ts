// Figure 2: `requestArmorApiToken` (default timeout on) against a bare `fetch` POST of the
// same body that parses the JSON, sequential calls to the same loopback server.
//
// A third side shows the floor of the pipeline: the bare fetch with what a call that can
// time out needs at the least (`AbortSignal.timeout`) and `redirect: "manual"`. What lies
// between the floor and the module is timed in process too: the call's preparation (options, URL, plan) and the token's checks.
//
//   deno run --allow-net=127.0.0.1 bench/request_token.ts [--rounds=N] [--block=N]

import { requestArmorApiToken } from "../mod.ts";
import { resolveCall } from "../src/_call.ts";
import { redeemRequest } from "../src/_token_core.ts";
import { parseTokenBody } from "../src/token.ts";
import {
  intArg,
  interleaveMany,
  ratiosOf,
  report,
  serveLoopback,
  showSummary,
  summarize,
} from "./_stats.ts";

const ROUNDS = intArg("rounds", 300);
const BLOCK = intArg("block", 100);
const WARMUP = intArg("warmup", 3_000);

const CODE = "+8oaKtcO9kuVbjUXlfnlHCY3HmXXCidHjzOBGwr+iTo=";
const TOKEN_BODY = JSON.stringify({
  access_token: "2261bac252204c2ea93ed32ea1ffd3ab",
  id_token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl",
  expires_in: 15,
  token_type: "Bearer",
});

const seen: { headers: Record<string, string>; body: string }[] = [];
const { server, origin } = serveLoopback(async (request) => {
  const body = await request.text();
  if (seen.length < 2) seen.push({ headers: Object.fromEntries(request.headers), body });
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

  const viaFloor = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ code: CODE, grant_type: "authorization_code" }),
        redirect: "manual",
        signal: AbortSignal.timeout(30_000),
      });
      const json = JSON.parse(await response.text());
      if (json.expires_in !== 15) throw new Error("Unexpected token");
    }
  };

  // Both sides must send the same request.
  await viaModule(1);
  await viaBare(1);
  const [fromModule, fromBare] = seen;
  if (fromModule.body !== fromBare.body) throw new Error("The two sides sent different bodies");
  for (const name of Object.keys(headers)) {
    if (fromModule.headers[name] !== fromBare.headers[name]) {
      throw new Error(`The two sides sent different ${name} headers`);
    }
  }

  await viaModule(WARMUP);
  await viaBare(WARMUP);
  await viaFloor(WARMUP);

  const time = (run: (n: number) => Promise<void>) => async () => {
    const start = performance.now();
    await run(BLOCK);
    return performance.now() - start;
  };
  const [module, bare, floor] = await interleaveMany(ROUNDS, [
    time(viaModule),
    time(viaBare),
    time(viaFloor),
  ]);
  const ratio = summarize(ratiosOf(module, bare));
  const prepare = microseconds(() => {
    const call = resolveCall({ baseUrl: origin });
    redeemRequest(call.endpoint, CODE);
  });
  const tokenJson = JSON.parse(TOKEN_BODY);
  const check = microseconds(() => parseTokenBody(tokenJson, Date.now(), [CODE]));
  const perCall = (times: number[]) => summarize(times.map((ms) => (ms * 1000) / BLOCK));
  report({
    id: 2,
    name: "requestArmorApiToken vs bare fetch POST + JSON parse, loopback",
    metric: `time ratio requestArmorApiToken / fetch, ${ROUNDS} rounds of ${BLOCK} sequential ` +
      "calls a side, default timeout (30 s) on",
    ratio,
    bound: "≤ 1.05",
    met: ratio.median <= 1.05,
    notes: [
      `requestArmorApiToken µs/call ${showSummary(perCall(module), 1)}`,
      `bare fetch µs/call ${showSummary(perCall(bare), 1)}`,
      `floor: fetch with AbortSignal.timeout / bare fetch ${
        showSummary(summarize(ratiosOf(floor, bare)))
      }`,
      `requestArmorApiToken / floor ${showSummary(summarize(ratiosOf(module, floor)))}`,
      `in process, µs a call: preparation (resolveCall + redeemRequest) ${prepare.toFixed(2)}, ` +
      `token checks (parseTokenBody) ${check.toFixed(2)}`,
    ],
  });
} finally {
  await server.shutdown();
}
