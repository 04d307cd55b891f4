// @ts-check
// The smoke flow on Cloudflare workerd, through Miniflare, run by Node:
// `node compat/node/workerd_entry.mjs <bundle> <base url>`. Prints the report as one line of JSON.

import { readFile } from "node:fs/promises";
import process from "node:process";
import { Miniflare } from "miniflare";

const [bundle, baseUrl] = process.argv.slice(2);
const compat = new URL("../", import.meta.url);

/** @param {string | URL} file */
const text = (file) => readFile(file, "utf8");

const mf = new Miniflare({
  compatibilityDate: "2026-04-01",
  modules: [
    { type: "ESModule", path: "worker.mjs", contents: await text(new URL("worker.mjs", compat)) },
    { type: "ESModule", path: "smoke.mjs", contents: await text(new URL("smoke.mjs", compat)) },
    { type: "ESModule", path: "mod.mjs", contents: await text(bundle) },
  ],
  bindings: { ARMOR_BASE_URL: baseUrl },
  // Loopback only: the mock listens on 127.0.0.1, and nothing else may be reached.
  outboundService: { network: { allow: ["local"] } },
});
try {
  /** @param {string} path */
  const report = async (path) => {
    const response = await mf.dispatchFetch(`http://compat.invalid${path}`);
    const body = await response.text();
    // Not JSON: workerd's own error page, e.g. for an exception outside the flow.
    return response.ok ? JSON.parse(body) : { ok: false, steps: [], error: body };
  };
  const flow = await report("/");
  const timeout = flow.ok ? await report("/timeout") : { ok: true, steps: [] };
  console.log(
    JSON.stringify(flow.ok ? { ...timeout, steps: [...flow.steps, ...timeout.steps] } : flow),
  );
} finally {
  await mf.dispose();
}
