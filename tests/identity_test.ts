// GET /me in both documented shapes, read through ArmorSession.connect into
// session.identity (issue 8): the fixture bodies of tests/fixtures, served by a fake fetch.

import assert from "node:assert/strict";
import { ArmorApiError, ArmorSession, MemoryTokenStore } from "../mod.ts";
import mePowershell from "./fixtures/me.powershell.json" with { type: "json" };
import meOpenapi from "./fixtures/me.openapi.json" with { type: "json" };
import tokenPowershell from "./fixtures/token.powershell.json" with { type: "json" };
import authorizePowershell from "./fixtures/authorize.powershell.json" with { type: "json" };

const BASE = "https://api.armor.com";
const START = Date.UTC(2026, 10, 23, 10, 0);
const USERNAME = "ops@example.com";
const PASSWORD = "correct-horse-battery";

/** A fake Armor API: authorize, token and `/me` (the given body), nothing else. */
function fakeArmor(me: unknown) {
  const paths: string[] = [];
  const fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    paths.push(path);
    const json = (body: unknown, status = 200) => Promise.resolve(Response.json(body, { status }));
    if (path === "/auth/authorize") return json(authorizePowershell);
    if (path === "/auth/token") return json(tokenPowershell);
    if (path === "/me") return json(me);
    return json({ Message: "Not found" }, 404);
  };
  return { fetch: fetch as typeof globalThis.fetch, paths };
}

function connectTo(me: unknown, store?: MemoryTokenStore) {
  const api = fakeArmor(me);
  return {
    api,
    session: ArmorSession.connect({
      baseUrl: BASE,
      fetch: api.fetch,
      now: () => START,
      username: USERNAME,
      password: PASSWORD,
      store,
      storeKey: store === undefined ? undefined : "identity-test",
    }),
  };
}

Deno.test("identity: the PowerShell /me (User array, PascalCase) is read in full", async () => {
  const session = await connectTo(mePowershell).session;
  assert.deepEqual(session.identity, {
    username: "first.last@example.company.com",
    firstName: "First",
    lastName: "Last",
    type: "user",
    accounts: [
      {
        id: 1,
        name: "Example Account 1",
        currency: "USD",
        status: "Claimed",
        parent: null,
        products: null,
      },
      {
        id: 2,
        name: "Example Account 2",
        currency: "GBP",
        status: "Cancelled",
        parent: 1,
        products: null,
      },
    ],
    departments: [{ id: 1, name: "Example Department 1", account: 1 }],
    permissions: {
      "1": ["1", "10", "100", "108", "109", "11", "116", "119", "12"],
      "2": ["1", "10", "100", "108", "109", "11", "116", "119", "12"],
    },
    features: [
      { accountId: 1, feature: "AA-CORE", productId: 1, featureId: 0 },
      { accountId: 1, feature: "AA-CORE.INVOICING", productId: 1, featureId: 19 },
    ],
  });
  assert.equal(session.accountId, 1);
  assert.equal(session.isActive(), true);
});

Deno.test({
  name: "identity: the OpenAPI /me (user object, camelCase) is read in full",
  fn: async () => {
    const session = await connectTo(meOpenapi).session;
    assert.deepEqual(session.identity, {
      username: "john.doe@armor.com",
      firstName: "John",
      lastName: "Doe",
      type: "user",
      userId: 4922,
      passwordExpiry: 2609961,
      accounts: [
        {
          id: 1,
          name: "Armor",
          currency: "USD",
          status: "Claimed",
          parent: null,
          products: null,
          accountType: "Direct",
          isSynced: false,
          isFreeTrial: false,
        },
        {
          id: 1024,
          name: "Armor Internal Test_AA",
          currency: "USD",
          status: "Claimed",
          parent: 1,
          products: ["AA-CORE"],
          accountType: "Partner",
          isSynced: true,
          isFreeTrial: false,
        },
      ],
      departments: [],
      permissions: { "1": ["1", "7"], "1024": ["1", "7"] },
      features: [{ accountId: 1024, feature: "AA-CORE.LOG-MANAGEMENT", productId: 1 }],
    });
    assert.equal(session.accountId, 1);
  },
});

