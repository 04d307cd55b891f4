// @ts-check
// A module worker that runs the smoke flow on workerd and answers with the report as
// JSON. `./mod.mjs` is the bundle of mod.ts; node/workerd_entry.mjs names the modules.

import * as armor from "./mod.mjs";
import { smoke, smokeTimeout } from "./smoke.mjs";

export default {
  /** @param {Request} request @param {{ ARMOR_BASE_URL: string }} env */
  async fetch(request, env) {
    // Each its own worker request: the timeout check runs after the flow's request ended.
    const timeout = new URL(request.url).pathname === "/timeout";
    return Response.json(
      await (timeout ? smokeTimeout(armor, env.ARMOR_BASE_URL) : smoke(armor, env.ARMOR_BASE_URL)),
    );
  },
};
