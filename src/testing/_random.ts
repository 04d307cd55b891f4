const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/**
 * Returns `length` random bytes from `crypto.getRandomValues`.
 *
 * @param length How many bytes
 * @returns The random bytes
 */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/**
 * Encodes bytes as lower-case hex.
 *
 * @param bytes The bytes to encode
 * @returns Two lower-case hex digits per byte
 */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += HEX[byte];
  return hex;
}

/**
 * Encodes bytes as standard base64 with padding.
 *
 * @param bytes The bytes to encode
 * @returns The base64 text
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
