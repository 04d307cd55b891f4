// Figure 4: cold start. Whole-process wall time of `deno run bench/cold/session.ts` (imports
// mod.ts and creates a session) against `deno run bench/cold/empty.ts`, spawned
// alternately many times after a warm-up that caches the module graph; and the size of
// mod.ts's module graph from `deno info --json`. A third script, which only imports
// mod.ts, splits the cost between loading the module graph and creating the session.
//
//   deno run --allow-read --allow-run bench/cold_start.ts [--rounds=N]

import { intArg, interleaveMany, ratiosOf, report, showSummary, summarize } from "./_stats.ts";

const ROUNDS = intArg("rounds", 60);
const WARMUP = intArg("warmup", 5);

const deno = Deno.execPath();
const here = new URL(".", import.meta.url);
const root = new URL("..", here);
const emptyScript = new URL("cold/empty.ts", here).pathname;
const sessionScript = new URL("cold/session.ts", here).pathname;
const importScript = new URL("cold/import.ts", here).pathname;

/** Runs `deno run` on a script with no permissions; returns its wall time in ms. */
async function spawn(script: string): Promise<number> {
  const command = new Deno.Command(deno, {
    args: ["run", "--quiet", "--no-prompt", script],
    cwd: root.pathname,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
  const start = performance.now();
  const { code, stderr } = await command.output();
  const ms = performance.now() - start;
  if (code !== 0) {
    throw new Error(`deno run ${script} failed (${code}): ${new TextDecoder().decode(stderr)}`);
  }
  return ms;
}

/** The module graph of mod.ts: how many modules, how many bytes of source. */
async function graph(): Promise<{ modules: number; bytes: number }> {
  const { code, stdout } = await new Deno.Command(deno, {
    args: ["info", "--json", "mod.ts"],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "null",
  }).output();
  if (code !== 0) throw new Error("deno info --json mod.ts failed");
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { size?: number }[];
  };
  return {
    modules: info.modules.length,
    bytes: info.modules.reduce((sum, m) => sum + (m.size ?? 0), 0),
  };
}

for (let i = 0; i < WARMUP; i++) {
  await spawn(sessionScript);
  await spawn(importScript);
  await spawn(emptyScript);
}
const [withModule, importOnly, empty] = await interleaveMany(ROUNDS, [
  () => spawn(sessionScript),
  () => spawn(importScript),
  () => spawn(emptyScript),
]);
const ratio = summarize(ratiosOf(withModule, empty));
const { modules, bytes } = await graph();
report({
  id: 4,
  name: "cold start: import mod.ts and create a session vs an empty script",
  metric: `whole-process wall time ratio, ${ROUNDS} interleaved deno run spawns a side, ` +
    `after ${WARMUP} warm-up runs`,
  ratio,
  bound: "≤ 1.15",
  met: ratio.median <= 1.15,
  notes: [
    `with mod.ts ms ${showSummary(summarize(withModule), 1)}`,
    `empty ms ${showSummary(summarize(empty), 1)}`,
    `import only / empty ${showSummary(summarize(ratiosOf(importOnly, empty)))}`,
    `session / import only ${showSummary(summarize(ratiosOf(withModule, importOnly)))}`,
    `mod.ts graph (deno info --json): ${modules} modules, ${bytes} bytes`,
  ],
});
