// The wire, end to end: token answers in both dialects, what a reissue sends, and the
// whole flow over a loopback socket against both mock dialects.

import assert from "node:assert/strict";
import { ArmorApiError, ArmorSession, updateArmorApiToken } from "../mod.ts";
import type { MockDialect } from "../src/testing/mod.ts";
import { connect, MINUTE, serve, START } from "./_session.ts";
import authorizeOpenapi from "./fixtures/authorize.openapi.json" with { type: "json" };
import authorizePowershell from "./fixtures/authorize.powershell.json" with { type: "json" };
import tokenOpenapi from "./fixtures/token.openapi.json" with { type: "json" };
import tokenPowershell from "./fixtures/token.powershell.json" with { type: "json" };
import meOpenapi from "./fixtures/me.openapi.json" with { type: "json" };

const BASE = "https://api.armor.com";
const USER = { username: "demo@example.com", password: "demo-password" };

function fakeArmor(authorize: unknown, token: unknown) {
  const fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const path = new URL(new Request(input, init).url).pathname;
    const body = path === "/auth/authorize"
      ? authorize
      : path === "/auth/token"
      ? token
      : path === "/me"
      ? meOpenapi
      : { Message: "Not found" };
    return Promise.resolve(Response.json(body, { status: path === "/nowhere" ? 404 : 200 }));
  };
  return fetch as typeof globalThis.fetch;
}

function connectFake(authorize: unknown, token: unknown) {
  return ArmorSession.connect({
    baseUrl: BASE,
    fetch: fakeArmor(authorize, token),
    now: () => START,
    ...USER,
  });
}

Deno.test("wire: OpenAPI expires_in 900 FH-AUTH is a 15-minute session, as PowerShell 15 Bearer", async () => {
  for (const token of [tokenOpenapi, tokenPowershell]) {
    const session = await connectFake(authorizePowershell, token);
    assert.equal(session.expiresAt.getTime() - session.issuedAt.getTime(), 15 * MINUTE);
    assert.equal(session.issuedAt.getTime(), START);
    assert.equal(session.token, token.access_token);
  }
});

Deno.test("wire: authorize {code, expiresIn} without success is accepted", async () => {
  const session = await connectFake(authorizeOpenapi, tokenOpenapi);
  assert.equal(session.isActive(), true);
});

