// Attack: a server (or a middlebox) closes a reused keep-alive connection right after it
// has read a request. The runtime's fetch then sends the same POST again on a new
// connection, so a one-time code, a password or a token to reissue would arrive twice.
// Each token call must reach the server exactly once.

import assert from "node:assert/strict";
import { ArmorSession, requestArmorApiToken, updateArmorApiToken } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TOKEN = "0123456789abcdef0123456789abcdef";
const NEW_TOKEN = "fedcba9876543210fedcba9876543210";

interface Arrival {
  path: string;
  body: string;
  connection: number;
}

/**
 * A raw HTTP/1.1 server: it answers the first request on each connection (keep-alive) and
 * closes the connection, without answering, after reading the second one.
 */
function closingServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const arrivals: Arrival[] = [];
  const conns = new Set<Deno.Conn>();
  let connections = 0;
  const answer = (path: string): string => {
    if (path === "/auth/authorize") return JSON.stringify({ code: "C0d3-once", expiresIn: 120 });
    if (path === "/me") {
      return JSON.stringify({
        user: { username: "ops@example.com" },
        accounts: [{ id: 1001, name: "Ops" }],
      });
    }
    return JSON.stringify({
      access_token: path === "/auth/token" ? TOKEN : NEW_TOKEN,
      id_token: null,
      expires_in: 900,
      token_type: "FH-AUTH",
    });
  };
  const serveConn = async (conn: Deno.Conn, id: number) => {
    conns.add(conn);
    let buffered = "";
    let served = 0;
    const chunk = new Uint8Array(65536);
    try {
      for (;;) {
        let end = buffered.indexOf("\r\n\r\n");
        while (end === -1) {
          const n = await conn.read(chunk);
          if (n === null) return;
          buffered += decoder.decode(chunk.subarray(0, n));
          end = buffered.indexOf("\r\n\r\n");
        }
        const head = buffered.slice(0, end);
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        while (buffered.length < end + 4 + length) {
          const n = await conn.read(chunk);
          if (n === null) return;
          buffered += decoder.decode(chunk.subarray(0, n));
        }
        const body = buffered.slice(end + 4, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        const path = head.split(" ")[1];
        arrivals.push({ path, body, connection: id });
        served++;
        if (served >= 2) return; // read it, then close without a word
        const text = answer(path);
        await conn.write(encoder.encode(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${
            encoder.encode(text).length
          }\r\nconnection: keep-alive\r\n\r\n${text}`,
        ));
      }
    } catch {
      // The client went away.
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) void serveConn(conn, ++connections);
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    arrivals,
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
      await accepting;
    },
  };
}

/** A plain request first, so that the runtime's pool holds a kept-alive connection. */
async function warmUp(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl}/warm-up`, { method: "POST", body: "{}" });
  await response.text();
}

Deno.test("attack: a reused connection closed after the read does not make /auth/token arrive twice", async () => {
  const server = closingServer();
  try {
    await warmUp(server.baseUrl);
    await requestArmorApiToken("C0d3-once", { baseUrl: server.baseUrl }).catch(() => {});
    const sent = server.arrivals.filter((arrival) => arrival.path === "/auth/token");
    assert.equal(sent.length, 1, "the one-time code must reach the server once");
  } finally {
    await server.close();
  }
});

Deno.test("attack: a reused connection closed after the read does not resend a reissue", async () => {
  const server = closingServer();
  try {
    await warmUp(server.baseUrl);
    await updateArmorApiToken(TOKEN, { baseUrl: server.baseUrl }).catch(() => {});
    const sent = server.arrivals.filter((arrival) => arrival.path === "/auth/token/reissue");
    assert.equal(sent.length, 1, "the token to reissue must reach the server once");
  } finally {
    await server.close();
  }
});

Deno.test("attack: a reused connection closed after the read does not resend the password", async () => {
  const server = closingServer();
  try {
    await warmUp(server.baseUrl);
    await ArmorSession.connect({
      baseUrl: server.baseUrl,
      username: "ops@example.com",
      password: "correct horse battery staple",
    }).catch(() => {});
    const sent = server.arrivals.filter((arrival) => arrival.path === "/auth/authorize");
    assert.equal(sent.length, 1, "the password must reach the server once");
    assert.equal(server.arrivals.filter((a) => a.path === "/auth/token").length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("attack: a wrapped fetch still sends the one-time code once on a closed keep-alive connection", async () => {
  const server = closingServer();
  try {
    await warmUp(server.baseUrl);
    // A typical wrapper a user injects (logging, tracing): it passes init on.
    const wrapped: typeof fetch = (input, init) => fetch(input, init);
    await requestArmorApiToken("C0d3-once", { baseUrl: server.baseUrl, fetch: wrapped })
      .catch(() => {});
    const sent = server.arrivals.filter((arrival) => arrival.path === "/auth/token");
    assert.equal(sent.length, 1, "the one-time code must reach the server once");
  } finally {
    await server.close();
  }
});
