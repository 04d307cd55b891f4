/**
 * A clock for tests: a frozen one stands still until the test moves it; `MockClock.realTime()` keeps real time.
 *
 * @example Move time forward by hand
 * ```ts
 * import assert from "node:assert/strict";
 * import { MockClock } from "@armor-api/auth/testing";
 *
 * const clock = new MockClock(1_000);
 * const now = clock.now; // a bound function: pass it around
 * clock.advance(500);
 * assert.equal(now(), 1_500);
 * clock.set(0);
 * assert.equal(now(), 0);
 * ```
 */
export class MockClock {
  #time: number;
  /** Set for a clock that follows the system clock: `#time` is then its offset from it. */
  #follows = false;

  /**
   * Returns the clock's current time in milliseconds since the epoch.
   *
   * It is a bound arrow function, so `clock.now` can be handed to code that expects a
   * `() => number`, such as a session's `now` option.
   *
   * @returns The current time of this clock, in milliseconds since the epoch
   *
   * @example Pass the clock's time source around
   * ```ts
   * import assert from "node:assert/strict";
   * import { MockClock } from "@armor-api/auth/testing";
   *
   * const clock = new MockClock(42);
   * const now: () => number = clock.now;
   * assert.equal(now(), 42);
   * ```
   */
  readonly now: () => number = () => this.#follows ? Date.now() + this.#time : this.#time;

  /**
   * Makes a clock that stands at `start` until it is moved.
   *
   * @param start The starting time in milliseconds since the epoch; defaults to `Date.now()`
   * @throws {RangeError} If `start` is not a finite number
   *
   * @example Start at a fixed instant
   * ```ts
   * import assert from "node:assert/strict";
   * import { MockClock } from "@armor-api/auth/testing";
   *
   * const clock = new MockClock(Date.UTC(2026, 0, 1));
   * assert.equal(new Date(clock.now()).toISOString(), "2026-01-01T00:00:00.000Z");
   * ```
   */
  constructor(start: number = Date.now()) {
    this.#time = checkTime(start, "Clock start");
  }

  /**
   * Makes a clock that moves with the system clock (`Date.now()`), for a mock that serves
   * for a while, such as one started from the command line: API-key timestamps and token
   * lifetimes then follow real time. `advance` and `set` still move it, by an offset.
   *
   * @returns A clock at `Date.now()` that keeps moving
   *
   * @example A clock that keeps time, and jumps ahead when asked
   * ```ts
   * import assert from "node:assert/strict";
   * import { MockClock } from "@armor-api/auth/testing";
   *
   * const clock = MockClock.realTime();
   * assert.ok(Math.abs(clock.now() - Date.now()) < 1_000);
   * clock.advance(60_000);
   * assert.ok(clock.now() - Date.now() >= 59_000);
   * ```
   */
  static realTime(): MockClock {
    const clock = new MockClock(0);
    clock.#follows = true;
    return clock;
  }

  /**
   * Moves the clock forward.
   *
   * @param ms How many milliseconds to move forward; must be finite and not negative
   * @throws {RangeError} If `ms` is negative or not finite
   *
   * @example Let two minutes pass
   * ```ts
   * import assert from "node:assert/strict";
   * import { MockClock } from "@armor-api/auth/testing";
   *
   * const clock = new MockClock(0);
   * clock.advance(120_000);
   * assert.equal(clock.now(), 120_000);
   * ```
   */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`Cannot advance the clock by ${ms} ms: pass a finite number >= 0`);
    }
    this.#time += ms;
  }

  /**
   * Sets the clock to an exact time, forward or backward.
   *
   * @param ms The new time in milliseconds since the epoch
   * @throws {RangeError} If `ms` is not a finite number
   *
   * @example Jump to an instant
   * ```ts
   * import assert from "node:assert/strict";
   * import { MockClock } from "@armor-api/auth/testing";
   *
   * const clock = new MockClock(0);
   * clock.set(5_000);
   * assert.equal(clock.now(), 5_000);
   * ```
   */
  set(ms: number): void {
    this.#time = checkTime(ms, "Clock time") - (this.#follows ? Date.now() : 0);
  }
}

function checkTime(ms: number, what: string): number {
  if (!Number.isFinite(ms)) {
    throw new RangeError(`${what} must be a finite number of milliseconds, got ${ms}`);
  }
  return ms;
}
