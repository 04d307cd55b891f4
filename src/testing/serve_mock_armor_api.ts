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
 * Close it with `close()`, with `await using`, or by aborting `options.signal`. Closing
 * ends every pending fault delay or multi-factor wait, so it never waits for them.
 * Needs `--allow-net=127.0.0.1`.
 *
 * @param options The mock's options, and a signal that shuts the server down
 * @returns The running server, once it listens
 * @throws {DOMException} If `options.signal` is already aborted (its reason is thrown)
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
 *   assert.equal((await res.json()).success, true);
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
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: listening.resolve },
    (request) => app.fetch(request),
  );
  const { port } = await listening.promise;
  const baseUrl = `http://127.0.0.1:${port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closed === undefined) {
      signal?.removeEventListener("abort", onAbort);
      mock.abortPending();
      closed = server.shutdown();
    }
    return closed;
  };
  const onAbort = () => void close();
  signal?.addEventListener("abort", onAbort, { once: true });

  return {
    mock,
    url: new URL(`${baseUrl}/`),
    baseUrl,
    close,
    [Symbol.asyncDispose]: close,
  };
}
