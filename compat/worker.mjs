// @ts-check
// A module worker that runs the smoke flow on workerd and answers with the report as
// JSON. `./mod.mjs` is the bundle of mod.ts; node/workerd_entry.mjs names the modules.

import * as armor from "./mod.mjs";
import { smoke } from "./smoke.mjs";

export default {
  /** @param {Request} _request @param {{ ARMOR_BASE_URL: string }} env */
  async fetch(_request, env) {
    return Response.json(await smoke(armor, env.ARMOR_BASE_URL));
  },
};
