// Figure 5: the mock Armor API's throughput on one keep-alive connection (sequential
// `GET /me` with a live token) against a bare `Deno.serve` that returns the same JSON.
//
//   deno run --allow-net=127.0.0.1 bench/mock_throughput.ts [--rounds=N] [--block=N]

import { serveMockArmorApi } from "../src/testing/mod.ts";
import { intArg, interleave, report, serveLoopback, showSummary, summarize } from "./_stats.ts";

const ROUNDS = intArg("rounds", 300);
const BLOCK = intArg("block", 100);
const WARMUP = intArg("warmup", 3_000);

const served = await serveMockArmorApi();
let bare: Deno.HttpServer | undefined;
try {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${served.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
    return await response.json();
  };
  const { code } = await post("/auth/authorize", {
    username: "demo@example.com",
    password: "demo-password",
  });
  const { access_token } = await post("/auth/token", { code, grant_type: "authorization_code" });
  const headers = { accept: "application/json", authorization: `FH-AUTH ${access_token}` };

  const meUrl = `${served.baseUrl}/me`;
  const first = await fetch(meUrl, { headers });
  const me = await first.text();
  const contentType = first.headers.get("content-type") ?? "application/json";
  if (first.status !== 200) throw new Error(`/me answered ${first.status}`);

  const plain = serveLoopback(() => new Response(me, { headers: { "content-type": contentType } }));
  bare = plain.server;
  const bareUrl = `${plain.origin}/me`;

  const sequential = (url: string) => async (n: number) => {
    for (let i = 0; i < n; i++) {
      const response = await fetch(url, { headers });
      if ((await response.text()) !== me) throw new Error(`${url} answered something else`);
    }
  };
  const viaMock = sequential(meUrl);
  const viaBare = sequential(bareUrl);
  await viaMock(WARMUP);
  await viaBare(WARMUP);

  const time = (run: (n: number) => Promise<void>, before?: () => void) => async () => {
    before?.();
    const start = performance.now();
    await run(BLOCK);
    return performance.now() - start;
  };
  // The mock logs every request; a test that makes this many would clear the log too.
  const clearLog = () => void (served.mock.requests.length = 0);
  const { ratios, module, bare: bareTimes } = await interleave(
    ROUNDS,
    time(viaMock, clearLog),
    time(viaBare),
  );
  // Throughput ratio mock / bare is the inverse of the time ratio.
  const ratio = summarize(ratios.map((r) => 1 / r));
  const perSecond = (times: number[]) => summarize(times.map((ms) => (BLOCK * 1000) / ms));
  report({
    id: 5,
    name: "mock Armor API throughput on one connection vs bare Deno.serve",
    metric: `throughput ratio mock / bare Deno.serve, ${ROUNDS} rounds of ${BLOCK} sequential ` +
      "GET /me on one keep-alive connection, same JSON, client in the same process",
    ratio,
    notes: [
      `mock req/s ${showSummary(perSecond(module), 0)}`,
      `bare Deno.serve req/s ${showSummary(perSecond(bareTimes), 0)}`,
    ],
  });
} finally {
  await bare?.shutdown();
  await served.close();
}
