// What the request benchmarks share: the check that every side sent the same request, and
// the loop: sides that each make N sequential calls, warmed up alike, then timed in
// interleaved blocks (A B C, C B A, ...) over many rounds.

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

/** A request as a bench's server saw it: its headers, and its body where it has one. */
export interface SeenRequest {
  headers: Record<string, string>;
  body?: string;
}

/**
 * Throws unless every request in `seen` has the first one's body and the same value for
 * each header in `names`: every side of a comparison must send the same request.
 */
export function assertSameRequests(seen: readonly SeenRequest[], names: readonly string[]): void {
  const [first, ...others] = seen;
  for (const other of others) {
    if (first.body !== other.body) throw new Error("The sides sent different bodies");
    for (const name of names) {
      if (first.headers[name] !== other.headers[name]) {
        throw new Error(`The sides sent different ${name} headers`);
      }
    }
  }
}
