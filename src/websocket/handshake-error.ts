/**
 * The error handed to `wsClientError` listeners when an upgrade request is malformed.
 * @module
 */

/**
 * A malformed upgrade request (RFC 6455 section 4.2.1). Carries the HTTP answer the server would
 * send so a `wsClientError` listener can reply with it or with its own.
 */
export class WebSocketHandshakeError extends Error {
  /** The HTTP status that fits the problem (400, 405, 426 ...). */
  readonly statusCode: number;
  /** Headers that belong to the answer, e.g. `Sec-WebSocket-Version: 13` with 426. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, statusCode: number, headers?: Record<string, string>) {
    super(message);
    this.name = "WebSocketHandshakeError";
    this.statusCode = statusCode;
    this.headers = headers ?? {};
  }
}
