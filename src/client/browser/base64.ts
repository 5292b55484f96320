/**
 * Base64 for the browser bundles: the contract of `src/protocol/base64.ts` (same exports, same
 * answers, `null` for the same bad input) over the browser's own `btoa`/`atob`, so the bundles
 * carry no base64 tables or loops. `scripts/build-client.mjs` puts this module in place of the
 * protocol's when bundling for browsers; Node and the server keep the protocol's (no legacy
 * globals on their hot paths). `test/client/browser-base64.test.ts` checks both give the same
 * results on generated input.
 * @module
 */

/** Bytes per `String.fromCharCode` call (engines bound the number of arguments). */
const CHUNK = 0x8000;

/** Base64 of `bytes`, padded with "=". */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}

/**
 * Bytes of the base64 text `text.slice(start)`, or `null` when it is not base64. `atob` is
 * WHATWG's forgiving-base64 decode: the protocol's rules (optional padding, correct when present,
 * nothing outside the alphabet, no impossible length) except that it skips ASCII whitespace, which
 * is refused here first.
 */
export function decodeBase64(text: string, start = 0): Uint8Array | null {
  const body = start === 0 ? text : text.slice(start);
  if (/[\t\n\f\r ]/.test(body)) return null;
  let binary: string;
  try {
    binary = atob(body);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
