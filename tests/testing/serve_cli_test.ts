// The mock from the command line, as a user runs it:
//   deno run --allow-net=127.0.0.1 jsr:@armor-api/auth/testing --port 8080 --api-key <id>:<secret>
// Here the entry is the local src/testing/mod.ts, run as a real process.
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";

const MOD = new URL("../../src/testing/mod.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const KEY = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "cli-s3cret+/=" };

function command(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-net=127.0.0.1", MOD, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  });
}

/** Starts the CLI, waits for the base URL it prints first, and returns the process. */
async function start(args: string[]) {
  const child = command(args).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
  }
  const baseUrl = text.split("\n")[0];
  return { child, baseUrl, lines };
}

function psk(
  method: string,
  path: string,
  body: string,
  bodySigning: "raw" | "sha512",
  timestamp = Math.floor(Date.now() / 1000),
) {
  const nonce = crypto.randomUUID().replaceAll("-", "");
  const bodyPart = body === "" || bodySigning === "raw"
    ? body
    : createHash("sha512").update(body).digest("base64");
  const signature = createHmac("sha512", KEY.secret)
    .update(KEY.id + method + path + nonce + timestamp + bodyPart)
    .digest("base64");
  return `ARMOR-PSK ${KEY.id}:${signature}:${nonce}:${timestamp}`;
}

async function stop(started: Awaited<ReturnType<typeof start>>) {
  started.child.kill("SIGINT");
  const status = await started.child.status;
  await started.lines.cancel();
  const stderr = new TextDecoder().decode(
    (await new Response(started.child.stderr).arrayBuffer()) as ArrayBuffer,
  );
  return { status, stderr };
}

Deno.test("the CLI serves the mock with a known API key until Ctrl-C", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const started = await start(["--port", String(port), "--api-key", `${KEY.id}:${KEY.secret}`]);
  try {
    assert.equal(started.baseUrl, `http://127.0.0.1:${port}`);
    const me = await fetch(`${started.baseUrl}/me`, {
      headers: { Authorization: psk("GET", "/me", "", "raw"), "X-Account-Context": "1001" },
    });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).user.username, "demo@example.com");
    // Bodies are signed raw by default.
    const body = JSON.stringify({ name: "x" });
    const raw = await fetch(`${started.baseUrl}/users/1/keys`, {
      method: "POST",
      headers: { Authorization: psk("POST", "/users/1/keys", body, "raw") },
      body,
    });
    assert.equal(raw.status, 403, "signature accepted, scope refused");
    await raw.body?.cancel();
    // The default user logs in too.
    const login = await fetch(`${started.baseUrl}/auth/authorize`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "username=demo%40example.com&password=demo-password",
    });
    assert.equal(login.status, 200);
    await login.body?.cancel();
  } finally {
    const { status, stderr } = await stop(started);
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /listening on http:\/\/127\.0\.0\.1/);
    assert.match(stderr, new RegExp(`API key ${KEY.id}`));
    assert.ok(!stderr.includes(KEY.secret), "the secret is never printed");
  }
});

Deno.test("the CLI's mock keeps real time: a timestamp 4:58 ahead is taken after 3 s", async () => {
  // A clock frozen at start would see 3 s + 4:58 = 5:01 of skew and refuse it (stale).
  const started = await start(["--api-key", `${KEY.id}:${KEY.secret}`]);
  try {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const ahead = Math.floor(Date.now() / 1000) + 298;
    const me = await fetch(`${started.baseUrl}/me`, {
      headers: { Authorization: psk("GET", "/me", "", "raw", ahead), "X-Account-Context": "1001" },
    });
    assert.equal(me.status, 200, await me.clone().text());
    await me.body?.cancel();
  } finally {
    await stop(started);
  }
});

Deno.test("the CLI takes users, the dialect and the body signing mode", async () => {
  const started = await start([
    "--api-key=ci:other-secret",
    "--api-key",
    `${KEY.id}:${KEY.secret}`,
    "--body-signing",
    "sha512",
    "--dialect",
    "powershell",
    "--user",
    "ops@example.com:pa:ss",
  ]);
  try {
    assert.match(started.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const body = JSON.stringify({ name: "x" });
    const digest = await fetch(`${started.baseUrl}/users/1/keys`, {
      method: "POST",
      headers: { Authorization: psk("POST", "/users/1/keys", body, "sha512") },
      body,
    });
    assert.equal(digest.status, 403);
    assert.ok("Message" in await digest.json(), "the PowerShell dialect's error body");
    const login = await fetch(`${started.baseUrl}/auth/authorize`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ Username: "ops@example.com", Password: "pa:ss" }),
    });
    assert.equal(login.status, 200);
    assert.equal((await login.json()).success, true);
  } finally {
    const { status } = await stop(started);
    assert.equal(status.code, 0);
  }
});

Deno.test("the CLI explains bad options and never echoes a secret", async () => {
  for (
    const [args, message] of [
      [["--port", "http"], /--port must be a number/],
      [["--api-key", "no-colon-secret"], /--api-key must be <id>:<secret>/],
      [["--api-key"], /--api-key needs a value/],
      [["--body-signing", "md5"], /--body-signing must be raw or sha512/],
      [["--what"], /Unknown option "--what"/],
      [["--api-key", "a b:secret-value"], /API key ids must be/],
    ] as const
  ) {
    const { code, stdout, stderr } = await command([...args]).output();
    const err = new TextDecoder().decode(stderr);
    assert.notEqual(code, 0, args.join(" "));
    assert.match(err, message);
    assert.ok(!err.includes("secret-value") && !err.includes("no-colon-secret"), err);
    assert.equal(new TextDecoder().decode(stdout), "");
  }
  const help = await command(["--help"]).output();
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /--api-key <id>:<secret>/);
});
