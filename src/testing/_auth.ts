// Who is calling: the user behind an FH-AUTH token or an ARMOR-PSK signature, checked
// against X-Account-Context.
import type { Context } from "hono";
import { errorResponse } from "./_dialects.ts";
import { isPskHeader } from "./_psk.ts";
import type { MockState, UserState } from "./_state.ts";

/** The caller of an authenticated route. */
export interface Caller {
  user: UserState;
  /** `true` when the request was signed with an API key rather than sent with a token. */
  byKey: boolean;
}

/** The message ASP.NET sends with a 401, which the PowerShell dialect repeats. */
const DENIED = "Authorization has been denied for this request.";

/**
 * Finds the caller of a request, or returns the 401 or 403 answer: 401 for a missing,
 * unknown, revoked or expired token or a refused API-key signature, 403 for an
 * `X-Account-Context` the user lacks.
 */
export async function authenticate(state: MockState, c: Context): Promise<Caller | Response> {
  const { dialect } = state.settings;
  const header = c.req.header("authorization");
  if (header !== undefined && isPskHeader(header)) {
    const raw = c.req.raw;
    const key = await state.psk.verify(header, {
      method: raw.method,
      // The path as sent: Armor and clients sign it percent-encoded, where Hono's
      // c.req.path is decoded.
      path: rawPath(raw.url),
      body: state.requestStates.get(raw)?.bytes,
    }, state.clock.now());
    if ("error" in key) {
      return errorResponse(dialect, 401, key.error, key.description, {
        "www-authenticate": "ARMOR-PSK",
      });
    }
    return checkContext(state, c, { user: state.users.get(key.username)!, byKey: true });
  }
  const match = header === undefined ? null : /^FH-AUTH +(\S+)\s*$/i.exec(header);
  const token = match === null ? undefined : state.liveToken(match[1]);
  if (token === undefined) {
    return errorResponse(
      dialect,
      401,
      "invalid_token",
      dialect === "powershell"
        ? DENIED
        : "The access token is missing, unknown, revoked or expired",
      { "www-authenticate": "FH-AUTH" },
    );
  }
  return checkContext(state, c, { user: token.user, byKey: false });
}

function checkContext(state: MockState, c: Context, caller: Caller): Caller | Response {
  const context = c.req.header("x-account-context");
  if (context !== undefined && !caller.user.accountIds.has(context.trim())) {
    return errorResponse(
      state.settings.dialect,
      403,
      "invalid_account_context",
      `Account ${context} is not available to this user`,
    );
  }
  return caller;
}

/** The path of a request URL as sent: percent-encoding kept, without query or fragment. */
function rawPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start === -1) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end === -1 ? url.slice(start) : url.slice(start, start + end);
}
