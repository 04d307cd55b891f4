// FileTokenStore on a real file system: check-and-set, modes, atomic writes, locks and
// claims of processes that die, and files that are not its own.

import assert from "node:assert/strict";
import { FileTokenStore } from "../src/file_token_store.ts";
import { ROOT, scratch } from "./cli_helpers.ts";

const MODULE = new URL("../src/file_token_store.ts", import.meta.url).href;
const TOKEN = { accessToken: "0123456789abcdef0123456789abcdef", issuedAt: 0, expiresAt: 1 };

function quiet(): { warnings: string[]; warn: (message: string) => void } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message) };
}

/** A child Deno running `code` with the store module imported as `FileTokenStore`. */
function child(code: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--quiet",
      `import { FileTokenStore } from ${JSON.stringify(MODULE)};\n${code}`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Waits for the first line a child prints. */
async function firstLine(process: Deno.ChildProcess): Promise<string> {
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.trim();
}

Deno.test("check-and-set: create, conflict, update, delete", async () => {
  await using tmp = await scratch("store-");
  const store = new FileTokenStore({ dir: tmp.dir });
  assert.equal(await store.get("k"), undefined);
  const v1 = await store.set("k", { token: TOKEN }, null);
  assert.equal(typeof v1, "string");
  assert.equal(await store.set("k", {}, null), null);
  assert.equal(await store.set("k", {}, "not-the-version"), null);
  assert.deepEqual(await store.get("k"), { value: { token: TOKEN }, version: v1 });
  const v2 = await store.set("k", { server: "https://api.armor.com/" }, v1);
  assert.ok(v2 !== null && v2 !== v1);
  assert.equal(await store.set("k", undefined, v1), null);
  assert.equal(await store.set("k", undefined, v2), "");
  assert.equal(await store.get("k"), undefined);
  assert.deepEqual(await store.keys(), []);
  // No temporary files are left behind.
  for await (const entry of Deno.readDir(tmp.dir)) assert.ok(!entry.name.endsWith(".tmp"));
});

Deno.test("the folder is made 0700 and the files 0600, and put right when opened up", async () => {
  await using tmp = await scratch("store-");
  await Deno.mkdir(tmp.dir, { mode: 0o755 });
  await Deno.chmod(tmp.dir, 0o755);
  const { warnings, warn } = quiet();
  const store = new FileTokenStore({ dir: tmp.dir, warn });
  await store.set("https://api.armor.com/#ops@example.com", { token: TOKEN }, null);
  assert.equal((await Deno.stat(tmp.dir)).mode! & 0o777, 0o700);
  assert.match(warnings[0], /private \(mode 0700\)/);
  const path = store.pathOf("https://api.armor.com/#ops@example.com");
  assert.ok(!path.includes("ops"), "the file name shows no user name");
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  await Deno.chmod(path, 0o644);
  assert.ok(await store.get("https://api.armor.com/#ops@example.com"));
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.match(warnings[1], /private \(mode 0600\)/);
});

Deno.test("a corrupt, truncated, foreign or misplaced file is ignored with a warning, then replaced", async () => {
  await using tmp = await scratch("store-");
  const { warnings, warn } = quiet();
  let store = new FileTokenStore({ dir: tmp.dir, warn });
  await store.set("other", { token: TOKEN }, null);
  const path = store.pathOf("k");
  const cases = [
    "",
    '{"format":"armor-api-auth/token-store","formatVersion":1,"key":"k","vers',
    "\u0000\u0001binary",
    JSON.stringify({ token: TOKEN }), // someone else's JSON
    await Deno.readTextFile(store.pathOf("other")), // another key's record
    "null",
  ];
  for (const text of cases) {
    await Deno.writeTextFile(path, text, { mode: 0o600 });
    warnings.length = 0;
    store = new FileTokenStore({ dir: tmp.dir, warn }); // each warns once per message
    assert.equal(await store.get("k"), undefined, JSON.stringify(text));
    assert.equal(await store.get("k"), undefined);
    assert.equal(warnings.length, 1, JSON.stringify(text));
    assert.match(warnings[0], /^Ignoring /);
    assert.ok(!warnings[0].includes(TOKEN.accessToken), "no token in a warning");
  }
  // Replaced by the next write that expects nothing there.
  const version = await store.set("k", { token: TOKEN }, null);
  assert.deepEqual(await store.get("k"), { value: { token: TOKEN }, version });
});

Deno.test("processes at once never lose an update", async () => {
  await using tmp = await scratch("store-");
  const code = `
    const store = new FileTokenStore({ dir: ${JSON.stringify(tmp.dir)} });
    for (let done = 0; done < 25;) {
      const entry = await store.get("counter");
      const n = Number(entry?.value.server ?? "0");
      if (await store.set("counter", { server: String(n + 1) }, entry?.version ?? null) !== null) done++;
    }`;
  const children = Array.from({ length: 6 }, () => child(code));
  for (const process of children) {
    const { code, stderr } = await process.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  }
  const store = new FileTokenStore({ dir: tmp.dir });
  assert.equal((await store.get("counter"))!.value.server, "150");
});

Deno.test("a lock held by a killed process is free at once", async () => {
  await using tmp = await scratch("store-");
  const store = new FileTokenStore({ dir: tmp.dir });
  await store.set("k", {}, null);
  const lockPath = (store.pathOf("k")).replace(/\.json$/, ".lock");
  const holder = child(`
    const file = await Deno.open(${JSON.stringify(lockPath)}, { read: true, write: true });
    await file.lock(true);
    console.log("locked");
    await new Promise(() => setInterval(() => {}, 1000));`);
  assert.equal(await firstLine(holder), "locked");
  const entry = (await store.get("k"))!;
  const blocked = store.set("k", { server: "x" }, entry.version);
  const raced = await Promise.race([
    blocked.then(() => "written"),
    new Promise((resolve) => setTimeout(() => resolve("waiting"), 300)),
  ]);
  assert.equal(raced, "waiting", "the lock holds while its process lives");
  const killedAt = performance.now();
  holder.kill("SIGKILL");
  await holder.status;
  assert.ok(await blocked);
  assert.ok(performance.now() - killedAt < 2_000);
  assert.equal((await store.get("k"))!.value.server, "x");
});

Deno.test("a claim whose process was killed reads as no claim; a live one stays", async () => {
  await using tmp = await scratch("store-");
  const holder = child(`
    const store = new FileTokenStore({ dir: ${JSON.stringify(tmp.dir)} });
    await store.set("k", { claim: { owner: "o1", purpose: "login", until: Date.now() + 600000 } }, null);
    console.log("claimed");
    await new Promise(() => setInterval(() => {}, 1000));`);
  assert.equal(await firstLine(holder), "claimed");
  const store = new FileTokenStore({ dir: tmp.dir });
  const live = (await store.get("k"))!;
  assert.equal(live.value.claim?.owner, "o1");
  holder.kill("SIGKILL");
  await holder.status;
  const after = (await store.get("k"))!;
  assert.equal(after.value.claim, undefined);
  assert.equal(after.version, live.version, "the same version: a check-and-set takes it over");
  assert.ok(
    await store.set("k", { claim: { owner: "o2", purpose: "login", until: 1 } }, after.version),
  );
  // This process's own claim stays while it lives.
  assert.equal((await store.get("k"))!.value.claim?.owner, "o2");
});

Deno.test("file names are the first 128 bits of the key's SHA-256", async () => {
  const store = new FileTokenStore({ dir: "/nowhere" });
  for (
    const key of [
      "",
      "k",
      "https://api.armor.com/#ops@example.com",
      "é".repeat(100),
      "x".repeat(1000),
    ]
  ) {
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
    );
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(store.pathOf(key), `/nowhere/${hex.slice(0, 32)}.json`);
  }
});

