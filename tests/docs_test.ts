// The published pages: README.md, SECURITY.md, BENCHMARKS.md and docs/*.md.
// - Every relative link points to a file `deno publish --dry-run` would include.
// - Every TypeScript block is type-checked by `deno check --doc-only` (none skipped: no
//   `ignore`, and deno's own list of checked blocks is compared with the blocks here), and
//   every block not marked `live` (a live account needed) also runs, against the mock.
// deno.json's test.exclude keeps these pages out of `deno test --doc`, which would run the
// `live` blocks too: this file checks all of them and runs the rest.
// - The README is at most 8,000 bytes; its Node-facing code parses on Node (no `await
//   using`), and its quick start runs on Node when Node 20 or newer is installed.

import assert from "node:assert/strict";
import { ROOT } from "./_run_example.ts";

const decoder = new TextDecoder();

/** The pages, relative to the repository root. */
async function pages(): Promise<string[]> {
  const found = ["README.md", "SECURITY.md", "BENCHMARKS.md"];
  for await (const entry of Deno.readDir(`${ROOT}docs`)) {
    if (entry.isFile && entry.name.endsWith(".md")) found.push(`docs/${entry.name}`);
  }
  return found.sort();
}

interface Block {
  page: string;
  /** The info string after the fence, e.g. `ts live`. */
  info: string;
  /** The language word: `ts`, `js`, `sh`, ... */
  lang: string;
  /** Line numbers (1-based) of the opening and closing fences, as deno names blocks. */
  start: number;
  end: number;
  code: string;
}

const TS = new Set(["ts", "typescript", "tsx", "mts"]);
const JS = new Set(["js", "javascript", "mjs", "jsx"]);

function blocksOf(page: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]);
    if (open === null) continue;
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    assert.ok(j < lines.length, `${page}:${i + 1}: a code block is never closed`);
    const info = `${open[1]}${open[2]}`.trim();
    blocks.push({
      page,
      info,
      lang: open[1].toLowerCase(),
      start: i + 1,
      end: j + 1,
      code: lines.slice(i + 1, j).join("\n"),
    });
    i = j;
  }
  return blocks;
}

async function allBlocks(): Promise<Block[]> {
  const blocks: Block[] = [];
  for (const page of await pages()) {
    blocks.push(...blocksOf(page, await Deno.readTextFile(`${ROOT}${page}`)));
  }
  return blocks;
}

