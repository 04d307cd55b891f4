// Figure 4: cold start. Whole-process wall time of `deno run bench/cold/session.ts` (imports
// mod.ts and creates a session) against `deno run bench/cold/empty.ts`, side by side with
// `bench/cold/oauth4webapi.ts` (imports oauth4webapi, one file, from npm, and uses it
// once), all spawned in turn many times after a warm-up that caches the module graphs; and
// the size of mod.ts's module graph from `deno info --json`. A fourth script, which only
// imports mod.ts, splits the cost between loading the module graph and creating the session.
// The bound: the session script's ratio to the empty one is at most oauth4webapi's.
//
//   deno run --allow-read --allow-run bench/cold_start.ts [--rounds=N]

import {
  fixed,
  intArg,
  interleaveMany,
  ratiosOf,
  report,
  showSummary,
  summarize,
} from "./_stats.ts";

const ROUNDS = intArg("rounds", 20);
const WARMUP = intArg("warmup", 5);

const deno = Deno.execPath();
const here = new URL(".", import.meta.url);
const root = new URL("..", here);
const emptyScript = new URL("cold/empty.ts", here).pathname;
const sessionScript = new URL("cold/session.ts", here).pathname;
const importScript = new URL("cold/import.ts", here).pathname;
const oauthScript = new URL("cold/oauth4webapi.ts", here).pathname;

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
  await spawn(oauthScript);
  await spawn(emptyScript);
}
const [withModule, importOnly, oauth, empty] = await interleaveMany(ROUNDS, [
  () => spawn(sessionScript),
  () => spawn(importScript),
  () => spawn(oauthScript),
  () => spawn(emptyScript),
]);
const ratio = summarize(ratiosOf(withModule, empty));
const oauthRatio = summarize(ratiosOf(oauth, empty));
const { modules, bytes } = await graph();
report({
  id: 4,
  name: "cold start: import mod.ts and create a session vs an empty script (oauth4webapi beside)",
  metric: `whole-process wall time ratio, ${ROUNDS} interleaved deno run spawns a side, ` +
    `after ${WARMUP} warm-up runs`,
  ratio,
  bound: `≤ oauth4webapi's ${fixed(oauthRatio.median)}`,
  met: ratio.median <= oauthRatio.median,
  notes: [
    `oauth4webapi / empty ${showSummary(oauthRatio)}`,
    `with mod.ts ms ${showSummary(summarize(withModule), 1)}`,
    `empty ms ${showSummary(summarize(empty), 1)}`,
    `import only / empty ${showSummary(summarize(ratiosOf(importOnly, empty)))}`,
    `session / import only ${showSummary(summarize(ratiosOf(withModule, importOnly)))}`,
    `mod.ts graph (deno info --json): ${modules} modules, ${bytes} bytes`,
  ],
});
