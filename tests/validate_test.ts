import assert from "node:assert/strict";
import {
  API_VERSIONS,
  checkApiVersion,
  checkBaseUrl,
  checkSecret,
  checkTimeout,
  isLoopback,
  MAX_SECRET_LENGTH,
} from "../src/_validate.ts";

Deno.test("checkBaseUrl allows plain http: on loopback hosts only", () => {
  const allowed: [string, string][] = [
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"],
    ["http://127.0.0.1", "http://127.0.0.1/"],
    ["http://127.45.6.7:9", "http://127.45.6.7:9/"],
    ["http://localhost:3000", "http://localhost:3000/"],
    ["http://LOCALHOST:3000", "http://localhost:3000/"],
    ["http://[::1]:8443", "http://[::1]:8443/"],
    ["http://[0:0:0:0:0:0:0:1]", "http://[::1]/"],
  ];
  for (const [input, href] of allowed) {
    assert.equal(checkBaseUrl(input).href, href, input);
  }
});

Deno.test("checkBaseUrl refuses plain http: anywhere else", () => {
  const refused = [
    "http://api.armor.com",
    "http://10.0.0.1",
    "http://192.168.1.10:8080",
    "http://0.0.0.0",
    "http://[::]",
    "http://[::2]",
    "http://[::ffff:127.0.0.1]",
    "http://localhost.example.com",
    "http://mylocalhost",
    "http://127.0.0.1.nip.io",
    "http://128.0.0.1",
  ];
  for (const input of refused) {
    assert.throws(() => checkBaseUrl(input), TypeError, input);
  }
});

Deno.test("checkBaseUrl refuses other schemes, garbage and non-strings", () => {
  const refused: unknown[] = [
    "ftp://127.0.0.1/",
    "ws://127.0.0.1/",
    "wss://api.armor.com/",
    "file:///etc/passwd",
    "data:text/plain,hi",
    "javascript:alert(1)",
    "api.armor.com",
    "/auth/token",
    "not a url",
    "",
    undefined,
    null,
    42,
    { href: "https://api.armor.com" },
  ];
  for (const input of refused) {
    assert.throws(() => checkBaseUrl(input), TypeError, Deno.inspect(input));
  }
});

Deno.test("checkBaseUrl refuses credentials, a query or a fragment, and never echoes a password", () => {
  for (
    const input of [
      "https://user:pass@api.armor.com",
      "https://user@api.armor.com",
      "http://ops:hunter2-secret@127.0.0.1:8080",
      "https://api.armor.com/?token=abc",
      "https://api.armor.com/#top",
    ]
  ) {
    const error = (() => {
      try {
        checkBaseUrl(input);
      } catch (error) {
        return error;
      }
      assert.fail(`${input} was accepted`);
    })();
    assert.ok(error instanceof TypeError, input);
    assert.ok(!error.message.includes("hunter2-secret"));
  }
});

Deno.test("checkBaseUrl accepts https: anywhere and adds the trailing slash", () => {
  assert.equal(checkBaseUrl("https://api.armor.com").href, "https://api.armor.com/");
  assert.equal(checkBaseUrl("https://api.armor.com/").href, "https://api.armor.com/");
  assert.equal(checkBaseUrl("https://api.armor.com:8443").href, "https://api.armor.com:8443/");
  assert.equal(checkBaseUrl("https://example.com/armor").href, "https://example.com/armor/");
  assert.equal(checkBaseUrl("https://example.com/armor/").href, "https://example.com/armor/");
  // Relative paths resolve under the base URL's path, not beside it.
  assert.equal(
    new URL("auth/token", checkBaseUrl("https://example.com/armor")).href,
    "https://example.com/armor/auth/token",
  );
});

Deno.test("checkBaseUrl takes a URL object without changing the caller's", () => {
  const given = new URL("https://example.com/armor");
  const checked = checkBaseUrl(given);
  assert.equal(checked.href, "https://example.com/armor/");
  assert.equal(given.href, "https://example.com/armor");
  assert.notEqual(checked, given);
});

Deno.test("isLoopback names only the hosts that never leave the machine", () => {
  for (const host of ["localhost", "127.0.0.1", "127.255.255.254", "[::1]"]) {
    assert.ok(isLoopback(host), host);
  }
  for (const host of ["", "::1", "api.armor.com", "localhost.com", "10.127.0.0.1", "0.0.0.0"]) {
    assert.ok(!isLoopback(host), host);
  }
});

Deno.test("checkSecret accepts a non-blank string and names, never quotes, a bad one", () => {
  assert.equal(checkSecret("one-time-code", "code"), "one-time-code");
  assert.equal(checkSecret(" padded ", "code"), " padded ");
  for (const bad of [undefined, null, 1, {}, [], "", " ", "\n\t"]) {
    assert.throws(() => checkSecret(bad, "code"), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /^code /);
      return true;
    });
  }
  const long = "s3cret".repeat(2_000);
  assert.equal(checkSecret(long.slice(0, MAX_SECRET_LENGTH), "token").length, MAX_SECRET_LENGTH);
  assert.throws(() => checkSecret(long, "token"), (error: Error) => {
    assert.ok(error instanceof RangeError);
    assert.ok(!error.message.includes("s3crets3cret"));
    return true;
  });
});

Deno.test("checkApiVersion accepts v1.0 and internal, defaults, and refuses the rest", () => {
  assert.deepEqual(API_VERSIONS, ["v1.0", "internal"]);
  assert.equal(checkApiVersion("v1.0", "internal"), "v1.0");
  assert.equal(checkApiVersion("internal", "v1.0"), "internal");
  assert.equal(checkApiVersion(undefined, "internal"), "internal");
  for (const bad of ["v1", "v2.0", "V1.0", " v1.0", "INTERNAL", "", null, 1]) {
    assert.throws(() => checkApiVersion(bad, "v1.0"), TypeError, Deno.inspect(bad));
  }
});

Deno.test("checkTimeout accepts positive milliseconds up to setTimeout's limit", () => {
  assert.equal(checkTimeout(undefined, 30_000), 30_000);
  assert.equal(checkTimeout(1, 30_000), 1);
  assert.equal(checkTimeout(0.5, 30_000), 0.5);
  assert.equal(checkTimeout(2_147_483_647, 30_000), 2_147_483_647);
  for (const bad of [0, -1, 2_147_483_648, Infinity, -Infinity]) {
    assert.throws(() => checkTimeout(bad, 30_000), RangeError, String(bad));
  }
  for (const bad of [NaN, "100", null, {}]) {
    assert.throws(() => checkTimeout(bad, 30_000), TypeError, String(bad));
  }
});
