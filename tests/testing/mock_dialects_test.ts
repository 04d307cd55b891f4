import assert from "node:assert/strict";
import { createMockArmorApi, type MockDialect, type MockUser } from "../../src/testing/mod.ts";
import {
  assertError,
  authorize,
  DEMO,
  DIALECTS,
  fixedMock,
  get,
  login,
  MINUTE,
  post,
  redeem,
  reissue,
} from "./_mock.ts";

const PERMISSIONS = ["1", "7", "8", "9", "10", "11", "12", "13", "19", "20", "21"];
const PRODUCTS = { "AA-CORE": ["Monitoring", "Log Monitoring and Management", "Invoicing"] };
const FEATURES = ["AA-CORE", "AA-CORE.MONITORING", "AA-CORE.LOG-MONITORING-AND-MANAGEMENT"]
  .concat("AA-CORE.INVOICING");

const OPS: MockUser = {
  username: "ops@example.com",
  password: "pw",
  firstName: "Ops",
  lastName: "Team",
  userId: 4922,
  passwordExpiry: 2609961,
  accounts: [
    { id: 7, name: "Root", parent: null, accountType: "Partner", isSynced: true },
    {
      id: 8,
      name: "Child",
      currency: "GBP",
      status: "Pending",
      parent: 7,
      products: { "ARMOR-COMPLETE": ["Invoicing"] },
      isFreeTrial: true,
    },
  ],
  departments: [{ id: 42, name: "Security", account: 8 }],
  permissions: { "7": ["5"], "8": ["6", "9"] },
  features: [{ accountId: 8, feature: "ARMOR-COMPLETE", productId: 3 }],
};

Deno.test("dialect defaults to openapi and must be one of the two", () => {
  assert.equal(createMockArmorApi().dialect, "openapi");
  assert.equal(createMockArmorApi({ dialect: "powershell" }).dialect, "powershell");
  assert.throws(
    () => createMockArmorApi({ dialect: "swagger" as MockDialect }),
    (error: Error) => error instanceof TypeError && /powershell/.test(error.message),
  );
});

