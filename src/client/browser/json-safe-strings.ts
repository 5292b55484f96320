/**
 * `src/protocol/socketio/json-safe-strings.ts` in the browser bundles. The server remembers the
 * long strings it parsed so that echoing them skips JSON.stringify's scan; a browser client seldom
 * sends back what it received, so it remembers none (bytes saved in the bundle) and every array
 * goes through JSON.stringify, which gives the same text.
 * @module
 */

/** No string is long enough to be remembered. */
export const MIN_REMEMBERED_LENGTH = Infinity;

/** Remembers nothing. */
export function rememberSafeStrings(_array: readonly unknown[]): void {}

/** Always undefined: the caller uses JSON.stringify. */
export function stringifyWithSafeStrings(_array: readonly unknown[]): string | undefined {
  return undefined;
}
