// Reading a password from the terminal without echoing it: raw mode, byte by byte.

import { CliError } from "./_core.ts";

/** Asks for a secret on the terminal; nothing typed is shown. */
export async function promptSecret(question: string): Promise<string> {
  const encoder = new TextEncoder();
  await Deno.stderr.write(encoder.encode(question));
  const bytes: number[] = [];
  const buffer = new Uint8Array(64);
  Deno.stdin.setRaw(true);
  try {
    reading: for (;;) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 0x0d || byte === 0x0a) break reading;
        if (byte === 0x03) throw new CliError("Cancelled", 130); // Ctrl-C
        if (byte === 0x04) { // Ctrl-D
          if (bytes.length === 0) throw new CliError("Cancelled", 130);
          break reading;
        }
        if (byte === 0x7f || byte === 0x08) {
          // Backspace: drop the last character (all of its UTF-8 bytes).
          while (bytes.length > 0 && (bytes.pop()! & 0xc0) === 0x80);
          continue;
        }
        bytes.push(byte);
      }
    }
  } finally {
    buffer.fill(0);
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
  const secret = new TextDecoder().decode(new Uint8Array(bytes));
  bytes.fill(0);
  return secret;
}
