// The server's own words about a failed call: the short code and description an error
// body carries, in each of the documented dialects, made safe to show.

import { scrubText } from "./_redact.ts";
import { isRecord } from "./_validate.ts";

/** The largest error body read for its details, in bytes; a larger one adds nothing. */
export const MAX_ERROR_BODY_BYTES = 16_384;

/** The longest server error code kept, in characters. */
export const MAX_SERVER_CODE_LENGTH = 64;

/** The longest server description kept, in characters. */
export const MAX_SERVER_MESSAGE_LENGTH = 300;

/** The longest server reference id kept, in characters. */
export const MAX_REFERENCE_ID_LENGTH = 100;

// A reference id as servers write them (a GUID, a trace id, `0HN1:00000002`): nothing
// that could carry markup, spaces or control characters into a message.
const REFERENCE_ID = /^[A-Za-z0-9._:-]+$/;

/** What an error body said, scrubbed. */
export interface ServerError {
  serverCode?: string;
  serverMessage?: string;
  referenceId?: string;
}

/** The value of the first field named `name` in any case (`referenceId`, `ReferenceId`). */
function pickAnyCase(json: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const key of Object.keys(json)) {
    if (key.toLowerCase() === lower) return json[key];
  }
  return undefined;
}

/**
 * A reference id made safe to show: a string or a whole number, trimmed, 1 to
 * {@linkcode MAX_REFERENCE_ID_LENGTH} characters of letters, digits and `-_.:`, holding no
 * secret of the call; anything else gives nothing. It is not cut: a cut id finds nothing.
 */
function cleanReferenceId(value: unknown, secrets: readonly string[]): string | undefined {
  const text = typeof value === "string"
    ? value.trim()
    : Number.isSafeInteger(value)
    ? String(value)
    : undefined;
  if (text === undefined || text.length > MAX_REFERENCE_ID_LENGTH || !REFERENCE_ID.test(text)) {
    return undefined;
  }
  if (scrubText(text, secrets) !== text) return undefined;
  return text;
}

function pick(json: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = json[name];
    if (typeof value === "string" && value.trim() !== "") return value;
  }
  return undefined;
}

/**
 * Made safe to show: secrets replaced, control and format characters (newlines, escape
 * sequences, bidirectional overrides) removed, white space collapsed, cut to `max`.
 */
function clean(value: string, secrets: readonly string[], max: number): string | undefined {
  const scrubbed = scrubText(value, secrets)
    // Anything shaped like a code or token, even one of another call: a long run of
    // base64 or hex characters with a digit in it.
    .replace(/[A-Za-z0-9+/_=-]{20,}/g, (run) => /\d/.test(run) ? "[REDACTED]" : run)
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (scrubbed === "") return undefined;
  if (scrubbed.length <= max) return scrubbed;
  // Cut on a code point boundary.
  return `${Array.from(scrubbed).slice(0, max - 1).join("")}…`;
}

/**
 * Reads the documented error bodies: OpenAPI's `{"error", "error_description"}`,
 * `{"errorCode", ...}`, ASP.NET's `{"Message"}` or `{"message"}`, and a `referenceId`
 * (`@armor/api`'s `{"message", "referenceId"}`, `{"ErrorCode", "Message", "Detail",
 * "ReferenceId"}`). Anything else, or text that is not JSON, gives nothing.
 */
export function parseServerError(text: string, secrets: readonly string[]): ServerError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  if (!isRecord(json)) return {};
  const body = json;
  const found: ServerError = {};
  const code = pick(body, ["error", "errorCode", "ErrorCode", "code", "Code"]);
  const message = pick(body, [
    "error_description",
    "errorDescription",
    "Message",
    "message",
    "errorMessage",
    "ErrorMessage",
  ]);
  if (code !== undefined) {
    const safe = clean(code, secrets, MAX_SERVER_CODE_LENGTH);
    if (safe !== undefined) found.serverCode = safe;
  }
  if (message !== undefined) {
    const safe = clean(message, secrets, MAX_SERVER_MESSAGE_LENGTH);
    if (safe !== undefined) found.serverMessage = safe;
  }
  const referenceId = cleanReferenceId(pickAnyCase(body, "referenceId"), secrets);
  if (referenceId !== undefined) found.referenceId = referenceId;
  return found;
}

/**
 * ` invalid_credentials: The provided credentials are invalid`, then
 * ` (reference id 3f2504e0-...)` where the server gave one, or nothing.
 */
export function describeServerError(error: ServerError): string {
  const parts = [error.serverCode, error.serverMessage].filter((part) => part !== undefined);
  const words = parts.length === 0 ? "" : ` ${parts.join(": ")}`;
  return error.referenceId === undefined ? words : `${words} (reference id ${error.referenceId})`;
}
