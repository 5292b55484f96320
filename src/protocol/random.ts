/**
 * The default random source of the pure protocol code (masking keys, `Sec-WebSocket-Key`): the
 * web-standard `crypto.getRandomValues`, present in Node >= 20 and browsers. Callers that need
 * another source inject their own fill function.
 * @module
 */

/** Fills `target` with crypto-strength random bytes. */
export function cryptoFill(target: Uint8Array): void {
  globalThis.crypto.getRandomValues(target);
}
