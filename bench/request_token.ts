// Figure 2: the token call `requestArmorApiToken` and the authorize call
// `requestArmorApiAuthorizationCode` (default timeouts) against, in one interleaved run,
// sequential calls to the same loopback server:
//
// - hand-written, sent once: what a careful user writes with the module's guarantee (the
//   secret reaches the server at most once): per call `Deno.createHttpClient({
//   poolMaxIdlePerHost: 0 })`, `fetch` on it with `AbortSignal.timeout`, `redirect:
//   "manual"`, a status check, `JSON.parse(await res.text())` and a token (or code) check,
//   the client closed after;
// - bare, sent once: `fetch` on such a client, `await res.text()`, nothing else;
// - for context, the same two on the runtime's pooled keep-alive connection (the module
//   never sends a secret that way: a runtime resends a request whose reused connection
//   was closed after the server read it);
// - hand-written (sent once) again: the A/A ratio is the machine's noise floor;
// - for the token call, the floor: every guarantee the module keeps, hand-written as one
//   function with no layers (what bounds the module's ratio; see BENCHMARKS.md, section 2).
//
// What lies between the module and the hand-written code is also timed in process: the
// call's preparation (options, URL, plan) and the token's checks.
//
//   deno run --allow-net=127.0.0.1 bench/request_token.ts [--rounds=N] [--block=N]

import { requestArmorApiAuthorizationCode, requestArmorApiToken } from "../mod.ts";
import { resolveCall } from "../src/_call.ts";
import { timeoutSignal } from "../src/_fetch.ts";
import { MAX_RESPONSE_BYTES } from "../src/errors.ts";
import { redeemRequest } from "../src/_token_core.ts";
import { parseTokenBody } from "../src/token.ts";
import { assertSameRequests, compareSides, type SeenRequest, type Side } from "./_interleave.ts";
import { intArg, report, serveLoopback, showSummary, summarize } from "./_stats.ts";

const PLAN = {
  rounds: intArg("rounds", 150),
  block: intArg("block", 50),
  warmup: intArg("warmup", 1_000),
};
const VS_HAND = 1.02;
const VS_BARE = 1.08;

const CODE = "+8oaKtcO9kuVbjUXlfnlHCY3HmXXCidHjzOBGwr+iTo=";
const USERNAME = "ops@example.com";
const PASSWORD = "correct-horse-battery-staple";
const TOKEN_BODY = JSON.stringify({
  access_token: "2261bac252204c2ea93ed32ea1ffd3ab",
  id_token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl",
  expires_in: 15,
  token_type: "Bearer",
});
const CODE_BODY = JSON.stringify({ code: CODE, expiresIn: 120 });

const seen: Record<string, SeenRequest[]> = { "/auth/token": [], "/auth/authorize": [] };
const { server, origin } = serveLoopback(async (request) => {
  const body = await request.text();
  const path = new URL(request.url).pathname;
  const kept = seen[path];
  if (request.method !== "POST" || kept === undefined) return new Response(null, { status: 404 });
  if (kept.length < 8) kept.push({ headers: Object.fromEntries(request.headers), body });
  return new Response(path === "/auth/token" ? TOKEN_BODY : CODE_BODY, {
    headers: { "content-type": "application/json" },
  });
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

const headers = { accept: "application/json", "content-type": "application/json" };

/**
 * The comparators for one call: `url`, the JSON `body` sent, the default `timeout`, and
 * `check`, the hand-written check of the parsed answer.
 */
function comparators(
  url: string,
  body: Record<string, string>,
  timeout: number,
  check: (json: Record<string, unknown>) => boolean,
): Side[] {
  const hand = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
      try {
        const res = await fetch(url, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          redirect: "manual",
          signal: AbortSignal.timeout(timeout),
          client,
        });
        if (res.status !== 200) throw new Error(`Request failed: HTTP ${res.status}`);
        const json = JSON.parse(await res.text());
        if (!check(json)) throw new Error("Unexpected answer");
      } finally {
        client.close();
      }
    }
  };
  const bare = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
      const res = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        client,
      });
      await res.text();
      client.close();
    }
  };
  const handPooled = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        redirect: "manual",
        signal: AbortSignal.timeout(timeout),
      });
      if (res.status !== 200) throw new Error(`Request failed: HTTP ${res.status}`);
      const json = JSON.parse(await res.text());
      if (!check(json)) throw new Error("Unexpected answer");
    }
  };
  const barePooled = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
      await res.text();
    }
  };
  return [
    { name: "hand", run: hand },
    { name: "bare", run: bare },
    { name: "hand-pooled", run: handPooled },
    { name: "bare-pooled", run: barePooled },
    // The same hand-written side twice: the A/A ratio is the machine's noise floor.
    { name: "hand-again", run: hand },
  ];
}

/**
 * The floor of a token call: the module's guarantees, hand-written as one function. Its
 * own client closed after, the module's shared deadline timer, manual redirects, the
 * status and type check, the header checks that bound the body to 1 MiB (a declared
 * length within the cap, no Content-Encoding, no Transfer-Encoding), `JSON.parse`, the
 * object check and the module's token checks (`parseTokenBody`).
 */
