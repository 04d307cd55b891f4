import {
  createMockArmorApi,
  type MockArmorApi,
  type MockArmorApiOptions,
} from "./mock_armor_api.ts";

/**
 * Options for {@linkcode serveMockArmorApi}: the mock's options and a signal.
 *
 * @example Stop the server with a signal
 * ```ts
 * import { serveMockArmorApi, type ServeMockArmorApiOptions } from "@armor-api/auth/testing";
 *
 * const controller = new AbortController();
 * const options: ServeMockArmorApiOptions = { expiresIn: 5, signal: controller.signal };
 * const served = await serveMockArmorApi(options);
 * controller.abort(); // shuts the server down
 * await served.close(); // waits for the shutdown to finish
 * ```
 */
export interface ServeMockArmorApiOptions extends MockArmorApiOptions {
  /** Aborting it shuts the server down, like calling `close()`. */
  signal?: AbortSignal;
}

/**
 * A mock Armor API listening on a loopback port.
 *
 * @example Serve, call, close
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * await using served = await serveMockArmorApi();
 * const res = await fetch(new URL("/me", served.url));
 * assert.equal(res.status, 401);
 * await res.body?.cancel();
 * ```
 */
export interface ServedMockArmorApi extends AsyncDisposable {
  /** The mock behind the server: its clock, request log, faults and tokens. */
  readonly mock: MockArmorApi;
  /** The server's address, e.g. `http://127.0.0.1:41234/`. */
  readonly url: URL;
  /** The server's origin with no trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly baseUrl: string;
  /**
   * Stops listening, ends pending delays and waits until the server has shut down.
   * Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Serves a new mock Armor API on `127.0.0.1` at a free port, quietly.
 *
 * On Deno it uses `Deno.serve`; on Node (20 or newer) and Bun it uses Node's HTTP server
 * through Hono's adapter `@hono/node-server`, loaded only there. Close it with
 * `close()`, with `await using`, or by aborting `options.signal`. Closing ends every
 * pending fault delay or multi-factor wait, so it never waits for them. On Deno it needs
 * `--allow-net=127.0.0.1`.
 *
 * @param options The mock's options, and a signal that shuts the server down
 * @returns The running server, once it listens
 * @throws {DOMException} If `options.signal` is already aborted (its reason is thrown)
 * @throws {TypeError} If the mock's options are refused (see {@linkcode createMockArmorApi})
 *
 * @example Point a client at a real socket
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * const served = await serveMockArmorApi();
 * try {
 *   const res = await fetch(`${served.baseUrl}/auth/authorize`, {
 *     method: "POST",
 *     headers: { "Content-Type": "application/json", Accept: "application/json" },
 *     body: JSON.stringify({ username: "demo@example.com", password: "demo-password" }),
 *   });
 *   assert.equal(res.status, 200);
 *   assert.equal(typeof (await res.json()).code, "string");
 *   assert.equal(served.mock.count("/auth/authorize"), 1);
 * } finally {
 *   await served.close();
 * }
 * ```
 */
export async function serveMockArmorApi(
  options: ServeMockArmorApiOptions = {},
): Promise<ServedMockArmorApi> {
  const { signal, ...mockOptions } = options;
  signal?.throwIfAborted();
  const mock = createMockArmorApi(mockOptions);
  const app = mock.app;
  const server = await listen((request) => app.fetch(request));
  const baseUrl = `http://${HOSTNAME}:${server.port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closed === undefined) {
      signal?.removeEventListener("abort", onAbort);
      mock.abortPending();
      closed = server.close();
    }
    return closed;
  };
  const onAbort = () => void close();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();

  return {
    mock,
    url: new URL(`${baseUrl}/`),
    baseUrl,
    close,
    [Symbol.asyncDispose]: close,
  };
}

const HOSTNAME = "127.0.0.1";

type Handler = (request: Request) => Response | Promise<Response>;

/** A listening server: its port, and how to stop it. */
interface Listener {
  port: number;
  close(): Promise<void>;
}

/** The part of the `Deno` namespace used here, looked up without naming `Deno` elsewhere. */
interface DenoServe {
  serve: typeof Deno.serve;
}

/** Listens on 127.0.0.1 at a free port with the runtime's own HTTP server. */
function listen(handler: Handler): Promise<Listener> {
  const deno = (globalThis as { Deno?: Partial<DenoServe> }).Deno;
  if (typeof deno?.serve === "function") return Promise.resolve(listenDeno(deno.serve, handler));
  return listenNode(handler);
}

function listenDeno(serve: DenoServe["serve"], handler: Handler): Listener {
  const server = serve({ hostname: HOSTNAME, port: 0, onListen() {} }, handler);
  return { port: (server.addr as Deno.NetAddr).port, close: () => server.shutdown() };
}

async function listenNode(handler: Handler): Promise<Listener> {
  const { serve } = await import("@hono/node-server");
  const server = await new Promise<NodeServer>((resolve, reject) => {
    const started = serve(
      { fetch: handler, hostname: HOSTNAME, port: 0, overrideGlobalObjects: false },
      () => {
        started.off("error", reject);
        resolve(started as NodeServer);
      },
    );
    started.once("error", reject);
  });
  return {
    port: server.address().port,
    // Node's close() waits for every connection to end: keep-alive ones that go idle after
    // their last answer (such as the 503s of ended delays) are closed as soon as they do.
    close: () =>
      new Promise((resolve, reject) => {
        const sweep = setInterval(() => server.closeIdleConnections(), 5);
        server.close((error) => {
          clearInterval(sweep);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** The members of Node's `http.Server` used here. */
interface NodeServer {
  address(): { port: number };
  close(callback: (error?: Error) => void): void;
  closeIdleConnections(): void;
}
