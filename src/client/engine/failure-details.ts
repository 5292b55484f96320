/**
 * What a failed request or WebSocket handshake tells beyond "it failed", as Node reports it: the
 * innermost cause of a fetch error (Node wraps the socket error in `cause`; a host with several
 * addresses fails with an AggregateError), and the status of a WebSocket handshake the server
 * refused (duplexio's Node client and `ws` give it on the error).
 *
 * Browsers give neither (fetch fails with a bare "Failed to fetch", a WebSocket error event says
 * nothing), so the browser bundles swap this module for `src/client/browser/failure-details.ts`,
 * which reads only an error's message.
 * @module
 */

/** A WebSocket handshake the server answered with something other than 101. */
export interface HandshakeRefusal {
  status: number;
  statusText: string | undefined;
  /** The server's explanation from the response body, if it gave one. */
  reason: string | undefined;
}

/**
 * The most specific words of a network failure: fetch wraps Node's error in `cause`, and a host
 * with several addresses fails with an AggregateError whose own message is empty
 * (`connect ECONNREFUSED ::1:3000, connect ECONNREFUSED 127.0.0.1:3000`).
 */
export function describeCause(error: unknown): string | undefined {
  let current = error as { cause?: unknown; errors?: unknown; message?: unknown; code?: unknown };
  for (let depth = 0; depth < 4 && current?.cause != null; depth++) {
    current = current.cause as typeof current;
  }
  if (current == null) return undefined;
  if (Array.isArray(current.errors) && current.errors.length > 0) {
    const parts = current.errors.map((inner) => describeCause(inner));
    return [...new Set(parts.filter((part) => part !== undefined))].join(", ");
  }
  const { message, code } = current;
  if (typeof message === "string" && message !== "") return message;
  return typeof code === "string" ? code : undefined;
}

/**
 * The refusal carried by a WebSocket failure, read structurally (`statusCode`, `statusMessage`,
 * `reason`: duplexio's `HandshakeRefusedError`; `ws` gives the status), or undefined.
 */
export function handshakeRefusal(cause: unknown): HandshakeRefusal | undefined {
  const { statusCode, statusMessage, reason } = (cause ?? {}) as {
    statusCode?: unknown;
    statusMessage?: unknown;
    reason?: unknown;
  };
  if (typeof statusCode !== "number") return undefined;
  return {
    status: statusCode,
    statusText: typeof statusMessage === "string" ? statusMessage : undefined,
    reason: typeof reason === "string" ? reason : undefined,
  };
}
