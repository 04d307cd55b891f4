// A stand-in Armor API for figure 7, in a process of its own: answers GET /me to any
// ARMOR-PSK header (it does not check signatures), prints its port, and exits when its
// standard input closes.
//
//   deno run --allow-net=127.0.0.1 bench/_psk_server.ts

import me from "../tests/fixtures/me.powershell.json" with { type: "json" };

const BODY = JSON.stringify(me);
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  if (!/^ARMOR-PSK \S+$/.test(request.headers.get("authorization") ?? "")) {
    return new Response(null, { status: 401 });
  }
  return new Response(BODY, { headers: { "content-type": "application/json" } });
});
console.log(server.addr.port);
for await (const _ of Deno.stdin.readable) {
  // Wait for the parent to close standard input.
}
await server.shutdown();
