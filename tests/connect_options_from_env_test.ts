import assert from "node:assert/strict";
import { connectOptionsFromEnv } from "../mod.ts";
import { ROOT } from "./_run_example.ts";

const USER = "ops@example.com";
const PASSWORD = "pw-value-never-shown-71";
const KEY_ID = "20a37099-4a0b-432f-bf46-5fa690a0405c";
const SECRET = "secret-value-never-shown-93";

/** Asserts that `block` throws one TypeError whose message matches and shows no value. */
function refuses(
  env: Record<string, string | undefined>,
  message: RegExp,
): void {
  assert.throws(() => connectOptionsFromEnv(env), (error: Error) => {
    assert.equal(error.name, "TypeError");
    assert.match(error.message, message);
    assert.match(error.message, /^[A-Z]/);
    assert.doesNotMatch(error.message, /\.$/);
    for (const value of Object.values(env)) {
      if (value !== undefined && value.length > 3) {
        assert.equal(error.message.includes(value), false, `message shows ${value}`);
      }
    }
    return true;
  });
}

Deno.test("a user name and password", () => {
  const options = connectOptionsFromEnv({ ARMOR_USERNAME: USER, ARMOR_PASSWORD: PASSWORD });
  assert.equal(options.username, USER);
  assert.equal(options.password, PASSWORD);
  assert.equal(options.apiKey, undefined);
  assert.equal(options.baseUrl, undefined);
  assert.equal(options.accountId, undefined);
});

Deno.test("an API key, which wins when both kinds are set", () => {
  const options = connectOptionsFromEnv({
    ARMOR_USERNAME: USER,
    ARMOR_PASSWORD: PASSWORD,
    ARMOR_API_KEY_ID: KEY_ID,
    ARMOR_API_SECRET_KEY: SECRET,
  });
  assert.equal(options.username, undefined);
  assert.equal(options.password, undefined);
  assert.equal(options.apiKey?.id, KEY_ID);
  assert.equal(options.apiKey?.secret, SECRET);
  assert.equal((options.apiKey as { bodySigning?: string }).bodySigning, undefined);
});

Deno.test("ARMOR_API_BODY_SIGNING: raw or sha512, with a key", () => {
  for (const mode of ["raw", "sha512"]) {
    const options = connectOptionsFromEnv({
      ARMOR_API_KEY_ID: KEY_ID,
      ARMOR_API_SECRET_KEY: SECRET,
      ARMOR_API_BODY_SIGNING: mode,
    });
    assert.equal((options.apiKey as { bodySigning?: string }).bodySigning, mode);
  }
  refuses(
    { ARMOR_API_KEY_ID: KEY_ID, ARMOR_API_SECRET_KEY: SECRET, ARMOR_API_BODY_SIGNING: "SHA-512" },
    /ARMOR_API_BODY_SIGNING must be raw or sha512/,
  );
});

Deno.test("the base URL and the account", () => {
  const base = { ARMOR_USERNAME: USER, ARMOR_PASSWORD: PASSWORD };
  for (
    const url of ["https://api.armor.com", "https://armor.example:8443/", "http://127.0.0.1:8080"]
  ) {
    assert.equal(connectOptionsFromEnv({ ...base, ARMOR_BASE_URL: url }).baseUrl, url);
  }
  assert.equal(connectOptionsFromEnv({ ...base, ARMOR_ACCOUNT_ID: "1002" }).accountId, 1002);
});

Deno.test("an empty variable counts as unset", () => {
  const options = connectOptionsFromEnv({
    ARMOR_USERNAME: USER,
    ARMOR_PASSWORD: PASSWORD,
    ARMOR_API_KEY_ID: "",
    ARMOR_API_SECRET_KEY: "",
    ARMOR_BASE_URL: "",
    ARMOR_ACCOUNT_ID: "",
  });
  assert.equal(options.username, USER);
  assert.equal(options.baseUrl, undefined);
  assert.equal(options.accountId, undefined);
});

