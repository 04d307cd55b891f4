/**
 * Waits `ms` milliseconds of real time unless one of the signals aborts first.
 *
 * The timer and the listeners are removed either way, so nothing is left behind for a
 * test's sanitizers to find.
 *
 * @param ms How long to wait, in milliseconds
 * @param signals Signals that end the wait early
 * @returns `true` if the whole time passed, `false` if a signal aborted the wait
 */
export function wait(ms: number, signals: readonly AbortSignal[]): Promise<boolean> {
  if (signals.some((signal) => signal.aborted)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (completed: boolean) => {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(true), ms);
    for (const signal of signals) signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Requests served by `Deno.serve`, whose `signal` the mock must not read: Deno aborts a
 * served request's signal when its answer was sent, and once a handler has read it,
 * prints "Deno.serve: request.signal aborts on successful responses (legacy behavior)"
 * into the user's output. A client that goes away during a wait is then not noticed
 * before the wait ends; closing the server ends every wait at once.
 */
export const UNWATCHED_REQUESTS: WeakSet<Request> = new WeakSet();