Deno.test({
  name: "identity: a PascalCase user object and camelCase User array are read alike",
  fn: async () => {
    const pascalObject = {
      User: { UserName: "a@example.com", FirstName: "A", Links: { UserId: "77" } },
      Accounts: [{ ID: 5, Name: "Five", Parent: null }],
    };
    const camelArray = {
      user: [{ userName: "a@example.com", firstName: "A", links: { userId: "77" } }],
      accounts: [{ id: 5, name: "Five", parent: null }],
    };
    for (const me of [pascalObject, camelArray]) {
      const session = await connectTo(me).session;
      assert.equal(session.identity?.username, "a@example.com");
      assert.equal(session.identity?.firstName, "A");
      assert.equal(session.identity?.userId, "77");
      assert.deepEqual(session.accounts, [{ id: 5, name: "Five", parent: null }]);
    }
  },
});

Deno.test({
  name: "identity: Parent -1 and null are a root (null), an id is kept",
  fn: async () => {
    const me = {
      user: { username: "a@example.com" },
      accounts: [
        { id: 1, name: "Root A", parent: -1 },
        { id: 2, name: "Root B", parent: null },
        { id: 3, name: "Child", parent: 1 },
        { id: 4, name: "Child by text", Parent: "2" },
      ],
    };
    const session = await connectTo(me).session;
    assert.deepEqual(session.accounts.map((a) => [a.id, a.parent]), [
      [1, null],
      [2, null],
      [3, 1],
      [4, 2],
    ]);
  },
});

Deno.test("identity: PascalCase user object and camelCase User array, Parent -1 and ids", async () => {
  const pascalObject = {
    User: { UserName: "a@example.com", FirstName: "A", Links: { UserId: "77" } },
    Accounts: [{ ID: 5, Name: "Five", Parent: -1 }, { ID: 6, Name: "Six", Parent: "5" }],
  };
  const camelArray = {
    user: [{ userName: "a@example.com", firstName: "A", links: { userId: "77" } }],
    accounts: [{ id: 5, name: "Five", parent: -1 }, { id: 6, name: "Six", parent: 5 }],
  };
  for (const me of [pascalObject, camelArray]) {
    const session = await connectTo(me).session;
    assert.equal(session.identity?.username, "a@example.com");
    assert.equal(session.identity?.firstName, "A");
    assert.equal(session.identity?.userId, "77");
    assert.deepEqual(session.accounts, [
      { id: 5, name: "Five", parent: null },
      { id: 6, name: "Six", parent: 5 },
    ]);
  }
});

Deno.test("identity: Products null, array and object are kept as products", async () => {
  const object = { "AA-CORE": ["Invoicing", "Pricing"], "ARMOR-COMPLETE": ["Invoicing"] };
  const me = {
    User: [{ UserName: "a@example.com" }],
    Accounts: [
      { ID: 1, Name: "Null", Products: null },
      { ID: 2, Name: "Array", Products: ["AA-CORE"] },
      { ID: 3, Name: "Object", Products: object },
      { ID: 4, Name: "None" },
    ],
  };
  const session = await connectTo(me).session;
  assert.equal(session.accounts[0].products, null);
  assert.deepEqual(session.accounts[1].products, ["AA-CORE"]);
  assert.deepEqual(session.accounts[2].products, object);
  assert.equal("products" in session.accounts[3], false);
});

Deno.test("identity: Permissions as an array of maps or a map of arrays give the same map", async () => {
  const arrayOfMaps = {
    User: [{ UserName: "a@example.com" }],
    Accounts: [{ ID: 1, Name: "One" }],
    Permissions: [{ "1": "1 7  8", "2": "3" }, { "3": "9 10" }],
  };
  const mapOfArrays = {
    user: { username: "a@example.com" },
    accounts: [{ id: 1, name: "One" }],
    permissions: { "1": ["1", "7", "8"], "2": ["3"], "3": ["9", "10"] },
  };
  const expected = { "1": ["1", "7", "8"], "2": ["3"], "3": ["9", "10"] };
  assert.deepEqual((await connectTo(arrayOfMaps).session).identity?.permissions, expected);
  assert.deepEqual((await connectTo(mapOfArrays).session).identity?.permissions, expected);
});

