// Figure 8: `armor-auth token` cold start. Whole-process wall time of
// `deno run <install flags> src/cli/main.ts token` with a valid stored login against
// `deno run bench/cold/empty.ts`, spawned alternately, 20 runs a side after a warm-up;
// and the size of the module graph `token` loads (the rest is imported lazily).
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write=.tmp --allow-run bench/cli_token.ts [--rounds=N]

import { intArg, interleaveMany, ratiosOf, report, showSummary, summarize } from "./_stats.ts";
import { serveMockArmorApi } from "../src/testing/mod.ts";

const ROUNDS = intArg("rounds", 20);
const WARMUP = intArg("warmup", 3);

const deno = Deno.execPath();
const root = new URL("..", import.meta.url).pathname;
const emptyScript = `${root}bench/cold/empty.ts`;
const cli = `${root}src/cli/main.ts`;

await Deno.mkdir(`${root}.tmp`, { recursive: true });
const home = await Deno.makeTempDir({ dir: `${root}.tmp`, prefix: "bench-cli-" });
const served = await serveMockArmorApi();
const flags = [
  "--allow-net=127.0.0.1",
  "--allow-env=ARMOR_USERNAME,ARMOR_PASSWORD,ARMOR_BASE_URL,ARMOR_ACCOUNT_ID," +
  "ARMOR_API_KEY_ID,ARMOR_API_SECRET_KEY,ARMOR_API_BODY_SIGNING,HOME,XDG_CONFIG_HOME",
  `--allow-read=${home}/armor-api-auth`,
  `--allow-write=${home}/armor-api-auth`,
];
const env = { XDG_CONFIG_HOME: home, ARMOR_BASE_URL: served.baseUrl };

/** Runs `deno run` on a script; returns its wall time in ms. */
async function spawn(args: string[], extraEnv: Record<string, string> = {}): Promise<number> {
  const command = new Deno.Command(deno, {
    args: ["run", "--quiet", "--no-prompt", ...args],
    cwd: root,
    env: extraEnv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const start = performance.now();
  const { code, stdout, stderr } = await command.output();
  const ms = performance.now() - start;
  if (code !== 0) {
    throw new Error(
      `deno run ${args.at(-1)} failed (${code}): ${new TextDecoder().decode(stderr)}`,
    );
  }
  if (args.includes("token") && !/^[a-z0-9]{32}\n$/.test(new TextDecoder().decode(stdout))) {
    throw new Error("armor-auth token printed something else than a token");
  }
  return ms;
}

/** The module graph `token` loads up front: main.ts without its lazy imports. */
async function graph(): Promise<{ modules: number; bytes: number }> {
  const { code, stdout } = await new Deno.Command(deno, {
    args: ["info", "--json", cli],
    cwd: root,
    stdout: "piped",
    stderr: "null",
  }).output();
  if (code !== 0) throw new Error("deno info --json src/cli/main.ts failed");
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string; size?: number }[];
  };
  return {
    modules: info.modules.length,
    bytes: info.modules.reduce((sum, m) => sum + (m.size ?? 0), 0),
  };
}

try {
  await spawn([...flags, cli, "login"], {
    ...env,
    ARMOR_USERNAME: "demo@example.com",
    ARMOR_PASSWORD: "demo-password",
  });
  const token = () => spawn([...flags, cli, "token"], env);
  const empty = () => spawn([emptyScript]);
  for (let i = 0; i < WARMUP; i++) {
    await token();
    await empty();
  }
  const [withCli, bare] = await interleaveMany(ROUNDS, [token, empty]);
  const ratio = summarize(ratiosOf(withCli, bare));
  const { modules, bytes } = await graph();
  report({
    id: 8,
    name: "armor-auth token with a valid stored login vs an empty script",
    metric: `whole-process wall time ratio, ${ROUNDS} interleaved deno run spawns a side, ` +
      `after ${WARMUP} warm-up runs`,
    ratio,
    bound: "≤ 1.3",
    met: ratio.median <= 1.3,
    notes: [
      `armor-auth token ms ${showSummary(summarize(withCli), 1)}`,
      `empty ms ${showSummary(summarize(bare), 1)}`,
      `src/cli/main.ts whole graph (deno info --json, lazy imports included): ${modules} modules, ${bytes} bytes`,
    ],
  });
} finally {
  await served.close();
  await Deno.remove(home, { recursive: true });
}
