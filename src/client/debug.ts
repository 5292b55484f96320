/**
 * The client's debug output: `localStorage.debug` in browsers, `DEBUG` in Node (the `debug`
 * package's patterns, see `src/protocol/debug.ts`; where they are read: `debug-patterns.ts`),
 * read once, when this module is loaded.
 * Lines go to `console.debug` (browsers show them under "Verbose"); the Node entry point
 * (`node.ts`) sends them to stderr like the server's. Namespace: `duplexio:client`.
 * @module
 */
import { createDebugLog, type DebugLog, type DebugWriter } from "../protocol/debug.js";
import { debugPatterns } from "./debug-patterns.js";

let writer: DebugWriter = (namespace, message, ms) =>
  console.debug(`${namespace} ${message} +${ms}ms`);

/** Replaces where the lines go (the Node entry point: stderr). */
export function setDebugWriter(write: DebugWriter): void {
  writer = write;
}

/**
 * The client's logger (manager and sockets share it) when the patterns turn `duplexio:client` on,
 * else undefined. The writer is looked up per line, so `setDebugWriter` applies to it.
 */
export const debug: DebugLog | undefined = createDebugLog(
  "duplexio:client",
  debugPatterns(),
  (name, message, ms) => writer(name, message, ms),
);