Deno.test("a pair set half is one TypeError naming the variable, never a value", () => {
  refuses({ ARMOR_USERNAME: USER }, /ARMOR_USERNAME is set but ARMOR_PASSWORD is not/);
  refuses({ ARMOR_PASSWORD: PASSWORD }, /ARMOR_PASSWORD is set but ARMOR_USERNAME is not/);
  refuses({ ARMOR_API_KEY_ID: KEY_ID }, /ARMOR_API_KEY_ID is set but ARMOR_API_SECRET_KEY is not/);
  refuses(
    { ARMOR_API_SECRET_KEY: SECRET },
    /ARMOR_API_SECRET_KEY is set but ARMOR_API_KEY_ID is not/,
  );
  // A full password pair does not excuse a half key, nor the other way round.
  refuses(
    { ARMOR_USERNAME: USER, ARMOR_PASSWORD: PASSWORD, ARMOR_API_SECRET_KEY: SECRET },
    /ARMOR_API_KEY_ID/,
  );
  refuses(
    { ARMOR_API_KEY_ID: KEY_ID, ARMOR_API_SECRET_KEY: SECRET, ARMOR_PASSWORD: PASSWORD },
    /ARMOR_USERNAME/,
  );
});

Deno.test("no credentials at all names the variables to set", () => {
  for (const env of [{}, { ARMOR_BASE_URL: "https://api.armor.com" }]) {
    refuses(
      env,
      /ARMOR_USERNAME and ARMOR_PASSWORD, or ARMOR_API_KEY_ID and ARMOR_API_SECRET_KEY/,
    );
  }
});

Deno.test("a base URL that is not https (loopback http aside) names ARMOR_BASE_URL only", () => {
  const base = { ARMOR_USERNAME: USER, ARMOR_PASSWORD: PASSWORD };
  for (
    const url of [
      "http://armor.internal.example",
      "armor.internal.example",
      "ftp://armor.internal.example",
      "https://user:pw-in-url-77@armor.internal.example",
      "http://10.0.0.5:8080",
      "not a url at all",
      "https://armor.internal.example/?tenant=secret-77",
      "https://armor.internal.example/#frag-77",
    ]
  ) {
    refuses({ ...base, ARMOR_BASE_URL: url }, /^ARMOR_BASE_URL must be an https:\/\/ address/);
  }
});

Deno.test("an account id that is not a positive integer names ARMOR_ACCOUNT_ID only", () => {
  const base = { ARMOR_API_KEY_ID: KEY_ID, ARMOR_API_SECRET_KEY: SECRET };
  for (const id of ["0", "-1", "1.5", "abc1", "1e3", " 12", "0x10", "99999999999999999999"]) {
    refuses({ ...base, ARMOR_ACCOUNT_ID: id }, /^ARMOR_ACCOUNT_ID must be a positive integer/);
  }
});

Deno.test("env as a function is called with each name", () => {
  const asked: string[] = [];
  const options = connectOptionsFromEnv((name) => {
    asked.push(name);
    return ({ ARMOR_API_KEY_ID: KEY_ID, ARMOR_API_SECRET_KEY: SECRET } as Record<string, string>)[
      name
    ];
  });
  assert.equal(options.apiKey?.id, KEY_ID);
  assert.ok(asked.includes("ARMOR_BASE_URL") && asked.includes("ARMOR_ACCOUNT_ID"));
  assert.ok(asked.every((name) => name.startsWith("ARMOR_")));
});

Deno.test("a value that is not a string is a TypeError", () => {
  assert.throws(
    () => connectOptionsFromEnv({ ARMOR_USERNAME: 42 as unknown as string }),
    { name: "TypeError", message: /ARMOR_USERNAME must be a string/ },
  );
  assert.throws(() => connectOptionsFromEnv(42 as never), TypeError);
});

Deno.test("the result prints no password or secret key, and connect still gets them", () => {
  const withPassword = connectOptionsFromEnv({ ARMOR_USERNAME: USER, ARMOR_PASSWORD: PASSWORD });
  const withKey = connectOptionsFromEnv({ ARMOR_API_KEY_ID: KEY_ID, ARMOR_API_SECRET_KEY: SECRET });
  for (const options of [withPassword, withKey]) {
    for (
      const shown of [
        JSON.stringify(options),
        Deno.inspect(options),
        Deno.inspect({ options }, { depth: 5 }),
        JSON.stringify({ nested: options }),
      ]
    ) {
      assert.equal(shown.includes(PASSWORD), false, shown);
      assert.equal(shown.includes(SECRET), false, shown);
      assert.match(shown, /REDACTED/);
    }
  }
  assert.match(JSON.stringify(withPassword), new RegExp(USER));
  assert.match(Deno.inspect(withKey), new RegExp(KEY_ID));
  // The fields themselves, and a spread copy, keep the values connect needs.
  assert.equal({ ...withPassword }.password, PASSWORD);
  assert.equal({ ...withKey }.apiKey?.secret, SECRET);
  assert.deepEqual(Object.keys(withPassword), ["username", "password"]);
});

