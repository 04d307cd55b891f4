// The one place that decides a request's `Authorization`: a session token
// (`FH-AUTH <token>`) or an API key's per-request signature (`ARMOR-PSK ...`).

/** `Authorization` for a session token. */
export function fhAuthorization(token: string): string {
  return `FH-AUTH ${token}`;
}

/**
 * Signs one request (ARMOR-PSK): resolves with the whole `Authorization` value. `path`
 * is the URL path, `body` the exact bytes or text sent (or `undefined`).
 */
export type RequestSigner = (
  method: string,
  path: string,
  body: string | Uint8Array | undefined,
) => Promise<string>;

/** How a session authorizes its requests. */
export type SessionCredential =
  | { readonly scheme: "FH-AUTH" }
  | { readonly scheme: "ARMOR-PSK"; readonly sign: RequestSigner };
