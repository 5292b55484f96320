/**
 * `duplexio/websocket`: WebSocket (RFC 6455) with permessage-deflate (RFC 7692) for Node.
 *
 * A drop-in for the `ws` package: `WebSocketServer` and `WebSocket` take the same options and
 * emit the same events, and `WebSocket` also has the browser API (`onmessage`,
 * `addEventListener`, `binaryType`, ...).
 *
 * ```ts
 * import { WebSocketServer } from "duplexio/websocket";
 *
 * const wss = new WebSocketServer({ port: 8080, perMessageDeflate: true });
 * wss.on("connection", (socket) => {
 *   socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
 * });
 * ```
 *
 * Code written against ws's default export works too: `import WebSocket from "duplexio/websocket"`
 * gives the `WebSocket` class with `WebSocket.Server` and `WebSocket.WebSocketServer` (the server
 * class), `WebSocket.WebSocket`, and ws's type names (`WebSocket.RawData`, `WebSocket.ServerOptions`,
 * `WebSocket.ClientOptions`, `WebSocket.Data`).
 * @module
 */

import { CloseCode } from "../protocol/websocket/close-codes.js";
import { CloseEvent, ErrorEvent, Event, MessageEvent } from "./events.js";
import { WebSocketHandshakeError } from "./handshake-error.js";
import { WebSocketServer } from "./server.js";
import { PreparedMessage, prepareMessage, WebSocket } from "./websocket.js";
import { createWebSocketStream } from "./websocket-stream.js";

// ws's module object is its WebSocket class carrying the rest; so is ours.
WebSocket.Server = WebSocketServer;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.WebSocket = WebSocket;
WebSocket.createWebSocketStream = createWebSocketStream;
// For CommonJS code (`const { prepareMessage } = require(...)`) only; typed imports name them.
Object.assign(WebSocket, {
  CloseCode,
  CloseEvent,
  ErrorEvent,
  Event,
  MessageEvent,
  PreparedMessage,
  prepareMessage,
  WebSocketHandshakeError,
});

export default WebSocket;

export { CloseCode } from "../protocol/websocket/close-codes.js";
export { CloseEvent, ErrorEvent, Event, MessageEvent } from "./events.js";
export { WebSocketHandshakeError } from "./handshake-error.js";
export type { BackpressurePolicy, ConnectionLimitOptions } from "./limits.js";
export type { GenerateMask } from "./message-sender.js";
export type { AllowedOrigins } from "./origin-check.js";
export type { PerMessageDeflateOptions } from "./permessage-deflate.js";
export {
  type HeartbeatOptions,
  WebSocketServer,
  type WebSocketServerEventMap,
  type WebSocketServerOptions,
} from "./server.js";
export type {
  VerifyClient,
  VerifyClientDone,
  VerifyClientInfo,
  VerifyClientRejection,
} from "./verify-client.js";
export {
  type BinaryType,
  type BrowserListener,
  type BrowserListenerOptions,
  type ConnectionOptions,
  PreparedMessage,
  prepareMessage,
  type RawData,
  type SendCallback,
  type SendData,
  type SendOptions,
  WebSocket,
  type WebSocketBrowserEventMap,
  type WebSocketEventMap,
  type WebSocketOptions,
} from "./websocket.js";
export { createWebSocketStream } from "./websocket-stream.js";
/** What `require("duplexio/websocket")` returns: the class, as `require("ws")` does. */
export { WebSocket as "module.exports" };
