// Helpers shared by the mock's tests: requests in-process and error-body checks.
import assert from "node:assert/strict";
import {
  createMockArmorApi,
  type MockArmorApi,
  type MockArmorApiOptions,
  MockClock,
  type MockDialect,
} from "../../src/testing/mod.ts";

export const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };
export const DEMO = { username: "demo@example.com", password: "demo-password" };
export const MINUTE = 60_000;
export const DIALECTS: readonly MockDialect[] = ["powershell", "openapi"];
/** 2026-11-22T10:00:00Z, the time every fixed mock starts at. */
export const START = Date.UTC(2026, 10, 22, 10, 0, 0);

export function post(mock: MockArmorApi, path: string, body: unknown, init: RequestInit = {}) {
  return mock.app.request(path, {
    method: "POST",
    headers: JSON_HEADERS,
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

export function get(mock: MockArmorApi, path: string, token?: string, headers: HeadersInit = {}) {
  const all = new Headers(headers);
  if (token !== undefined) all.set("Authorization", `FH-AUTH ${token}`);
  return mock.app.request(path, { headers: all });
}

export async function authorize(mock: MockArmorApi, credentials: unknown = DEMO): Promise<string> {
  const res = await post(mock, "/auth/authorize", credentials);
  assert.equal(res.status, 200);
  return (await res.json()).code;
}

export async function redeem(mock: MockArmorApi, code: string): Promise<Response> {
  return await post(mock, "/auth/token", { code, grant_type: "authorization_code" });
}

export async function login(mock: MockArmorApi, credentials: unknown = DEMO): Promise<string> {
  const res = await redeem(mock, await authorize(mock, credentials));
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

export async function reissue(
  mock: MockArmorApi,
  token: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await post(mock, "/auth/token/reissue", { token }, {
    headers: { ...JSON_HEADERS, ...headers },
  });
}

export function fixedMock(options: MockArmorApiOptions = {}) {
  const clock = new MockClock(START);
  return { clock, mock: createMockArmorApi({ clock, ...options }) };
}

/**
 * Asserts an answer's status and that its body is exactly the dialect's error body:
 * `{"Message"}` (PowerShell) or `{"error": code, "error_description", "status"}` (OpenAPI).
 * Returns the body.
 */
export async function assertError(
  res: Response,
  dialect: MockDialect,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  if (dialect === "powershell") {
    assert.deepEqual(Object.keys(body), ["Message"]);
    assert.equal(typeof body.Message, "string");
    assert.notEqual(body.Message, "");
  } else {
    assert.deepEqual(Object.keys(body).sort(), ["error", "error_description", "status"]);
    assert.equal(body.error, code);
    assert.equal(typeof body.error_description, "string");
    assert.equal(body.status, status);
  }
  return body;
}
