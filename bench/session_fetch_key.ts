// Figure 7: `session.fetch("/me")` on a session that signs with an API key
// (`ArmorSession.connect({ apiKey, baseUrl })`, a fresh ARMOR-PSK signature a call)
// against a bare `fetch` sending one precomputed `Authorization: ARMOR-PSK …` header and
// the same other headers, sequential calls on one keep-alive connection to a loopback
// `Deno.serve` that accepts any ARMOR-PSK header (it does not check signatures). Both
// sides read the body with `JSON.parse(await res.text())`.
//
//   deno run --allow-net=127.0.0.1 --allow-run --allow-read bench/session_fetch_key.ts [--rounds=N]

import { armorPskAuthorization, ArmorSession } from "../mod.ts";
import me from "../tests/fixtures/me.powershell.json" with { type: "json" };
import { compareSides } from "./_interleave.ts";
import { intArg, report, serveLoopback, showSummary } from "./_stats.ts";

const PLAN = {
  rounds: intArg("rounds", 200),
  block: intArg("block", 100),
  warmup: intArg("warmup", 2_000),
};
const BOUND = 1.10;

const KEY = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "bench-secret-key-0123456789" };
const BODY = JSON.stringify(me);

const seen: Record<string, string>[] = [];
const { server, origin } = serveLoopback((request) => {
  if (seen.length < 3) seen.push(Object.fromEntries(request.headers));
  if (!/^ARMOR-PSK \S+$/.test(request.headers.get("authorization") ?? "")) {
    return new Response(null, { status: 401 });
  }
  return new Response(BODY, { headers: { "content-type": "application/json" } });
});

try {
  const session = await ArmorSession.connect({ apiKey: KEY, baseUrl: origin });
  const url = `${origin}/me`;
  seen.length = 0;
  // The module's request, as the server saw it, minus what the runtime adds.
  await (await session.fetch("/me")).text();
  const sent = { ...seen[0] };
  for (const name of ["host", "accept-encoding", "accept-language", "user-agent"]) {
    delete sent[name];
  }
  const headers = {
    ...sent,
    authorization: await armorPskAuthorization(KEY, { method: "GET", path: "/me" }),
  };

  const viaModule = async (n: number) => {
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

  // Both sides must send the same header names, and the module a new signature a call.
  seen.length = 0;
  await viaModule(2);
  await viaBare(1);
  const [first, second, bare] = seen;
  if (first.authorization === second.authorization) {
    throw new Error("The session sent the same signature twice");
  }
  const names = (h: Record<string, string>) => Object.keys(h).sort().join(",");
  if (names(first) !== names(bare)) {
    throw new Error(`The sides sent different headers: ${names(first)} / ${names(bare)}`);
  }

  // In this process the stand-in server shares the client's one thread, and signing is
  // work on that thread: the figure is measured against a server in a process of its own,
  // as the Armor API is. The same comparison in one process is kept as a note.
  const local = await compareSides({ ...PLAN, rounds: Math.ceil(PLAN.rounds / 2) }, [
    { name: "module", run: viaModule },
    { name: "bare", run: viaBare },
  ]);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", new URL("./_psk_server.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The stand-in server did not start");
    printed += value;
  }
  reader.releaseLock();
  const remote = `http://127.0.0.1:${Number(printed.trim())}`;
  const remoteSession = await ArmorSession.connect({ apiKey: KEY, baseUrl: remote });
  const remoteUrl = `${remote}/me`;
  const sides = await compareSides(PLAN, [
    {
      name: "module",
      run: async (n: number) => {
        for (let i = 0; i < n; i++) {
          const res = await remoteSession.fetch("/me");
          if (res.status !== 200) throw new Error(`GET /me failed: HTTP ${res.status}`);
          JSON.parse(await res.text());
        }
      },
    },
    {
      name: "bare",
      run: async (n: number) => {
        for (let i = 0; i < n; i++) {
          const res = await fetch(remoteUrl, { headers });
          JSON.parse(await res.text());
        }
      },
    },
  ]);
  await child.stdin.close();
  await child.stdout.cancel().catch(() => {});
  await child.status;
  const ratio = sides.ratio("module", "bare");
  report({
    id: 7,
    name: "session.fetch with an API key vs bare fetch with a precomputed header, loopback",
    metric: `time ratio session.fetch (ARMOR-PSK, signed a call) / fetch, ${PLAN.rounds} ` +
      `interleaved rounds of ${PLAN.block} sequential calls a side, body parsed, server in a ` +
      "process of its own",
    ratio,
    bound: `≤ ${BOUND.toFixed(2)}`,
    met: ratio.median <= BOUND,
    notes: [
      `µs/call: session.fetch with a key ${showSummary(sides.perCall("module"), 1)}`,
      `µs/call: bare fetch with a precomputed header ${showSummary(sides.perCall("bare"), 1)}`,
      `headers sent: ${names(first)}`,
      `server in the client's process: ratio ${showSummary(local.ratio("module", "bare"))}, ` +
      `µs/call ${showSummary(local.perCall("module"), 1)} vs ${
        showSummary(local.perCall("bare"), 1)
      }`,
    ],
  });
} finally {
  await server.shutdown();
}
