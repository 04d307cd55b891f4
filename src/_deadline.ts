// Shared deadlines: one timer for every call in flight instead of one per call.
//
// Deadlines are rounded up to a slot of GRANULARITY_MS, and a single timer fires at the
// earliest slot, aborting what the slots that are due hold. A call that knows when it
// ends registers its own AbortController (setDeadline) and forgets it then (clearDeadline);
// a call that does not, such as `session.fetch`, whose caller reads the body later, takes
// the slot's shared signal (deadlineSignal) and has nothing to undo: no controller kept
// per call until its deadline. The timer is unref'd, so it never keeps a script alive or
// trips a test's leak check; it is not cancelled when the last call ends (cancelling and
// re-arming it for each call of a sequence costs more than the call) but lapses once the
// last slot has fired.

/** How finely deadlines are kept: a call times out at most this much late. */
export const GRANULARITY_MS = 20;

/** The longest delay `setTimeout` takes; longer ones fire at once (after a warning). */
const MAX_TIMER_MS = 2_147_483_647;

/** What is due at one slot: the calls' own controllers, and the shared one. */
interface Slot {
  controllers?: Set<AbortController>;
  shared?: AbortController;
}

const slots = new Map<number, Slot>();
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
  for (const [at, slot] of slots) {
    if (at <= now) {
      slots.delete(at);
      slot.shared?.abort(new DeadlineExceeded());
      if (slot.controllers === undefined) continue;
      for (const controller of slot.controllers) controller.abort(new DeadlineExceeded());
    } else if (at < next) {
      next = at;
    }
  }
  if (next !== Infinity) schedule(next);
}

/** The key of the slot `timeoutMs` from now falls in: its time, rounded up. */
function slotKey(timeoutMs: number): number {
  return Math.ceil((Date.now() + timeoutMs) / GRANULARITY_MS) * GRANULARITY_MS;
}

/** The slot due at `at`; a new one sets the timer if it is the earliest. */
function slotAt(at: number): Slot {
  let slot = slots.get(at);
  if (slot === undefined) {
    slot = {};
    slots.set(at, slot);
    if (at < timerAt) schedule(at);
  }
  return slot;
}

/**
 * Aborts `controller` once `timeoutMs` have passed (rounded up to the granularity).
 * Returns the key to give {@linkcode clearDeadline} when the call ends first.
 */
export function setDeadline(controller: AbortController, timeoutMs: number): number {
  const at = slotKey(timeoutMs);
  (slotAt(at).controllers ??= new Set()).add(controller);
  return at;
}

/**
 * Forgets a deadline set by {@linkcode setDeadline}. The slot stays until its time, for
 * the calls that follow: a sequence of calls shares one.
 */
export function clearDeadline(key: number, controller: AbortController): void {
  slots.get(key)?.controllers?.delete(controller);
}

/**
 * The signal that aborts once `timeoutMs` have passed (rounded up to the granularity),
 * shared by every call due in the same slot: for a call that cannot tell when it ends.
 */
export function deadlineSignal(timeoutMs: number): AbortSignal {
  return (slotAt(slotKey(timeoutMs)).shared ??= new AbortController()).signal;
}
