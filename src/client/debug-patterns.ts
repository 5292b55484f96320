/**
 * Where the client's debug patterns come from: `DEBUG` where there is a `process` (Node), else
 * `localStorage.debug` (browsers, through a bundler that has no `process`). The browser bundles
 * take `browser/debug-patterns.ts` instead, which reads only `localStorage.debug`.
 * @module
 */

/** The debug patterns in force, or undefined. */
export function debugPatterns(): string | undefined {
  const scope = globalThis as {
    process?: { env?: Record<string, string | undefined> };
    localStorage?: { debug?: string };
  };
  try {
    return scope.process?.env ? scope.process.env.DEBUG : scope.localStorage?.debug;
  } catch {
    // localStorage throws where storage is denied (sandboxed frames, some privacy settings).
    return undefined;
  }
}
