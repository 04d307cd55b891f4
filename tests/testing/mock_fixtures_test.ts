// The mock's answers have exactly the keys and value types of the documented fixtures in
// tests/fixtures (see its README for where each comes from).
import assert from "node:assert/strict";
import type { MockDialect } from "../../src/testing/mod.ts";
import accounts from "../fixtures/accounts.json" with { type: "json" };
import authorizeOpenapi from "../fixtures/authorize.openapi.json" with { type: "json" };
import authorizePowershell from "../fixtures/authorize.powershell.json" with { type: "json" };
import errorLoginPowershell from "../fixtures/error.login.powershell.json" with { type: "json" };
import errorOpenapi from "../fixtures/error.openapi.json" with { type: "json" };
import errorPowershell from "../fixtures/error.powershell.json" with { type: "json" };
import errorToken500 from "../fixtures/error.token500.json" with { type: "json" };
import meOpenapi from "../fixtures/me.openapi.json" with { type: "json" };
import mePowershell from "../fixtures/me.powershell.json" with { type: "json" };
import reissueOpenapi from "../fixtures/reissue.openapi.json" with { type: "json" };
import reissuePowershell from "../fixtures/reissue.powershell.json" with { type: "json" };
import tokenOpenapi from "../fixtures/token.openapi.json" with { type: "json" };
import tokenPowershell from "../fixtures/token.powershell.json" with { type: "json" };
import { authorize, DEMO, fixedMock, get, login, post, redeem, reissue } from "./_mock.ts";

const FIXTURES = {
  powershell: {
    me: mePowershell,
    authorize: authorizePowershell,
    token: tokenPowershell,
    reissue: reissuePowershell,
    error: errorPowershell,
    loginError: errorLoginPowershell,
  },
  openapi: {
    me: meOpenapi,
    authorize: authorizeOpenapi,
    token: tokenOpenapi,
    reissue: reissueOpenapi,
    error: errorOpenapi,
    loginError: errorOpenapi,
  },
} as const;

/** Objects whose keys are data (account ids, product names): their values share one shape. */
const MAPS = new Set(["Permissions[]", "permissions", "[].products"]);

/**
 * A JSON value's keys and value types: the types it takes (`"string"`, `"null"`,
 * `"object"`...), the shape of each key of an object, of the elements of an array, or of
 * the values of a map (an object whose keys are data).
 */
interface Shape {
  types: Set<string>;
  fields?: Map<string, Shape>;
  items?: Shape;
  values?: Shape;
}

function shape(value: unknown, path = ""): Shape {
  if (value === null) return { types: new Set(["null"]) };
  if (Array.isArray(value)) {
    const items = value.map((item) => shape(item, `${path}[]`)).reduce(merge);
    return { types: new Set(["array"]), items };
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (MAPS.has(path)) {
      const values = entries.map(([, item]) => shape(item, `${path}.*`)).reduce(merge);
      return { types: new Set(["map"]), values };
    }
    const fields = new Map(entries.map(([key, item]) => [key, shape(item, join(path, key))]));
    return { types: new Set(["object"]), fields };
  }
  return { types: new Set([typeof value]) };
}

/** The shape that allows what either allows; objects must have the same keys. */
function merge(a: Shape, b: Shape): Shape {
  const merged: Shape = { types: new Set([...a.types, ...b.types]) };
  if (a.fields && b.fields) {
    assert.deepEqual([...a.fields.keys()].sort(), [...b.fields.keys()].sort(), "Keys differ");
    merged.fields = new Map([...a.fields].map(([key, s]) => [key, merge(s, b.fields!.get(key)!)]));
  } else merged.fields = a.fields ?? b.fields;
  merged.items = a.items && b.items ? merge(a.items, b.items) : a.items ?? b.items;
  merged.values = a.values && b.values ? merge(a.values, b.values) : a.values ?? b.values;
  return merged;
}

