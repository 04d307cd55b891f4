import {
  createMockArmorApi,
  type MockArmorApi,
  type MockArmorApiOptions,
} from "./mock_armor_api.ts";
import { UNWATCHED_REQUESTS } from "./_wait.ts";

/**
 * Options for {@linkcode serveMockArmorApi}: the mock's options (see
 * {@linkcode MockArmorApiOptions}), where to listen, and a signal.
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
 *
 * @example Listen on a fixed port, for a tool that cannot be told the port
 * ```ts ignore
 * import { serveMockArmorApi } from "@armor-api/auth/testing";
 *
 * await using served = await serveMockArmorApi({ port: 8080 });
 * console.log(served.baseUrl); // http://127.0.0.1:8080
 * ```
 */
export interface ServeMockArmorApiOptions extends MockArmorApiOptions {
  /**
   * The TCP port to listen on, 0 to 65535; defaults to 0, a free port the system picks
   * (read it from `url` or `baseUrl`). A port in use makes `serveMockArmorApi` reject.
   */
  port?: number;
  /**
   * The address to listen on; defaults to `"127.0.0.1"`, the loopback interface, so that
   * nothing outside the machine can reach the mock. `"::1"` listens on IPv6 loopback; an
   * address such as `"0.0.0.0"` exposes the mock (and its users' passwords) to the network.
   */
  hostname?: string;
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
  /** The server's address, e.g. `http://127.0.0.1:41234/` (`http://[::1]:41234/` on IPv6). */
  readonly url: URL;
  /** The server's origin with no trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly baseUrl: string;
  /** The port the server listens on: the one asked for, or the one the system picked. */
  readonly port: number;
  /**
   * Stops listening, ends pending delays and waits until the server has shut down.
   * Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Serves a new mock Armor API, quietly: by default on `127.0.0.1` at a free port
 * (`port` and `hostname` choose others).
 *
 * On Deno it uses `Deno.serve`; on Node (20 or newer) and Bun it uses Node's HTTP server
 * through Hono's adapter `@hono/node-server`, loaded only there. Close it with
 * `close()`, with `await using`, or by aborting `options.signal`. Closing ends every
 * pending fault delay or multi-factor wait, so it never waits for them. On Deno it needs
 * `--allow-net=127.0.0.1` (or the host you listen on). It never reads a served request's
 * `signal`, so Deno prints no "request.signal aborts on successful responses" warning into
 * your test output; as a consequence, under `Deno.serve` a client that goes away during a
 * delay is not noticed until the delay ends or the server closes.
 *
 * To serve it from the command line with a known API key, run the `./testing` entry
 * itself: `deno run --allow-net=127.0.0.1 jsr:@armor-api/auth/testing --port 8080
 * --api-key <id>:<secret>` (`--help` lists its options).
 *
 * @param options The mock's options, where to listen, and a signal that shuts the server
 * down
 * @returns The running server, once it listens
 * @throws {DOMException} If `options.signal` is already aborted (its reason is thrown)
 * @throws {TypeError} If the mock's options are refused (see {@linkcode createMockArmorApi})
 * or `hostname` is not a non-empty string
 * @throws {RangeError} If `port` is not an integer from 0 to 65535
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
  const { signal, port = 0, hostname = "127.0.0.1", ...mockOptions } = options;
  signal?.throwIfAborted();
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`Option port must be an integer from 0 to 65535, got ${port}`);
  }
  if (typeof hostname !== "string" || hostname.trim() === "") {
    throw new TypeError(
      `Option hostname must be a non-empty string such as "127.0.0.1", got ${typeof hostname}`,
    );
  }
  const mock = createMockArmorApi(mockOptions);
  const app = mock.app;
  const server = await listen((request) => app.fetch(request), hostname, port);
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const baseUrl = `http://${host}:${server.port}`;

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
    port: server.port,
    close,
    [Symbol.asyncDispose]: close,
  };
}

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

/** Listens on `hostname` and `port` (0: a free one) with the runtime's own HTTP server. */
function listen(handler: Handler, hostname: string, port: number): Promise<Listener> {
  const deno = (globalThis as { Deno?: Partial<DenoServe> }).Deno;
  if (typeof deno?.serve === "function") {
    return Promise.resolve(listenDeno(deno.serve, handler, hostname, port));
  }
  return listenNode(handler, hostname, port);
}

function listenDeno(
  serve: DenoServe["serve"],
  handler: Handler,
  hostname: string,
  port: number,
): Listener {
  // The mock must not read these requests' signal (see UNWATCHED_REQUESTS).
  const server = serve({ hostname, port, onListen() {} }, (request) => {
    UNWATCHED_REQUESTS.add(request);
    return handler(request);
  });
  return { port: (server.addr as Deno.NetAddr).port, close: () => server.shutdown() };
}

async function listenNode(handler: Handler, hostname: string, port: number): Promise<Listener> {
  const { serve } = await import("@hono/node-server");
  const server = await new Promise<NodeServer>((resolve, reject) => {
    const started = serve(
      { fetch: handler, hostname, port, overrideGlobalObjects: false },
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