async function run(
  command: string,
  args: string[],
  cwd = ROOT,
): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(command, {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    out: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

/** The files `deno publish --dry-run` would publish, relative to the root. */
async function published(): Promise<Set<string>> {
  const { code, out } = await run(Deno.execPath(), ["publish", "--dry-run", "--allow-dirty"]);
  assert.equal(code, 0, out);
  const files = new Set<string>();
  for (const match of out.matchAll(/file:\/\/(\S+)/g)) {
    const path = decodeURIComponent(match[1]);
    if (path.startsWith(ROOT)) files.add(path.slice(ROOT.length));
  }
  assert.ok(files.has("mod.ts") && files.has("README.md"), out);
  return files;
}

Deno.test("every relative link in the published pages resolves inside the package", async () => {
  const files = await published();
  let checked = 0;
  for (const page of await pages()) {
    assert.ok(files.has(page), `${page} is not published`);
    const text = await Deno.readTextFile(`${ROOT}${page}`);
    // [text](target) outside code blocks, and <a href="target">.
    const prose = text.replace(/^```[\s\S]*?^```/gm, "");
    const targets = [
      ...[...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]),
      ...[...prose.matchAll(/href="([^"]+)"/g)].map((m) => m[1]),
    ];
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue;
      const path = new URL(target.split("#")[0], `file:///${page}`).pathname.slice(1);
      const file = path.endsWith("/") ? `${path}README.md` : path;
      assert.ok(files.has(file), `${page} links to ${target}, which is not published`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `only ${checked} links found`);
});

Deno.test("the README is the JSR page: at most 8,000 bytes", async () => {
  const size = (await Deno.stat(`${ROOT}README.md`)).size;
  assert.ok(size <= 8_000, `README.md is ${size} bytes`);
});

Deno.test("every TypeScript block is type-checked, none skipped", async () => {
  const blocks = (await allBlocks()).filter((block) => TS.has(block.lang));
  assert.ok(blocks.length >= 12, `only ${blocks.length} TypeScript blocks`);
  for (const block of blocks) {
    assert.doesNotMatch(block.info, /\bignore\b/, `${block.page}:${block.start} is skipped`);
  }
  // Deno lists the blocks it checks only when they are not in its type-check cache: check
  // copies of the pages in a folder of their own, new each run, so that every one is listed.
  await Deno.mkdir(`${ROOT}.tmp`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${ROOT}.tmp`, prefix: "check-" });
  const prefix = `${dir.slice(ROOT.length)}/`;
  let result: { code: number; out: string };
  try {
    const copies: string[] = [];
    for (const page of await pages()) {
      await Deno.mkdir(`${dir}/docs`, { recursive: true });
      await Deno.copyFile(`${ROOT}${page}`, `${dir}/${page}`);
      copies.push(`${prefix}${page}`);
    }
    result = await run(Deno.execPath(), ["check", "--doc-only", ...copies]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const { code, out } = result;
  assert.equal(code, 0, out);
  const checked = new Set(
    // Deno names a block by its opening fence and the line after its closing fence: the
    // opening line identifies it.
    [...out.matchAll(/Check \S*?\.tmp\/check-\w+\/(\S+\.md)#(\d+)-\d+\.\w+/g)].map((m) =>
      `${m[1]}#${m[2]}`
    ),
  );
  const expected = new Set(blocks.map((block) => `${block.page}#${block.start}`));
  assert.deepEqual([...checked].sort(), [...expected].sort());
});

Deno.test("every TypeScript block that needs no account runs against the mock", async (t) => {
  const blocks = (await allBlocks()).filter((block) =>
    TS.has(block.lang) && !/\blive\b/.test(block.info)
  );
  await Deno.mkdir(`${ROOT}.tmp`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${ROOT}.tmp`, prefix: "docs-" });
  try {
    for (const block of blocks) {
      await t.step(`${block.page}:${block.start}`, async () => {
        const file = `${dir}/${block.page.replace(/\W/g, "_")}_${block.start}.ts`;
        await Deno.writeTextFile(file, block.code);
        const mode = block.code.includes("Deno.test(") ? "test" : "run";
        const { code, out } = await run(Deno.execPath(), [
          mode,
          "--quiet",
          "--no-prompt",
          "--allow-net=127.0.0.1",
          `--config=${ROOT}deno.json`,
          file,
        ]);
        assert.equal(code, 0, out);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Node's major version, or undefined when there is no `node` to run. */
async function nodeMajor(): Promise<number | undefined> {
  try {
    const { code, out } = await run("node", ["--version"]);
    return code === 0 ? Number(/^v(\d+)/.exec(out)?.[1]) : undefined;
  } catch {
    return undefined;
  }
}

Deno.test("the README's Node-facing code runs on Node 20: parsed, and the quick start run", async (t) => {
  const major = await nodeMajor();
  if (major === undefined || major < 20) {
    console.log("No Node 20 or newer on this machine: the Node checks did not run");
    return;
  }
  const blocks = (await allBlocks()).filter((block) => block.page === "README.md");
  // The quick start is plain JavaScript; so is every block that does not use Deno.
  const quickStart = blocks.find((block) => block.code.includes("serveMockArmorApi()"));
  assert.ok(quickStart, "the README has a quick start on the mock");
  const nodeFacing = blocks.filter((block) =>
    JS.has(block.lang) || (TS.has(block.lang) && !block.code.includes("Deno."))
  );
  assert.ok(nodeFacing.includes(quickStart) && nodeFacing.length >= 3);
  await Deno.mkdir(`${ROOT}.tmp`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${ROOT}.tmp`, prefix: "docs-node-" });
  try {
    for (const block of nodeFacing) {
      await t.step(`node --check README.md:${block.start}`, async () => {
        assert.doesNotMatch(block.code, /\bawait using\b/);
        const file = `${dir}/readme_${block.start}.mjs`;
        await Deno.writeTextFile(file, block.code);
        const { code, out } = await run("node", ["--check", file]);
        assert.equal(code, 0, out);
      });
    }
    await t.step("the quick start, bundled, runs on node", async () => {
      const source = `${dir}/quickstart.ts`;
      await Deno.writeTextFile(source, quickStart.code);
      const bundle = `${dir}/quickstart.mjs`;
      const bundled = await run(Deno.execPath(), [
        "bundle",
        "--quiet",
        "--platform=node",
        `--config=${ROOT}deno.json`,
        "-o",
        bundle,
        source,
      ]);
      assert.equal(bundled.code, 0, bundled.out);
      const { code, out } = await run("node", [bundle], dir);
      assert.equal(code, 0, out);
      assert.match(out, /demo@example\.com \[ 1001, 1002 \]/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs/README.md links every page of docs/, and the README links the index", async () => {
  const index = await Deno.readTextFile(`${ROOT}docs/README.md`);
  for (const page of await pages()) {
    if (!page.startsWith("docs/") || page === "docs/README.md") continue;
    const name = page.slice("docs/".length);
    assert.ok(index.includes(`](${name})`), `docs/README.md does not link ${name}`);
  }
  assert.match(await Deno.readTextFile(`${ROOT}README.md`), /\]\(docs\/README\.md\)/);
});
