/**
 * The client's debug output: `localStorage.debug` in browsers, `DEBUG` in Node (the `debug`
 * package's patterns, see `src/protocol/debug.ts`; where they are read: `debug-patterns.ts`),
 * read when a module creates its logger.
 * Lines go to `console.debug` (browsers show them under "Verbose"); the Node entry point
 * (`node.ts`) sends them to stderr like the server's. Namespace: `duplexio:client`.
 * @module
 */
import { createDebugLog, type DebugLog, type DebugWriter } from "../protocol/debug.js";
import { debugPatterns } from "./debug-patterns.js";

export type { DebugLog } from "../protocol/debug.js";

let writer: DebugWriter = (namespace, message, ms) =>
  console.debug(`${namespace} ${message} +${ms}ms`);

/** Replaces where the lines go (the Node entry point: stderr). */
export function setDebugWriter(write: DebugWriter): void {
  writer = write;
}

/** The client's logger when the patterns turn `duplexio:client` on, else undefined. */
export function debugLogger(namespace: string): DebugLog | undefined {
  return createDebugLog(namespace, debugPatterns(), (name, message, ms) =>
    writer(name, message, ms),
  );
}
