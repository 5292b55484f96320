/**
 * What the Engine.IO client needs from a transport, and the errors transports report.
 * @module
 */

import type { EnginePacket } from "../../protocol/engine/index.js";
import type { TransportName } from "./options.js";

/** What a transport knows of a request the server refused (duplexio's additions to the error). */
export interface RefusalDetails {
  /** The HTTP status the server answered with. */
  status: number;
  /** The endpoint, without the query: `http://host/socket.io/` or `ws://host/socket.io/`. */
  url: string;
  /** The server's explanation, from the response body (`"Session ID unknown"`), if it gave one. */
  reason?: string | undefined;
}

/**
 * A transport failure (network error, HTTP error status, WebSocket error, request timeout).
 * `description` and `context` carry what the transport knew, as engine.io-client's TransportError
 * does: the HTTP status and the response, or the underlying error or error event. The message
 * starts with engine.io-client's ("fetch read error", "fetch write error", "websocket error") and
 * goes on with what went wrong, e.g. `fetch read error: http://host/socket.io/ answered HTTP 404
 * Not Found (check the "path" option ...)` or `fetch read error: connect ECONNREFUSED 127.0.0.1:3000`.
 */
export class TransportError extends Error {
  /** Always "TransportError" (socket.io-client code tests `err.type`). */
  readonly type = "TransportError";
  /** The HTTP status, the underlying error, or the error event. */
  declare readonly description: unknown;
  /** The response or the event, when there is one. */
  declare readonly context: unknown;
  /**
   * The HTTP status when the server answered a polling request or the WebSocket handshake with
   * an error (or anything but 101); undefined for network failures. (In browsers the WebSocket
   * API does not tell it.)
   */
  declare readonly status: number | undefined;
  /** The endpoint that refused, without the query, when `status` is set. */
  declare readonly url: string | undefined;
  /** The server's explanation from the response body, when `status` is set and it gave one. */
  declare readonly reason: string | undefined;

  // The fields above are `declare`d: the constructor gives each its value (no separate definitions).
  constructor(message: string, description?: unknown, context?: unknown, refusal?: RefusalDetails) {
    super(message);
    this.name = "TransportError";
    this.description = description;
    this.context = context;
    this.status = refusal?.status;
    this.url = refusal?.url;
    this.reason = refusal?.reason;
  }
}

/**
 * What a refusal says after the error's first words: `<url> answered HTTP 404 Not Found`, the
 * server's reason, and for a 404 where to look (a wrong `path` is the usual cause; a wrong port
 * fails to connect instead).
 */
export function describeRefusal(refusal: RefusalDetails, statusText?: string): string {
  const { status, url, reason } = refusal;
  let text = `${url} answered HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  // A reason that only repeats the status text ("Not Found") says nothing more.
  if (reason && reason.toLowerCase() !== statusText?.toLowerCase()) text += `: ${reason}`;
  if (status === 404) text += ' (check the "path" option: no Socket.IO server answers there)';
  return text;
}

/** Longest body text kept as a server's reason. */
const MAX_REASON_LENGTH = 200;

/**
 * The server's reason in an error response body: Engine.IO's JSON `{"code":1,"message":"Session ID
 * unknown"}` gives its message, a short line of plain text (Engine.IO's answer to a refused
 * upgrade) is kept as it is; HTML pages and long bodies give nothing.
 */
export function reasonFromBody(body: string): string | undefined {
  const text = body.trim();
  try {
    const message = (JSON.parse(text) as { message?: unknown } | null)?.message;
    if (typeof message === "string" && message !== "") return message.slice(0, MAX_REASON_LENGTH);
  } catch {
    // Not JSON: maybe plain text.
  }
  return text !== "" && text.length <= MAX_REASON_LENGTH && !/[<\r\n]/.test(text)
    ? text
    : undefined;
}

/** Details of a transport closed by the other side. */
export interface TransportCloseDetails {
  description: string;
  /** The WebSocket close event, when there is one. */
  context?: unknown;
}

/**
 * What a transport reports. A transport calls none of these after `close()` or `discard()`.
 */
export interface TransportEvents {
  /** Connected and writable (WebSocket open; polling: the `open` packet arrived). */
  open(): void;
  /** A packet arrived (the `open` packet included; `close` packets are handled as `close`). */
  packet(packet: EnginePacket): void;
  /** The packets of the last `send` are written; writable again. */
  drain(): void;
  /** The transport failed; it is unusable. */
  error(error: TransportError): void;
  /** Something arrived that does not decode; the transport is unusable. */
  decodeError(reason: string): void;
  /** The other side closed (a `close` packet, or the WebSocket closed). */
  close(details: TransportCloseDetails): void;
}

/** A transport between the client and one Engine.IO session. */
export interface Transport {
  readonly name: TransportName;
  /** Whether `send` may be called now (open, and no write in flight). */
  readonly writable: boolean;
  /** Starts connecting. Failures come as `error` (never thrown, never synchronously). */
  open(): void;
  /** Writes packets; `writable` is false until `drain`. */
  send(packets: readonly EnginePacket[]): void;
  /**
   * Stops reading and writing once the requests in flight have ended, then calls `onPaused`
   * (polling, before an upgrade; a WebSocket has nothing in flight and calls it at once).
   */
  pause(onPaused: () => void): void;
  /** Undoes `pause` (the upgrade failed). */
  resume(): void;
  /** Closes: tells the server (polling: a `close` packet), releases everything, reports nothing more. */
  close(): void;
  /** Drops the transport without telling the server (replaced by an upgrade). */
  discard(): void;
}
