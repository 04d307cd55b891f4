// Figure 1: `session.fetch` against a bare `fetch` sending the same headers to the same
// loopback server, sequential calls on one keep-alive connection, body read in both.
//
// A third side shows the floor: the bare fetch with an AbortSignal of its own, the least a
// call that can time out passes to fetch (Deno links the request to it with weak
// references and a finalization registry, whatever the signal is).
//
//   deno run --allow-net=127.0.0.1 bench/session_fetch.ts [--rounds=N] [--block=N]
//     [--timeout=MS]

import { ArmorSession } from "../mod.ts";
import {
  intArg,
  interleaveMany,
  ratiosOf,
  report,
  serveLoopback,
  showSummary,
  summarize,
} from "./_stats.ts";

const ROUNDS = intArg("rounds", 400);
const BLOCK = intArg("block", 100);
const WARMUP = intArg("warmup", 3_000);
/** The session's timeout; by default the module's own (30 s). */
const TIMEOUT = Deno.args.some((a) => a.startsWith("--timeout="))
  ? intArg("timeout", 1)
  : undefined;

const TOKEN = "2261bac252204c2ea93ed32ea1ffd3ab";
const ACCOUNT = 1001;
const BODY = JSON.stringify({ UserName: "demo@example.com", FirstName: "Demo", ID: ACCOUNT });

const seen: Record<string, string>[] = [];
const { server, origin } = serveLoopback((request) => {
  if (seen.length < 2) seen.push(Object.fromEntries(request.headers));
  return new Response(BODY, { headers: { "content-type": "application/json" } });
});

try {
  const session = new ArmorSession({ baseUrl: origin, accountId: ACCOUNT, timeout: TIMEOUT });
  session.authorize(TOKEN, 15);
  const url = `${origin}/me`;
  const headers = {
    accept: "application/json",
    authorization: `FH-AUTH ${TOKEN}`,
    "x-account-context": String(ACCOUNT),
  };

  const viaModule = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const response = await session.fetch("/me");
      await response.text();
    }
  };
  const viaBare = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const response = await fetch(url, { headers });
      await response.text();
    }
  };
  const viaBareWithSignal = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const response = await fetch(url, { headers, signal: new AbortController().signal });
      await response.text();
    }
  };

  // Both sides must send the same request.
  await viaModule(1);
  await viaBare(1);
  const [fromModule, fromBare] = seen;
  for (const name of Object.keys(headers)) {
    if (fromModule[name] !== fromBare[name]) {
      throw new Error(`The two sides sent different ${name} headers`);
    }
  }

  await viaModule(WARMUP);
  await viaBare(WARMUP);
  await viaBareWithSignal(WARMUP);

  const time = (run: (n: number) => Promise<void>) => async () => {
    const start = performance.now();
    await run(BLOCK);
    return performance.now() - start;
  };
  const [module, bare, withSignal] = await interleaveMany(ROUNDS, [
    time(viaModule),
    time(viaBare),
    time(viaBareWithSignal),
  ]);
  const ratio = summarize(ratiosOf(module, bare));
  const perCall = (times: number[]) => summarize(times.map((ms) => (ms * 1000) / BLOCK));
  report({
    id: 1,
    name: "session.fetch vs bare fetch, same headers, loopback",
    metric: `time ratio session.fetch / fetch, ${ROUNDS} rounds of ${BLOCK} sequential calls ` +
      `a side, body read, session timeout ${TIMEOUT ?? "default (30 s)"}`,
    ratio,
    bound: "≤ 1.03",
    met: ratio.median <= 1.03,
    notes: [
      `session.fetch µs/call ${showSummary(perCall(module), 1)}`,
      `bare fetch µs/call ${showSummary(perCall(bare), 1)}`,
      `floor: fetch with an AbortSignal / bare fetch ${
        showSummary(summarize(ratiosOf(withSignal, bare)))
      }`,
      `session.fetch / fetch with an AbortSignal ${
        showSummary(summarize(ratiosOf(module, withSignal)))
      }`,
    ],
  });
} finally {
  await server.shutdown();
}
