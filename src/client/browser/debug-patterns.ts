/**
 * `src/client/debug-patterns.ts` in the browser bundles: `localStorage.debug` alone (a browser has
 * no `DEBUG`).
 * @module
 */

/** `localStorage.debug`, or undefined (also where storage is denied). */
export function debugPatterns(): string | undefined {
  try {
    return (globalThis as { localStorage?: { debug?: string } }).localStorage?.debug;
  } catch {
    // localStorage throws where storage is denied (sandboxed frames, some privacy settings).
    return undefined;
  }
}
