// The loop the request benchmarks share: sides that each make N sequential calls, warmed
// up alike, then timed in interleaved blocks (A B C, C B A, ...) over many rounds.

import { interleaveMany, ratiosOf, summarize, type Summary } from "./_stats.ts";

/** One side of a comparison: a name and a run of `n` sequential calls. */
export interface Side {
  name: string;
  run: (n: number) => Promise<void>;
}

/** How a comparison runs: rounds, calls a block, warm-up calls a side. */
export interface Plan {
  rounds: number;
  block: number;
  warmup: number;
}

/** The ms each side took in each round, by side name; and helpers on them. */
export interface Sides {
  /** `times[name][round]`: ms of one block of `block` calls. */
  times: Record<string, number[]>;
  /** µs a call over the rounds, for one side. */
  perCall(name: string): Summary;
  /** The per-round ratio of side `a` over side `b`, summed up. */
  ratio(a: string, b: string): Summary;
}

/**
 * Warms each side up with `plan.warmup` calls, then times `plan.rounds` interleaved blocks
 * of `plan.block` calls a side.
 */
export async function compareSides(plan: Plan, sides: readonly Side[]): Promise<Sides> {
  for (const side of sides) await side.run(plan.warmup);
  const measured = await interleaveMany(
    plan.rounds,
    sides.map((side) => async () => {
      const start = performance.now();
      await side.run(plan.block);
      return performance.now() - start;
    }),
  );
  const times: Record<string, number[]> = {};
  sides.forEach((side, i) => times[side.name] = measured[i]);
  const of = (name: string) => {
    const series = times[name];
    if (series === undefined) throw new RangeError(`No side named ${name}`);
    return series;
  };
  return {
    times,
    perCall: (name) => summarize(of(name).map((ms) => (ms * 1000) / plan.block)),
    ratio: (a, b) => summarize(ratiosOf(of(a), of(b))),
  };
}
