// Fault injection over real sockets. Each fault must end the call as a typed
// ArmorApiError within its timeout, and leave the session it was made for unchanged.
// Socket-level faults use raw TCP servers (Deno.listen) that each test opens and closes;
// HTTP-level ones (429, 5xx) use the served mock.

import assert from "node:assert/strict";
import {
  ArmorApiError,
  type ArmorApiErrorCode,
  ArmorSession,
  requestArmorApiToken,
  updateArmorApiToken,
} from "../mod.ts";
import { LONGEST_TIMEOUT_MS, RETRY_MIN_MS } from "../src/renewal.ts";
import { MAX_RESPONSE_BYTES } from "../src/errors.ts";
import { MockClock, serveMockArmorApi } from "../src/testing/mod.ts";
import { snapshot } from "./_errors.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const CODE = "C0d3-ZmF1bHRzLXRlc3QtY29kZQ==";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Slack on top of a timeout: the shared deadline's granularity and scheduling. */
const SLACK_MS = 400;

// ---- a raw TCP server ----------------------------------------------------------------

interface RawServer {
  readonly baseUrl: string;
  /** Requests received (a request is counted once its head has arrived). */
  readonly requests: string[];
  close(): Promise<void>;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Reads one request (head and, by its Content-Length, body); `undefined` at EOF. */
async function readRequest(conn: Deno.Conn): Promise<string | undefined> {
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  for (;;) {
    const end = text.indexOf("\r\n\r\n");
    if (end !== -1) {
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
      if (text.length >= end + 4 + Number(length ?? 0)) return text;
    }
    const n = await conn.read(buffer);
    if (n === null) return undefined;
    text += decoder.decode(buffer.subarray(0, n));
  }
}

/** Writes all of `bytes`; false when the peer has gone. */
async function write(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    let done = 0;
    while (done < bytes.byteLength) done += await conn.write(bytes.subarray(done));
    return true;
  } catch {
    return false;
  }
}

/**
 * A TCP server on 127.0.0.1 that reads each request and hands the connection to
 * `answer`; the connection is closed when `answer` returns.
 */
function rawServer(
  answer: (conn: Deno.Conn, request: string, closing: AbortSignal) => Promise<void>,
): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closing = new AbortController();
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const requests: string[] = [];
  const serve = async (conn: Deno.Conn) => {
    try {
      const request = await readRequest(conn);
      if (request === undefined) return;
      requests.push(request);
      await answer(conn, request, closing.signal);
    } catch {
      // The client went away.
    } finally {
      conns.delete(conn);
      closeQuietly(conn);
    }
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const task = serve(conn);
        tasks.add(task);
        task.finally(() => tasks.delete(task));
      }
    } catch {
      // The listener was closed.
    }
  })();
  let closed: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requests,
    close() {
      closed ??= (async () => {
        closing.abort();
        listener.close();
        for (const conn of conns) closeQuietly(conn);
        await accepting;
        await Promise.all(tasks);
      })();
      return closed;
    },
  };
}

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const id = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Waits until `condition` holds, for at most `ms`; returns whether it did. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

// ---- the check every fault goes through ----------------------------------------------

interface Fault {
  code: ArmorApiErrorCode;
  timeout: number;
  /** Ends near its timeout (rather than at once). */
  nearTimeout?: boolean;
  status?: number;
  retryAfter?: number;
}

/** A session with a live token, made for `baseUrl`. */
function sessionFor(baseUrl: string, timeout: number): ArmorSession {
  const session = new ArmorSession({ baseUrl, timeout });
  session.authorize(TOKEN, 15);
  return session;
}

/** Runs `call`, checks it fails as `fault` says, in time, and leaves `session` as it was. */
async function expectFault(
  what: string,
  session: ArmorSession,
  call: () => Promise<unknown>,
  fault: Fault,
): Promise<ArmorApiError> {
  const before = snapshot(session);
  const started = performance.now();
  const error = await call().then(
    (value) => assert.fail(`${what}: resolved with ${Deno.inspect(value)}`),
    (error: unknown) => error,
  );
  const elapsed = performance.now() - started;
  assert.ok(error instanceof ArmorApiError, `${what}: not an ArmorApiError: ${error}`);
  assert.equal(error.code, fault.code, `${what}: ${error.message}`);
  if (fault.status !== undefined) assert.equal(error.status, fault.status);
  if (fault.retryAfter !== undefined) assert.equal(error.retryAfter, fault.retryAfter);
  assert.ok(
    elapsed <= fault.timeout + SLACK_MS,
    `${what}: took ${elapsed.toFixed(0)} ms, timeout ${fault.timeout} ms`,
  );
  if (fault.nearTimeout) {
    assert.ok(elapsed >= fault.timeout - 5, `${what}: ended after ${elapsed.toFixed(0)} ms`);
  }
  assert.ok(!JSON.stringify(error).includes(TOKEN) && !Deno.inspect(error).includes(TOKEN));
  assert.ok(!Deno.inspect(error).includes(CODE));
  assert.deepEqual(snapshot(session), before, `${what}: the session changed`);
  return error;
}