/** Asserts that `got` has exactly the keys of `want` and only value types `want` shows. */
function assertConforms(got: Shape, want: Shape, path: string): void {
  for (const type of got.types) {
    assert.ok(want.types.has(type), `${path}: ${type}, the fixture has ${[...want.types]}`);
  }
  if (got.fields && want.fields) {
    assert.deepEqual([...got.fields.keys()].sort(), [...want.fields.keys()].sort(), path);
    for (const [key, field] of got.fields) {
      assertConforms(field, want.fields.get(key)!, join(path, key));
    }
  }
  if (got.items && want.items) assertConforms(got.items, want.items, `${path}[]`);
  if (got.values && want.values) assertConforms(got.values, want.values, `${path}.*`);
}

function conforms(got: unknown, want: unknown): boolean {
  try {
    assertConforms(shape(got), shape(want), "body");
    return true;
  } catch {
    return false;
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

async function answers(dialect: MockDialect) {
  const { mock } = fixedMock({ dialect });
  const authorizeBody = await (await post(mock, "/auth/authorize", DEMO)).json();
  const tokenBody = await (await redeem(mock, await authorize(mock))).json();
  const reissueBody = await (await reissue(mock, tokenBody.access_token)).json();
  const token = await login(mock);
  return {
    me: await (await get(mock, "/me", token, { "X-Account-Context": "1001" })).json(),
    accounts: await (await get(mock, "/accounts", token)).json(),
    authorize: authorizeBody,
    token: tokenBody,
    reissue: reissueBody,
    error: await (await get(mock, "/me", "0".repeat(32))).json(),
    loginError: await (await post(mock, "/auth/authorize", { ...DEMO, password: "x" })).json(),
  };
}

for (const dialect of ["powershell", "openapi"] as const) {
  Deno.test(`${dialect} answers have the fixtures' keys and value types`, async () => {
    const got = await answers(dialect);
    const want = FIXTURES[dialect];
    for (const name of ["me", "authorize", "token", "reissue", "error", "loginError"] as const) {
      assertConforms(shape(got[name]), shape(want[name]), `${dialect} ${name}`);
    }
    assertConforms(shape(got.accounts), shape(accounts), `${dialect} accounts`);
  });
}

Deno.test("a 500 from /auth/token has the shape seen from Armor, with a reference id (OpenAPI dialect)", async () => {
  const { mock } = fixedMock();
  mock.inject({ path: "/auth/token", status: 500, times: 2 });
  const first = await redeem(mock, "any");
  assert.equal(first.status, 500);
  const body = await first.json();
  assertConforms(shape(body), shape(errorToken500), "token 500");
  assert.match(body.ReferenceId, /^[0-9a-f-]{36}$/);
  const second = await (await redeem(mock, "any")).json();
  assert.notEqual(second.ReferenceId, body.ReferenceId, "each failure gets its own reference");
  // Elsewhere, and in the PowerShell dialect, a 500 has the dialect's error body.
  mock.inject({ path: "/auth/token/reissue", status: 500 });
  assertConforms(shape(await (await reissue(mock, "x")).json()), shape(errorOpenapi), "reissue");
  const ps = fixedMock({ dialect: "powershell" }).mock;
  ps.inject({ path: "/auth/token", status: 500 });
  assertConforms(shape(await (await redeem(ps, "any")).json()), shape(errorPowershell), "ps");
});

Deno.test("the shape check notices a missing key, a renamed key and a changed type", () => {
  assert.ok(conforms(tokenPowershell, tokenPowershell));
  const { id_token: _, ...missing } = tokenPowershell;
  assert.ok(!conforms(missing, tokenPowershell));
  assert.ok(!conforms({ ...tokenPowershell, extra: 1 }, tokenPowershell));
  assert.ok(!conforms({ ...missing, idToken: "x" }, tokenPowershell));
  assert.ok(!conforms({ ...tokenPowershell, expires_in: "15" }, tokenPowershell));
  assert.ok(!conforms(mePowershell, meOpenapi));
  assert.ok(!conforms({ ...mePowershell, User: mePowershell.User[0] }, mePowershell));
  assert.ok(!conforms(reissueOpenapi, tokenOpenapi), "id_token is null only on reissue");
  // A field the fixture shows as number and null (a root's parent) may be either.
  assert.ok(conforms({ ...meOpenapi, accounts: [meOpenapi.accounts[0]] }, meOpenapi));
  assert.ok(conforms({ ...meOpenapi, accounts: [meOpenapi.accounts[1]] }, meOpenapi));
});
