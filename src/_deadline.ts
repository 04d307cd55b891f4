// Shared deadlines: one timer for every call in flight instead of one per call.
//
// A call registers an AbortController with a deadline; deadlines are rounded up to a
// bucket of GRANULARITY_MS, and a single timer fires at the earliest bucket, aborting
// every controller in the buckets that are due. When no call is in flight no timer is
// pending, so scripts exit at once and tests leak nothing.

/** How finely deadlines are kept: a call times out at most this much late. */
export const GRANULARITY_MS = 20;

/** The longest delay `setTimeout` takes; longer ones fire at once (after a warning). */
const MAX_TIMER_MS = 2_147_483_647;

const buckets = new Map<number, Set<AbortController>>();
let timer: ReturnType<typeof setTimeout> | undefined;
let timerAt = Infinity;

/** The reason a timed-out call is aborted with. */
export class DeadlineExceeded extends Error {
  constructor() {
    super("The call timed out");
    this.name = "TimeoutError";
  }
}

function unref(id: ReturnType<typeof setTimeout>): void {
  // deno-lint-ignore no-explicit-any
  const handle = id as any;
  if (typeof handle === "object" && handle !== null && typeof handle.unref === "function") {
    handle.unref();
    return;
  }
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  if (typeof deno?.unrefTimer === "function") deno.unrefTimer(handle);
}

function schedule(at: number): void {
  if (timer !== undefined) clearTimeout(timer);
  timerAt = at;
  // A deadline may lie past the longest timer (2^31 - 1 ms, after rounding up to the
  // granularity): wait the longest, and fire() schedules the rest.
  timer = setTimeout(fire, Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
  unref(timer);
}

function fire(): void {
  timer = undefined;
  timerAt = Infinity;
  const now = Date.now();
  let next = Infinity;
  for (const [at, controllers] of buckets) {
    if (at <= now) {
      buckets.delete(at);
      for (const controller of controllers) controller.abort(new DeadlineExceeded());
    } else if (at < next) {
      next = at;
    }
  }
  if (next !== Infinity) schedule(next);
}

/**
 * Aborts `controller` once `timeoutMs` have passed (rounded up to the granularity).
 * Returns the key to give {@linkcode clearDeadline} when the call ends first.
 */
export function setDeadline(controller: AbortController, timeoutMs: number): number {
  const at = Math.ceil((Date.now() + timeoutMs) / GRANULARITY_MS) * GRANULARITY_MS;
  let controllers = buckets.get(at);
  if (controllers === undefined) {
    controllers = new Set();
    buckets.set(at, controllers);
    if (at < timerAt) schedule(at);
  }
  controllers.add(controller);
  return at;
}

/** Forgets a deadline set by {@linkcode setDeadline}; the last one cancels the timer. */
export function clearDeadline(key: number, controller: AbortController): void {
  const controllers = buckets.get(key);
  if (controllers === undefined || !controllers.delete(controller)) return;
  if (controllers.size > 0) return;
  buckets.delete(key);
  if (buckets.size === 0 && timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
    timerAt = Infinity;
  }
}
