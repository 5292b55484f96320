/**
 * The Engine.IO server's refusal answers: the protocol's error codes and messages, sent as a
 * JSON body with status 400 (403 for `Forbidden`) to HTTP requests, and as a plain HTTP 400
 * written on the raw socket to refused WebSocket upgrades, as the reference server does.
 * @module
 */

import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { answerWithoutBody } from "./http-answer.js";

/** The protocol's error codes. */
export const EngineErrorCode = {
  UnknownTransport: 0,
  UnknownSid: 1,
  BadHandshakeMethod: 2,
  BadRequest: 3,
  Forbidden: 4,
  UnsupportedProtocolVersion: 5,
} as const;

/** One of the protocol's error codes. */
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

/** The message of each code, indexed by code (the `message` field of the JSON answer). */
export const ENGINE_ERROR_MESSAGES: Readonly<Record<EngineErrorCode, string>> = {
  0: "Transport unknown",
  1: "Session ID unknown",
  2: "Bad handshake method",
  3: "Bad request",
  4: "Forbidden",
  5: "Unsupported protocol version",
};

/**
 * What went wrong, for `connection_error` listeners: e.g. `{ name: "TRANSPORT_MISMATCH" }` or
 * `{ sid }`. A `message` (from `allowRequest`) replaces the code's message in the answer.
 */
export type EngineErrorContext = Record<string, unknown> & { message?: string; name?: string };

/** The message sent for `code`: the context's message when it is a non-empty string. */
export function errorMessage(code: EngineErrorCode, context?: EngineErrorContext): string {
  const custom = context?.message;
  return typeof custom === "string" && custom.length > 0 ? custom : ENGINE_ERROR_MESSAGES[code];
}

/**
 * Answers an HTTP request with `{"code":N,"message":"..."}`: status 403 for Forbidden, 400
 * otherwise (`status` overrides). Does nothing if the response already started (a middleware
 * answered). A body the request still carries is not read: the connection closes after the
 * answer, without cutting it off (see http-answer.ts).
 *
 * The message is the code's own or allowRequest's, never a value from the request: the answer's
 * size does not depend on what the client sent.
 */
export function respondWithError(
  response: ServerResponse,
  code: EngineErrorCode,
  context?: EngineErrorContext,
  status: number = code === EngineErrorCode.Forbidden ? 403 : 400,
): void {
  const body = JSON.stringify({ code, message: errorMessage(code, context) });
  const headers: OutgoingHttpHeaders = { "Content-Type": "application/json" };
  answerWithoutBody(response.req, response, status, headers, body);
}

/** Reason phrases of the statuses a refused upgrade may get. */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  403: "Forbidden",
  503: "Service Unavailable",
};

/**
 * Answers a refused upgrade on the raw socket (HTTP 400 unless `status` says otherwise, the
 * message as body) and ends it.
 */
export function rejectUpgrade(
  socket: Duplex,
  code: EngineErrorCode,
  context?: EngineErrorContext,
  status = 400,
): void {
  // The peer may reset the connection while we answer; that is not our error to report.
  socket.on("error", ignore);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const message = errorMessage(code, context);
  socket.write(
    `HTTP/1.1 ${status} ${REASON_PHRASES[status] ?? "Bad Request"}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: text/html\r\n" +
      `Content-Length: ${Buffer.byteLength(message)}\r\n` +
      "\r\n" +
      message,
  );
  // Close once the answer is out (not before: destroy() would drop it).
  socket.once("finish", () => socket.destroy());
  socket.end();
}

function ignore(): void {}