Deno.test("powershell /me: PascalCase, the user in an array, departments, permissions, features", async () => {
  const { mock } = fixedMock({ dialect: "powershell" });
  const res = await get(mock, "/me", await login(mock), { "X-Account-Context": "1001" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const account = (ID: number, Name: string) => ({
    ID,
    Name,
    Currency: "USD",
    Status: "Claimed",
    Parent: -1,
    Products: null,
  });
  const features = (AccountID: number) =>
    FEATURES.map((Feature, FeatureID) => ({ AccountID, Feature, ProductID: 1, FeatureID }));
  assert.deepEqual(await res.json(), {
    User: [{
      Type: "user",
      UserName: "demo@example.com",
      FirstName: "Demo",
      LastName: "User",
      Links: "",
    }],
    Accounts: [account(1001, "Demo Production"), account(1002, "Demo Staging")],
    Departments: [
      { ID: 1, Name: "Demo Production Department", Account: 1001 },
      { ID: 2, Name: "Demo Staging Department", Account: 1002 },
    ],
    Permissions: [{ "1001": PERMISSIONS.join(" "), "1002": PERMISSIONS.join(" ") }],
    Features: [...features(1001), ...features(1002)],
  });
});

Deno.test("openapi /me: camelCase, the user as an object, permission arrays", async () => {
  const { mock } = fixedMock({ dialect: "openapi" });
  const res = await get(mock, "/me", await login(mock));
  assert.equal(res.status, 200);
  const account = (id: number, name: string) => ({
    id,
    name,
    currency: "USD",
    status: "Claimed",
    parent: null,
    products: ["AA-CORE"],
    accountType: "Direct",
    isSynced: false,
    isFreeTrial: false,
  });
  const features = (accountId: number) =>
    FEATURES.map((feature) => ({ accountId, feature, productId: 1 }));
  assert.deepEqual(await res.json(), {
    user: {
      type: "user",
      username: "demo@example.com",
      firstName: "Demo",
      lastName: "User",
      links: { userId: 1 },
      passwordExpiry: String(90 * 24 * 3600),
    },
    accounts: [account(1001, "Demo Production"), account(1002, "Demo Staging")],
    permissions: { "1001": PERMISSIONS, "1002": PERMISSIONS },
    features: [...features(1001), ...features(1002)],
  });
});

Deno.test("/accounts is the same lower-case array in both dialects, currency padded", async () => {
  const bodies = [];
  for (const dialect of DIALECTS) {
    const { mock } = fixedMock({ dialect });
    const res = await get(mock, "/accounts", await login(mock));
    assert.equal(res.status, 200);
    bodies.push(await res.json());
  }
  const account = (id: number, name: string) => ({
    id,
    name,
    currency: "USD       ",
    status: "Claimed",
    parent: -1,
    products: PRODUCTS,
    accountType: "Direct",
    isSynced: false,
    isFreeTrial: false,
  });
  assert.deepEqual(bodies[0], [account(1001, "Demo Production"), account(1002, "Demo Staging")]);
  assert.deepEqual(bodies[1], bodies[0]);
});

Deno.test("a user's own departments, permissions, features and account fields reach /me", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = fixedMock({ dialect, users: [OPS] });
    const token = await login(mock, OPS);
    const me = await (await get(mock, "/me", token)).json();
    const accounts = await (await get(mock, "/accounts", token)).json();
    assert.deepEqual(accounts.map((a: { parent: number }) => a.parent), [-1, 7]);
    assert.deepEqual(accounts[1].products, { "ARMOR-COMPLETE": ["Invoicing"] });
    assert.equal(accounts[1].currency, "GBP       ");
    if (dialect === "powershell") {
      assert.equal(me.User[0].UserName, "ops@example.com");
      assert.deepEqual(me.Accounts.map((a: { Parent: number }) => a.Parent), [-1, 7]);
      assert.equal(me.Accounts[1].Status, "Pending");
      assert.deepEqual(me.Departments, [{ ID: 42, Name: "Security", Account: 8 }]);
      assert.deepEqual(me.Permissions, [{ "7": "5", "8": "6 9" }]);
      assert.deepEqual(me.Features, [
        { AccountID: 8, Feature: "ARMOR-COMPLETE", ProductID: 3, FeatureID: 0 },
      ]);
    } else {
      assert.deepEqual(me.user.links, { userId: 4922 });
      assert.equal(me.user.passwordExpiry, "2609961");
      assert.deepEqual(me.accounts.map((a: { parent: number }) => a.parent), [null, 7]);
      assert.deepEqual(me.accounts[0].products, ["AA-CORE"]);
      assert.deepEqual(me.accounts[1].products, ["ARMOR-COMPLETE"]);
      assert.equal(me.accounts[0].accountType, "Partner");
      assert.equal(me.accounts[0].isSynced, true);
      assert.equal(me.accounts[1].isFreeTrial, true);
      assert.deepEqual(me.permissions, { "7": ["5"], "8": ["6", "9"] });
      assert.deepEqual(me.features, [{ accountId: 8, feature: "ARMOR-COMPLETE", productId: 3 }]);
    }
  }
});

Deno.test("authorize answers each dialect's body and takes both key spellings", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = fixedMock({ dialect });
    for (const credentials of [DEMO, { Username: DEMO.username, Password: DEMO.password }]) {
      const res = await post(mock, "/auth/authorize", credentials);
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.match(body.code, /^[A-Za-z0-9+/]+=*$/);
      if (dialect === "powershell") {
        assert.deepEqual(body, { redirect_uri: null, code: body.code, success: true });
      } else {
        assert.deepEqual(body, { code: body.code, expiresIn: 120 });
      }
      assert.equal((await redeem(mock, body.code)).status, 200);
    }
  }
  const { mock } = fixedMock({ dialect: "openapi", codeLifetimeMs: 30_000 });
  assert.equal((await (await post(mock, "/auth/authorize", DEMO)).json()).expiresIn, 30);
});

Deno.test("token and reissue answer each dialect's expires_in and token_type", async () => {
  const expected = { powershell: [15, "Bearer"], openapi: [900, "FH-AUTH"] } as const;
  for (const dialect of DIALECTS) {
    const { clock, mock } = fixedMock({ dialect });
    const token = await redeem(mock, await authorize(mock));
    const body = await token.json();
    assert.deepEqual(Object.keys(body).sort(), [
      "access_token",
      "expires_in",
      "id_token",
      "token_type",
    ]);
    assert.match(body.access_token, /^[a-z0-9]{32}$/);
    assert.equal(typeof body.id_token, "string");
    assert.deepEqual([body.expires_in, body.token_type], expected[dialect]);
    const again = await (await reissue(mock, body.access_token)).json();
    assert.equal(again.id_token, null);
    assert.deepEqual([again.expires_in, again.token_type], expected[dialect]);
    // Both defaults are 15 minutes.
    clock.advance(15 * MINUTE - 1);
    assert.equal(mock.isTokenValid(again.access_token), true);
    clock.advance(1);
    assert.equal(mock.isTokenValid(again.access_token), false);
  }
  const { mock } = fixedMock({ dialect: "openapi", expiresIn: 30 });
  assert.equal((await (await redeem(mock, await authorize(mock))).json()).expires_in, 30);
});

