// The smoke flow on Deno, from source: `deno run --allow-net=127.0.0.1 compat/deno_entry.ts <base url>`.
// Prints the report as one line of JSON.

import * as armor from "../mod.ts";
import { smoke } from "./smoke.mjs";

console.log(JSON.stringify(await smoke(armor, Deno.args[0])));