/** Runs a script in a child Deno with `env` and `flags`; what it printed. */
async function child(
  code: string,
  flags: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = `${ROOT}.tmp/`;
  await Deno.mkdir(dir, { recursive: true });
  const file = await Deno.makeTempFile({ dir, prefix: "env_", suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-prompt", ...flags, file],
      cwd: ROOT,
      clearEnv: true,
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return {
      code: output.code,
      stdout: text.decode(output.stdout),
      stderr: text.decode(output.stderr),
    };
  } finally {
    await Deno.remove(file);
  }
}

const IMPORT = `import { connectOptionsFromEnv } from "${ROOT}mod.ts";`;
const SCRIPT = `
${IMPORT}
console.log("imported");
try {
  const options = connectOptionsFromEnv();
  console.log(JSON.stringify({ ...options, password: options.password && "set", apiKey: options.apiKey && "set" }));
} catch (error) {
  console.log("error", error.name, error.message);
}
`;

Deno.test({
  name: "by default it reads Deno.env when called: ARMOR_* permission, and a clear denial",
  async fn() {
    const env = { ARMOR_USERNAME: USER, ARMOR_PASSWORD: PASSWORD, ARMOR_ACCOUNT_ID: "1001" };
    const granted = await child(SCRIPT, ["--allow-env=ARMOR_*"], env);
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stdout, /"username":"ops@example.com","password":"set","accountId":1001/);

    // No permission at all: importing reads nothing; the call says which flag to add.
    const denied = await child(SCRIPT, [], env);
    assert.equal(denied.code, 0, denied.stderr);
    assert.match(denied.stdout, /^imported\n/);
    assert.match(denied.stdout, /error NotCapable Reading ARMOR_USERNAME needs permission/);
    assert.match(denied.stdout, /--allow-env='ARMOR_\*'/);
    assert.equal(denied.stdout.includes(PASSWORD), false);

    // Without Deno.env (as on Node), process.env is read. Deno's own process object
    // reads Deno.env, so a plain one stands in for Node's.
    const node = await child(
      `${IMPORT}
      Object.defineProperty(globalThis, "process", {
        value: { env: { ARMOR_API_KEY_ID: "${KEY_ID}", ARMOR_API_SECRET_KEY: "${SECRET}" } },
      });
      Object.defineProperty(globalThis, "Deno", { value: {} });
      ${SCRIPT.replace(IMPORT, "")}`,
      [],
      {},
    );
    assert.equal(node.code, 0, node.stderr);
    assert.match(node.stdout, /"apiKey":"set"/);
  },
});

Deno.test("a blank credential or a key id that cannot be sent names its variable, not connect's field", () => {
  // Before: these passed, and connect then failed with "username must not be empty or
  // blank" or "key.id must not contain a colon", naming no variable.
  refuses({ ARMOR_USERNAME: "   ", ARMOR_PASSWORD: PASSWORD }, /ARMOR_USERNAME/);
  refuses({ ARMOR_USERNAME: USER, ARMOR_PASSWORD: " \t " }, /ARMOR_PASSWORD/);
  refuses({ ARMOR_API_KEY_ID: KEY_ID, ARMOR_API_SECRET_KEY: "  " }, /ARMOR_API_SECRET_KEY/);
  refuses({ ARMOR_API_KEY_ID: "key:with-colon", ARMOR_API_SECRET_KEY: SECRET }, /ARMOR_API_KEY_ID/);
  refuses({ ARMOR_API_KEY_ID: "key with space", ARMOR_API_SECRET_KEY: SECRET }, /ARMOR_API_KEY_ID/);
});
