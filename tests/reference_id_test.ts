// The server's reference id in an ArmorApiError (issue 17): read from `referenceId` in any
// case, shown in the message, kept out when it carries a secret or is not id-shaped.

import assert from "node:assert/strict";
import { ArmorApiError, requestArmorApiToken, updateArmorApiToken } from "../mod.ts";
import { assertErrorHides } from "./_errors.ts";

const BASE = "https://api.armor.com";
const CODE = "VGhpcyBpcyBzb21lIHRleHQgdG8gY29udmVydCB2aWEgQ3J5cHQu=";
const TOKEN = "2261bac252204c2ea93ed32ea1ffd3ab";
const GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";

/** A fetch that answers every request with `status` and `body` (JSON unless a string). */
function answering(status: number, body: unknown): typeof fetch {
  return (() =>
    Promise.resolve(
      typeof body === "string" ? new Response(body, { status }) : Response.json(body, { status }),
    )) as typeof fetch;
}

async function redeemError(status: number, body: unknown): Promise<ArmorApiError> {
  const error = await requestArmorApiToken(CODE, { baseUrl: BASE, fetch: answering(status, body) })
    .then(() => assert.fail("the call should have failed"), (e: unknown) => e);
  assert.ok(error instanceof ArmorApiError, String(error));
  assert.equal(error.code, "HTTP_STATUS");
  assert.equal(error.status, status);
  return error;
}

Deno.test("referenceId: the 500 body {ErrorCode, Message, Detail, ReferenceId} gives all three", async () => {
  const error = await redeemError(500, {
    ErrorCode: "InternalError",
    Message: "An error has occurred",
    Detail: "see the logs",
    ReferenceId: GUID,
  });
  assert.equal(error.referenceId, GUID);
  assert.equal(error.serverCode, "InternalError");
  assert.equal(error.serverMessage, "An error has occurred");
  assert.equal(
    error.message,
    `POST /auth/token: the Armor API answered 500 InternalError: An error has occurred (reference id ${GUID})`,
  );
});

Deno.test("referenceId: @armor/api's {message, referenceId}, and any case of the name", async () => {
  for (const name of ["referenceId", "ReferenceId", "REFERENCEID", "referenceid"]) {
    const error = await redeemError(400, { message: "Bad code", [name]: "0HN1A2B3C4:00000002" });
    assert.equal(error.referenceId, "0HN1A2B3C4:00000002", name);
    assert.match(error.message, /\(reference id 0HN1A2B3C4:00000002\)$/);
  }
});

Deno.test("referenceId: a whole number is kept as its digits", async () => {
  const error = await redeemError(503, { referenceId: 981234 });
  assert.equal(error.referenceId, "981234");
  assert.equal(error.message, "POST /auth/token: the Armor API answered 503 (reference id 981234)");
});

Deno.test("referenceId: absent, blank, not id-shaped or too long gives none", async () => {
  for (
    const body of [
      { error: "invalid_grant" },
      { error: "invalid_grant", referenceId: "" },
      { error: "invalid_grant", referenceId: "   " },
      { error: "invalid_grant", referenceId: "abc def" },
      { error: "invalid_grant", referenceId: "id\u001b[31mred" },
      { error: "invalid_grant", referenceId: "<script>" },
      { error: "invalid_grant", referenceId: "x".repeat(101) },
      { error: "invalid_grant", referenceId: { id: 1 } },
      { error: "invalid_grant", referenceId: 1.5 },
    ]
  ) {
    const error = await redeemError(400, body);
    assert.equal(error.referenceId, undefined, JSON.stringify(body));
    assert.equal("referenceId" in error, false);
    assert.doesNotMatch(error.message, /reference id/);
    assert.equal(error.serverCode, "invalid_grant");
  }
  const longest = await redeemError(400, { referenceId: "x".repeat(100) });
  assert.equal(longest.referenceId, "x".repeat(100));
});

Deno.test("referenceId: one that echoes a secret of the call is dropped", async () => {
  const redeemed = await redeemError(400, { message: "nope", referenceId: `r:${CODE}` });
  assert.equal(redeemed.referenceId, undefined);
  assertErrorHides(redeemed, CODE);
  const error = await updateArmorApiToken(TOKEN, {
    baseUrl: BASE,
    fetch: answering(401, { message: "Invalid token", referenceId: TOKEN }),
  }).then(() => assert.fail("the call should have failed"), (e: unknown) => e);
  assert.ok(error instanceof ArmorApiError);
  assert.equal(error.referenceId, undefined);
  assert.equal(error.serverMessage, "Invalid token");
  assertErrorHides(error, TOKEN);
  const prefixed = await updateArmorApiToken(TOKEN, {
    baseUrl: BASE,
    fetch: answering(401, { referenceId: `ref-${TOKEN}` }),
  }).then(() => assert.fail("the call should have failed"), (e: unknown) => e);
  assert.ok(prefixed instanceof ArmorApiError);
  assert.equal(prefixed.referenceId, undefined);
  assertErrorHides(prefixed, TOKEN);
});

Deno.test("referenceId: shown by JSON.stringify and Deno.inspect of the error", async () => {
  const error = await redeemError(500, { referenceId: GUID });
  assert.match(Deno.inspect(error), new RegExp(GUID));
  assert.equal(new ArmorApiError("HTTP_STATUS", "x", { referenceId: "r-1" }).referenceId, "r-1");
});
