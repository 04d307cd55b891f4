// The bench task: runs each figure's script in a process of its own, with only the
// permissions it needs, then prints the machine and the table kept in BENCHMARKS.md.
//
//   deno task bench [--only=1,3]
//
// Each script also runs alone (and prints its own figures on stderr), e.g. `deno run --allow-net=127.0.0.1 bench/session_fetch.ts`.

import type { Figure } from "./_stats.ts";
import { fixed } from "./_stats.ts";

const NET = ["--allow-net=127.0.0.1"];

/** The figures' scripts, in order, and what each may do. */
const SCRIPTS: { id: number; file: string; permissions: string[] }[] = [
  { id: 1, file: "session_fetch.ts", permissions: NET },
  { id: 2, file: "request_token.ts", permissions: NET },
  { id: 3, file: "renewal_storm.ts", permissions: NET },
  { id: 4, file: "cold_start.ts", permissions: ["--allow-read", "--allow-run"] },
  { id: 5, file: "mock_throughput.ts", permissions: NET },
  { id: 6, file: "psk_sign.ts", permissions: [] },
  { id: 7, file: "session_fetch_key.ts", permissions: [...NET, "--allow-run", "--allow-read"] },
  {
    id: 8,
    file: "cli_token.ts",
    permissions: [...NET, "--allow-run", "--allow-read", "--allow-write=.tmp"],
  },
  {
    id: 9,
    file: "redis_store.ts",
    permissions: [
      ...NET,
      "--allow-run",
      "--allow-read=.tmp",
      "--allow-write=.tmp",
      "--allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS",
    ],
  },
];

const deno = Deno.execPath();
const here = new URL(".", import.meta.url);

function only(): Set<number> | undefined {
  const arg = Deno.args.find((a) => a.startsWith("--only="));
  if (arg === undefined) return undefined;
  return new Set(arg.slice("--only=".length).split(",").map(Number));
}

/**
 * Runs one figure's script; its report comes on stdout as JSON, a line a row, its progress
 * on stderr.
 */
async function runFigure(file: string, permissions: string[]): Promise<Figure[]> {
  const { code, stdout } = await new Deno.Command(deno, {
    args: ["run", ...permissions, new URL(file, here).pathname, "--json"],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`bench/${file} failed with exit code ${code}`);
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Figure);
}

/** What a command prints, trimmed. */
async function output(command: string, ...args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command(command, { args, stdout: "piped" }).output();
  return new TextDecoder().decode(stdout).trim();
}

/**
 * The machine line: `nproc`, `deno --version` and the CPU model from /proc/cpuinfo (read
 * by grep: Deno asks for --allow-all to read /proc files).
 */
async function machine(): Promise<string> {
  const cores = await output("nproc");
  const version = (await output(deno, "--version")).split("\n").join(", ");
  const model = (await output("grep", "-m1", "model name", "/proc/cpuinfo")).replace(
    /^model name\s*:\s*/,
    "",
  );
  return `${cores} cores (nproc); ${version}; CPU ${model}`;
}

function row(figure: Figure): string {
  const r = figure.ratio;
  const cells = [
    String(figure.id),
    figure.name,
    figure.metric,
    r === undefined ? "–" : fixed(r.median),
    r === undefined ? "–" : fixed(r.min),
    r === undefined ? "–" : fixed(r.max),
    figure.bound ?? "none",
    figure.met === undefined ? "–" : figure.met ? "yes" : "**no**",
  ];
  return `| ${cells.join(" | ")} |`;
}

const selected = only();
const started = performance.now();
const figures: Figure[] = [];
for (const script of SCRIPTS) {
  if (selected !== undefined && !selected.has(script.id)) continue;
  figures.push(...await runFigure(script.file, script.permissions));
}
const seconds = (performance.now() - started) / 1000;

const lines = [
  "",
  `Machine: ${await machine()}`,
  `Command: deno task bench (${seconds.toFixed(0)} s), ${new Date().toISOString()}`,
  "",
  "| # | figure | what is measured | median | min | max | bound | met |",
  "| - | ------ | ---------------- | ------ | --- | --- | ----- | --- |",
  ...figures.map(row),
  "",
  ...figures.flatMap((f) => f.notes.map((note) => `- ${f.id}: ${note}`)),
];
console.log(lines.join("\n"));