/**
 * Both token calls against `baseUrl`, each for a session: the reissue of the session's
 * token, and the redemption of a code. Each must fail as `fault` says.
 */
async function bothCalls(baseUrl: string, fault: Fault): Promise<ArmorApiError[]> {
  const session = sessionFor(baseUrl, fault.timeout);
  const update = await expectFault(
    "updateArmorApiToken",
    session,
    () => updateArmorApiToken(undefined, { session, timeout: fault.timeout }),
    fault,
  );
  const request = await expectFault(
    "requestArmorApiToken",
    session,
    () => requestArmorApiToken(CODE, { session, timeout: fault.timeout }),
    fault,
  );
  return [update, request];
}

function head(status: string, headers: Record<string, string | number>): Uint8Array {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return encoder.encode(`HTTP/1.1 ${status}\r\n${lines.join("")}\r\n`);
}

/** Counts each request's code or token, to show none was sent twice. */
function assertSentOnce(requests: string[]): void {
  for (const secret of [TOKEN, CODE]) {
    const count = requests.filter((request) => request.includes(secret)).length;
    assert.ok(count <= 1, `A secret was sent ${count} times`);
  }
}

// ---- socket-level faults -------------------------------------------------------------

Deno.test("fault: connection refused ends as NETWORK at once", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  await bothCalls(`http://127.0.0.1:${port}`, { code: "NETWORK", timeout: 2_000 });
});

Deno.test("fault: a connection reset before the answer ends as NETWORK", async () => {
  const server = rawServer(async () => {
    // Read the request, answer nothing, close.
  });
  try {
    await bothCalls(server.baseUrl, { code: "NETWORK", timeout: 2_000 });
    assert.equal(server.requests.length, 2, "Each call was sent once, never retried");
    assertSentOnce(server.requests);
  } finally {
    await server.close();
  }
});

Deno.test("fault: a connection closed before the request is read ends as NETWORK", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of listener) closeQuietly(conn);
  })().catch(() => {});
  try {
    const { port } = listener.addr as Deno.NetAddr;
    await bothCalls(`http://127.0.0.1:${port}`, { code: "NETWORK", timeout: 2_000 });
  } finally {
    listener.close();
    await accepting;
  }
});

Deno.test("fault: a server that accepts and never answers ends as TIMEOUT", async () => {
  const server = rawServer((_conn, _request, closing) => sleep(5_000, closing));
  try {
    await bothCalls(server.baseUrl, { code: "TIMEOUT", timeout: 300, nearTimeout: true });
  } finally {
    await server.close();
  }
});

Deno.test("fault: calls started a moment apart, sharing a deadline timer, never time out early", async () => {
  // Calls armed within 1 % of their timeout of each other share one timer: it must fire
  // no earlier than the timeout of the last of them.
  const server = rawServer((_conn, _request, closing) => sleep(5_000, closing));
  const timeout = 2_000; // 20 ms of slack
  const session = sessionFor(server.baseUrl, timeout);
  const timed = () => {
    const started = performance.now();
    const ended = session.fetch("/me").then(() => undefined, (e) => e).then((error) => ({
      code: (error as ArmorApiError | undefined)?.code,
      elapsed: performance.now() - started,
    }));
    return { started, ended };
  };
  try {
    const first = timed();
    while (performance.now() - first.started < 15) {
      // Busy: the second call starts 15 ms after the first, within the slack.
    }
    const second = timed();
    for (const { code, elapsed } of await Promise.all([first.ended, second.ended])) {
      assert.equal(code, "TIMEOUT");
      assert.ok(elapsed >= timeout, `Timed out after ${elapsed.toFixed(1)} ms, before ${timeout}`);
      assert.ok(elapsed < timeout + SLACK_MS, `Timed out after ${elapsed.toFixed(1)} ms`);
    }
  } finally {
    await server.close();
  }
});

