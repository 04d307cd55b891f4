import assert from "node:assert/strict";
import { MockClock, serveMockArmorApi } from "../../src/testing/mod.ts";

const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };
const DEMO = { username: "demo@example.com", password: "demo-password" };

async function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
    redirect: "manual",
    ...init,
  });
}

function canListen(hostname: string): boolean {
  try {
    Deno.listen({ hostname, port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("serveMockArmorApi serves the login flow on a loopback port", async () => {
  const clock = new MockClock(0);
  const served = await serveMockArmorApi({ clock });
  try {
    assert.match(served.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(served.url.href, `${served.baseUrl}/`);
    assert.notEqual(served.url.port, "0");
    assert.equal(served.mock.clock, clock);

    const authorize = await postJson(`${served.baseUrl}/auth/authorize`, DEMO);
    assert.equal(authorize.status, 200);
    assert.equal(authorize.headers.get("content-type"), "application/json");
    const { code } = await authorize.json();

    const token = await postJson(new URL("/auth/token", served.url).href, {
      code,
      grant_type: "authorization_code",
    });
    assert.equal(token.status, 200);
    const { access_token } = await token.json();
    assert.match(access_token, /^[0-9a-f]{32}$/);

    const me = await fetch(`${served.baseUrl}/me`, {
      headers: { Authorization: `FH-AUTH ${access_token}`, "X-Account-Context": "1001" },
    });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).user.username, "demo@example.com");

    const log = served.mock.requests;
    assert.deepEqual(log.map((r) => [r.method, r.path, r.status]), [
      ["POST", "/auth/authorize", 200],
      ["POST", "/auth/token", 200],
      ["GET", "/me", 200],
    ]);
    assert.deepEqual(log[0].body, DEMO);
    assert.equal(log[0].headers.accept, "application/json");
    assert.equal(log[2].headers.authorization, `FH-AUTH ${access_token}`);
    assert.equal(log[2].headers["x-account-context"], "1001");
  } finally {
    await served.close();
  }
});

Deno.test("after close the port refuses connections; close is idempotent", async () => {
  const served = await serveMockArmorApi();
  const res = await fetch(`${served.baseUrl}/me`);
  assert.equal(res.status, 401);
  await res.body?.cancel();

  const first = served.close();
  assert.equal(served.close(), first);
  await first;
  await served.close();
  await assert.rejects(fetch(`${served.baseUrl}/me`), TypeError);
});

Deno.test("await using closes the server at the end of the scope", async () => {
  let baseUrl: string;
  {
    await using served = await serveMockArmorApi();
    baseUrl = served.baseUrl;
    const res = await fetch(`${baseUrl}/nowhere`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  }
  await assert.rejects(fetch(`${baseUrl}/me`), TypeError);
});

Deno.test("aborting the signal shuts the server down", async () => {
  const controller = new AbortController();
  const served = await serveMockArmorApi({ signal: controller.signal });
  controller.abort();
  await served.close();
  await assert.rejects(fetch(`${served.baseUrl}/me`), TypeError);

  await assert.rejects(serveMockArmorApi({ signal: AbortSignal.abort() }));
});

Deno.test("faults reach the client over the socket", async () => {
  await using served = await serveMockArmorApi();
  served.mock.inject({
    path: "/auth/authorize",
    status: 503,
    body: "Service Unavailable",
    headers: { "Retry-After": "1" },
  });
  const faulted = await postJson(`${served.baseUrl}/auth/authorize`, DEMO);
  assert.equal(faulted.status, 503);
  assert.equal(faulted.headers.get("retry-after"), "1");
  assert.equal(await faulted.text(), "Service Unavailable");
  const ok = await postJson(`${served.baseUrl}/auth/authorize`, DEMO);
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.deepEqual(served.mock.requests.map((r) => r.status), [503, 200]);
});

Deno.test("a client that times out during a delay does not hold up close", async () => {
  // Under Deno.serve the mock does not read request.signal (Deno would print a warning),
  // so the wait goes on until close() ends it with 503.
  const served = await serveMockArmorApi();
  served.mock.inject({ delayMs: 10_000 });
  await assert.rejects(
    fetch(`${served.baseUrl}/me`, { signal: AbortSignal.timeout(50) }),
    (error: Error) => error.name === "TimeoutError",
  );
  const started = performance.now();
  await served.close();
  assert.ok(performance.now() - started < 2_000);
  await until(() => served.mock.requests[0]?.status === 503);
});

Deno.test("port and hostname choose where the mock listens", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const served = await serveMockArmorApi({ port, hostname: "127.0.0.1" });
  try {
    assert.equal(served.port, port);
    assert.equal(served.baseUrl, `http://127.0.0.1:${port}`);
    const res = await fetch(`http://127.0.0.1:${port}/me`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
    // The port is taken now: a second server on it is refused.
    await assert.rejects(serveMockArmorApi({ port }), Deno.errors.AddrInUse);
  } finally {
    await served.close();
  }
  const free = await serveMockArmorApi();
  assert.notEqual(free.port, 0);
  assert.equal(free.baseUrl, `http://127.0.0.1:${free.port}`);
  await free.close();
});

Deno.test({
  name: "an IPv6 hostname gets a bracketed base URL",
  ignore: !canListen("::1"),
  async fn() {
    await using served = await serveMockArmorApi({ hostname: "::1" });
    assert.equal(served.baseUrl, `http://[::1]:${served.port}`);
    const res = await fetch(`${served.baseUrl}/me`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
  },
});

Deno.test("a bad port or hostname is refused before listening", async () => {
  for (const port of [-1, 1.5, 65_536, Number.NaN]) {
    await assert.rejects(serveMockArmorApi({ port }), RangeError, String(port));
  }
  for (const hostname of ["", "  ", 1 as unknown as string]) {
    await assert.rejects(serveMockArmorApi({ hostname }), TypeError);
  }
});

Deno.test("close does not wait for a pending delay", async () => {
  const served = await serveMockArmorApi({
    users: [{ ...DEMO, accounts: [], mfaDelayMs: 10_000 }],
  });
  const pending = postJson(`${served.baseUrl}/auth/authorize`, DEMO);
  await until(() => served.mock.requests.length === 1);
  const started = performance.now();
  await served.close();
  assert.ok(performance.now() - started < 2_000);
  const res = await pending;
  assert.equal(res.status, 503);
  await res.body?.cancel();
});

Deno.test("two servers run side by side on different ports", async () => {
  await using a = await serveMockArmorApi();
  await using b = await serveMockArmorApi();
  assert.notEqual(a.baseUrl, b.baseUrl);
  const res = await fetch(`${a.baseUrl}/me`);
  await res.body?.cancel();
  assert.equal(a.mock.requests.length, 1);
  assert.equal(b.mock.requests.length, 0);
});

Deno.test("serves 2,000 concurrent requests", async () => {
  await using served = await serveMockArmorApi();
  const statuses = await Promise.all(
    Array.from({ length: 2_000 }, async () => {
      const res = await fetch(`${served.baseUrl}/accounts`);
      await res.body?.cancel();
      return res.status;
    }),
  );
  assert.ok(statuses.every((status) => status === 401));
  assert.equal(served.mock.count("/accounts"), 2_000);
});