Deno.test("what killed writers leave behind is cleaned up by the next writer", async () => {
  await using tmp = await scratch("store-");
  const store = new FileTokenStore({ dir: tmp.dir });
  const version = await store.set("k", {}, null);
  const name = store.pathOf("k").split("/").at(-1)!.slice(0, -5);
  await Deno.writeTextFile(`${tmp.dir}/.${name}.${crypto.randomUUID()}.tmp`, '{"half');
  await Deno.mkdir(`${tmp.dir}/holders`, { recursive: true });
  const dead = crypto.randomUUID();
  await Deno.writeTextFile(`${tmp.dir}/holders/${dead}`, "");
  await store.set("k", { claim: { owner: "me", purpose: "renew", until: 1 } }, version);
  const left: string[] = [];
  for await (const entry of Deno.readDir(tmp.dir)) left.push(entry.name);
  assert.ok(!left.some((n) => n.endsWith(".tmp")), left.join(", "));
  const holders: string[] = [];
  for await (const entry of Deno.readDir(`${tmp.dir}/holders`)) holders.push(entry.name);
  assert.equal(holders.length, 1, "only this process's holder is left");
  assert.notEqual(holders[0], dead);
});

Deno.test("the default folder: $XDG_CONFIG_HOME when absolute, else ~/.config", async () => {
  const script = `
    import { defaultFileStoreDir } from ${JSON.stringify(MODULE)};
    console.log(defaultFileStoreDir());`;
  const run = async (env: Record<string, string>) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", script],
      clearEnv: true,
      env: { ...env, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(output.stdout).trim();
  };
  assert.equal(await run({ HOME: "/home/u", XDG_CONFIG_HOME: "/x/cfg" }), "/x/cfg/armor-api-auth");
  assert.equal(
    await run({ HOME: "/home/u", XDG_CONFIG_HOME: "rel/cfg" }),
    "/home/u/.config/armor-api-auth",
  );
  assert.equal(await run({ HOME: "/home/u" }), "/home/u/.config/armor-api-auth");
});

