/**
 * Wires an Engine.IO server into an application's HTTP server: requests and upgrades under the
 * Engine.IO path go to the engine, everything else to the listeners the server already had.
 * @module
 */

import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { attachExtendedConnect, isHttp2Server } from "../websocket/http2-extended-connect.js";

/** What the routing calls on the engine. */
export interface EngineRequestHandler {
  handleRequest(request: IncomingMessage, response: ServerResponse): void;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): unknown;
}

/** How requests are split. */
export interface RoutingSettings {
  /** Path prefix of Engine.IO requests (trailing slash already applied). */
  path: string;
  /** Take WebSocket upgrades (the websocket transport is enabled). */
  upgrades: boolean;
  destroyUpgrade: boolean;
  destroyUpgradeTimeout: number;
}

/**
 * Takes over `server`'s `request` listeners (calling the previous ones for other paths) and
 * listens to its upgrades; the engine closes when the server does.
 */
export function routeEngineRequests(
  server: HttpServer | HttpsServer,
  engine: EngineRequestHandler,
  settings: RoutingSettings,
): void {
  const { path } = settings;
  const matches = (request: IncomingMessage): boolean => (request.url ?? "").startsWith(path);

  const previous = server.listeners("request").slice();
  server.removeAllListeners("request");
  server.on("close", () => engine.close());
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    if (matches(request)) {
      engine.handleRequest(request, response);
      return;
    }
    for (const listener of previous) listener.call(server, request, response);
    // Nobody else could answer (engine.io would leave the request hanging).
    if (previous.length === 0 && server.listenerCount("request") === 1) {
      response.writeHead(404, { "Content-Type": "text/plain", "Content-Length": 9 });
      response.end("Not Found");
    }
  });
  if (!settings.upgrades) return;
  if (isHttp2Server(server)) {
    // WebSockets over HTTP/2 (RFC 8441) reach the engine as the upgrades they stand for.
    attachExtendedConnect(server, {
      claimUpgrade: (request, socket, head) => {
        if (!matches(request)) return false;
        engine.handleUpgrade(request, socket, head);
        return true;
      },
    });
  }
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (matches(request)) {
      engine.handleUpgrade(request, socket, head);
      return;
    }
    // As engine.io: another listener may own this path, so only an upgrade that nothing has
    // answered (not a byte written) after the timeout is ended.
    if (!settings.destroyUpgrade) return;
    const timer = setTimeout(() => {
      const bytesWritten = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
      if (socket.writable && bytesWritten <= 0) {
        socket.on("error", () => {});
        socket.end();
      }
    }, settings.destroyUpgradeTimeout);
    timer.unref();
  });
}
