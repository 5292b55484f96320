/**
 * `duplexio/client`: the Socket.IO client, API-compatible with socket.io-client v4, for browsers
 * (this entry point: the page's WebSocket and `fetch`) and Node (`node.ts`).
 *
 * ```ts
 * import { io } from "duplexio/client";
 *
 * const socket = io("https://example.com");
 * socket.on("connect", () => socket.emit("hello", "world"));
 * ```
 * @module
 */
export type { BinaryConversion } from "./binary.js";
export type { EngineClient } from "./engine/engine-client.js";
export type {
  EngineClientOptions,
  EngineTimers,
  NodeConnectionOptions,
  PerMessageDeflateSettings,
  PerTransportOptions,
  TlsMaterial,
  TransportName,
} from "./engine/options.js";
// socket.io-client 4.8's transport exports, for `transports: [Fetch, WebSocket]`: duplexio has one
// implementation of each transport (polling over fetch, or node:http in Node), so the polling
// names are one class, and so are the WebSocket names. (No WebTransport: not implemented.)
export {
  PollingTransport as Fetch,
  PollingTransport as NodeXHR,
  PollingTransport as XHR,
} from "./engine/polling.js";
export { type RefusalDetails, TransportError } from "./engine/transport.js";
export {
  WebSocketTransport as NodeWebSocket,
  WebSocketTransport as WebSocket,
} from "./engine/websocket-transport.js";
// `io()`, its alias `connect` and the default export are `lookup` itself (no copies of the binding).
export {
  type IoOptions,
  type Lookup,
  lookup as connect,
  lookup as default,
  lookup as io,
  protocol,
} from "./lookup.js";
export {
  type ClientPacket,
  Manager,
  type ManagerOptions,
  type ManagerReservedEvents,
  type QueryValue,
  type TransportClass,
} from "./manager.js";
export {
  type AnyListener,
  type ConnectError,
  type DisconnectDescription,
  type DisconnectReason,
  type ExtendedError,
  Socket,
  type SocketAuth,
  type SocketOptions,
  type SocketReservedEvents,
} from "./socket.js";
export type {
  AckResult,
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstArg,
  FirstNonErrorArg,
  Last,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
  UntypedAck,
  UntypedArg,
  UntypedListener,
} from "./typed-events.js";
