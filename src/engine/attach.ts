/**
 * `attach()` and `listen()`: the reference server's one-line ways to start Engine.IO on an
 * existing HTTP server or on a new one.
 * @module
 */

import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { createHttpServer } from "./http-server.js";
import type { EngineServerOptions } from "./options.js";
import { EngineServer } from "./server.js";

/**
 * Creates an Engine.IO server taking the Engine.IO requests of `server` (other requests keep
 * going to the server's existing listeners).
 *
 * `server` keeps its own timeouts: to close connections that never send a complete request
 * (slowloris, idle sockets), create it with `{ headersTimeout: 5000, requestTimeout: 30000,
 * connectionsCheckingInterval: 1000 }` (see `HttpServerTimeouts`), and leave its inactivity
 * `timeout` off or above `pingInterval`, which long-polling requests may wait.
 */
export function attach(
  server: HttpServer | HttpsServer,
  options: EngineServerOptions = {},
): EngineServer {
  const engine = new EngineServer(options);
  engine.attach(server, options);
  return engine;
}

/**
 * Creates an HTTP server listening on `port` with an Engine.IO server attached (other paths
 * answer 501). The HTTP server is the returned engine's `httpServer`; connections that do not
 * send a complete request in time are closed (`httpServerTimeouts`).
 * @throws TypeError for invalid options.
 */
export function listen(
  port: number,
  options?: EngineServerOptions | (() => void),
  callback?: () => void,
): EngineServer {
  if (typeof options === "function") {
    callback = options;
    options = undefined;
  }
  const server = createHttpServer((_request, response) => {
    response.writeHead(501);
    response.end("Not Implemented");
  }, options?.httpServerTimeouts);
  const engine = attach(server, options ?? {});
  engine.httpServer = server;
  server.listen(port, callback);
  return engine;
}
