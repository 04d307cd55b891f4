// What the session test files share: the clock's start, the session's numbers, and a
// mock to log in to as the demo user on the mock's clock.

import assert from "node:assert/strict";
import { type ArmorConnectOptions, ArmorSession } from "../mod.ts";
import {
  DEFAULT_MOCK_USER,
  MockClock,
  type ServedMockArmorApi,
  serveMockArmorApi,
  type ServeMockArmorApiOptions,
} from "../src/testing/mod.ts";

export const START = Date.UTC(2026, 10, 23, 10, 0);
export const MINUTE = 60_000;
export const SESSION_MS = 15 * MINUTE;
/** Renewal is due once a third of the session (5 of 15 minutes) has passed. */
export const RENEW_AFTER_MS = 5 * MINUTE;
export const REISSUE = "/auth/token/reissue";

/** The mock Armor API on a loopback port, its clock at START. */
export function serve(options: ServeMockArmorApiOptions = {}): Promise<ServedMockArmorApi> {
  return serveMockArmorApi({ clock: new MockClock(START), ...options });
}

/** Logs in to `server` as the demo user, on the mock's clock. */
export function connect(
  server: ServedMockArmorApi,
  options: Partial<ArmorConnectOptions> = {},
): Promise<ArmorSession> {
  return ArmorSession.connect({
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    random: () => 0, // renew exactly at the two-thirds point: no jitter in these tests
    username: DEFAULT_MOCK_USER.username,
    password: DEFAULT_MOCK_USER.password,
    ...options,
  });
}

/** Calls `/me`, checks the status, drops the body, returns the token it carried. */
export async function callMe(
  server: ServedMockArmorApi,
  session: ArmorSession,
  status = 200,
): Promise<string | undefined> {
  const res = await session.fetch("/me");
  await res.body?.cancel();
  assert.equal(res.status, status);
  const sent = server.mock.requests.findLast((r) => r.path === "/me")!;
  return sent.headers.authorization?.replace(/^FH-AUTH /, "");
}