Deno.test("identity: departments and features in either case", async () => {
  const me = {
    user: { username: "a@example.com" },
    accounts: [{ id: 1, name: "One" }],
    departments: [{ id: 4, name: "Ops", account: 1 }],
    features: [{ accountId: 1, feature: "AA-CORE.INVOICING", productId: 2, featureId: 19 }],
  };
  const session = await connectTo(me).session;
  assert.deepEqual(session.identity?.departments, [{ id: 4, name: "Ops", account: 1 }]);
  assert.deepEqual(session.identity?.features, [
    { accountId: 1, feature: "AA-CORE.INVOICING", productId: 2, featureId: 19 },
  ]);
});

Deno.test("identity: links.userId and passwordExpiry as a string become numbers", async () => {
  const me = {
    user: { username: "a@example.com", links: { userId: 4922 }, passwordExpiry: "86400" },
    accounts: [{ id: 1, name: "One", currency: "USD       " }],
  };
  const session = await connectTo(me).session;
  assert.equal(session.identity?.userId, 4922);
  assert.equal(session.identity?.passwordExpiry, 86400);
  assert.equal(session.accounts[0].currency, "USD");
});

/** Connects with a shared store; returns the error and a fresh session on that store. */
async function failedConnect(me: unknown) {
  const store = new MemoryTokenStore();
  const error = await connectTo(me, store).session.then(
    () => assert.fail("connect should have failed"),
    (e: unknown) => e,
  );
  const later = new ArmorSession({
    baseUrl: BASE,
    now: () => START,
    store,
    storeKey: "identity-test",
  });
  return { error, later };
}

Deno.test("identity: no user name fails INVALID_RESPONSE naming the field, and no session", async () => {
  const secretish = "accountname-do-not-show-1234";
  for (
    const me of [
      { User: [], Accounts: [{ ID: 1, Name: secretish }] },
      { user: { username: "   " }, accounts: [{ id: 1, name: secretish }] },
      { user: { firstName: secretish }, accounts: [] },
      { User: [{ UserName: 42 }], Accounts: [{ ID: 1, Name: secretish }] },
    ]
  ) {
    const { error, later } = await failedConnect(me);
    assert.ok(error instanceof ArmorApiError, String(error));
    assert.equal(error.code, "INVALID_RESPONSE");
    assert.match(error.message, /user name/i);
    assert.equal(error.message.includes(secretish), false);
    assert.equal(error.message.includes(PASSWORD), false);
    assert.equal(await later.load(), false);
    assert.equal(later.isActive(), false);
    assert.throws(() => later.token, ArmorApiError);
  }
});

Deno.test("identity: no account list fails INVALID_RESPONSE naming the field, and no session", async () => {
  const username = "someone-private@example.com";
  for (
    const me of [
      { User: [{ UserName: username }] },
      { user: { username }, accounts: "1001" },
      { user: { username }, Accounts: { "1": { id: 1 } } },
    ]
  ) {
    const { error, later } = await failedConnect(me);
    assert.ok(error instanceof ArmorApiError, String(error));
    assert.equal(error.code, "INVALID_RESPONSE");
    assert.match(error.message, /account/i);
    assert.equal(error.message.includes(username), false);
    assert.equal(await later.load(), false);
    assert.equal(later.isActive(), false);
    assert.throws(() => later.token, ArmorApiError);
  }
});

Deno.test("identity: an empty account list is accepted (nothing to pick)", async () => {
  const session = await connectTo({ user: { username: "a@example.com" }, accounts: [] }).session;
  assert.deepEqual(session.accounts, []);
  assert.equal(session.accountId, undefined);
});
