/**
 * The token an Armor API token call resolves with.
 *
 * @module
 */

import { InvalidField } from "./errors.ts";
import { REDACTED } from "./_redact.ts";
import { sessionLengthMs } from "./renewal.ts";

/** An access token as Armor issues it: 32 characters of `[a-z0-9]`. */
export const ACCESS_TOKEN_PATTERN: RegExp = /^[a-z0-9]{32}$/;

// RFC 6750's token68 characters, at most 32 of them: "Bearer" and its kin.
const TOKEN_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9._~+\/-]{0,31}=*$/;

const INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * A session token from `POST /auth/token` or `POST /auth/token/reissue`, with the wire
 * fields Armor documents and the expiry this module computed from them.
 *
 * The token and ID token are readable (`token.access_token`) but are never shown: when
 * printed (`console.log`, `Deno.inspect`) or serialized (`JSON.stringify`) they are
 * redacted.
 *
 * @example Read a token's fields
 * ```ts
 * import { ArmorApiToken } from "@armor-api/auth";
 * import assert from "node:assert/strict";
 *
 * const token = new ArmorApiToken(
 *   { access_token: "0123456789abcdef0123456789abcdef", id_token: null, expires_in: 15, token_type: "Bearer" },
 *   Date.UTC(2026, 10, 23, 10, 0),
 * );
 * assert.equal(token.expiresAt.toISOString(), "2026-11-23T10:15:00.000Z");
 * assert.equal(JSON.stringify(token).includes(token.access_token), false);
 * ```
 */
export class ArmorApiToken {
  readonly #accessToken: string;
  readonly #idToken: string | null;
  /** The lifetime as Armor sent it: minutes (see `sessionLengthMs` for the rule). */
  readonly expires_in: number;
  /** The token type Armor sent, e.g. `"Bearer"`. */
  readonly token_type: string;
  /** When the token was received, by the clock of the call. */
  readonly issuedAt: Date;
  /** When the token expires, by the rule of `sessionLengthMs`. */
  readonly expiresAt: Date;

  /**
   * Wraps token fields already checked by the caller.
   *
   * @param fields The wire fields.
   * @param issuedAt When the token was received, in epoch milliseconds.
   */
  constructor(
    fields: {
      access_token: string;
      id_token: string | null;
      expires_in: number;
      token_type: string;
    },
    issuedAt: number,
  ) {
    this.#accessToken = fields.access_token;
    this.#idToken = fields.id_token;
    this.expires_in = fields.expires_in;
    this.token_type = fields.token_type;
    this.issuedAt = new Date(issuedAt);
    this.expiresAt = new Date(issuedAt + sessionLengthMs(fields.expires_in));
  }

  /** The access token, 32 characters of `[a-z0-9]`. Send it as `FH-AUTH <token>`. */
  get access_token(): string {
    return this.#accessToken;
  }

  /** The ID token from `/auth/token`; `null` after a reissue. */
  get id_token(): string | null {
    return this.#idToken;
  }

  /**
   * The fields with the secrets redacted, for `JSON.stringify`.
   *
   * @returns A plain object safe to log.
   */
  toJSON(): Record<string, unknown> {
    return {
      access_token: REDACTED,
      id_token: this.#idToken === null ? null : REDACTED,
      expires_in: this.expires_in,
      token_type: this.token_type,
      issuedAt: this.issuedAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
    };
  }

  /**
   * How `Deno.inspect` and `console.log` show it: redacted.
   *
   * @ignore
   */
  [INSPECT](): string {
    return `ArmorApiToken { access_token: ${REDACTED}, id_token: ${
      this.#idToken === null ? "null" : REDACTED
    }, expires_in: ${this.expires_in}, token_type: ${JSON.stringify(this.token_type)}, ` +
      `expiresAt: ${this.expiresAt.toISOString()} }`;
  }

  /**
   * How Node's `util.inspect` shows it: redacted.
   *
   * @ignore
   */
  [NODE_INSPECT](): string {
    return this[INSPECT]();
  }
}

/** True when `text` shows `secret` (of 8 characters or more). */
function echoes(text: string, secret: string): boolean {
  return secret.length >= 8 && text.includes(secret);
}

/**
 * Checks a token response body: `access_token` 32 characters of `[a-z0-9]`, `token_type`
 * a non-empty string, `expires_in` a positive finite number, `id_token` a string or null.
 * Messages name the field, never its value.
 */
export function parseTokenBody(
  json: Record<string, unknown>,
  issuedAt: number,
  sent: readonly string[],
): ArmorApiToken {
  const { access_token, id_token, expires_in, token_type } = json;
  if (typeof access_token !== "string" || !ACCESS_TOKEN_PATTERN.test(access_token)) {
    throw new InvalidField("access_token is not 32 characters of [a-z0-9]");
  }
  if (typeof token_type !== "string" || !TOKEN_TYPE_PATTERN.test(token_type)) {
    throw new InvalidField("token_type is not a short non-empty word such as Bearer");
  }
  let echoed = echoes(token_type, access_token) ||
    (typeof id_token === "string" && echoes(token_type, id_token));
  for (let i = 0; !echoed && i < sent.length; i++) echoed = echoes(token_type, sent[i]);
  if (echoed) throw new InvalidField("token_type echoes a secret of the request");
  if (typeof expires_in !== "number" || !Number.isFinite(expires_in) || expires_in <= 0) {
    throw new InvalidField("expires_in is not a positive number");
  }
  if (id_token !== undefined && id_token !== null && typeof id_token !== "string") {
    throw new InvalidField("id_token is neither a string nor null");
  }
  return new ArmorApiToken(
    { access_token, id_token: id_token ?? null, expires_in, token_type },
    issuedAt,
  );
}