Deno.test("a folder opened up is made private again by a read, not only by a write", async () => {
  await using tmp = await scratch("store-");
  const store = new FileTokenStore({ dir: tmp.dir });
  await store.set("k", { token: TOKEN }, null);
  await Deno.chmod(tmp.dir, 0o755);
  const { warnings, warn } = quiet();
  assert.ok(await new FileTokenStore({ dir: tmp.dir, warn }).get("k"));
  assert.equal((await Deno.stat(tmp.dir)).mode! & 0o777, 0o700);
  assert.match(warnings[0], /private \(mode 0700\)/);
});

/** `ln -s`: Deno.symlink needs unscoped permissions. */
async function symlink(target: string, path: string): Promise<void> {
  const { success } = await new Deno.Command("ln", { args: ["-s", target, path] }).output();
  assert.ok(success, `ln -s ${target} ${path}`);
}

Deno.test("a symbolic link at a store file or its lock is never followed", async () => {
  await using tmp = await scratch("store-");
  await using elsewhere = await scratch("elsewhere-");
  const store = new FileTokenStore({ dir: tmp.dir });
  await store.set("k", { token: TOKEN }, null);
  const path = store.pathOf("k");
  // A whole record of this very key, kept elsewhere (open to others), linked in.
  const target = `${elsewhere.home}/planted.json`;
  await Deno.writeTextFile(target, await Deno.readTextFile(path), { mode: 0o644 });
  await Deno.chmod(target, 0o644);
  await Deno.remove(path);
  await symlink(target, path);
  const { warnings, warn } = quiet();
  const reader = new FileTokenStore({ dir: tmp.dir, warn });
  assert.equal(await reader.get("k"), undefined, "not adopted through the link");
  assert.match(warnings.join("\n"), /Ignoring .*symbolic link/);
  assert.equal((await Deno.stat(target)).mode! & 0o777, 0o644, "not made private through it");
  // The next login replaces the link with a file of its own, and leaves the target alone.
  const before = await Deno.readTextFile(target);
  assert.ok(await reader.set("k", { token: TOKEN }, null));
  assert.ok((await Deno.lstat(path)).isFile);
  assert.equal(await Deno.readTextFile(target), before);
  // A link at the lock's path is removed, not opened through: nothing is made elsewhere.
  const lockPath = path.replace(/\.json$/, ".lock");
  await Deno.remove(lockPath);
  await symlink(`${elsewhere.home}/made-by-lock`, lockPath);
  const entry = (await reader.get("k"))!;
  assert.ok(await reader.set("k", { server: "x" }, entry.version), "the write still works");
  assert.ok((await Deno.lstat(lockPath)).isFile);
  await assert.rejects(Deno.lstat(`${elsewhere.home}/made-by-lock`), Deno.errors.NotFound);
});

Deno.test("a file that belongs to another user is never adopted", async (t) => {
  await using tmp = await scratch("store-");
  const store = new FileTokenStore({ dir: tmp.dir });
  await store.set("k", { token: TOKEN }, null);
  const path = store.pathOf("k");
  try {
    await Deno.chown(path, 65534, 65534);
  } catch {
    console.log("Cannot chown here (not root): the other-owner case did not run");
    return;
  }
  await t.step("ignored with a warning", async () => {
    const { warnings, warn } = quiet();
    assert.equal(await new FileTokenStore({ dir: tmp.dir, warn }).get("k"), undefined);
    assert.match(warnings.join("\n"), /Ignoring .*another user/);
  });
  await t.step("replaced by the next login", async () => {
    const version = await store.set("k", { token: TOKEN }, null);
    assert.ok(version);
    assert.deepEqual(await new FileTokenStore({ dir: tmp.dir }).get("k"), {
      value: { token: TOKEN },
      version,
    });
  });
});

