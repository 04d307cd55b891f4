// Figure 1: `session.fetch("/me")` on a session holding a token (default timeout on)
// against, in the same interleaved run, sequential calls on one keep-alive connection to
// the same loopback server:
//
// - hand-written: what a user would write instead of the module: a check that the token
//   is well formed (32 lower-case alphanumerics) and not expired, `fetch` with the same
//   headers, `AbortSignal.timeout(30_000)` and `redirect: "manual"`, a status check;
// - bare: `fetch` with the same headers, no signal, no checks.
//
// Every side then reads the body the same way: `JSON.parse(await res.text())`.
//
//   deno run --allow-net=127.0.0.1 bench/session_fetch.ts [--rounds=N] [--block=N]
//     [--timeout=MS]

import { ArmorSession } from "../mod.ts";
import { assertSameRequests, compareSides, type SeenRequest } from "./_interleave.ts";
import { intArg, report, serveLoopback, showSummary } from "./_stats.ts";

const PLAN = {
  rounds: intArg("rounds", 250),
  block: intArg("block", 100),
  warmup: intArg("warmup", 2_000),
};
const VS_HAND = 1.00;
const VS_BARE = 1.04;
/** The session's timeout; by default the module's own (30 s). */
const TIMEOUT = Deno.args.some((a) => a.startsWith("--timeout="))
  ? intArg("timeout", 1)
  : undefined;

const TOKEN = "2261bac252204c2ea93ed32ea1ffd3ab";
const ACCOUNT = 1001;
const BODY = JSON.stringify({ UserName: "demo@example.com", FirstName: "Demo", ID: ACCOUNT });

const seen: SeenRequest[] = [];
const { server, origin } = serveLoopback((request) => {
  if (seen.length < 3) seen.push({ headers: Object.fromEntries(request.headers) });
  return new Response(BODY, { headers: { "content-type": "application/json" } });
});

try {
  const session = new ArmorSession({ baseUrl: origin, accountId: ACCOUNT, timeout: TIMEOUT });
  session.authorize(TOKEN, 15);
  const expiresAt = Date.now() + 15 * 60_000;
  const url = `${origin}/me`;
  const headers = {
    accept: "application/json",
    authorization: `FH-AUTH ${TOKEN}`,
    "x-account-context": String(ACCOUNT),
  };

  const viaModule = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await session.fetch("/me");
      if (res.status !== 200) throw new Error(`GET /me failed: HTTP ${res.status}`);
      JSON.parse(await res.text());
    }
  };
  const viaHand = async (n: number) => {
    for (let i = 0; i < n; i++) {
      if (!/^[a-z0-9]{32}$/.test(TOKEN) || Date.now() >= expiresAt) {
        throw new Error("Token expired: log in again");
      }
      const res = await fetch(url, {
        headers,
        redirect: "manual",
        signal: AbortSignal.timeout(30_000),
      });
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

  // Every side must send the same request.
  await viaModule(1);
  await viaHand(1);
  await viaBare(1);
  assertSameRequests(seen, Object.keys(headers));

  const sides = await compareSides(PLAN, [
    { name: "module", run: viaModule },
    { name: "hand", run: viaHand },
    { name: "bare", run: viaBare },
    // The same hand-written side twice: the A/A ratio shows how far two identical sides
    // drift apart on this machine, the floor under which no figure can be read.
    { name: "hand-again", run: viaHand },
  ]);
  const vsHand = sides.ratio("module", "hand");
  const vsBare = sides.ratio("module", "bare");
  report(
    {
      id: 1,
      name: "session.fetch vs hand-written fetch + checks, loopback",
      metric: `time ratio session.fetch / hand-written, ${PLAN.rounds} interleaved rounds of ` +
        `${PLAN.block} sequential calls a side (module, hand-written, bare), body parsed, ` +
        `session timeout ${TIMEOUT ?? "default (30 s)"}`,
      ratio: vsHand,
      bound: `≤ ${VS_HAND.toFixed(2)}`,
      met: vsHand.median <= VS_HAND,
      notes: [
        `µs/call: session.fetch ${showSummary(sides.perCall("module"), 1)}`,
        `µs/call: hand-written ${showSummary(sides.perCall("hand"), 1)}`,
        `µs/call: bare fetch ${showSummary(sides.perCall("bare"), 1)}`,
        `hand-written / bare ${showSummary(sides.ratio("hand", "bare"))}`,
        `A/A noise, hand-written / the same hand-written ${
          showSummary(sides.ratio("hand-again", "hand"))
        }`,
      ],
    },
    {
      id: 1,
      name: "session.fetch vs bare fetch, same headers, loopback",
      metric: "time ratio session.fetch / bare fetch, same run",
      ratio: vsBare,
      bound: `≤ ${VS_BARE.toFixed(2)}`,
      met: vsBare.median <= VS_BARE,
      notes: [],
    },
  );
} finally {
  await server.shutdown();
}
