// The mock's own layout: its files import one another one way, with no cycle.
import assert from "node:assert/strict";

Deno.test("the mock's modules import one another without a cycle", async () => {
  const entry = new URL("../../src/testing/mod.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry.href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
    }[];
  };
  const root = new URL("../../src/testing/", import.meta.url).href;
  const edges = new Map<string, string[]>();
  for (const module of info.modules) {
    if (!module.specifier.startsWith(root)) continue;
    const targets = (module.dependencies ?? [])
      .flatMap((dependency) => [dependency.code?.specifier, dependency.type?.specifier])
      .filter((target): target is string => target?.startsWith(root) === true);
    edges.set(module.specifier, targets);
  }
  assert.ok(edges.size >= 10, `expected the mock's files, found ${[...edges.keys()]}`);
  const done = new Set<string>();
  const visit = (file: string, path: string[]) => {
    if (path.includes(file)) {
      assert.fail(`Import cycle: ${[...path.slice(path.indexOf(file)), file].join(" -> ")}`);
    }
    if (done.has(file)) return;
    for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
    done.add(file);
  };
  for (const file of edges.keys()) visit(file, []);
});
