/**
 * The HTTP servers duplexio creates itself (`listen(port)`, Socket.IO's `new Server(port)`, the
 * demo): Node's HTTP server with timeouts that close connections which never complete a request.
 * @module
 */

import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { httpServerTimeouts } from "../websocket/http-timeouts.js";
import { type HttpServerTimeouts, resolveHttpServerTimeouts } from "./options.js";

/**
 * Creates an HTTP server with `timeouts` (defaults filled in, see {@link HttpServerTimeouts}).
 * @throws TypeError for invalid timeouts.
 */
export function createHttpServer(
  listener: (request: IncomingMessage, response: ServerResponse) => void,
  timeouts?: HttpServerTimeouts,
): HttpServer {
  const { headersTimeout, requestTimeout, keepAliveTimeout } = resolveHttpServerTimeouts(timeouts);
  // The same settings as the WebSocket layer's own servers (how often Node checks them included).
  const server = createServer(httpServerTimeouts(headersTimeout, requestTimeout), listener);
  server.keepAliveTimeout = keepAliveTimeout;
  return server;
}
