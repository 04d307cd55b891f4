// What the benchmarks share: interleaved rounds, the summary of a series (median, min,
// max), percentiles, and how a figure is reported.

/** A series summed up: its median, smallest and largest value, and its size. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** One figure of the bench task, as `bench/run.ts` tabulates it. */
export interface Figure {
  /** The figure's number in BENCHMARKS.md. */
  id: number;
  /** What is measured, in a few words. */
  name: string;
  /** What the numbers are, e.g. "time ratio session.fetch / fetch". */
  metric: string;
  /** The ratio over the rounds; `undefined` when the figure is not a ratio. */
  ratio?: Summary;
  /** The bound the median must meet, e.g. "≤ 1.03"; `undefined` when there is none. */
  bound?: string;
  /** Whether the bound is met; `undefined` when there is none. */
  met?: boolean;
  /** Other measured values, printed beside the ratio. */
  notes: string[];
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError("Cannot take a percentile of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The median, min and max of `values`. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError("Cannot summarize no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** A block of work measured as one unit: returns how long it took, in milliseconds. */
export type Block = () => Promise<number>;

/** Runs `block` and returns the wall time it took, in milliseconds. */
export async function timed(block: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await block();
  return performance.now() - start;
}

/**
 * Runs `blocks` one after another, `rounds` times, the order reversed every other round
 * (A B C, C B A, ...) so that a drift of the machine weighs on all alike. Returns the
 * time of each block in each round: `times[block][round]`.
 */
export async function interleaveMany(rounds: number, blocks: Block[]): Promise<number[][]> {
  const times = blocks.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    const order = blocks.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) times[i].push(await blocks[i]());
  }
  return times;
}

/**
 * Runs `module` and `bare` in alternating blocks, `rounds` times (A B, B A, ...). Returns
 * the ratio module / bare of each round, and the times of each side.
 */
export async function interleave(
  rounds: number,
  module: Block,
  bare: Block,
): Promise<{ ratios: number[]; module: number[]; bare: number[] }> {
  const [a, b] = await interleaveMany(rounds, [module, bare]);
  return { ratios: ratiosOf(a, b), module: a, bare: b };
}

/** The round-by-round ratios `a[i] / b[i]`. */
export function ratiosOf(a: readonly number[], b: readonly number[]): number[] {
  return a.map((value, i) => value / b[i]);
}

/** A ratio or a time with 3 decimals. */
export function fixed(value: number, digits = 3): string {
  return value.toFixed(digits);
}

/** "median (min – max)" of a summary. */
export function showSummary(summary: Summary, digits = 3): string {
  return `${fixed(summary.median, digits)} (min ${fixed(summary.min, digits)}, max ${
    fixed(summary.max, digits)
  }, ${summary.n} rounds)`;
}

/** Prints a figure for people, on stderr, so stdout stays free for `--json`. */
export function printFigure(figure: Figure): void {
  const head = `Figure ${figure.id}: ${figure.name}`;
  const lines = [head, `  ${figure.metric}`];
  if (figure.ratio !== undefined) {
    const verdict = figure.bound === undefined
      ? ""
      : `  bound ${figure.bound}: ${figure.met ? "met" : "MISSED"}`;
    lines.push(`  ratio ${showSummary(figure.ratio)}${verdict}`);
  }
  for (const note of figure.notes) lines.push(`  ${note}`);
  console.error(lines.join("\n"));
}

/**
 * Ends a benchmark script: prints its figures (a figure may have several rows, e.g. against
 * the hand-written call and against a bare fetch), and with `--json` writes each to stdout
 * as a line of JSON for `bench/run.ts`.
 */
export function report(...figures: Figure[]): void {
  for (const figure of figures) {
    printFigure(figure);
    if (Deno.args.includes("--json")) console.log(JSON.stringify(figure));
  }
}

/** Reads `--name=value` from the arguments as a positive integer, else `fallback`. */
export function intArg(name: string, fallback: number): number {
  const prefix = `--${name}=`;
  const arg = Deno.args.find((a) => a.startsWith(prefix));
  if (arg === undefined) return fallback;
  const value = Number(arg.slice(prefix.length));
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`--${name} must be a positive integer, got ${arg.slice(prefix.length)}`);
  }
  return value;
}

/** Serves `handler` on 127.0.0.1 at a free port, quietly; returns the server and its origin. */
export function serveLoopback(
  handler: (request: Request) => Response | Promise<Response>,
): { server: Deno.HttpServer<Deno.NetAddr>; origin: string } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return { server, origin: `http://127.0.0.1:${server.addr.port}` };
}
