/**
 * The error a WebSocket reports when the peer breaks the protocol.
 * @module
 */

/** A protocol violation by the peer; `closeCode` is the close code sent in answer (RFC 6455 7.4.1). */
export class WebSocketError extends Error {
  /** 1002 (protocol error), 1007 (invalid payload data) or 1009 (message too big). */
  readonly closeCode: number;

  constructor(message: string, closeCode: number) {
    super(message);
    this.name = "WebSocketError";
    this.closeCode = closeCode;
  }
}
