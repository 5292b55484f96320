/**
 * What the Engine.IO client needs from a transport, and the errors transports report.
 * @module
 */

import type { EnginePacket } from "../../protocol/engine/index.js";
import type { TransportName } from "./options.js";

/**
 * A transport failure (network error, HTTP error status, WebSocket error). `description` and
 * `context` carry what the transport knew, as engine.io-client's TransportError does: the HTTP
 * status and the response, or the WebSocket error event.
 */
export class TransportError extends Error {
  /** Always "TransportError" (socket.io-client code tests `err.type`). */
  readonly type = "TransportError";
  /** The HTTP status, the underlying error, or the error event. */
  readonly description: unknown;
  /** The response or the event, when there is one. */
  readonly context: unknown;

  constructor(message: string, description?: unknown, context?: unknown) {
    super(message);
    this.name = "TransportError";
    this.description = description;
    this.context = context;
  }
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