Deno.test("wire: authorize success false or an empty code is INVALID_RESPONSE", async () => {
  for (
    const authorize of [
      { redirect_uri: null, code: "abc", success: false },
      { code: "", expiresIn: 120 },
      { code: "   ", success: true },
      { expiresIn: 120 },
    ]
  ) {
    const error = await connectFake(authorize, tokenOpenapi).then(
      () => assert.fail("should have failed"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ArmorApiError, String(error));
    assert.equal(error.code, "INVALID_RESPONSE", JSON.stringify(authorize));
  }
});

Deno.test("wire: an automatic renewal sends {token}, FH-AUTH and X-Account-Context", async () => {
  await using server = await serve();
  const session = await connect(server, { accountId: 1002 });
  const old = session.token;
  server.mock.clock.advance(5 * MINUTE + 1);
  await (await session.fetch("/me")).body?.cancel();
  await session.idle();
  const reissues = server.mock.requests.filter((r) => r.path === "/auth/token/reissue");
  assert.equal(reissues.length, 1);
  assert.deepEqual(reissues[0].body, { token: old });
  assert.equal(reissues[0].headers.authorization, `FH-AUTH ${old}`);
  assert.equal(reissues[0].headers["x-account-context"], "1002");
  assert.equal(reissues[0].status, 200);
  assert.notEqual(session.token, old);
  await session.disconnect();
});

Deno.test("wire: updateArmorApiToken(token) alone sends {token} and FH-AUTH", async () => {
  await using server = await serve();
  const session = await connect(server);
  const old = session.token;
  const fresh = await updateArmorApiToken(old, { baseUrl: server.baseUrl });
  const reissue = server.mock.requests.findLast((r) => r.path === "/auth/token/reissue")!;
  assert.deepEqual(reissue.body, { token: old });
  assert.equal(reissue.headers.authorization, `FH-AUTH ${old}`);
  assert.equal(reissue.headers["x-account-context"], undefined); // no session, no context
  assert.equal(reissue.status, 200);
  assert.notEqual(fresh.access_token, old);
  await session.disconnect();
});

Deno.test("wire: updateArmorApiToken(undefined, { session }) sends FH-AUTH and the context", async () => {
  await using server = await serve();
  const session = await connect(server);
  const old = session.token;
  const fresh = await updateArmorApiToken(undefined, { session });
  const reissue = server.mock.requests.findLast((r) => r.path === "/auth/token/reissue")!;
  assert.deepEqual(reissue.body, { token: old });
  assert.equal(reissue.headers.authorization, `FH-AUTH ${old}`);
  assert.equal(reissue.headers["x-account-context"], "1001");
  assert.equal(session.token, fresh.access_token);
  await session.disconnect();
});

for (const dialect of ["powershell", "openapi"] as MockDialect[]) {
  Deno.test(`wire: the whole flow over a socket, ${dialect} dialect`, async () => {
    await using server = await serve({ dialect });
    const session = await connect(server);
    assert.equal(session.identity?.username, USER.username);
    assert.deepEqual(session.accounts.map((a) => a.id), [1001, 1002]);
    assert.equal(session.accountId, 1001);
    assert.equal(session.expiresAt.getTime() - START, 15 * MINUTE);

    const me = await session.fetch("/me");
    assert.equal(me.status, 200);
    const body = await me.json();
    if (dialect === "powershell") assert.equal(body.User[0].UserName, USER.username);
    else assert.equal(body.user.username, USER.username);

    // Before the two-thirds point: no reissue.
    server.mock.clock.advance(5 * MINUTE - 1);
    await (await session.fetch("/me")).body?.cancel();
    await session.idle();
    assert.equal(server.mock.count("/auth/token/reissue"), 0);
    // At it: one reissue, shared by every call.
    server.mock.clock.advance(2);
    const first = session.token;
    const calls = await Promise.all([1, 2, 3].map(() => session.fetch("/me")));
    for (const res of calls) {
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    await session.idle();
    assert.equal(server.mock.count("/auth/token/reissue"), 1);
    assert.notEqual(session.token, first);
    assert.ok(server.mock.isTokenValid(session.token));
    assert.equal(session.expiresAt.getTime(), server.mock.clock.now() + 15 * MINUTE);

    const accounts = await session.fetch("/accounts");
    assert.equal(accounts.status, 200);
    const list = await accounts.json();
    assert.ok(Array.isArray(list));
    assert.equal(list[0].id, 1001);
    assert.equal(list[0].currency, "USD       ");
    const sent = server.mock.requests.findLast((r) => r.path === "/accounts")!;
    assert.equal(sent.headers.authorization, `FH-AUTH ${session.token}`);
    assert.equal(sent.headers["x-account-context"], "1001");

    await session.disconnect();
    assert.equal(session.isActive(), false);
    await assert.rejects(() => session.fetch("/me"), ArmorApiError);
  });

  Deno.test(`wire: a bad password is 401 with the ${dialect} server code`, async () => {
    await using server = await serve({ dialect });
    const error = await connect(server, { password: "not-the-password" }).then(
      () => assert.fail("should have failed"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ArmorApiError);
    assert.equal(error.code, "HTTP_STATUS");
    assert.equal(error.status, 401);
    assert.equal(
      error.serverCode,
      dialect === "powershell" ? "access_denied" : "invalid_credentials",
    );
    assert.equal(error.message.includes("not-the-password"), false);
  });

  Deno.test(`wire: a foreign X-Account-Context is 403, ${dialect} dialect`, async () => {
    await using server = await serve({ dialect });
    const session = await connect(server);
    const res = await session.fetch("/me", { headers: { "x-account-context": "999999" } });
    assert.equal(res.status, 403);
    await res.body?.cancel();
    assert.equal(server.mock.requests.at(-1)!.headers["x-account-context"], "999999");
    assert.equal(session.isActive(), true); // a 403 is not a rejected token
    await session.disconnect();
  });
}
