import { STATUS_CODES } from "node:http";

/** Plain words for the network errors a user meets when a server is not where they think. */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (temporary)",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed by the server",
};

/**
 * What an error wraps: `cause`, the Socket.IO client's `description` (an Error or an ErrorEvent,
 * whose `error` is the network error), AggregateError's `errors`.
 */
function wrappedErrors(error: object): unknown[] {
  const { cause, description, error: inner, errors } = error as Record<string, unknown>;
  return [cause, description, inner, ...(Array.isArray(errors) ? errors : [])];
}

/** The message of the innermost wrapped error (the most specific one), if any. */
function innermostMessage(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  for (const inner of wrappedErrors(error)) {
    const found = innermostMessage(inner, depth + 1);
    if (found !== undefined) return found;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === "string" && message !== "" ? message : undefined;
}

/** The errno-style code of an error or of the errors it wraps (`cause`, AggregateError). */
export function findErrorCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code in NETWORK_ERRORS) return code;
  const nested = wrappedErrors(error);
  for (const inner of nested) {
    const found = findErrorCode(inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `cannot connect to <url>: connection refused` (or the error's own message). */
export function describeConnectFailure(url: string, error: unknown): string {
  const code = findErrorCode(error);
  if (code !== undefined) return `cannot connect to ${url}: ${NETWORK_ERRORS[code]}`;
  const message = error instanceof Error ? error.message : String(error);
  const detail = innermostMessage(error);
  const reason = detail === undefined || detail === message ? message : `${message} (${detail})`;
  return `cannot connect to ${url}: ${reason}`;
}

/**
 * The answer of a server that did not switch to WebSocket: `handshake refused: HTTP 403 Forbidden`
 * for errors (4xx, 5xx), `server did not upgrade: HTTP 200 OK` for the rest (not a WebSocket
 * endpoint, or a redirect, whose target is named).
 */
export function describeUnexpectedResponse(
  statusCode: number,
  statusMessage: string | undefined,
  location?: string,
): string {
  const text = statusMessage || STATUS_CODES[statusCode] || "";
  const status = `HTTP ${statusCode}${text ? ` ${text}` : ""}`;
  if (statusCode >= 400) return `handshake refused: ${status}`;
  const target = location !== undefined ? ` (to ${location})` : "";
  return `server did not upgrade: ${status}${target}`;
}
