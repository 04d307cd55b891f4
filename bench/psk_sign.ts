// Figure 6: µs per ARMOR-PSK signature (`armorPskSigner`, and `armorPskAuthorization` with
// its key lookup), GET without a body and POST with a small JSON body, sequential calls,
// against the floor: the same Web Crypto calls alone on a key imported beforehand
// (randomUUID, HMAC-SHA512 sign over the head and the raw body bytes, base64), no checks.
// The body is signed raw, Armor's documented form and the module's default.
//
// A last line shows the cost a signature when 16 are in flight at once: Web Crypto runs
// off the main thread, so a lone call pays for the hop there and back.
//
//   deno run bench/psk_sign.ts [--rounds=N] [--block=N] [--warmup=N]

import { armorPskAuthorization, armorPskSigner } from "../src/armor_psk.ts";
import { intArg, interleaveMany, ratiosOf, report, showSummary, summarize } from "./_stats.ts";

const ROUNDS = intArg("rounds", 200);
const BLOCK = intArg("block", 200);
const WARMUP = intArg("warmup", 3_000);
/** The per-call target for a GET, in µs. */
const TARGET_US = 20;

const KEY = { id: "20a37099-4a0b-432f-bf46-5fa690a0405c", secret: "sécret-ключ-🔑-0123456789" };
const BODY = JSON.stringify({ name: "web-01", notes: "Grüße", tags: ["prod", "eu"] });
const GET = { method: "GET", path: "/accounts/2" };
const POST = { method: "POST", path: "/accounts/2/notes", body: BODY };

const sign = armorPskSigner(KEY);
const subtle = crypto.subtle;
const encoder = new TextEncoder();
const hmac = await subtle.importKey(
  "raw",
  encoder.encode(KEY.secret),
  { name: "HMAC", hash: "SHA-512" },
  false,
  ["sign"],
);
const base64 = (buffer: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));

/** The floor: what any signer must do, on a key imported beforehand, with no checks. */
async function bare(
  method: string,
  path: string,
  body?: string,
  nonce = crypto.randomUUID().replaceAll("-", ""),
  timestamp = Math.floor(Date.now() / 1000),
): Promise<string> {
  const head = encoder.encode(KEY.id + method + path + nonce + timestamp);
  let message = head;
  if (body !== undefined) {
    const bytes = encoder.encode(body);
    message = new Uint8Array(head.length + bytes.length);
    message.set(head);
    message.set(bytes, head.length);
  }
  const signature = base64(await subtle.sign("HMAC", hmac, message));
  return `ARMOR-PSK ${KEY.id}:${signature}:${nonce}:${timestamp}`;
}

// Both sides must produce the same header.
for (const [request, body] of [[GET, undefined], [POST, BODY]] as const) {
  const fixed = { ...request, nonce: "8jbj872s2h", timestamp: 1528140529 };
  const ours = await sign(fixed);
  if (ours !== await bare(request.method, request.path, body, fixed.nonce, fixed.timestamp)) {
    throw new Error(`The module and the floor sign ${request.method} differently`);
  }
  if (ours !== await armorPskAuthorization(KEY, fixed)) {
    throw new Error("armorPskSigner and armorPskAuthorization sign differently");
  }
}

const sides: [string, () => Promise<string>][] = [
  ["armorPskSigner GET", () => sign(GET)],
  ["floor GET", () => bare("GET", GET.path)],
  ["armorPskSigner POST", () => sign(POST)],
  ["floor POST", () => bare("POST", POST.path, BODY)],
  ["armorPskAuthorization GET", () => armorPskAuthorization(KEY, GET)],
];

for (const [, run] of sides) for (let i = 0; i < WARMUP; i++) await run();

const times = await interleaveMany(
  ROUNDS,
  sides.map(([, run]) => async () => {
    const start = performance.now();
    for (let i = 0; i < BLOCK; i++) await run();
    return performance.now() - start;
  }),
);
const perCall = (ms: number[]) => summarize(ms.map((t) => (t * 1000) / BLOCK));
const [signerGet, floorGet, signerPost, floorPost, authorizationGet] = times.map(perCall);

/** µs a signature with `width` calls in flight at once, median over 51 batches. */
async function inFlight(run: () => Promise<string>, width: number): Promise<number> {
  const batches: number[] = [];
  for (let b = 0; b < 51; b++) {
    const start = performance.now();
    for (let i = 0; i < BLOCK / width; i++) await Promise.all(Array.from({ length: width }, run));
    batches.push(((performance.now() - start) * 1000) / (Math.floor(BLOCK / width) * width));
  }
  return summarize(batches).median;
}
const parallelGet = await inFlight(() => sign(GET), 16);
const parallelPost = await inFlight(() => sign(POST), 16);

const digits = 1;
report({
  id: 6,
  name: "ARMOR-PSK signature, µs a call",
  metric: `µs per armorPskSigner call, GET without a body; ratio module / Web Crypto floor, ` +
    `${ROUNDS} rounds of ${BLOCK} sequential calls a side`,
  ratio: summarize(ratiosOf(times[0], times[1])),
  bound: `GET ≤ ${TARGET_US} µs`,
  met: signerGet.median <= TARGET_US,
  notes: [
    `armorPskSigner GET µs/call ${showSummary(signerGet, digits)}`,
    `floor GET µs/call ${showSummary(floorGet, digits)}`,
    `armorPskSigner POST (${encoder.encode(BODY).length} B body) µs/call ${
      showSummary(signerPost, digits)
    }`,
    `floor POST µs/call ${showSummary(floorPost, digits)}`,
    `POST ratio module / floor ${showSummary(summarize(ratiosOf(times[2], times[3])))}`,
    `armorPskAuthorization GET µs/call ${showSummary(authorizationGet, digits)}`,
    `16 in flight, armorPskSigner µs/signature: GET ${parallelGet.toFixed(digits)}, POST ${
      parallelPost.toFixed(digits)
    }`,
  ],
});
