// The login verifier: a salted PBKDF2-SHA-256 proof of the password that logged in, kept
// with a shared login so that a later connect reuses it only with the same credentials.

import type { ArmorStoredSession } from "./token_store.ts";

const PBKDF2_ITERATIONS = 210_000;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function derive(password: string, salt: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "PBKDF2",
      hash: "SHA-256",
      salt: salt as Uint8Array<ArrayBuffer>,
      iterations: PBKDF2_ITERATIONS,
    },
    key,
    256,
  );
  return hex(new Uint8Array(bits));
}

/** The stored proof of who logged in: user name and a salted PBKDF2 verifier. */
export async function makeLogin(
  username: string,
  password: string,
): Promise<NonNullable<ArmorStoredSession["login"]>> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return { username, salt: hex(salt), verifier: await derive(password, salt) };
}

/** True when a stored login was made with these credentials. */
export async function sameLogin(
  login: ArmorStoredSession["login"],
  username: string,
  password: string,
): Promise<boolean> {
  if (login === undefined || !/^[0-9a-f]{32}$/.test(login.salt)) return false;
  // Exactly the same user: a server may tell user names apart by case.
  if (login.username !== username) return false;
  const salt = new Uint8Array(login.salt.match(/../g)!.map((byte) => parseInt(byte, 16)));
  const verifier = await derive(password, salt);
  // Compare in constant time.
  let difference = verifier.length ^ login.verifier.length;
  for (let i = 0; i < verifier.length; i++) {
    difference |= verifier.charCodeAt(i) ^ (login.verifier.charCodeAt(i) | 0);
  }
  return difference === 0;
}
