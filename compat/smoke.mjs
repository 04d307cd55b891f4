// @ts-check
// The one smoke flow every runtime runs against the mock Armor API: log in, call the
// API, reissue the token, call again, disconnect, then sign a POST with an API key each
// way (raw, sha512). Plain JavaScript with Web APIs only,
// so Deno, Node, Bun and workerd load this same file.

/** The mock's default user (see DEFAULT_MOCK_USER in src/testing/mock_armor_api.ts). */
export const USERNAME = "demo@example.com";
const PASSWORD = "demo-password";

/**
 * The API keys the mock is served with (compat/run.ts): one that signs bodies raw, as
 * Armor's OpenAPI contract documents (the default), one that signs a SHA-512 digest.
 */
export const API_KEYS = [
  { id: "6f1c2a4e-3b5d-4e7f-8a9b-0c1d2e3f4a5b", secret: "compat-raw-secret" },
  {
    id: "7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
    secret: "compat-sha512-secret",
    bodySigning: /** @type {"sha512"} */ ("sha512"),
  },
];

/**
 * Runs the flow with the module's exports and returns a report; never throws.
 *
 * The report names the steps that passed, and for a failure the step and the error's
 * name, code and message (the library keeps secrets out of its messages; the token
 * itself is never put in the report).
 *
 * @param {any} armor The module's exports: `mod.ts`, or a bundle of it.
 * @param {string} baseUrl The mock's origin, e.g. `http://127.0.0.1:41234`.
 * @returns {Promise<{ ok: boolean, steps: string[], step?: string, error?: string }>}
 */
export async function smoke(armor, baseUrl) {
  /** @type {string[]} */
  const steps = [];
  let step = "connect";
  /** @param {boolean} condition @param {string} message */
  const check = (condition, message) => {
    if (!condition) throw new Error(message);
  };
  try {
    const session = await armor.ArmorSession.connect({
      username: USERNAME,
      password: PASSWORD,
      baseUrl,
    });
    check(session.isActive(), "The session is not active after connect");
    check(
      session.identity?.username === USERNAME,
      `session.identity.username is ${JSON.stringify(session.identity?.username)}`,
    );
    steps.push("connect");

    step = "GET /me";
    const me = await session.fetch("/me");
    await me.arrayBuffer();
    check(me.status === 200, `GET /me answered ${me.status}`);
    steps.push("GET /me 200");

    step = "updateArmorApiToken";
    const before = session.token;
    const renewed = await armor.updateArmorApiToken(undefined, { session });
    const after = session.token;
    check(after !== before, "The session kept its old token after the reissue");
    check(after === renewed.access_token, "The session does not hold the reissued token");
    steps.push("reissue");

    step = "GET /accounts";
    const accounts = await session.fetch("/accounts");
    const list = await accounts.json();
    check(accounts.status === 200, `GET /accounts answered ${accounts.status}`);
    check(Array.isArray(list) && list.length > 0, "GET /accounts sent no accounts");
    steps.push("GET /accounts 200");

    step = "disconnect";
    await session.disconnect();
    check(!session.isActive(), "The session is still active after disconnect");
    steps.push("disconnect");

    for (const key of API_KEYS) {
      const mode = key.bodySigning ?? "raw";
      step = `API key (${mode})`;
      /** @type {Record<string, string>} */
      const env = {
        ARMOR_API_KEY_ID: key.id,
        ARMOR_API_SECRET_KEY: key.secret,
        ARMOR_BASE_URL: baseUrl,
      };
      if (key.bodySigning !== undefined) env.ARMOR_API_BODY_SIGNING = key.bodySigning;
      const keyed = await armor.ArmorSession.connect(armor.connectOptionsFromEnv(env));
      check(keyed.scheme === "ARMOR-PSK", `An API-key session's scheme is ${keyed.scheme}`);
      // The mock checks the signature over the body, then refuses API keys on this path
      // (403): a 401 means it refused the signature.
      const signed = await keyed.fetch("/users/resetpassword", {
        method: "POST",
        body: JSON.stringify({ note: "signed on every runtime, é ✓" }),
      });
      await signed.arrayBuffer();
      check(
        signed.status === 403,
        `A POST signed ${mode} answered ${signed.status}, expected 403 (401: signature refused)`,
      );
      await keyed.disconnect();
      steps.push(`API key, POST signed ${mode}`);
    }
    return { ok: true, steps };
  } catch (error) {
    return { ok: false, steps, step, error: describe(error) };
  }
}

/**
 * A call with a short timeout to a path the mock holds for 5 s (`/slow`): it must fail
 * with `TIMEOUT` after about half a second. On workerd this runs as a request of its own,
 * after the flow's request ended with its calls' longer timeouts still pending: a timer
 * shared across requests would misfire here.
 *
 * @param {any} armor The module's exports.
 * @param {string} baseUrl The mock's origin.
 * @returns {Promise<{ ok: boolean, steps: string[], step?: string, error?: string }>}
 */
export async function smokeTimeout(armor, baseUrl) {
  const step = "timeout";
  try {
    const session = new armor.ArmorSession({ baseUrl, timeout: 500 });
    session.authorize("0123456789abcdef0123456789abcdef", 15);
    const started = Date.now();
    let code = "none";
    try {
      const response = await session.fetch("/slow");
      await response.arrayBuffer();
      code = `an answer (${response.status})`;
    } catch (error) {
      code = /** @type {any} */ (error)?.code ?? String(error);
    }
    const took = Date.now() - started;
    if (code !== "TIMEOUT") throw new Error(`A 500 ms timeout ended with ${code}`);
    if (took > 2_500) throw new Error(`A 500 ms timeout fired after ${took} ms`);
    return { ok: true, steps: [`timeout after ${took} ms`] };
  } catch (error) {
    return { ok: false, steps: [], step, error: describe(error) };
  }
}

/**
 * Both reports as one: ok when both are.
 *
 * @param {{ ok: boolean, steps: string[], step?: string, error?: string }} first
 * @param {{ ok: boolean, steps: string[], step?: string, error?: string }} second
 */
export function joinReports(first, second) {
  if (!first.ok) return first;
  return { ...second, steps: [...first.steps, ...second.steps] };
}

/** @param {unknown} error */
function describe(error) {
  if (!(error instanceof Error)) return String(error);
  const code = "code" in error && typeof error.code === "string" ? ` ${error.code}` : "";
  let text = `${error.name}${code}: ${error.message}`;
  // The root cause says what the runtime refused ("Illegal invocation").
  let cause = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    text += ` (cause: ${cause.name}: ${cause.message})`;
    cause = cause.cause;
  }
  return text.replace(PASSWORD, "[REDACTED]");
}
