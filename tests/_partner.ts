// A partner's login for the fan-out tests: one user who manages three customer accounts,
// with an API key for them, on the mock Armor API.

import { type ArmorConnectOptions, ArmorSession } from "../mod.ts";
import {
  MockClock,
  type ServedMockArmorApi,
  serveMockArmorApi,
  type ServeMockArmorApiOptions,
} from "../src/testing/mod.ts";
import { START } from "./_session.ts";

export const USER = { username: "partner@example.com", password: "partner-password" };
export const ACCOUNTS = [1001, 1002, 1003];
export const KEY = {
  id: "6f1c2a4e-1b7d-4c39-9a53-0d2b8e7f4a11",
  secret: "psk-secret-call-value-4b7e",
};

/** A mock whose one user manages three customer accounts, with an API key for them. */
export function servePartner(options: ServeMockArmorApiOptions = {}): Promise<ServedMockArmorApi> {
  return serveMockArmorApi({
    clock: new MockClock(START),
    users: [{ ...USER, accounts: ACCOUNTS.map((id) => ({ id, name: `Customer ${id}` })) }],
    apiKeys: [KEY],
    ...options,
  });
}

/** Logs in as the partner on the mock's clock, renewing exactly at the two-thirds point. */
export function connectPartner(
  server: ServedMockArmorApi,
  options: Partial<ArmorConnectOptions> = {},
): Promise<ArmorSession> {
  return ArmorSession.connect({
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    random: () => 0,
    ...USER,
    ...options,
  } as ArmorConnectOptions);
}

/** Signs in with the partner's API key on the mock's clock (which should keep real time). */
export function connectPartnerWithKey(
  server: ServedMockArmorApi,
  options: Partial<ArmorConnectOptions> = {},
): Promise<ArmorSession> {
  return ArmorSession.connect({
    apiKey: KEY,
    baseUrl: server.baseUrl,
    now: server.mock.clock.now,
    ...options,
  } as ArmorConnectOptions);
}
