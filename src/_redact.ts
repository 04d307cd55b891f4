// Keeping secrets out of what the module shows: errors, logs, plans.

/** What a secret is replaced with wherever the module shows a request. */
export const REDACTED = "[REDACTED]";

/** True when `text` contains one of `secrets`. */
function leaks(text: unknown, secrets: readonly string[]): boolean {
  if (typeof text !== "string") return false;
  for (const secret of secrets) if (secret !== "" && text.includes(secret)) return true;
  return false;
}

/**
 * Returns `cause` when neither it nor its own causes show a secret in their message or
 * stack; otherwise a plain Error of the same name whose message says why it was replaced.
 */
export function scrubCause(cause: unknown, secrets: readonly string[]): unknown {
  let current: unknown = cause;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (typeof current === "string") {
      if (leaks(current, secrets)) return new Error("Details withheld: they contained a secret");
      break;
    }
    if (typeof current !== "object") break;
    const error = current as { message?: unknown; stack?: unknown; cause?: unknown };
    if (leaks(error.message, secrets) || leaks(error.stack, secrets)) {
      const replacement = new Error("Details withheld: they contained a secret");
      replacement.name = typeof (error as Error).name === "string"
        ? (error as Error).name
        : "Error";
      return replacement;
    }
    current = error.cause;
  }
  return cause;
}

/**
 * Shows a token shortened for people: its first four characters and its length, e.g.
 * `3f2a… (32 chars)`. Never the whole of it.
 */
export function shorten(secret: string): string {
  return `${secret.slice(0, Math.min(4, Math.floor(secret.length / 4)))}… (${secret.length} chars)`;
}
