/**
 * The signed-in identity, read from `GET /me` in either documented shape.
 *
 * Armor documents two shapes (see the README's "Wire compatibility"): the PowerShell
 * module's captures put the user inside an array, `{"User": [{"UserName", ...}],
 * "Accounts": [{"ID", ...}], ...}`; the current OpenAPI contract sends an object,
 * `{"user": {"username", ...}, "accounts": [{"id", ...}], ...}`. Field names are
 * matched without regard to case, so PascalCase and camelCase both work.
 *
 * @module
 */

import { InvalidField } from "./errors.ts";
import { isRecord } from "./_validate.ts";

/**
 * One Armor account the user can act on (`X-Account-Context`).
 *
 * @example
 * ```ts
 * import type { ArmorAccount } from "@armor-api/auth";
 * const account: ArmorAccount = { id: 1001, name: "Production", currency: "USD", parent: null };
 * ```
 */
export interface ArmorAccount {
  /** The account id, a positive integer (`ID` or `id`). */
  id: number;
  /** The account's name; the id as text when Armor sent none. */
  name: string;
  /** Its currency, e.g. `"USD"`, trimmed of the padding Armor may send. */
  currency?: string;
  /** Its status, e.g. `"Claimed"`, `"Cancelled"`, `"Pending"`, `"Inactive"`. */
  status?: string;
  /**
   * The parent account's id; `null` for a root account (Armor sends `-1` or `null`);
   * absent when Armor sent no parent.
   */
  parent?: number | null;
  /**
   * The products, as sent: `null`, an array, or an object from product name to its
   * feature names (`/accounts`).
   */
  products?: unknown;
  /** `accountType`, where sent. */
  accountType?: string;
  /** `isSynced`, where sent. */
  isSynced?: boolean;
  /** `isFreeTrial`, where sent. */
  isFreeTrial?: boolean;
}

/**
 * Who is signed in, from `GET /me` at login.
 *
 * @example
 * ```ts
 * import type { ArmorIdentity } from "@armor-api/auth";
 * const me: ArmorIdentity = {
 *   username: "ops@example.com",
 *   firstName: "Ada",
 *   lastName: "Lovelace",
 *   accounts: [{ id: 1001, name: "Production" }],
 *   departments: [],
 *   permissions: { "1001": ["101", "102"] },
 *   features: [],
 * };
 * ```
 */
export interface ArmorIdentity {
  /** The user name (`User[0].UserName` or `user.username`). */
  username: string;
  /** The first name, where sent. */
  firstName?: string;
  /** The last name, where sent. */
  lastName?: string;
  /** The user's type, e.g. `"user"`, where sent. */
  type?: string;
  /** The user's id (`user.links.userId`), where sent. */
  userId?: number | string;
  /** Seconds until the password expires (`user.passwordExpiry`, sent as a string). */
  passwordExpiry?: number;
  /** The accounts the user can act on, in Armor's order. */
  accounts: ArmorAccount[];
  /** The departments, where sent (`{"ID", "Name", "Account"}`). */
  departments: {
    /** The department id, where sent. */
    id?: number;
    /** Its name, where sent. */
    name?: string;
    /** The account it belongs to, where sent. */
    account?: number;
  }[];
  /**
   * The permission ids per account id: Armor sends a map, or an array of maps whose
   * values are space-separated ids; both become `{ "<account id>": ["<id>", ...] }`.
   */
  permissions: Record<string, string[]>;
  /**
   * The features enabled on the accounts, where sent
   * (`{"AccountID", "Feature", "ProductID", "FeatureID"}`).
   */
  features: {
    /** The account, where sent. */
    accountId?: number;
    /** The feature's name, where sent. */
    feature?: string;
    /** The product id, where sent. */
    productId?: number;
    /** The feature id, where sent. */
    featureId?: number;
  }[];
}

/** A department of {@linkcode ArmorIdentity}. */
type ArmorDepartment = ArmorIdentity["departments"][number];
/** A feature of {@linkcode ArmorIdentity}. */
type ArmorFeature = ArmorIdentity["features"][number];

type Json = Record<string, unknown>;

/** `object[name]`, matching the key without regard to case (`UserName`, `userName`). */
function field(object: Json, name: string): unknown {
  if (name in object) return object[name];
  const wanted = name.toLowerCase();
  for (const key of Object.keys(object)) {
    if (key.toLowerCase() === wanted) return object[key];
  }
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A safe integer, from a number or a string of digits. */
function integer(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === "string" && /^-?\d{1,15}$/.test(value.trim())) return Number(value);
  return undefined;
}

