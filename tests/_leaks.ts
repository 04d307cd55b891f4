// Test helpers shared by the property, fault, load and logger tests: every way a value
// can be shown to a person or a log, and a check that none of them shows a secret.

/** A top-level view that could not be computed (it threw) is a finding in itself. */
function attempt(name: string, view: () => string | undefined): [string, string] {
  try {
    return [name, view() ?? ""];
  } catch (error) {
    return [name, `<${name} threw: ${error instanceof Error ? error.message : String(error)}>`];
  }
}

/** A view along the cause chain; one that throws (a cycle, a BigInt) shows nothing. */
function quietly(name: string, view: () => string | undefined): [string, string] {
  try {
    return [name, view() ?? ""];
  } catch {
    return [name, ""];
  }
}

/**
 * Every way `value` can be shown: `String()`, `JSON.stringify`, `Deno.inspect` (plain,
 * deep, and with hidden properties) and, for errors, the message, stack and string of
 * each error along the `cause` chain (and `AggregateError.errors`).
 */
export function views(value: unknown): [string, string][] {
  const out: [string, string][] = [
    attempt("String", () => String(value)),
    attempt("JSON.stringify", () => JSON.stringify(value)),
    attempt("Deno.inspect", () => Deno.inspect(value, { depth: 32, colors: false })),
    attempt(
      "Deno.inspect(showHidden)",
      () => Deno.inspect(value, { depth: 32, colors: false, showHidden: true }),
    ),
  ];
  const seen = new Set<unknown>();
  const queue: [string, unknown][] = [["error", value]];
  while (queue.length > 0) {
    const [where, current] = queue.shift()!;
    if (current === null || current === undefined || seen.has(current) || seen.size > 64) continue;
    seen.add(current);
    if (typeof current === "string") {
      out.push([where, current]);
      continue;
    }
    if (typeof current !== "object") continue;
    const error = current as { message?: unknown; stack?: unknown; cause?: unknown };
    out.push(quietly(`${where}.message`, () => String(error.message)));
    out.push(quietly(`${where}.stack`, () => String(error.stack)));
    out.push(quietly(`${where} as string`, () => String(current)));
    out.push(quietly(`${where} as JSON`, () => JSON.stringify(current)));
    if ("cause" in error) queue.push([`${where}.cause`, error.cause]);
    if (current instanceof AggregateError) {
      current.errors.forEach((inner, i) => queue.push([`${where}.errors[${i}]`, inner]));
    }
  }
  return out;
}

/** The secret as it would appear inside a JSON string or an inspected string. */
function forms(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1)])];
}

/**
 * Returns a description of the first view of `value` that shows one of `secrets`
 * (ignoring those shorter than 8 characters), or `undefined` when none does.
 */
export function findSecret(value: unknown, secrets: readonly string[]): string | undefined {
  const wanted = secrets.filter((secret) => typeof secret === "string" && secret.length >= 8);
  if (wanted.length === 0) return undefined;
  for (const [name, text] of views(value)) {
    if (text.startsWith(`<${name} threw:`)) return `${name} could not be shown: ${text}`;
    for (const secret of wanted) {
      for (const form of forms(secret)) {
        if (text.includes(form)) return `${name} shows a secret (${secret.length} chars)`;
      }
    }
  }
  return undefined;
}

/** Throws when some view of `value` shows one of `secrets`. */
export function assertNoSecret(value: unknown, secrets: readonly string[], what = "value"): void {
  const found = findSecret(value, secrets);
  if (found !== undefined) throw new Error(`${what}: ${found}`);
}

/** How many of `secrets` the text shows (for reports). */
export function countSecrets(text: string, secrets: Iterable<string>): number {
  let found = 0;
  for (const secret of secrets) if (secret.length >= 8 && text.includes(secret)) found++;
  return found;
}