Deno.test("fault: a faked performance.now (test frameworks' fake timers) does not make a deadline fire early", async () => {
  // Fake timers freeze performance.now but not AbortSignal.timeout: a call 300 ms after
  // another must not share the first call's timer because the clock says no time passed.
  const server = rawServer((_conn, _request, closing) => sleep(5_000, closing));
  const timeout = 1_000;
  const session = sessionFor(server.baseUrl, timeout);
  const realNow = performance.now.bind(performance);
  const timed = () => {
    const started = realNow();
    return session.fetch("/me").then(() => undefined, (e) => e).then((error) => ({
      code: (error as ArmorApiError | undefined)?.code,
      elapsed: realNow() - started,
    }));
  };
  const frozen = realNow();
  performance.now = () => frozen;
  try {
    const first = timed();
    await sleep(300);
    const second = timed();
    for (const { code, elapsed } of await Promise.all([first, second])) {
      assert.equal(code, "TIMEOUT");
      assert.ok(elapsed >= timeout, `Timed out after ${elapsed.toFixed(1)} ms, before ${timeout}`);
    }
  } finally {
    performance.now = realNow;
    await server.close();
  }
});

Deno.test("fault: the longest timeout allowed does not fire at once", async () => {
  // A timer longer than 2^31 - 1 ms fires after 1 ms in Deno and Node: the slack a shared
  // timer adds must not push the longest timeout allowed over that edge.
  const server = rawServer((_conn, _request, closing) => sleep(5_000, closing));
  const session = sessionFor(server.baseUrl, LONGEST_TIMEOUT_MS);
  try {
    const error = await session.fetch("/me", { signal: AbortSignal.timeout(200) }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof ArmorApiError);
    assert.equal(error.code, "ABORTED", "The caller's signal ended it, not the session's timeout");
  } finally {
    await server.close();
  }
});

Deno.test("fault: a body cut short (Content-Length larger than sent) ends as BODY_INCOMPLETE", async () => {
  const server = rawServer(async (conn) => {
    await write(
      conn,
      head("200 OK", { "Content-Type": "application/json", "Content-Length": 1_000 }),
    );
    await write(conn, encoder.encode(`{"access_token":"${"a".repeat(20)}`));
  });
  try {
    await bothCalls(server.baseUrl, { code: "BODY_INCOMPLETE", timeout: 2_000 });
    assertSentOnce(server.requests);
  } finally {
    await server.close();
  }
});

Deno.test("fault: a chunked body cut short ends as BODY_INCOMPLETE", async () => {
  const server = rawServer(async (conn) => {
    await write(
      conn,
      head("200 OK", { "Content-Type": "application/json", "Transfer-Encoding": "chunked" }),
    );
    await write(conn, encoder.encode('10\r\n{"access_token":\r\n'));
  });
  try {
    await bothCalls(server.baseUrl, { code: "BODY_INCOMPLETE", timeout: 2_000 });
  } finally {
    await server.close();
  }
});

Deno.test("fault: a body trickling one byte at a time ends as TIMEOUT near the timeout", async () => {
  let bytesSent = 0;
  const trickle = async (conn: Deno.Conn, framing: Record<string, string | number>) => {
    await write(conn, head("200 OK", { "Content-Type": "application/json", ...framing }));
    const chunked = "Transfer-Encoding" in framing;
    for (let i = 0; i < 200; i++) {
      const byte = chunked ? "1\r\n \r\n" : " ";
      if (!await write(conn, encoder.encode(byte))) return; // the client gave up
      bytesSent++;
      await sleep(20);
    }
  };
  const withLength = rawServer((conn) => trickle(conn, { "Content-Length": 10_000 }));
  const chunked = rawServer((conn) => trickle(conn, { "Transfer-Encoding": "chunked" }));
  try {
    for (const server of [withLength, chunked]) {
      await bothCalls(server.baseUrl, { code: "TIMEOUT", timeout: 400, nearTimeout: true });
    }
    assert.ok(bytesSent > 10, "The body did trickle");
  } finally {
    await withLength.close();
    await chunked.close();
  }
});

