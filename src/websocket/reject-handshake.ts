/**
 * Refusing an upgrade request: an HTTP error response, then the socket is closed.
 * @module
 */

import { STATUS_CODES, validateHeaderName, validateHeaderValue } from "node:http";
import type { Duplex } from "node:stream";
import { formatHttpError } from "../protocol/websocket/handshake.js";
import { debugLogger } from "./debug.js";

const debug = debugLogger("duplexio:websocket");

/** Swallows late socket errors (a reset while the error response is in flight). */
function ignoreError(): void {}

/**
 * Answers `status` with a text/plain `message` (the status text when absent) and closes the
 * socket once the response is flushed. Never throws: a socket that is already gone is destroyed,
 * and `headers` that would not be valid HTTP (CR/LF injection, bad names) are left out.
 */
export function rejectHandshake(
  socket: Duplex,
  status: number,
  message?: string,
  headers?: Record<string, string>,
): void {
  socket.on("error", ignoreError);
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const code = Number.isInteger(status) && status >= 300 && status <= 599 ? status : 500;
  const text = message || STATUS_CODES[code] || "Error";
  debug?.(`handshake refused: ${code} ${text}`);
  // The peer may keep its side open after our response; `finish` means it reached the kernel.
  socket.once("finish", () => socket.destroy());
  let response: string;
  try {
    response = formatHttpError(code, text, headers && validHeaders(headers));
  } catch {
    // formatHttpError is stricter than Node about header values; the answer matters more.
    response = formatHttpError(code, text);
  }
  socket.end(response);
}

/** The headers that can go on the wire unchanged. */
function validHeaders(headers: Record<string, string>): Record<string, string> {
  const valid: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = String(headers[name]);
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
      valid[name] = value;
    } catch {
      // Dropped on purpose: a header that would split the response must never reach the wire.
    }
  }
  return valid;
}
