// The mock's HTTP face: the request log, faults, and the Armor routes in its dialect.
import { type Context, Hono } from "hono";
import type { MockRequestRecord } from "./_types.ts";
import { authenticate } from "./_auth.ts";
import {
  authorizeBody,
  errorResponse,
  jsonResponse,
  loginErrorBody,
  tokenBody,
} from "./_dialects.ts";
import { answersItself, faultResponse } from "./_faults.ts";
import { randomBytes, toBase64 } from "./_random.ts";
import type { MockState, RequestState } from "./_state.ts";
import { UNWATCHED_REQUESTS, wait } from "./_wait.ts";

/** The methods each known path answers; any other method gets 405. */
const ALLOWED: Record<string, string> = {
  "/auth/authorize": "POST",
  "/auth/token": "POST",
  "/auth/token/reissue": "POST",
  "/me": "GET, HEAD",
  "/accounts": "GET, HEAD",
};

/** The endpoints an API key may not reach (armor-api.md). */
const RESTRICTED = [
  "/users/:id/keys",
  "/users/:id/keys/*",
  "/users/resetpassword",
  "/users/setpassword",
  "/usersecurity/*",
];

/** Builds the Hono app of a mock around its state. */
export function createApp(state: MockState): Hono {
  const { dialect } = state.settings;
  const app = new Hono();

  /** Waits in real time; `undefined` if the whole time passed, else the answer to give. */
  const waitFor = async (c: Context, ms: number): Promise<Response | undefined> => {
    const raw = c.req.raw;
    const client = UNWATCHED_REQUESTS.has(raw) ? undefined : raw.signal;
    const stop = state.requestStates.get(raw)?.stop ?? state.pending.signal;
    if (await wait(ms, client === undefined ? [stop] : [client, stop])) return undefined;
    if (client?.aborted) {
      return errorResponse(dialect, 499, "client_closed_request", "Client closed the request");
    }
    return errorResponse(
      dialect,
      503,
      "temporarily_unavailable",
      "The mock Armor API stopped waiting: it is shutting down",
    );
  };

  /**
   * Reads the fields of a JSON or form-encoded body, as Armor's ASP.NET server binds them:
   * names without regard to case (the first of two spellings wins), extra fields ignored.
   * Returns the 415 or 400 answer for another media type or a body that is not an object.
   */
  const bodyFields = (c: Context): Fields | Response => {
    const type = c.req.header("content-type")?.split(";", 1)[0].trim().toLowerCase();
    const requestState = state.requestStates.get(c.req.raw);
    if (type === "application/x-www-form-urlencoded") {
      const text = new TextDecoder().decode(requestState?.bytes ?? new Uint8Array(0));
      return new Fields(new URLSearchParams(text));
    }
    if (type !== "application/json") {
      return errorResponse(
        dialect,
        415,
        "invalid_request",
        "Content-Type must be application/json or application/x-www-form-urlencoded",
      );
    }
    const body = requestState?.record.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return errorResponse(
        dialect,
        400,
        "invalid_request",
        "The request body must be a JSON object",
      );
    }
    return new Fields(Object.entries(body));
  };

  /** The string fields `names` of a body, or the 400 answer naming the first one wrong. */
  const stringFields = <Name extends string>(
    c: Context,
    names: readonly Name[],
  ): Record<Name, string> | Response => {
    const fields = bodyFields(c);
    if (fields instanceof Response) return fields;
    const values = {} as Record<Name, string>;
    for (const name of names) {
      const value = fields.get(name);
      if (typeof value === "string") {
        values[name] = value;
        continue;
      }
      const problem = value === undefined || value === null ? "is missing" : "must be a string";
      return errorResponse(dialect, 400, "invalid_request", `${name} ${problem}`);
    }
    return values;
  };

  app.use(async (c, next) => {
    const raw = c.req.raw;
    const path = c.req.path;
    const record: MockRequestRecord = {
      method: raw.method,
      path,
      headers: Object.fromEntries(raw.headers),
      body: undefined,
      time: state.clock.now(),
      status: 0,
    };
    state.requests.push(record);
    const requestState: RequestState = { record, bytes: undefined, stop: state.pending.signal };
    state.requestStates.set(raw, requestState);
    state.counts.set(path, (state.counts.get(path) ?? 0) + 1);
    if (raw.body !== null) {
      try {
        const bytes = new Uint8Array(await raw.arrayBuffer());
        record.body = parseBody(new TextDecoder().decode(bytes));
        if (bytes.length > 0) requestState.bytes = bytes;
      } catch {
        record.status = 400;
        return errorResponse(dialect, 400, "invalid_request", "The request body could not be read");
      }
    }
    await next();
    record.status = c.res.status;
  });

  app.use(async (c, next) => {
    const fault = state.faults.take(c.req.path);
    if (fault === undefined) return await next();
    if (fault.delayMs) {
      const stopped = await waitFor(c, fault.delayMs);
      if (stopped !== undefined) return stopped;
    }
    if (!answersItself(fault)) return await next();
    return faultResponse(fault, dialect, c.req.path);
  });

  app.post("/auth/authorize", async (c) => {
    // Field names in any case: PowerShell sends Username/Password, armorapi userName.
    const body = stringFields(c, ["username", "password"]);
    if (body instanceof Response) return body;
    const { username, password } = body;
    const { maxFailedLogins, lockoutMs, codeLifetimeMs } = state.settings;
    const now = state.clock.now();
    let failure = state.failures.get(username);
    if (failure?.lockedUntil !== undefined && failure.lockedUntil <= now) {
      state.failures.delete(username);
      failure = undefined;
    }
    if (failure?.lockedUntil !== undefined) {
      const seconds = Math.max(1, Math.ceil((failure.lockedUntil - now) / 1000));
      return jsonResponse(
        loginErrorBody(
          dialect,
          429,
          "too_many_attempts",
          `Too many failed logins for this user: try again in ${seconds} s`,
          failure.count,
        ),
        429,
        { "retry-after": String(seconds) },
      );
    }
    const user = state.users.get(username);
    if (user === undefined || user.profile.password !== password) {
      const count = (failure?.count ?? 0) + 1;
      state.failures.set(username, {
        count,
        lockedUntil: count >= maxFailedLogins ? now + lockoutMs : undefined,
      });
      return jsonResponse(
        loginErrorBody(dialect, 401, "invalid_credentials", "Invalid username or password", count),
        401,
      );
    }
    state.failures.delete(username);
    if (user.profile.mfaDelayMs > 0) {
      const stopped = await waitFor(c, user.profile.mfaDelayMs);
      if (stopped !== undefined) return stopped;
    }
    const code = toBase64(randomBytes(32));
    state.codes.set(code, { user, expiresAt: state.clock.now() + codeLifetimeMs });
    return jsonResponse(authorizeBody(dialect, code, codeLifetimeMs));
  });

  app.post("/auth/token", (c) => {
    const body = stringFields(c, ["code", "grant_type"]);
    if (body instanceof Response) return body;
    if (body.grant_type !== "authorization_code") {
      return errorResponse(
        dialect,
        400,
        "unsupported_grant_type",
        "The grant_type must be authorization_code",
      );
    }
    const entry = state.codes.get(body.code);
    if (entry !== undefined) state.codes.delete(body.code);
    if (entry === undefined || state.clock.now() > entry.expiresAt) {
      return errorResponse(
        dialect,
        400,
        "invalid_grant",
        "The code is unknown, already used or expired",
      );
    }
    const token = state.issueToken(entry.user);
    const idToken = toBase64(randomBytes(48));
    return jsonResponse(tokenBody(dialect, token, idToken, state.settings.expiresIn));
  });

  // Authorization and X-Account-Context may come beside the body, as PowerShell sends
  // them; the request log keeps them, and the body's token decides.
  app.post("/auth/token/reissue", (c) => {
    const body = stringFields(c, ["token"]);
    if (body instanceof Response) return body;
    const old = state.liveToken(body.token);
    if (old === undefined) {
      return errorResponse(
        dialect,
        401,
        "invalid_token",
        "The token is unknown, revoked or expired: log in again",
        { "www-authenticate": "FH-AUTH" },
      );
    }
    const token = state.issueToken(old.user);
    if (state.settings.revokeOnReissue) old.revoked = true;
    return jsonResponse(tokenBody(dialect, token, null, state.settings.expiresIn));
  });

  app.get("/me", async (c) => {
    const caller = await authenticate(state, c);
    return caller instanceof Response ? caller : jsonResponse(caller.user.me);
  });

  app.get("/accounts", async (c) => {
    const caller = await authenticate(state, c);
    return caller instanceof Response ? caller : jsonResponse(caller.user.accounts);
  });

  // API keys cannot reach the user-key, password and user-security endpoints (403); a
  // token gets a minimal answer: an empty list for a GET, else 204.
  const restricted = async (c: Context) => {
    const caller = await authenticate(state, c);
    if (caller instanceof Response) return caller;
    if (caller.byKey) {
      return errorResponse(
        dialect,
        403,
        "insufficient_scope",
        "API keys cannot use this endpoint: sign in with a user name and password",
      );
    }
    return c.req.method === "GET" ? jsonResponse([]) : new Response(null, { status: 204 });
  };
  for (const path of RESTRICTED) app.all(path, restricted);

  for (const [path, allow] of Object.entries(ALLOWED)) {
    app.all(
      path,
      () => errorResponse(dialect, 405, "method_not_allowed", `Use ${allow} on ${path}`, { allow }),
    );
  }
  app.notFound((c) =>
    errorResponse(dialect, 404, "not_found", `No route for ${c.req.method} ${c.req.path}`)
  );
  app.onError((error) =>
    errorResponse(
      dialect,
      500,
      "server_error",
      `The mock Armor API failed: ${(error as Error).message}`,
    )
  );
  return app;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A body's fields by name without regard to case; the first of two spellings wins. */
class Fields {
  #values = new Map<string, unknown>();

  constructor(entries: Iterable<[string, unknown]>) {
    for (const [name, value] of entries) {
      const key = name.toLowerCase();
      if (!this.#values.has(key)) this.#values.set(key, value);
    }
  }

  get(name: string): unknown {
    return this.#values.get(name.toLowerCase());
  }
}
