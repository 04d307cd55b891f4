// Keeping secrets out of what the module shows: errors, logs, plans.

/** What a secret is replaced with wherever the module shows a request. */
export const REDACTED = "[REDACTED]";

/** True when `text` contains one of `secrets`, or text of the secrets' `shape`. */
function leaks(text: unknown, secrets: readonly string[], shape?: RegExp): boolean {
  if (typeof text !== "string") return false;
  for (const secret of secrets) if (secret !== "" && text.includes(secret)) return true;
  return shape !== undefined && shape.test(text);
}

/** Each secret as written raw, inside a JSON string, URL-encoded and form-encoded. */
function variants(secrets: readonly string[]): string[] {
  const all = new Set<string>();
  for (const secret of secrets) {
    if (secret === "") continue;
    all.add(secret);
    all.add(JSON.stringify(secret).slice(1, -1));
    all.add(encodeURIComponent(secret));
    // As a form body writes it (application/x-www-form-urlencoded: "+" for a space).
    all.add(new URLSearchParams([["", secret]]).toString().slice(1));
  }
  return [...all];
}

/** How many objects {@linkcode scrubCause} looks through before it withholds the cause. */
const SCRUB_BUDGET = 1_000;

/** The `toString`s that show nothing but what is looked through anyway. */
const PLAIN_TO_STRINGS: ReadonlySet<unknown> = new Set([
  Object.prototype.toString,
  Error.prototype.toString,
  Array.prototype.toString,
  Function.prototype.toString,
]);

/** How `Deno.inspect`, `console.log` and Node's `util.inspect` let an object print itself. */
const INSPECT_HOOKS = [Symbol.for("Deno.customInspect"), Symbol.for("nodejs.util.inspect.custom")];

/**
 * True when `value` or anything reachable from it shows a secret: strings, an error's
 * message and stack, every own property (the cause chain, `AggregateError.errors`, the
 * request options some fetch wrappers keep), and the entries of maps and sets; also what
 * printing it would show: its `toJSON` and `toString`. An own getter that
 * `JSON.stringify` would run, or a custom inspect, shows what is unknown: it counts as
 * showing one. A value too large to look through counts as showing one.
 */
function shows(
  value: unknown,
  secrets: readonly string[],
  shape: RegExp | undefined,
  seen: Set<unknown>,
  budget: { left: number },
): boolean {
  if (typeof value === "string") return leaks(value, secrets, shape);
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  if (seen.has(value)) return false;
  if (--budget.left < 0) return true;
  seen.add(value);
  try {
    const error = value as {
      message?: unknown;
      stack?: unknown;
      toJSON?: unknown;
      toString?: unknown;
      [hook: symbol]: unknown;
    };
    if (leaks(error.message, secrets, shape) || leaks(error.stack, secrets, shape)) return true;
    for (const hook of INSPECT_HOOKS) if (typeof error[hook] === "function") return true;
    const { toJSON, toString } = error;
    if (
      typeof toJSON === "function" && shows(toJSON.call(value, ""), secrets, shape, seen, budget)
    ) {
      return true;
    }
    if (
      typeof toString === "function" && !PLAIN_TO_STRINGS.has(toString) &&
      shows(toString.call(value), secrets, shape, seen, budget)
    ) {
      return true;
    }
    if (value instanceof Map || value instanceof Set) {
      for (const entry of value) if (shows(entry, secrets, shape, seen, budget)) return true;
    }
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key === "string" && leaks(key, secrets, shape)) return true;
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor === undefined) continue;
      if ("value" in descriptor) {
        if (shows(descriptor.value, secrets, shape, seen, budget)) return true;
      } else if (descriptor.enumerable) {
        // A getter `JSON.stringify` would run: what it shows is unknown, so it is not run.
        return true;
      }
    }
  } catch {
    return true; // A proxy or getter that throws: withhold rather than guess.
  }
  return false;
}

/**
 * Returns `cause` when nothing reachable from it (message, stack, properties, its own
 * causes at any depth) shows a secret, or text of the secrets' `shape` (for secrets the
 * caller cannot name, such as whatever a token store holds); otherwise a plain Error of
 * the same name whose message says why it was replaced. `shape` must not be global.
 */
export function scrubCause(cause: unknown, secrets: readonly string[], shape?: RegExp): unknown {
  if (!shows(cause, variants(secrets), shape, new Set(), { left: SCRUB_BUDGET })) return cause;
  const replacement = new Error("Details withheld: they contained a secret");
  let name: unknown;
  try {
    name = typeof cause === "object" && cause !== null
      ? (cause as { name?: unknown }).name
      : undefined;
  } catch {
    name = undefined; // A proxy or getter that throws: no name.
  }
  // Kept only when it is a plain name (`ReplyError`) that shows no secret: a client may
  // put the command it failed, values and all, in the name too.
  if (
    typeof name === "string" && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) &&
    !leaks(name, variants(secrets), shape)
  ) {
    replacement.name = name;
  }
  return replacement;
}

/**
 * `text` with every secret (as written, JSON-escaped, URL- or form-encoded) replaced by
 * {@linkcode REDACTED}: for text a server sent back, which may echo what it was given.
 */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so that a secret inside another is not left half-replaced.
  for (const secret of variants(secrets).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(REDACTED);
  }
  return out;
}