Deno.test("bad credentials: 401 with each dialect's body, the PowerShell one counting", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = fixedMock({ dialect });
    for (let count = 1; count <= 3; count++) {
      const res = await post(mock, "/auth/authorize", { ...DEMO, password: "nope" });
      if (dialect === "powershell") {
        assert.equal(res.status, 401);
        assert.deepEqual(await res.json(), { errorCode: "access_denied", badLogonCount: count });
      } else {
        await assertError(res, dialect, 401, "invalid_credentials");
      }
    }
  }
});

Deno.test("five failed logins in a row lock the user name: 429 with Retry-After", async () => {
  for (const dialect of DIALECTS) {
    const { clock, mock } = fixedMock({ dialect });
    const wrong = { ...DEMO, password: "nope" };
    for (let i = 0; i < 5; i++) {
      assert.equal((await post(mock, "/auth/authorize", wrong)).status, 401);
    }
    const locked = await post(mock, "/auth/authorize", DEMO);
    assert.equal(locked.status, 429);
    assert.equal(locked.headers.get("retry-after"), "60");
    if (dialect === "powershell") {
      assert.deepEqual(await locked.json(), { errorCode: "access_denied", badLogonCount: 5 });
    } else {
      await assertError(locked, dialect, 429, "too_many_attempts");
    }
    // Other user names are not locked.
    const other = await post(mock, "/auth/authorize", { ...wrong, username: "x@example.com" });
    assert.equal(other.status, 401);
    await other.body?.cancel();
    clock.advance(59_500);
    const still = await post(mock, "/auth/authorize", DEMO);
    assert.equal(still.status, 429);
    assert.equal(still.headers.get("retry-after"), "1");
    await still.body?.cancel();
    clock.advance(500);
    assert.equal((await post(mock, "/auth/authorize", DEMO)).status, 200);
  }
});

Deno.test("a successful login resets the count; maxFailedLogins and lockoutMs are options", async () => {
  const { clock, mock } = fixedMock({
    dialect: "powershell",
    maxFailedLogins: 2,
    lockoutMs: 5_000,
  });
  const wrong = { ...DEMO, password: "nope" };
  assert.equal((await post(mock, "/auth/authorize", wrong)).status, 401);
  assert.equal((await post(mock, "/auth/authorize", DEMO)).status, 200);
  const first = await post(mock, "/auth/authorize", wrong);
  assert.deepEqual(await first.json(), { errorCode: "access_denied", badLogonCount: 1 });
  assert.equal((await post(mock, "/auth/authorize", wrong)).status, 401);
  const locked = await post(mock, "/auth/authorize", DEMO);
  assert.equal(locked.status, 429);
  assert.equal(locked.headers.get("retry-after"), "5");
  clock.advance(5_000);
  assert.equal((await post(mock, "/auth/authorize", wrong)).status, 401);

  const never = fixedMock({ maxFailedLogins: Infinity }).mock;
  for (let i = 0; i < 20; i++) {
    assert.equal((await post(never, "/auth/authorize", wrong)).status, 401);
  }
  mock.reset();
  assert.equal((await post(mock, "/auth/authorize", DEMO)).status, 200);
  for (const bad of [0, 1.5, -1, Number.NaN]) {
    assert.throws(() => createMockArmorApi({ maxFailedLogins: bad }), RangeError);
  }
  assert.throws(() => createMockArmorApi({ lockoutMs: -1 }), RangeError);
});

Deno.test("token: 400 for an unknown, used or expired code in each dialect", async () => {
  for (const dialect of DIALECTS) {
    const { clock, mock } = fixedMock({ dialect });
    await assertError(await redeem(mock, "bm90IGEgY29kZQ=="), dialect, 400, "invalid_grant");
    const used = await authorize(mock);
    assert.equal((await redeem(mock, used)).status, 200);
    await assertError(await redeem(mock, used), dialect, 400, "invalid_grant");
    const late = await authorize(mock);
    clock.advance(2 * MINUTE + 1);
    await assertError(await redeem(mock, late), dialect, 400, "invalid_grant");
    const code = await authorize(mock);
    await assertError(
      await post(mock, "/auth/token", { code, grant_type: "password" }),
      dialect,
      400,
      "unsupported_grant_type",
    );
    await assertError(await post(mock, "/auth/token", { code }), dialect, 400, "invalid_request");
  }
});