Deno.test("fault: an answer that is not HTTP ends as NETWORK", async () => {
  const answers = [
    "SSH-2.0-OpenSSH_9.6\r\n",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", // a TLS handshake
    "HTTP/9.9 200 OK\r\n\r\n",
    "HTTP/1.1 abc Broken\r\n\r\n",
    "hello\r\n\r\n",
  ];
  for (const text of answers) {
    const server = rawServer(async (conn, _request, closing) => {
      await write(conn, encoder.encode(text));
      // Keep the connection open: the client must give up by itself.
      await sleep(5_000, closing);
    });
    try {
      await bothCalls(server.baseUrl, { code: "NETWORK", timeout: 2_000 });
    } finally {
      await server.close();
    }
  }
});

/** A server whose answer is larger than the cap; records how much it managed to send. */
function hugeServer(framing: "length" | "chunked") {
  const stats = { written: 0, cutOff: 0, finished: 0 };
  const total = 256 * 1024 * 1024; // far more than the buffers between two sockets
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const server = rawServer(async (conn) => {
    const framingHeaders: Record<string, string | number> = framing === "length"
      ? { "Content-Length": total }
      : { "Transfer-Encoding": "chunked" };
    await write(conn, head("200 OK", { "Content-Type": "application/json", ...framingHeaders }));
    const piece = framing === "length" ? chunk : encoder.encode(
      `${chunk.byteLength.toString(16)}\r\n${" ".repeat(chunk.byteLength)}\r\n`,
    );
    for (let sent = 0; sent < total; sent += chunk.byteLength) {
      if (!await write(conn, piece)) {
        stats.cutOff++; // the client closed the connection: it stopped reading
        return;
      }
      stats.written += chunk.byteLength;
    }
    stats.finished++;
  });
  return { server, stats, total };
}

for (const framing of ["length", "chunked"] as const) {
  const label = framing === "length" ? "with Content-Length" : "chunked, with no length";
  Deno.test(`fault: a body over 1 MiB ${label} ends as BODY_TOO_LARGE, reading stops`, async () => {
    const { server, stats, total } = hugeServer(framing);
    try {
      await bothCalls(server.baseUrl, { code: "BODY_TOO_LARGE", timeout: 5_000 });
      // The client let go of both connections: the server's writes fail long before
      // it has sent everything.
      assert.ok(await until(() => stats.cutOff === 2, 5_000), "The client kept the body open");
      assert.equal(stats.finished, 0);
      assert.ok(stats.written < total / 4, `The server sent ${stats.written} bytes`);
      if (framing === "chunked") {
        assert.ok(stats.written >= MAX_RESPONSE_BYTES / 2, "Chunked: read up to the cap");
      }
    } finally {
      await server.close();
    }
  });
}

Deno.test("fault: a redirect is not followed and ends as REDIRECT", async () => {
  const server = rawServer(async (conn, request) => {
    const target = request.includes("/elsewhere") ? "200 OK" : "307 Temporary Redirect";
    await write(conn, head(target, { Location: "/elsewhere", "Content-Length": 0 }));
  });
  try {
    await bothCalls(server.baseUrl, { code: "REDIRECT", timeout: 2_000, status: 307 });
    assert.equal(server.requests.length, 2);
    assert.ok(server.requests.every((request) => !request.includes("/elsewhere")));
  } finally {
    await server.close();
  }
});

// ---- HTTP-level faults ---------------------------------------------------------------

Deno.test("fault: 429 with Retry-After ends as HTTP_STATUS with retryAfter", async () => {
  const date = new Date(Date.now() + 120_000).toUTCString();
  for (const [value, seconds] of [["7", 7], [date, undefined]] as const) {
    const server = rawServer(async (conn) => {
      await write(
        conn,
        head("429 Too Many Requests", { "Retry-After": value, "Content-Length": 0 }),
      );
    });
    try {
      const errors = await bothCalls(server.baseUrl, {
        code: "HTTP_STATUS",
        timeout: 2_000,
        status: 429,
        retryAfter: seconds,
      });
      if (seconds === undefined) {
        for (const error of errors) {
          assert.ok(error.retryAfter! >= 100 && error.retryAfter! <= 121, `${error.retryAfter}`);
        }
      }
    } finally {
      await server.close();
    }
  }
});