function flag(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

/** The user object: the first entry of a `User` array, a `user` object, or the root. */
function userOf(json: Json): Json {
  const user = field(json, "user");
  if (Array.isArray(user)) return isRecord(user[0]) ? user[0] : {};
  if (isRecord(user)) return user;
  return json; // an older flat form: the user's fields at the top
}

function parseAccount(raw: unknown): ArmorAccount | undefined {
  if (!isRecord(raw)) return undefined;
  const id = integer(field(raw, "id"));
  if (id === undefined || id <= 0) return undefined;
  const account: ArmorAccount = { id, name: text(field(raw, "name")) ?? String(id) };
  const currency = text(field(raw, "currency"))?.trim();
  if (currency) account.currency = currency;
  const status = text(field(raw, "status"));
  if (status !== undefined) account.status = status;
  let parentRaw = field(raw, "parent");
  if (parentRaw === undefined) parentRaw = field(raw, "parentAccountId");
  if (parentRaw === null) account.parent = null;
  else {
    const parent = integer(parentRaw);
    if (parent !== undefined) account.parent = parent > 0 ? parent : null;
  }
  const products = field(raw, "products");
  if (products !== undefined) account.products = products;
  const accountType = text(field(raw, "accountType"));
  if (accountType !== undefined) account.accountType = accountType;
  const isSynced = flag(field(raw, "isSynced"));
  if (isSynced !== undefined) account.isSynced = isSynced;
  const isFreeTrial = flag(field(raw, "isFreeTrial"));
  if (isFreeTrial !== undefined) account.isFreeTrial = isFreeTrial;
  return account;
}

function parseDepartment(raw: unknown): ArmorDepartment | undefined {
  if (!isRecord(raw)) return undefined;
  const department: ArmorDepartment = {};
  const id = integer(field(raw, "id"));
  const name = text(field(raw, "name"));
  const account = integer(field(raw, "account"));
  if (id !== undefined) department.id = id;
  if (name !== undefined) department.name = name;
  if (account !== undefined) department.account = account;
  return department;
}

function parseFeature(raw: unknown): ArmorFeature | undefined {
  if (!isRecord(raw)) return undefined;
  const feature: ArmorFeature = {};
  const accountId = integer(field(raw, "accountId"));
  const name = text(field(raw, "feature")) ?? text(field(raw, "name"));
  const productId = integer(field(raw, "productId"));
  const featureId = integer(field(raw, "featureId")) ?? integer(field(raw, "id"));
  if (accountId !== undefined) feature.accountId = accountId;
  if (name !== undefined) feature.feature = name;
  if (productId !== undefined) feature.productId = productId;
  if (featureId !== undefined) feature.featureId = featureId;
  return feature;
}

/** Permissions from a map, or an array of maps; values are arrays or space-separated ids. */
function parsePermissions(raw: unknown): Record<string, string[]> {
  const permissions: Record<string, string[]> = {};
  const maps = Array.isArray(raw) ? raw : [raw];
  for (const map of maps) {
    if (!isRecord(map)) continue;
    for (const [account, value] of Object.entries(map)) {
      const ids = Array.isArray(value)
        ? value.filter((id) => typeof id === "string" || typeof id === "number").map(String)
        : typeof value === "string"
        ? value.split(/\s+/).filter((id) => id !== "")
        : typeof value === "number"
        ? [String(value)]
        : [];
      // An own property, whatever the key (`constructor`, `__proto__`): never the prototype's.
      if (!Object.hasOwn(permissions, account)) {
        Object.defineProperty(permissions, account, {
          value: [],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      permissions[account].push(...ids);
    }
  }
  return permissions;
}

function listOf<T>(raw: unknown, parse: (entry: unknown) => T | undefined): T[] {
  if (!Array.isArray(raw)) return [];
  const out: T[] = [];
  for (const entry of raw) {
    const parsed = parse(entry);
    if (parsed !== undefined) out.push(parsed);
  }
  return out;
}

/**
 * Reads a `/me` body in either documented shape. Throws an {@linkcode InvalidField}
 * naming what is missing (never a value) when no user name or no account list can be
 * found; everything else is optional. Accounts without a positive integer id are
 * skipped, since none can be an account context.
 */
export function parseIdentity(json: Json): ArmorIdentity {
  const user = userOf(json);
  const username = text(field(user, "username"));
  if (username === undefined || username.trim() === "") {
    throw new InvalidField("no user name (User[0].UserName or user.username)");
  }
  const rawAccounts = field(json, "accounts");
  if (!Array.isArray(rawAccounts)) {
    throw new InvalidField("no account list (Accounts or accounts)");
  }
  const identity: ArmorIdentity = {
    username,
    accounts: listOf(rawAccounts, parseAccount),
    departments: listOf(field(json, "departments"), parseDepartment),
    permissions: parsePermissions(field(json, "permissions")),
    features: listOf(field(json, "features"), parseFeature),
  };
  const firstName = text(field(user, "firstName"));
  const lastName = text(field(user, "lastName"));
  const type = text(field(user, "type"));
  if (firstName !== undefined) identity.firstName = firstName;
  if (lastName !== undefined) identity.lastName = lastName;
  if (type !== undefined) identity.type = type;
  const links = field(user, "links");
  const userId = isRecord(links) ? field(links, "userId") : undefined;
  if (typeof userId === "number" || (typeof userId === "string" && userId !== "")) {
    identity.userId = userId;
  }
  const passwordExpiry = integer(field(user, "passwordExpiry"));
  if (passwordExpiry !== undefined) identity.passwordExpiry = passwordExpiry;
  return identity;
}