Deno.test("reissue: 401 for an unknown, revoked or expired token in each dialect", async () => {
  for (const dialect of DIALECTS) {
    const { clock, mock } = fixedMock({ dialect });
    await assertError(await reissue(mock, "0".repeat(32)), dialect, 401, "invalid_token");
    const revoked = await login(mock);
    mock.revokeToken(revoked);
    await assertError(await reissue(mock, revoked), dialect, 401, "invalid_token");
    const expired = await login(mock);
    clock.advance(15 * MINUTE);
    await assertError(await reissue(mock, expired), dialect, 401, "invalid_token");
    await assertError(
      await post(mock, "/auth/token/reissue", { token: 42 }),
      dialect,
      400,
      "invalid_request",
    );
  }
});

Deno.test("reissue takes the session headers beside the body and logs them", async () => {
  const { mock } = fixedMock();
  const token = await login(mock);
  const res = await reissue(mock, token, {
    Authorization: `FH-AUTH ${token}`,
    "X-Account-Context": "1001",
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const record = mock.requests.at(-1)!;
  assert.equal(record.headers.authorization, `FH-AUTH ${token}`);
  assert.equal(record.headers["x-account-context"], "1001");
  assert.deepEqual(record.body, { token });
});

Deno.test("revokeOnReissue revokes the replaced token", async () => {
  const { mock } = fixedMock({ revokeOnReissue: true });
  const first = await login(mock);
  const second = (await (await reissue(mock, first)).json()).access_token;
  assert.equal(mock.isTokenValid(first), false);
  assert.equal(mock.isTokenValid(second), true);
  assert.equal((await get(mock, "/me", first)).status, 401);
  assert.equal((await reissue(mock, first)).status, 401);
});

Deno.test("/me and /accounts: 401 for a bad token, 403 for a foreign account, per dialect", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = fixedMock({ dialect });
    const token = await login(mock);
    for (const path of ["/me", "/accounts"]) {
      const denied = await get(mock, path, "0".repeat(32));
      assert.equal(denied.headers.get("www-authenticate"), "FH-AUTH");
      await assertError(denied, dialect, 401, "invalid_token");
      await assertError(await get(mock, path), dialect, 401, "invalid_token");
      await assertError(
        await get(mock, path, token, { "X-Account-Context": "9999" }),
        dialect,
        403,
        "invalid_account_context",
      );
    }
  }
});

Deno.test("malformed requests, unknown routes and wrong methods get each dialect's body", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = fixedMock({ dialect });
    await assertError(await post(mock, "/auth/authorize", "[]"), dialect, 400, "invalid_request");
    await assertError(
      await post(mock, "/auth/authorize", { username: 1, password: "x" }),
      dialect,
      400,
      "invalid_request",
    );
    await assertError(
      await post(mock, "/auth/authorize", DEMO, { headers: { "Content-Type": "text/plain" } }),
      dialect,
      415,
      "invalid_request",
    );
    await assertError(await mock.app.request("/v2/nothing"), dialect, 404, "not_found");
    const wrong = await mock.app.request("/auth/token");
    assert.equal(wrong.headers.get("allow"), "POST");
    await assertError(wrong, dialect, 405, "method_not_allowed");
    mock.inject({ status: 502 });
    await assertError(await mock.app.request("/me"), dialect, 502, "injected_fault");
  }
});

Deno.test("waits ended early answer 503 or 499 with each dialect's body", async () => {
  for (const dialect of DIALECTS) {
    const { mock } = fixedMock({ dialect });
    mock.inject({ delayMs: 10_000, times: 2 });
    const pending = mock.app.request("/me");
    mock.abortPending();
    await assertError(await pending, dialect, 503, "temporarily_unavailable");
    const gone = await mock.app.request(
      new Request("http://mock.test/me", { signal: AbortSignal.timeout(10) }),
    );
    await assertError(gone, dialect, 499, "client_closed_request");
  }
});

Deno.test("every route answers in the dialect it was made with", async () => {
  const { mock } = fixedMock();
  const token = await login(mock);
  const me = await (await get(mock, "/me", token)).json();
  assert.deepEqual(Object.keys(me), ["user", "accounts", "permissions", "features"]);
  const ps = fixedMock({ dialect: "powershell" }).mock;
  const psMe = await (await get(ps, "/me", await login(ps))).json();
  assert.deepEqual(Object.keys(psMe), [
    "User",
    "Accounts",
    "Departments",
    "Permissions",
    "Features",
  ]);
});
