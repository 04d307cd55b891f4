// Figure 2: `requestArmorApiToken` (default timeout on) against a bare `fetch` POST of the
// same body that parses the JSON, sequential calls to the same loopback server.
//
//   deno run --allow-net=127.0.0.1 bench/request_token.ts [--rounds=N] [--block=N]

import { requestArmorApiToken } from "../mod.ts";
import { intArg, interleave, report, serveLoopback, showSummary, summarize } from "./_stats.ts";

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

  const time = (run: (n: number) => Promise<void>) => async () => {
    const start = performance.now();
    await run(BLOCK);
    return performance.now() - start;
  };
  const { ratios, module, bare } = await interleave(ROUNDS, time(viaModule), time(viaBare));
  const ratio = summarize(ratios);
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
    ],
  });
} finally {
  await server.shutdown();
}