Deno.test("fault: 5xx answers end as HTTP_STATUS with the status", async () => {
  for (const status of [500, 502, 503, 504]) {
    const server = rawServer(async (conn) => {
      const body = `{"Message":"Failed: ${CODE} ${TOKEN}"}`; // an answer that echoes secrets
      await write(
        conn,
        head(`${status} Server Error`, {
          "Content-Type": "application/json",
          "Content-Length": body.length,
          ...(status === 503 ? { "Retry-After": "3" } : {}),
        }),
      );
      await write(conn, encoder.encode(body));
    });
    try {
      await bothCalls(server.baseUrl, {
        code: "HTTP_STATUS",
        timeout: 2_000,
        status,
        retryAfter: status === 503 ? 3 : undefined,
      });
    } finally {
      await server.close();
    }
  }
});

Deno.test("fault: a session renewal that gets 429 waits out Retry-After, keeping its token", async () => {
  const clock = new MockClock(Date.UTC(2026, 10, 23, 10, 0));
  const served = await serveMockArmorApi({ clock });
  try {
    const { mock } = served;
    const session = await ArmorSession.connect({
      username: "demo@example.com",
      password: "demo-password",
      baseUrl: served.baseUrl,
      now: clock.now,
      timeout: 2_000,
    });
    const token = session.token;
    mock.inject({
      path: "/auth/token/reissue",
      status: 429,
      headers: { "Retry-After": "30" },
      times: Infinity,
    });
    clock.advance(6 * 60_000); // into the renewal window
    const fetchMe = async () => {
      const response = await session.fetch("/me");
      await response.body?.cancel();
      assert.equal(response.status, 200);
    };
    await fetchMe();
    await session.idle();
    assert.equal(mock.count("/auth/token/reissue"), 1);
    assert.equal(session.token, token, "A failed renewal keeps the token");
    // Within the 30 s asked for, no call renews again.
    for (let i = 0; i < 5; i++) {
      clock.advance(5_000);
      await fetchMe();
      await session.idle();
    }
    assert.equal(mock.count("/auth/token/reissue"), 1, "Renewed before Retry-After passed");
    clock.advance(6_000); // 31 s after the failure
    mock.clearFaults();
    await fetchMe();
    await session.idle();
    assert.equal(mock.count("/auth/token/reissue"), 2);
    assert.notEqual(session.token, token, "Renewed once Retry-After had passed");
    assert.ok(RETRY_MIN_MS <= 30_000);
  } finally {
    await served.close();
  }
});

// ---- a code is redeemed at most once -------------------------------------------------

const DEMO = { username: "demo@example.com", password: "demo-password" };

