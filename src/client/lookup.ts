/**
 * `io()`: a Socket for the namespace in the URL, on a Manager shared per server (one connection
 * multiplexes the namespaces) unless `forceNew` or `multiplex: false` ask for a new one, or the
 * namespace is already taken on the shared Manager.
 */
import { Manager, type ManagerOptions } from "./manager.js";
import { Socket, type SocketOptions } from "./socket.js";
import type { DefaultEventsMap, EventsMap } from "./typed-events.js";
import { parseUrl } from "./url.js";

/** Options of `io()`: those of the Manager and of the Socket. */
export type IoOptions = ManagerOptions & SocketOptions;

/** The Socket.IO protocol revision spoken (5, as socket.io v3 and v4). */
export const protocol = 5;

/** `io()` and what socket.io-client hangs on it. */
export interface Lookup {
  /** Connects to the page's origin. */
  <ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
    opts?: IoOptions,
  ): Socket<ListenEvents, EmitEvents>;
  /** Connects to `uri` (its path is the namespace, its query goes to the handshake). */
  <ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
    uri?: string,
    opts?: IoOptions,
  ): Socket<ListenEvents, EmitEvents>;
  /** The Manager class. */
  readonly Manager: typeof Manager;
  /** The Socket class. */
  readonly Socket: typeof Socket;
  /** `io` itself. */
  readonly io: Lookup;
  /** `io` itself. */
  readonly connect: Lookup;
  /** The protocol revision (5). */
  readonly protocol: typeof protocol;
}

/** Shared Managers, by scheme, host, port and Engine.IO path. */
const cache = new Map<string, Manager>();

function lookupSocket<ListenEvents extends EventsMap, EmitEvents extends EventsMap>(
  uri?: string | IoOptions,
  opts?: IoOptions,
): Socket<ListenEvents, EmitEvents> {
  let options: IoOptions;
  let url: string | undefined;
  if (typeof uri === "object" && uri !== null) {
    options = uri;
    url = undefined;
  } else {
    options = opts ?? {};
    url = uri;
  }
  const parsed = parseUrl(url, options.path ?? "/socket.io");
  if (!parsed.ok) {
    // The Manager reports the bad URL through its `error` event and the Socket's `connect_error`.
    return new Manager<ListenEvents, EmitEvents>(url, options).socket("/", options);
  }
  const { id, path } = parsed.url;
  const shared = cache.get(id);
  const newConnection =
    options.forceNew === true ||
    options.multiplex === false ||
    shared?._hasNamespace(path) === true;
  let manager: Manager<ListenEvents, EmitEvents>;
  if (newConnection) {
    manager = new Manager<ListenEvents, EmitEvents>(url, options);
  } else {
    if (shared === undefined) {
      manager = new Manager<ListenEvents, EmitEvents>(url, options);
      cache.set(id, manager as unknown as Manager);
    } else {
      manager = shared as unknown as Manager<ListenEvents, EmitEvents>;
    }
  }
  return manager.socket(path, options);
}

/**
 * Connects to a Socket.IO server and returns the Socket of the URL's namespace.
 *
 * @example
 * const socket = io("https://example.com/admin", { auth: { token } });
 * socket.on("connect", () => console.log(socket.id));
 */
export const lookup: Lookup = Object.assign(lookupSocket, {
  Manager,
  Socket,
  protocol,
}) as unknown as Lookup;
Object.assign(lookup, { io: lookup, connect: lookup });
