/**
 * The signed-in identity, as `GET /me` returns it.
 *
 * @module
 */

/**
 * One Armor account the user can act on (`X-Account-Context`).
 *
 * @example
 * ```ts
 * import type { ArmorAccount } from "@armor-api/auth";
 * const account: ArmorAccount = { id: 1001, name: "Production", currency: "USD", status: "Claimed", parent: 0 };
 * ```
 */
export interface ArmorAccount {
  /** The account id, a positive integer. */
  id: number;
  /** The account's name. */
  name: string;
  /** Its currency, e.g. `"USD"`, where Armor sent one. */
  currency?: string;
  /** Its status, where Armor sent one. */
  status?: string;
  /** The parent account's id, where Armor sent one. */
  parent?: number;
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
 *   permissions: [],
 *   features: [],
 * };
 * ```
 */
export interface ArmorIdentity {
  /** The user name (`UserName`). */
  username: string;
  /** `FirstName`, where sent. */
  firstName?: string;
  /** `LastName`, where sent. */
  lastName?: string;
  /** The accounts the user can act on (`Accounts`), in Armor's order. */
  accounts: ArmorAccount[];
  /** `Departments`, as sent. */
  departments: unknown[];
  /** `Permissions`, as sent. */
  permissions: unknown[];
  /** `Features`, as sent. */
  features: unknown[];
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function isAccountId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/**
 * Checks a `/me` body; returns the identity, or a message naming what is wrong.
 * Accepts `PascalCase` as Armor sends it, and `camelCase`.
 */
export function parseIdentity(json: Record<string, unknown>): ArmorIdentity | string {
  const username = json.UserName ?? json.userName ?? json.username;
  if (typeof username !== "string") return "UserName is not a string";
  const rawAccounts = json.Accounts ?? json.accounts;
  if (!Array.isArray(rawAccounts)) return "Accounts is not an array";
  const accounts: ArmorAccount[] = [];
  for (const raw of rawAccounts) {
    if (typeof raw !== "object" || raw === null) return "an account is not an object";
    const entry = raw as Record<string, unknown>;
    const id = entry.ID ?? entry.Id ?? entry.id;
    if (!isAccountId(id)) return "an account ID is not a positive integer";
    const name = entry.Name ?? entry.name;
    const parent = entry.Parent ?? entry.parent;
    const account: ArmorAccount = { id, name: typeof name === "string" ? name : String(id) };
    const currency = optionalString(entry.Currency ?? entry.currency);
    const status = optionalString(entry.Status ?? entry.status);
    if (currency !== undefined) account.currency = currency;
    if (status !== undefined) account.status = status;
    if (typeof parent === "number") account.parent = parent;
    accounts.push(account);
  }
  const list = (value: unknown): unknown[] => Array.isArray(value) ? value : [];
  const identity: ArmorIdentity = {
    username,
    accounts,
    departments: list(json.Departments ?? json.departments),
    permissions: list(json.Permissions ?? json.permissions),
    features: list(json.Features ?? json.features),
  };
  const firstName = optionalString(json.FirstName ?? json.firstName);
  const lastName = optionalString(json.LastName ?? json.lastName);
  if (firstName !== undefined) identity.firstName = firstName;
  if (lastName !== undefined) identity.lastName = lastName;
  return identity;
}
