// The smoke flow on Deno, from source: `deno run --allow-net=127.0.0.1 compat/deno_entry.ts <base url>`.
// Prints the report as one line of JSON.

import * as armor from "../mod.ts";
import { joinReports, smoke, smokeTimeout } from "./smoke.mjs";

const flow = await smoke(armor, Deno.args[0]);
console.log(JSON.stringify(joinReports(flow, await smokeTimeout(armor, Deno.args[0]))));