Deno.test("a store keeps any value it is given: judging a login is its reader's job", async () => {
  await using tmp = await scratch("store-");
  const store = new FileTokenStore({ dir: tmp.dir });
  // The library reads such a value as no login (and the command line warns): the store
  // itself is a faithful container, as every store is.
  const value = { token: { accessToken: "t1", issuedAt: 0, expiresAt: 1 }, extra: [1] };
  const version = await store.set("k", value as never, null);
  assert.deepEqual(await store.get("k"), { value, version });
});

Deno.test("a folder or a pipe where the file goes is replaced by the next login, or named", async () => {
  await using tmp = await scratch("store-");
  const { warnings, warn } = quiet();
  const store = new FileTokenStore({ dir: tmp.dir, warn });
  await store.set("other", {}, null);
  const path = store.pathOf("k");
  await Deno.mkdir(path);
  assert.equal(await store.get("k"), undefined);
  assert.ok(await store.set("k", { token: TOKEN }, null), "an empty folder is replaced");
  assert.ok((await Deno.lstat(path)).isFile);
  await Deno.remove(path);
  const { success } = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(success);
  assert.equal(await store.get("k"), undefined);
  assert.ok(await store.set("k", { token: TOKEN }, null), "a pipe is replaced");
  assert.ok((await Deno.lstat(path)).isFile);
  await Deno.remove(path);
  await Deno.mkdir(path);
  await Deno.writeTextFile(`${path}/keep`, "x");
  await assert.rejects(store.set("k", { token: TOKEN }, null), (error: Error) => {
    assert.match(error.message, /is a folder, not a token file: remove it/);
    return true;
  });
  assert.equal(await Deno.readTextFile(`${path}/keep`), "x", "nothing in it is removed");
  assert.ok(warnings.some((w) => /Removed .*not a token file/.test(w)));
});

Deno.test("a lock held by a process that does not let go fails a write in bounded time", async () => {
  await using tmp = await scratch("store-");
  const store = new FileTokenStore({ dir: tmp.dir, lockTimeout: 400 });
  await store.set("k", {}, null);
  const lockPath = store.pathOf("k").replace(/\.json$/, ".lock");
  // Alive and holding the lock, as a stopped process would (Ctrl-Z mid-write).
  const holder = child(`
    const file = await Deno.open(${JSON.stringify(lockPath)}, { read: true, write: true });
    await file.lock(true);
    console.log("locked");
    await new Promise(() => setInterval(() => {}, 1000));`);
  try {
    assert.equal(await firstLine(holder), "locked");
    const entry = (await store.get("k"))!;
    const started = performance.now();
    await assert.rejects(store.set("k", { server: "x" }, entry.version), (error: Error) => {
      assert.match(error.message, /stayed held .*does not let go/);
      return true;
    });
    const took = performance.now() - started;
    assert.ok(took >= 350 && took < 3_000, `gave up after ${Math.round(took)} ms`);
    assert.deepEqual((await store.get("k"))!.value, {}, "nothing written");
  } finally {
    holder.kill("SIGKILL");
    await holder.status;
  }
  // Free again: the write goes through.
  const entry = (await store.get("k"))!;
  assert.ok(await store.set("k", { server: "x" }, entry.version));
  assert.throws(() => new FileTokenStore({ dir: tmp.dir, lockTimeout: -1 }), TypeError);
});

Deno.test("with read access only, an opened folder is still read, with a warning saying what to do", async () => {
  await using tmp = await scratch("store-");
  await new FileTokenStore({ dir: tmp.dir }).set("k", { token: TOKEN }, null);
  await Deno.chmod(tmp.dir, 0o755);
  const script = `${tmp.home}/read.ts`;
  await Deno.writeTextFile(
    script,
    `import { FileTokenStore } from ${JSON.stringify(MODULE)};
    try {
      await new FileTokenStore({ dir: ${JSON.stringify(tmp.dir)} }).get("k");
      console.log("read");
    } catch (error) {
      console.log(String(error));
    }`,
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", `--allow-read=${tmp.home}`, script],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(text, "read", stderr);
  assert.match(stderr, /open to others: allow writing to it \(--allow-write\)/);
  assert.doesNotMatch(stderr, /another user/);
});
