/**
 * The error a WebSocket reports when it fails the connection.
 * @module
 */

/**
 * Why this end failed the connection: a protocol violation by the peer, or a limit it ran into.
 * `closeCode` is the close code sent in answer (RFC 6455 7.4.1), the message its reason.
 */
export class WebSocketError extends Error {
  /**
   * 1002 (protocol error), 1007 (invalid payload data), 1008 (too many fragments), 1009
   * (message too big), 1011 (internal error), or `backpressureCloseCode` (1013 by default:
   * the peer did not read fast enough).
   */
  readonly closeCode: number;

  constructor(message: string, closeCode: number) {
    super(message);
    this.name = "WebSocketError";
    this.closeCode = closeCode;
  }
}