function floorSide(url: string, body: Record<string, string>, timeout: number): Side {
  const secrets = [body.code];
  return {
    name: "floor",
    run: async (n) => {
      for (let i = 0; i < n; i++) {
        const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
        try {
          const res = await fetch(url, {
            method: "POST",
            headers,
            body: JSON.stringify(body),
            redirect: "manual",
            signal: timeoutSignal(timeout),
            client,
          });
          if (res.status !== 200 || res.type !== "basic") {
            throw new Error(`Request failed: HTTP ${res.status}`);
          }
          const length = res.headers.get("content-length");
          if (
            length === null || !/^\d{1,16}$/.test(length) || Number(length) > MAX_RESPONSE_BYTES ||
            res.headers.has("content-encoding") || res.headers.has("transfer-encoding")
          ) throw new Error("Not a plain body");
          const json = JSON.parse(await res.text());
          if (typeof json !== "object" || json === null || Array.isArray(json)) {
            throw new Error("Not a JSON object");
          }
          if (parseTokenBody(json, Date.now(), secrets).expires_in !== 15) {
            throw new Error("Unexpected token");
          }
        } finally {
          client.close();
        }
      }
    },
  };
}

const isToken = (json: Record<string, unknown>) =>
  typeof json.access_token === "string" && /^[a-z0-9]{32}$/.test(json.access_token) &&
  typeof json.expires_in === "number";
const isCode = (json: Record<string, unknown>) => typeof json.code === "string" && json.code !== "";

/** Runs one call's comparison and reports its two rows. */
async function figure(
  name: string,
  path: string,
  module: Side["run"],
  others: Side[],
  timeoutNote: string,
): Promise<ReturnType<typeof compareSides>> {
  // Every side must send the same request.
  for (const side of [{ name: "module", run: module }, ...others]) await side.run(1);
  assertSameRequests(seen[path], Object.keys(headers));
  const sides = await compareSides(PLAN, [{ name: "module", run: module }, ...others]);
  const vsHand = sides.ratio("module", "hand");
  const vsBare = sides.ratio("module", "bare");
  const metric = `${PLAN.rounds} interleaved rounds of ${PLAN.block} sequential calls a side, ` +
    `${timeoutNote}; every sent-once side on a connection of its own`;
  report(
    {
      id: 2,
      name: `${name} vs hand-written, sent once (own client a call), loopback`,
      metric: `time ratio ${name} / hand-written, ${metric}`,
      ratio: vsHand,
      bound: `≤ ${VS_HAND.toFixed(2)}`,
      met: vsHand.median <= VS_HAND,
      notes: [
        `µs/call: ${name} ${showSummary(sides.perCall("module"), 1)}`,
        `µs/call: hand-written, own client ${showSummary(sides.perCall("hand"), 1)}`,
        `µs/call: bare fetch, own client ${showSummary(sides.perCall("bare"), 1)}`,
        `µs/call: hand-written, pooled ${showSummary(sides.perCall("hand-pooled"), 1)}`,
        `µs/call: bare fetch, pooled ${showSummary(sides.perCall("bare-pooled"), 1)}`,
        `hand-written / bare (own client) ${showSummary(sides.ratio("hand", "bare"))}`,
        `${name} / hand-written pooled ${showSummary(sides.ratio("module", "hand-pooled"))}`,
        `${name} / bare pooled ${showSummary(sides.ratio("module", "bare-pooled"))}`,
        `A/A noise, hand-written / the same hand-written ${
          showSummary(sides.ratio("hand-again", "hand"))
        }`,
        ...(sides.times.floor === undefined ? [] : [
          `µs/call: the floor (every guarantee, one function) ${
            showSummary(sides.perCall("floor"), 1)
          }`,
          `the floor / hand-written ${showSummary(sides.ratio("floor", "hand"))}`,
          `${name} / the floor ${showSummary(sides.ratio("module", "floor"))}`,
        ]),
      ],
    },
    {
      id: 2,
      name: `${name} vs bare fetch, sent once (own client a call), loopback`,
      metric: `time ratio ${name} / bare fetch on a client of its own, same run`,
      ratio: vsBare,
      bound: `≤ ${VS_BARE.toFixed(2)}`,
      met: vsBare.median <= VS_BARE,
      notes: [],
    },
  );
  return sides;
}

try {
  const only = Deno.args.find((a) => a.startsWith("--call="))?.slice("--call=".length);
  if (only === undefined || only === "token") {
    await figure(
      "requestArmorApiToken",
      "/auth/token",
      async (n) => {
        for (let i = 0; i < n; i++) {
          const token = await requestArmorApiToken(CODE, { baseUrl: origin });
          if (token.expires_in !== 15) throw new Error("Unexpected token");
        }
      },
      [
        ...comparators(
          `${origin}/auth/token`,
          { code: CODE, grant_type: "authorization_code" },
          30_000,
          isToken,
        ),
        floorSide(`${origin}/auth/token`, { code: CODE, grant_type: "authorization_code" }, 30_000),
      ],
      "default timeout (30 s)",
    );
    const prepare = microseconds(() =>
      redeemRequest(resolveCall({ baseUrl: origin }).endpoint, CODE)
    );
    const tokenJson = JSON.parse(TOKEN_BODY);
    const check = microseconds(() => parseTokenBody(tokenJson, Date.now(), [CODE]));
    console.error(
      `  in process, µs a call: preparation (resolveCall + redeemRequest) ${
        prepare.toFixed(2)
      }, token checks (parseTokenBody) ${check.toFixed(2)}`,
    );
  }
  if (only === undefined || only === "authorize") {
    await figure(
      "requestArmorApiAuthorizationCode",
      "/auth/authorize",
      async (n) => {
        for (let i = 0; i < n; i++) {
          const result = await requestArmorApiAuthorizationCode(USERNAME, PASSWORD, {
            baseUrl: origin,
          });
          if (result.code !== CODE) throw new Error("Unexpected code");
        }
      },
      comparators(
        `${origin}/auth/authorize`,
        { username: USERNAME, password: PASSWORD },
        180_000,
        isCode,
      ),
      "default timeout (3 min)",
    );
  }
} finally {
  await server.shutdown();
}
