// The JSON bodies of the mock in each documented dialect (see armor-api.md): "openapi" is
// what Armor's OpenAPI contracts describe (the default), "powershell" what the
// ArmorPowerShell module's fixtures show (several written by hand, not captured).
import type { MockDialect } from "./_types.ts";
import type { AccountProfile, UserProfile } from "./_users.ts";

/** A JSON object body. */
export type Body = Record<string, unknown>;

/** The width the PS fixture pads `/accounts` currencies to (`"USD       "`). */
const CURRENCY_WIDTH = 10;

/**
 * An error body: ASP.NET's `{"Message"}` in the PowerShell dialect, the OpenAPI
 * `{"error", "error_description", "status"}` otherwise.
 *
 * @param dialect The mock's dialect
 * @param status The HTTP status the body goes with
 * @param error The OpenAPI error code, e.g. `"invalid_token"`
 * @param description The human-readable message
 */
export function errorBody(
  dialect: MockDialect,
  status: number,
  error: string,
  description: string,
): Body {
  if (dialect === "powershell") return { Message: description };
  return { error, error_description: description, status };
}

/** A JSON answer. */
export function jsonResponse(body: unknown, status = 200, headers?: HeadersInit): Response {
  const all = new Headers(headers);
  all.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: all });
}

/** An error answer with the dialect's error body. */
export function errorResponse(
  dialect: MockDialect,
  status: number,
  error: string,
  description: string,
  headers?: HeadersInit,
): Response {
  return jsonResponse(errorBody(dialect, status, error, description), status, headers);
}

/**
 * The body of a refused login: `{"errorCode": "access_denied", "badLogonCount"}` in the
 * PowerShell dialect (as its tests show), the OpenAPI error body otherwise.
 */
export function loginErrorBody(
  dialect: MockDialect,
  status: number,
  error: string,
  description: string,
  badLogonCount: number,
): Body {
  if (dialect === "powershell") return { errorCode: "access_denied", badLogonCount };
  return errorBody(dialect, status, error, description);
}

/** The answer to a good `POST /auth/authorize`. */
export function authorizeBody(dialect: MockDialect, code: string, codeLifetimeMs: number): Body {
  if (dialect === "powershell") return { redirect_uri: null, code, success: true };
  return { code, expiresIn: Math.round(codeLifetimeMs / 1000) };
}

/** The answer to a good `POST /auth/token` (with an id token) or reissue (`null`). */
export function tokenBody(
  dialect: MockDialect,
  accessToken: string,
  idToken: string | null,
  expiresIn: number,
): Body {
  return {
    access_token: accessToken,
    id_token: idToken,
    expires_in: expiresIn,
    token_type: dialect === "powershell" ? "Bearer" : "FH-AUTH",
  };
}

/** The answer to `GET /me` for a user. */
export function meBody(dialect: MockDialect, user: UserProfile): Body {
  return dialect === "powershell" ? powershellMe(user) : openapiMe(user);
}

/** The answer to `GET /accounts` for a user: the same in both dialects. */
export function accountsBody(user: UserProfile): Body[] {
  return user.accounts.map((account) => ({
    id: account.id,
    name: account.name,
    currency: account.currency.padEnd(CURRENCY_WIDTH),
    status: account.status,
    parent: account.parent ?? -1,
    products: account.products,
    accountType: account.accountType,
    isSynced: account.isSynced,
    isFreeTrial: account.isFreeTrial,
  }));
}

function powershellMe(user: UserProfile): Body {
  const permissions = Object.fromEntries(
    Object.entries(user.permissions).map(([account, ids]) => [account, ids.join(" ")]),
  );
  return {
    User: [{
      Type: "user",
      UserName: user.username,
      FirstName: user.firstName,
      LastName: user.lastName,
      Links: "",
    }],
    Accounts: user.accounts.map((account: AccountProfile) => ({
      ID: account.id,
      Name: account.name,
      Currency: account.currency,
      Status: account.status,
      Parent: account.parent ?? -1,
      Products: null,
    })),
    Departments: user.departments.map((department) => ({
      ID: department.id,
      Name: department.name,
      Account: department.account,
    })),
    Permissions: Object.keys(permissions).length === 0 ? [] : [permissions],
    Features: user.features.map((feature) => ({
      AccountID: feature.accountId,
      Feature: feature.feature,
      ProductID: feature.productId,
      FeatureID: feature.featureId,
    })),
  };
}

function openapiMe(user: UserProfile): Body {
  return {
    user: {
      type: "user",
      username: user.username,
      firstName: user.firstName,
      lastName: user.lastName,
      links: { userId: user.userId },
      passwordExpiry: String(user.passwordExpiry),
    },
    accounts: user.accounts.map((account) => ({
      id: account.id,
      name: account.name,
      currency: account.currency,
      status: account.status,
      parent: account.parent,
      products: Object.keys(account.products),
      accountType: account.accountType,
      isSynced: account.isSynced,
      isFreeTrial: account.isFreeTrial,
    })),
    permissions: Object.fromEntries(
      Object.entries(user.permissions).map(([account, ids]) => [account, [...ids]]),
    ),
    features: user.features.map((feature) => ({
      accountId: feature.accountId,
      feature: feature.feature,
      productId: feature.productId,
    })),
  };
}
