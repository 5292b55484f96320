/**
 * Types shared by the Socket.IO server's classes: disconnect reasons, the handshake, reserved
 * events, middleware errors.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { ParsedUrlQuery } from "node:querystring";

/**
 * Why a socket disconnected (the `disconnect` and `disconnecting` events' first argument).
 *
 * - Engine.IO close reasons: "transport error", "transport close", "forced close" (the Engine.IO
 *   connection was closed by the server, e.g. `socket.conn.close()`), "ping timeout", "parse error"
 *   (a malformed Engine.IO or Socket.IO packet), "write buffer full" (the client did not read fast
 *   enough and the engine's bounded write buffer overflowed).
 * - Socket.IO reasons: "server shutting down" (`io.close()`), "forced server close" (the server
 *   closed the connection: `socket.disconnect(true)` on another namespace of the same connection,
 *   or an invalid packet sequence), "client namespace disconnect" (the client called
 *   `socket.disconnect()`), "server namespace disconnect" (`socket.disconnect()` on the server).
 */
export type DisconnectReason =
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "write buffer full"
  | "server shutting down"
  | "forced server close"
  | "client namespace disconnect"
  | "server namespace disconnect";

/** Reasons after which a session is kept for connection state recovery (socket.io's list, plus ours). */
export const RECOVERABLE_DISCONNECT_REASONS: ReadonlySet<string> = new Set<DisconnectReason>([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
  "write buffer full",
]);

/** Events a server-side socket emits itself. */
export interface SocketReservedEventsMap {
  /** The socket is disconnected (it has left its rooms). */
  disconnect: (reason: DisconnectReason, description?: unknown) => void;
  /** The socket is about to disconnect (`socket.rooms` still holds its rooms). */
  disconnecting: (reason: DisconnectReason, description?: unknown) => void;
  /** A socket middleware (`socket.use`) refused an event, or the connection had an error. */
  error: (err: Error) => void;
}

/** The handshake details of a socket: taken from the Engine.IO connection's first request. */
export interface Handshake {
  /** The headers of the request that opened the Engine.IO connection. */
  headers: IncomingHttpHeaders;
  /** When the socket was created, as `Date.prototype.toString` writes it. */
  time: string;
  /** The client's IP address (the TCP peer; proxies are not consulted). */
  address: string;
  /** Whether the request carried an `Origin` header. */
  xdomain: boolean;
  /** Whether the connection is TLS. */
  secure: boolean;
  /** When the socket was created, in milliseconds since the epoch. */
  issued: number;
  /** The request URL (path and query). */
  url: string;
  /** The request's query parameters. */
  query: ParsedUrlQuery;
  /**
   * The client's `auth` payload of its CONNECT packet (`{}` when it sent none). Its values are
   * `any`, as in socket.io, so that untyped code (`socket.handshake.auth.token`) compiles
   * unchanged; they are whatever the client sent, so check them before use.
   */
  // biome-ignore lint/suspicious/noExplicitAny: socket.io compatibility (socket.io types it so)
  auth: { [key: string]: any };
}

/**
 * An error passed to a middleware's `next`: the client's `connect_error` gets `message`, and
 * `data` as `err.data`.
 */
export interface ExtendedError extends Error {
  /** `any`, as in socket.io, so that untyped code compiles unchanged. */
  // biome-ignore lint/suspicious/noExplicitAny: socket.io compatibility (socket.io types it so)
  data?: any;
}
