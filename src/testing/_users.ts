import type { MockAccount, MockFeature, MockUser } from "./_types.ts";

/** An account with every default filled in. */
export interface AccountProfile {
  id: number;
  name: string;
  /** Unpadded, e.g. `"USD"`; `/accounts` pads it. */
  currency: string;
  status: string;
  /** `null` for a root account. */
  parent: number | null;
  products: Record<string, string[]>;
  accountType: string;
  isSynced: boolean;
  isFreeTrial: boolean;
}

/** A department with every field set. */
export interface DepartmentProfile {
  id: number;
  name: string;
  account: number;
}

/** A user with every default filled in: what the dialect bodies are built from. */
export interface UserProfile {
  username: string;
  password: string;
  firstName: string;
  lastName: string;
  userId: number;
  passwordExpiry: number;
  mfaDelayMs: number;
  accounts: AccountProfile[];
  departments: DepartmentProfile[];
  permissions: Record<string, string[]>;
  features: Required<MockFeature>[];
}

/** The permission ids a user has on each account unless told otherwise (from a PS fixture). */
export const DEFAULT_PERMISSIONS: readonly string[] = Object.freeze(
  ["1", "7", "8", "9", "10", "11", "12", "13", "19", "20", "21"],
);

/** The products an account has unless told otherwise (from a PS fixture). */
export const DEFAULT_PRODUCTS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  "AA-CORE": Object.freeze(["Monitoring", "Log Monitoring and Management", "Invoicing"]),
});

/** Product ids seen in the PS fixtures; other products are numbered from 100 up. */
const KNOWN_PRODUCT_IDS: Record<string, number> = { "AA-CORE": 1, "ARMOR-COMPLETE": 3 };

/** 90 days: how long a mock user's password has left unless told otherwise, in seconds. */
const DEFAULT_PASSWORD_EXPIRY = 90 * 24 * 60 * 60;

/**
 * Fills in a user's defaults: departments, permissions and features follow from its
 * accounts unless given.
 */
export function userProfile(user: MockUser, index: number): UserProfile {
  const accounts = (user.accounts ?? []).map(accountProfile);
  const passwordExpiry = user.passwordExpiry ?? DEFAULT_PASSWORD_EXPIRY;
  if (!Number.isFinite(passwordExpiry)) {
    throw new RangeError(
      `Mock user "${user.username}" has passwordExpiry ${passwordExpiry}: give a number of seconds`,
    );
  }
  return {
    username: user.username,
    password: user.password,
    firstName: user.firstName ?? "",
    lastName: user.lastName ?? "",
    userId: user.userId ?? index + 1,
    passwordExpiry,
    mfaDelayMs: user.mfaDelayMs ?? 0,
    accounts,
    departments: (user.departments ?? accounts.map((account, i) => ({
      id: i + 1,
      name: `${account.name} Department`,
      account: account.id,
    }))).map(({ id, name, account }) => ({ id, name, account })),
    permissions: user.permissions === undefined
      ? Object.fromEntries(
        accounts.map((account) => [String(account.id), [...DEFAULT_PERMISSIONS]]),
      )
      : Object.fromEntries(
        Object.entries(user.permissions).map(([account, ids]) => [account, [...ids]]),
      ),
    features: user.features === undefined
      ? derivedFeatures(accounts)
      : user.features.map((feature) => ({ featureId: 0, ...feature })),
  };
}

function accountProfile(account: MockAccount): AccountProfile {
  const products = account.products ?? DEFAULT_PRODUCTS;
  return {
    id: account.id,
    name: account.name,
    currency: account.currency ?? "USD",
    status: account.status ?? "Claimed",
    parent: account.parent === undefined || account.parent === null || account.parent === -1
      ? null
      : account.parent,
    products: Object.fromEntries(
      Object.entries(products).map(([product, features]) => [product, [...features]]),
    ),
    accountType: account.accountType ?? "Direct",
    isSynced: account.isSynced ?? false,
    isFreeTrial: account.isFreeTrial ?? false,
  };
}

/** One feature per product and one per product feature, as the PS fixture lists them. */
function derivedFeatures(accounts: readonly AccountProfile[]): Required<MockFeature>[] {
  const productIds = new Map<string, number>();
  const productId = (product: string) => {
    let id = productIds.get(product) ?? KNOWN_PRODUCT_IDS[product];
    if (id === undefined) id = 100 + productIds.size;
    productIds.set(product, id);
    return id;
  };
  return accounts.flatMap((account) =>
    Object.entries(account.products).flatMap(([product, names]) => [
      { accountId: account.id, feature: product, productId: productId(product), featureId: 0 },
      ...names.map((name, i) => ({
        accountId: account.id,
        feature: `${product}.${name.toUpperCase().replace(/[^A-Z0-9]+/g, "-")}`,
        productId: productId(product),
        featureId: i + 1,
      })),
    ])
  );
}
