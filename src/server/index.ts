/**
 * The Socket.IO v5 server (`duplexio`), API-compatible with socket.io v4: switch by changing
 * the import. Official socket.io-client v4 (and clients in other languages) connect unchanged.
 *
 * ```ts
 * import { Server } from "duplexio";
 *
 * const io = new Server(3000);
 * io.on("connection", (socket) => {
 *   socket.emit("hello", "world");
 * });
 * ```
 * @module
 */

import type { ServerOptions } from "./options.js";
import type { AttachableServer } from "./server.js";
import { Server } from "./server.js";

export { ACK_TIMEOUT_MESSAGE, type AckTimeoutError } from "./acks.js";
export {
  type AckHandler,
  Adapter,
  type AdapterClient,
  type AdapterConstructor,
  type AdapterEvents,
  type AdapterNamespace,
  type AdapterSocket,
  type BroadcastFlags,
  type BroadcastOptions,
  type ClusterAnswer,
  type NamespaceAdapter,
  NO_ROOMS,
  type PrivateSessionId,
  type Room,
  type RoomListener,
  type RoomMemberListener,
  type Session,
  type SessionToPersist,
  type SocketDetails,
  type SocketId,
  type WriteOptions,
} from "./adapter.js";
export { BroadcastOperator, RemoteSocket } from "./broadcast-operator.js";
export { Client } from "./client.js";
export { SessionAwareAdapter } from "./in-memory-adapter.js";
export {
  Namespace,
  type NamespaceMiddleware,
  type NamespaceReservedEventsMap,
  type ServerReservedEventsMap,
} from "./namespace.js";
export type {
  ConnectionStateRecoveryOptions,
  ResolvedConnectionStateRecovery,
  ResolvedServerOptions,
  ServerOptions,
} from "./options.js";
export { ParentNamespace, type ParentNspNameMatchFn } from "./parent-namespace.js";
export { type AttachableServer, Server } from "./server.js";
export { type AnyListener, type Event, Socket, type SocketMiddleware } from "./socket.js";
export type {
  DisconnectReason,
  ExtendedError,
  Handshake,
  SocketReservedEventsMap,
} from "./socket-types.js";
export type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  DefaultEventsMap,
  DefaultSocketData,
  EventNames,
  EventNamesWithAck,
  EventNamesWithError,
  EventNamesWithoutAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  MessageParams,
  RemoveAcknowledgements,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
  TypedEventBroadcaster,
  UntypedAck,
  UntypedArg,
  UntypedListener,
} from "./typed-events.js";
export { StrictEventEmitter } from "./typed-events.js";

/**
 * Creates a server attached to `srv` (an HTTP(S) server, or a port to listen on), like
 * `new Server(srv, opts)`: `require("duplexio").listen(3000)`.
 */
export function listen(srv: AttachableServer | number, opts?: ServerOptions): Server {
  return new Server(srv, opts);
}

/** Same as {@link listen}. */
export function attach(srv: AttachableServer | number, opts?: ServerOptions): Server {
  return new Server(srv, opts);
}
