// The main entry stays lean: at most 35 symbols, what users call or name. The tuning
// numbers and renewal arithmetic live in the ./renewal entry.

import assert from "node:assert/strict";
import * as main from "../mod.ts";
import * as renewal from "../src/renewal.ts";
import { ROOT } from "./_run_example.ts";

/** The names `deno doc` lists for an entry, types included. */
async function documented(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const doc = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    nodes: Record<string, { symbols?: { name: string }[] }>;
  };
  const names = new Set<string>();
  for (const node of Object.values(doc.nodes)) {
    for (const symbol of node.symbols ?? []) names.add(symbol.name);
  }
  return [...names].sort();
}

Deno.test("mod.ts exports at most 35 symbols, none of them tuning numbers", async () => {
  const names = await documented("mod.ts");
  assert.ok(names.length <= 35, `mod.ts exports ${names.length}: ${names.join(", ")}`);
  assert.ok(names.includes("ArmorSession") && names.includes("connectOptionsFromEnv"));
  for (const name of names) {
    assert.doesNotMatch(name, /^[A-Z][A-Z0-9_]+$/, `${name} is a constant: put it in ./renewal`);
  }
  for (const name of ["isRenewalDue", "jitteredRenewAt", "renewAt", "shouldRenew", "mustRenew"]) {
    assert.equal(name in main, false, `${name} is renewal arithmetic: ./renewal has it`);
  }
});

Deno.test("./renewal has the rules and their numbers", () => {
  assert.equal(renewal.renewAt(0, renewal.sessionLengthMs(15)), 5 * 60_000);
  assert.equal(renewal.MUST_RENEW_MS, 30_000);
  assert.equal(renewal.DEFAULT_BASE_URL, "https://api.armor.com");
  assert.equal(typeof renewal.CLAIM_GRACE_MS, "number");
});
