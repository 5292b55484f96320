/**
 * `src/client/engine/failure-details.ts` in the browser bundles: a browser's fetch error has only
 * its message ("Failed to fetch"), a WebSocket error event has nothing, and no status of a refused
 * WebSocket handshake is ever shown to the page.
 * @module
 */
import type { HandshakeRefusal } from "../engine/failure-details.js";

/** The error's message, if it has one. */
export function describeCause(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" && message !== "" ? message : undefined;
}

/** Never known in a browser. */
export function handshakeRefusal(_cause: unknown): HandshakeRefusal | undefined {
  return undefined;
}