async function authorizeCode(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/auth/authorize`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(DEMO),
  });
  assert.equal(response.status, 200);
  return (await response.json()).code;
}

const CODE_FAULTS = [
  { name: "500", fault: { status: 500 }, code: "HTTP_STATUS" },
  {
    name: "503 with Retry-After",
    fault: { status: 503, headers: { "Retry-After": "1" } },
    code: "HTTP_STATUS",
  },
  {
    name: "429 with Retry-After",
    fault: { status: 429, headers: { "Retry-After": "1" } },
    code: "HTTP_STATUS",
  },
  { name: "a timeout", fault: { delayMs: 5_000 }, code: "TIMEOUT" },
] as const;

Deno.test("requestArmorApiToken sends a code at most once, whatever the server answers", async () => {
  const served = await serveMockArmorApi();
  try {
    const { mock } = served;
    for (const { name, fault, code } of CODE_FAULTS) {
      const authorizationCode = await authorizeCode(served.baseUrl);
      const before = mock.count("/auth/token");
      mock.inject({ path: "/auth/token", ...fault });
      const error = await requestArmorApiToken(authorizationCode, {
        baseUrl: served.baseUrl,
        timeout: 300,
      }).then(() => assert.fail(`${name}: resolved`), (error: unknown) => error);
      assert.ok(error instanceof ArmorApiError && error.code === code, `${name}: ${error}`);
      // Give a retry, if there were one, the time to arrive.
      await sleep(300);
      assert.equal(mock.count("/auth/token") - before, 1, `${name}: the code was sent again`);
    }
    const codes = mock.requests
      .filter((request) => request.path === "/auth/token")
      .map((request) => (request.body as { code: string }).code);
    assert.equal(new Set(codes).size, codes.length, "A code was sent twice");
  } finally {
    await served.close();
  }
});

Deno.test("ArmorSession.connect sends its code at most once, whatever the server answers", async () => {
  const served = await serveMockArmorApi();
  try {
    const { mock } = served;
    for (const { name, fault, code } of CODE_FAULTS) {
      const before = {
        authorize: mock.count("/auth/authorize"),
        token: mock.count("/auth/token"),
        me: mock.count("/me"),
      };
      mock.inject({ path: "/auth/token", ...fault });
      const error = await ArmorSession.connect({ ...DEMO, baseUrl: served.baseUrl, timeout: 300 })
        .then(() => assert.fail(`${name}: connected`), (error: unknown) => error);
      assert.ok(error instanceof ArmorApiError && error.code === code, `${name}: ${error}`);
      await sleep(300);
      assert.equal(mock.count("/auth/authorize") - before.authorize, 1, `${name}: logged in twice`);
      assert.equal(mock.count("/auth/token") - before.token, 1, `${name}: the code was sent again`);
      assert.equal(mock.count("/me") - before.me, 0);
    }
    const codes = mock.requests
      .filter((request) => request.path === "/auth/token")
      .map((request) => (request.body as { code: string }).code);
    assert.equal(new Set(codes).size, codes.length, "A code was sent twice");
    // And with no fault, the same connect works: one authorize, one token, one /me.
    const session = await ArmorSession.connect({ ...DEMO, baseUrl: served.baseUrl });
    assert.ok(session.isActive());
  } finally {
    await served.close();
  }
});

Deno.test("a code is sent once even when the connection resets before the answer", async () => {
  const server = rawServer(async () => {});
  try {
    const error = await requestArmorApiToken(CODE, { baseUrl: server.baseUrl, timeout: 1_000 })
      .then(() => assert.fail("resolved"), (error: unknown) => error);
    assert.ok(error instanceof ArmorApiError && error.code === "NETWORK");
    await sleep(300);
    assert.equal(server.requests.length, 1);
    assert.ok(server.requests[0].includes(CODE));
  } finally {
    await server.close();
  }
});

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("fault: a small gzip body that inflates past the cap ends as BODY_TOO_LARGE", async () => {
  // About 2 KiB on the wire, 2 MiB once the runtime's fetch has decoded it.
  const bomb = await gzip(`{"padding":"${" ".repeat(2 * 1_048_576)}"}`);
  assert.ok(bomb.byteLength < 10_000);
  const server = rawServer(async (conn) => {
    await write(
      conn,
      head("200 OK", {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "Content-Length": bomb.byteLength,
      }),
    );
    await write(conn, bomb);
  });
  try {
    await bothCalls(server.baseUrl, { code: "BODY_TOO_LARGE", timeout: 5_000 });
  } finally {
    await server.close();
  }
});

Deno.test("fault: a chunked body over the cap that also declares a small length is refused", async () => {
  // Transfer-Encoding wins over Content-Length: the declared 100 bytes must not be
  // trusted. The client either refuses the framing (NETWORK) or counts (BODY_TOO_LARGE).
  const server = rawServer(async (conn, _request, closing) => {
    await write(
      conn,
      head("200 OK", {
        "Content-Type": "application/json",
        "Content-Length": 100,
        "Transfer-Encoding": "chunked",
      }),
    );
    const chunk = encoder.encode(`10000\r\n${" ".repeat(0x10000)}\r\n`);
    for (let sent = 0; sent < 4 * 1_048_576 && !closing.aborted; sent += 0x10000) {
      if (!await write(conn, chunk)) return;
    }
  });
  try {
    for (const error of await bothCallsAnyOf(server.baseUrl, ["BODY_TOO_LARGE", "NETWORK"])) {
      assert.ok(error.code === "BODY_TOO_LARGE" || error.code === "NETWORK", error.code);
    }
  } finally {
    await server.close();
  }
});

/** Like bothCalls, for a fault that may show as one of several codes. */
async function bothCallsAnyOf(baseUrl: string, codes: string[]): Promise<ArmorApiError[]> {
  const session = sessionFor(baseUrl, 5_000);
  const before = snapshot(session);
  const errors: ArmorApiError[] = [];
  for (
    const call of [
      () => updateArmorApiToken(undefined, { session, timeout: 5_000 }),
      () => requestArmorApiToken(CODE, { session, timeout: 5_000 }),
    ]
  ) {
    const error = await call().then(() => assert.fail("resolved"), (error: unknown) => error);
    assert.ok(error instanceof ArmorApiError, String(error));
    assert.ok(codes.includes(error.code), error.code);
    errors.push(error);
  }
  assert.deepEqual(snapshot(session), before);
  return errors;
}
