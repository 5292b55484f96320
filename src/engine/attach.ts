/**
 * `attach()` and `listen()`: the reference server's one-line ways to start Engine.IO on an
 * existing HTTP server or on a new one.
 * @module
 */

import { createServer, type Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { EngineServerOptions } from "./options.js";
import { EngineServer } from "./server.js";

/**
 * Creates an Engine.IO server taking the Engine.IO requests of `server` (other requests keep
 * going to the server's existing listeners).
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
 * answer 501). The HTTP server is the returned engine's `httpServer`.
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
  const server = createServer((_request, response) => {
    response.writeHead(501);
    response.end("Not Implemented");
  });
  const engine = attach(server, options ?? {});
  engine.httpServer = server;
  server.listen(port, callback);
  return engine;
}
