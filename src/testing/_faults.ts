// Injected faults: checking them, queueing them and turning them into answers.
import type { MockDialect, MockFault } from "./_types.ts";
import { errorBody } from "./_dialects.ts";

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

interface QueuedFault {
  fault: MockFault;
  remaining: number;
}

/** Faults in the order they were queued, each used up after `times` requests. */
export class FaultQueue {
  #faults: QueuedFault[] = [];

  /**
   * Checks a fault and queues a copy of it.
   *
   * @throws {RangeError} If `status`, `times` or `delayMs` is out of range
   * @throws {TypeError} If a body is given with a status that cannot have one
   */
  add(fault: MockFault): void {
    const { status, body, times = 1, delayMs } = fault;
    if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
      throw new RangeError(`Fault status must be an integer from 200 to 599, got ${status}`);
    }
    if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) {
      throw new RangeError(`Fault times must be an integer >= 1 or Infinity, got ${times}`);
    }
    if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
      throw new RangeError(`Fault delayMs must be a finite number >= 0, got ${delayMs}`);
    }
    if (NULL_BODY_STATUSES.has(status ?? 500) && body !== undefined && body !== null) {
      throw new TypeError(`Fault status ${status} cannot have a body: drop the body`);
    }
    const copy = { ...fault, headers: fault.headers && { ...fault.headers } };
    this.#faults.push({ fault: copy, remaining: times });
  }

  /** Takes one use of the first queued fault for `path`, if any. */
  take(path: string): MockFault | undefined {
    const index = this.#faults.findIndex(({ fault }) =>
      fault.path === undefined || fault.path === path
    );
    if (index === -1) return undefined;
    const queued = this.#faults[index];
    if (--queued.remaining <= 0) this.#faults.splice(index, 1);
    return queued.fault;
  }

  /** Drops every queued fault. */
  clear(): void {
    this.#faults.length = 0;
  }
}

/** Tells whether a fault answers by itself rather than only delaying the real answer. */
export function answersItself(fault: MockFault): boolean {
  return fault.status !== undefined || fault.body !== undefined || fault.headers !== undefined;
}

/**
 * The body of a 500 from `POST /auth/token` as Armor's server was seen to send it
 * (armor-api.md): `{"ErrorCode", "Message", "Detail", "ReferenceId"}`, the reference id
 * being what Armor support asks for.
 */
export function tokenFaultBody(status: number): Record<string, unknown> {
  return {
    ErrorCode: "injected_fault",
    Message: `Injected fault (HTTP ${status})`,
    Detail: "The mock Armor API was told to fail this request",
    ReferenceId: crypto.randomUUID(),
  };
}

/**
 * The answer a fault gives: its body as asked, or by default the dialect's error body
 * (in the OpenAPI dialect, a 500 from `/auth/token` gets {@linkcode tokenFaultBody}).
 */
export function faultResponse(fault: MockFault, dialect: MockDialect, path: string): Response {
  const status = fault.status ?? 500;
  const headers = new Headers();
  let body: BodyInit | null;
  if (fault.body === undefined) {
    body = NULL_BODY_STATUSES.has(status) ? null : JSON.stringify(
      dialect === "openapi" && status === 500 && path === "/auth/token"
        ? tokenFaultBody(status)
        : errorBody(dialect, status, "injected_fault", `Injected fault (HTTP ${status})`),
    );
    if (body !== null) headers.set("content-type", "application/json");
  } else if (fault.body === null) {
    body = null;
  } else if (typeof fault.body === "string") {
    body = fault.body;
  } else if (fault.body instanceof Uint8Array) {
    body = fault.body.slice();
  } else {
    body = JSON.stringify(fault.body);
    headers.set("content-type", "application/json");
  }
  for (const [name, value] of Object.entries(fault.headers ?? {})) headers.set(name, value);
  return new Response(body, { status, headers });
}
