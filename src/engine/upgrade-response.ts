/**
 * The response object middlewares get for a WebSocket upgrade request, which has no
 * `ServerResponse`: headers they set go into the 101 answer; `end()` refuses the upgrade by
 * closing the socket (the client reports a connection error either way).
 * @module
 */

import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";

/** The subset of `ServerResponse` that header-setting middlewares use. */
export class UpgradeResponse {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  /** Headers for the 101 answer. */
  readonly headers: OutgoingHttpHeaders = {};
  statusCode = 101;
  headersSent = false;
  writableEnded = false;

  constructor(request: IncomingMessage, socket: Duplex) {
    this.req = request;
    this.socket = socket;
  }

  setHeader(name: string, value: number | string | string[]): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string): number | string | string[] | undefined {
    return this.headers[name.toLowerCase()];
  }

  getHeaders(): OutgoingHttpHeaders {
    return { ...this.headers };
  }

  hasHeader(name: string): boolean {
    return this.headers[name.toLowerCase()] !== undefined;
  }

  removeHeader(name: string): void {
    delete this.headers[name.toLowerCase()];
  }

  writeHead(): this {
    return this;
  }

  write(): boolean {
    return true;
  }

  /** A middleware answered instead of passing the request on: the upgrade is refused. */
  end(): this {
    this.writableEnded = true;
    this.socket.destroy();
    return this;
  }
}
