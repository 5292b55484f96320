/**
 * The client's debug output: `localStorage.debug` in browsers, `DEBUG` in Node (the `debug`
 * package's patterns, see `src/protocol/debug.ts`), read when a module creates its logger.
 * Lines go to `console.debug` (browsers show them under "Verbose"); the Node entry point
 * (`node.ts`) sends them to stderr like the server's. Namespace: `duplexio:client`.
 * @module
 */
import { createDebugLog, type DebugLog, type DebugWriter } from "../protocol/debug.js";

export type { DebugLog } from "../protocol/debug.js";

let writer: DebugWriter = (namespace, message, ms) =>
  console.debug(`${namespace} ${message} +${ms}ms`);

/** Replaces where the lines go (the Node entry point: stderr). */
export function setDebugWriter(write: DebugWriter): void {
  writer = write;
}

/** The patterns: `DEBUG` where there is a `process` (Node), else `localStorage.debug`. */
function debugPatterns(): string | undefined {
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

/** The client's logger when the patterns turn `duplexio:client` on, else undefined. */
export function debugLogger(namespace: string): DebugLog | undefined {
  return createDebugLog(namespace, debugPatterns(), (name, message, ms) =>
    writer(name, message, ms),
  );
}
