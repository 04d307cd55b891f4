// The server's own words in an ArmorApiError (issue 12): serverCode and serverMessage
// from each documented error body, scrubbed of the call's secrets and of control
// characters, cut short, and nothing from a body that is not small JSON.

import assert from "node:assert/strict";
import { ArmorApiError, ArmorSession, requestArmorApiToken, updateArmorApiToken } from "../mod.ts";
import errorOpenapi from "./fixtures/error.openapi.json" with { type: "json" };
import errorPowershell from "./fixtures/error.powershell.json" with { type: "json" };
import errorLogin from "./fixtures/error.login.powershell.json" with { type: "json" };

const BASE = "https://api.armor.com";
const USERNAME = "ops@example.com";
const PASSWORD = "hunter2-correct-horse";
const CODE = "VGhpcyBpcyBzb21lIHRleHQgdG8gY29udmVydCB2aWEgQ3J5cHQu=";
const TOKEN = "2261bac252204c2ea93ed32ea1ffd3ab";

/** A fetch that answers every request with `status` and `body` (JSON unless a string). */
function answering(status: number, body: unknown): typeof fetch {
  return (() =>
    Promise.resolve(
      typeof body === "string" ? new Response(body, { status }) : Response.json(body, { status }),
    )) as typeof fetch;
}

async function loginError(status: number, body: unknown): Promise<ArmorApiError> {
  const error = await ArmorSession.connect({
    baseUrl: BASE,
    fetch: answering(status, body),
    username: USERNAME,
    password: PASSWORD,
  }).then(() => assert.fail("connect should have failed"), (e: unknown) => e);
  assert.ok(error instanceof ArmorApiError, String(error));
  assert.equal(error.code, "HTTP_STATUS");
  assert.equal(error.status, status);
  return error;
}

Deno.test("server error: OpenAPI {error, error_description} is shown in the message", async () => {
  const error = await loginError(401, errorOpenapi);
  assert.equal(error.serverCode, "invalid_credentials");
  assert.equal(error.serverMessage, "The provided credentials are invalid");
  assert.equal(
    error.message,
    "POST /auth/authorize: the Armor API answered 401 invalid_credentials: The provided credentials are invalid",
  );
});

Deno.test("server error: PowerShell {errorCode} gives a serverCode only", async () => {
  const error = await loginError(403, errorLogin);
  assert.equal(error.serverCode, "access_denied");
  assert.equal(error.serverMessage, undefined);
  assert.equal(error.message, "POST /auth/authorize: the Armor API answered 403 access_denied");
});

Deno.test("server error: ASP.NET {Message} and {message} give a serverMessage", async () => {
  for (const body of [errorPowershell, { message: errorPowershell.Message }]) {
    const error = await loginError(401, body);
    assert.equal(error.serverCode, undefined);
    assert.equal(error.serverMessage, "Authorization has been denied for this request.");
    assert.equal(
      error.message,
      "POST /auth/authorize: the Armor API answered 401 Authorization has been denied for this request.",
    );
  }
});

Deno.test("server error: an echoed password is replaced", async () => {
  const error = await loginError(401, {
    error: `bad_${PASSWORD}`,
    error_description: `The password ${PASSWORD} for ${USERNAME} is wrong`,
  });
  assert.equal(error.serverMessage?.includes(PASSWORD), false);
  assert.equal(error.serverCode?.includes(PASSWORD), false);
  assert.match(error.serverMessage!, /\[REDACTED\]/);
  assert.match(error.serverCode!, /\[REDACTED\]/);
  assert.equal(error.message.includes(PASSWORD), false);
});

Deno.test("server error: an echoed code is replaced", async () => {
  const error = await requestArmorApiToken(CODE, {
    baseUrl: BASE,
    fetch: answering(400, { error: "invalid_grant", error_description: `Code ${CODE} expired` }),
  }).then(() => assert.fail("should have failed"), (e: unknown) => e);
  assert.ok(error instanceof ArmorApiError);
  assert.equal(error.serverCode, "invalid_grant");
  assert.equal(error.serverMessage, "Code [REDACTED] expired");
  assert.equal(error.message.includes(CODE), false);
  assert.equal(
    error.message,
    "POST /auth/token: the Armor API answered 400 invalid_grant: Code [REDACTED] expired",
  );
});

Deno.test("server error: an echoed token is replaced", async () => {
  const error = await updateArmorApiToken(TOKEN, {
    baseUrl: BASE,
    fetch: answering(401, { errorCode: "invalid_token", Message: `Token ${TOKEN} is expired` }),
  }).then(() => assert.fail("should have failed"), (e: unknown) => e);
  assert.ok(error instanceof ArmorApiError);
  assert.equal(error.serverCode, "invalid_token");
  assert.equal(error.serverMessage, "Token [REDACTED] is expired");
  assert.equal(error.message.includes(TOKEN), false);
});

Deno.test("server error: control characters are stripped", async () => {
  const error = await loginError(401, {
    error: "bad\u001b[31m_login\r\n",
    error_description: "Line one\r\nInjected: yes\u001b[31m red\u0000\u202e",
  });
  for (const text of [error.serverCode!, error.serverMessage!, error.message]) {
    assert.equal(/[\p{Cc}\u202e]/u.test(text), false, JSON.stringify(text));
  }
  assert.match(error.serverMessage!, /Line one/);
  assert.match(error.serverMessage!, /Injected: yes/);
});

Deno.test("server error: long text is cut (300 description, 64 code)", async () => {
  const error = await loginError(401, {
    error: "e".repeat(500),
    error_description: "word ".repeat(400),
  });
  assert.ok(error.serverCode!.length <= 64, `${error.serverCode!.length}`);
  assert.ok(error.serverMessage!.length <= 300, `${error.serverMessage!.length}`);
  assert.ok(error.serverCode!.length > 0);
  assert.ok(error.serverMessage!.length > 200);
});

Deno.test("server error: a body that is not JSON adds nothing", async () => {
  for (const body of ["<html>Bad gateway</html>", "", "invalid_credentials", "[1,2]", "null"]) {
    const error = await loginError(502, body);
    assert.equal(error.serverCode, undefined);
    assert.equal(error.serverMessage, undefined);
    assert.equal(error.message, "POST /auth/authorize: the Armor API answered 502");
  }
});

Deno.test("server error: a body over 16 KiB adds nothing", async () => {
  const error = await loginError(401, {
    error: "invalid_credentials",
    error_description: "x".repeat(17_000),
  });
  assert.equal(error.serverCode, undefined);
  assert.equal(error.serverMessage, undefined);
  assert.equal(error.message, "POST /auth/authorize: the Armor API answered 401");
});

Deno.test("server error: the mock's dialect errors arrive as serverCode", async () => {
  const { serveMockArmorApi } = await import("../src/testing/mod.ts");
  for (
    const [dialect, serverCode] of [["powershell", "access_denied"], [
      "openapi",
      "invalid_credentials",
    ]] as const
  ) {
    await using server = await serveMockArmorApi({ dialect });
    const error = await ArmorSession.connect({
      baseUrl: server.baseUrl,
      username: "demo@example.com",
      password: "wrong-password",
    }).then(() => assert.fail("should have failed"), (e: unknown) => e);
    assert.ok(error instanceof ArmorApiError);
    assert.equal(error.status, 401);
    assert.equal(error.serverCode, serverCode, dialect);
    assert.equal(error.message.includes("wrong-password"), false);
  }
});
