// @ts-check
// The smoke flow on Node or Bun, from the bundle of mod.ts:
// `node compat/node/node_entry.mjs <bundle> <base url>`. Prints the report as one line of JSON.

import { pathToFileURL } from "node:url";
import process from "node:process";
import { joinReports, smoke, smokeTimeout } from "../smoke.mjs";

const [bundle, baseUrl] = process.argv.slice(2);
const armor = await import(pathToFileURL(bundle).href);
const flow = await smoke(armor, baseUrl);
console.log(JSON.stringify(joinReports(flow, await smokeTimeout(armor, baseUrl))));
