// session.forAccount(id): an account-bound view with the session's login and a fixed
// X-Account-Context, for fanning out across customer accounts without shared state.

import assert from "node:assert/strict";
import { ArmorApiError, ArmorSession, MemoryTokenStore } from "../mod.ts";
import { MUST_RENEW_MS } from "../src/renewal.ts";
import { MockClock, type ServedMockArmorApi } from "../src/testing/mod.ts";
import { assertNoSecret } from "./_leaks.ts";
import {
  ACCOUNTS,
  connectPartner,
  connectPartnerWithKey,
  KEY,
  servePartner,
  USER,
} from "./_partner.ts";
import { RENEW_AFTER_MS, SESSION_MS, START } from "./_session.ts";

/** The README's fan-out: one view per account, all calls at once; the statuses. */
async function fanOut(session: ArmorSession): Promise<number[]> {
  const calls: Promise<Response>[] = [];
  for (const account of session.accounts) {
    calls.push(session.forAccount(account.id).fetch(`/users/${account.id}/keys`));
  }
  const answers = await Promise.all(calls);
  for (const answer of answers) await answer.body?.cancel();
  return answers.map((answer) => answer.status);
}

/** Asserts each fan-out call carried the account of its view, `times` calls an account. */
function assertOwnAccounts(server: ServedMockArmorApi, times = 1): void {
  const sent = server.mock.requests.filter((r) => /^\/users\/\d+\/keys$/.test(r.path))
    .map((r) => [r.path.split("/")[2], r.headers["x-account-context"]]);
  assert.equal(sent.length, ACCOUNTS.length * times);
  for (const [made, context] of sent) assert.equal(context, made, JSON.stringify(sent));
}

Deno.test("forAccount: a password session between renewals", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  assert.deepEqual(await fanOut(session), [200, 200, 200]);
  assertOwnAccounts(server);
  // The session's own account context is untouched.
  assert.equal(session.accountId, 1001);
});

Deno.test("forAccount: an API-key session", async () => {
  await using server = await servePartner({ clock: new MockClock(Date.now()) });
  const session = await connectPartnerWithKey(server);
  assert.deepEqual(await fanOut(session), [403, 403, 403]); // keys may not list keys
  assertOwnAccounts(server);
  const sent = server.mock.requests.filter((r) => r.path.endsWith("/keys"));
  assert.ok(sent.every((r) => r.headers.authorization.startsWith(`ARMOR-PSK ${KEY.id}:`)));
});

Deno.test("forAccount: at the renewal point and in the last 30 s, one reissue each", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  assert.deepEqual(await fanOut(session), [200, 200, 200]);
  await session.idle();
  const renewed = session.token;
  server.mock.clock.set(session.expiresAt.getTime() - MUST_RENEW_MS + 1_000);
  assert.deepEqual(await fanOut(session), [200, 200, 200]);
  assertOwnAccounts(server, 2);
  assert.equal(server.mock.count("/auth/token/reissue"), 2);
  // The last fan-out waited for the new token and sent it in every account.
  const last = server.mock.requests.filter((r) => r.path.endsWith("/keys")).slice(-3);
  assert.notEqual(session.token, renewed);
  for (const r of last) assert.equal(r.headers.authorization, `FH-AUTH ${session.token}`);
});

Deno.test("forAccount: two sessions sharing a store", async () => {
  await using server = await servePartner();
  const store = new MemoryTokenStore();
  const a = await connectPartner(server, { store });
  const b = await connectPartner(server, { store });
  server.mock.clock.advance(RENEW_AFTER_MS + 1);
  const [fromA, fromB] = await Promise.all([fanOut(a), fanOut(b)]);
  await Promise.all([a.idle(), b.idle()]);
  assert.deepEqual([fromA, fromB], [[200, 200, 200], [200, 200, 200]]);
  assertOwnAccounts(server, 2);
  assert.equal(server.mock.count("/auth/token/reissue"), 1);
});

Deno.test("forAccount: useAccount never changes what a view sends", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  const view = session.forAccount(1002);
  session.useAccount(1003);
  const pending = view.fetch("/users/1002/keys", {
    method: "POST",
    body: JSON.stringify({ name: "ci" }),
  });
  session.useAccount(1001);
  const res = await pending;
  await res.body?.cancel();
  const sent = server.mock.requests.at(-1)!;
  assert.equal(sent.headers["x-account-context"], "1002");
  assert.equal(sent.headers["content-type"], "application/json");
  assert.equal(sent.headers.authorization, `FH-AUTH ${session.token}`);
  assert.deepEqual(sent.body, { name: "ci" });
  assert.equal(view.accountId, 1002);
  assert.equal(view.session, session);
  assert.equal(session.accountId, 1001);
});

Deno.test("forAccount: a caller's own X-Account-Context header is sent as given", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  const res = await session.forAccount(1002).fetch("/me", {
    headers: { "X-Account-Context": "1003" },
  });
  await res.body?.cancel();
  assert.equal(server.mock.requests.at(-1)!.headers["x-account-context"], "1003");
});

Deno.test("forAccount: refuses an id that is not a positive integer, or not the user's", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  for (const bad of [0, -1, 1.5, NaN, Infinity, "1002", null, undefined, 2 ** 53]) {
    assert.throws(() => session.forAccount(bad as number), TypeError, String(bad));
  }
  assert.throws(
    () => session.forAccount(4242),
    (e) => e instanceof ArmorApiError && e.code === "UNKNOWN_ACCOUNT" && /4242/.test(e.message),
  );
  // Without an identity, any positive integer is taken.
  assert.equal(new ArmorSession().forAccount(4242).accountId, 4242);
});

Deno.test("forAccount: a disconnected session's view sends nothing", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  const view = session.forAccount(1002);
  await session.disconnect();
  const before = server.mock.requests.length;
  await assert.rejects(
    () => view.fetch("/me"),
    (e) => e instanceof ArmorApiError && e.code === "NOT_AUTHORIZED",
  );
  assert.equal(server.mock.requests.length, before);
});

Deno.test("forAccount: a view shows no token or secret", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  const view = session.forAccount(1003);
  assertNoSecret(view, [session.token, USER.password], "view");
  assert.deepEqual(JSON.parse(JSON.stringify(view)), {
    accountId: 1003,
    baseUrl: session.baseUrl,
  });
  assert.match(Deno.inspect(view), /^ArmorAccountView \{"accountId":1003/);
});

Deno.test("forAccount: the view of a token session past its expiry refuses to send", async () => {
  await using server = await servePartner();
  const session = await connectPartner(server);
  const view = session.forAccount(1002);
  server.mock.clock.set(START + SESSION_MS);
  await assert.rejects(
    () => view.fetch("/me"),
    (e) => e instanceof ArmorApiError && e.code === "SESSION_EXPIRED",
  );
});
