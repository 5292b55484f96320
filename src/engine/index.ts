/**
 * `duplexio/engine`: an Engine.IO v4 server (HTTP long-polling and WebSocket, with the upgrade
 * between them), API-compatible with the `engine.io` package, usable alone or under Socket.IO.
 *
 * ```ts
 * import { attach } from "duplexio/engine";
 *
 * const engine = attach(httpServer);
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 * });
 * ```
 * @module
 */

export { attach, listen } from "./attach.js";
export type {
  EnginePacketEvent,
  EngineReadyState,
  EngineSendOptions,
  EngineSocketEventMap,
} from "./engine-socket.js";
export { EngineSocket, EngineSocket as Socket } from "./engine-socket.js";
export {
  ENGINE_ERROR_MESSAGES,
  EngineErrorCode,
  type EngineErrorContext,
} from "./errors.js";
export type {
  AttachOptions,
  CookieOptions,
  CorsOptions,
  CorsOptionsDelegate,
  CorsOriginFunction,
  EngineMiddleware,
  EngineServerOptions,
  EngineServerOptions as ServerOptions,
  HttpCompressionOptions,
  HttpServerTimeouts,
  StaticCorsOrigin,
  TransportName,
} from "./options.js";
export { PreparedEngineMessage } from "./prepared-message.js";
export type { EngineRequest } from "./request-query.js";
export {
  DEFAULT_CLOSE_TIMEOUT,
  type EngineCloseOptions,
  type EngineConnectionError,
  EngineServer,
  EngineServer as Server,
  type EngineServerEventMap,
} from "./server.js";
export type { AcceptUpgrade, SessionForwarder } from "./session-forwarder.js";
export { PollingTransport } from "./transports/polling.js";
export { type SendCallback, Transport } from "./transports/transport.js";
export { WebSocketTransport } from "./transports/websocket.js";

/** The Engine.IO protocol revision this server speaks natively. */
export const protocol = 4;
