/**
 * Options of the Socket.IO server, with socket.io v4's names and defaults, plus the limits that
 * bound the memory of connection state recovery.
 */
import type { EngineServerOptions } from "../engine/index.js";
import type { AdapterConstructor } from "./adapter.js";

/**
 * Connection state recovery: a client that lost its connection and comes back within
 * `maxDisconnectionDuration` gets its id, rooms and `data` back, and the broadcasts it missed.
 *
 * Memory is bounded: packets are kept for `maxDisconnectionDuration` at most and within
 * `maxBufferedPackets` and `maxBufferedBytes` (oldest dropped first); sessions within
 * `maxSessions` (oldest dropped first). A client whose missed packets are no longer all stored,
 * or number more than `maxMissedPacketsPerSession`, gets a fresh session instead (with
 * `socket.recovered === false`), never a partial replay.
 */
export interface ConnectionStateRecoveryOptions {
  /** How long sessions and packets are kept, in milliseconds (default 120000: 2 minutes). */
  maxDisconnectionDuration?: number;
  /** Skip the namespace middlewares for a recovered socket (default true). */
  skipMiddlewares?: boolean;
  /** Most disconnected sessions kept per namespace (default 10000). */
  maxSessions?: number;
  /** Most packets kept per namespace for replay (default 10000). */
  maxBufferedPackets?: number;
  /** Most bytes of encoded packets kept per namespace for replay (default 16 MiB). */
  maxBufferedBytes?: number;
  /** Most packets replayed to one recovering socket (default 1000). */
  maxMissedPacketsPerSession?: number;
}

/** Recovery options with every default filled in. */
export type ResolvedConnectionStateRecovery = Required<ConnectionStateRecoveryOptions>;

/** Options of the Socket.IO server; every Engine.IO option is passed to the engine. */
export interface ServerOptions extends EngineServerOptions {
  /** Path of the Socket.IO requests (default "/socket.io/"). */
  path?: string;
  /**
   * Whether to serve the browser client bundle under the path (default true):
   * `<path>/duplexio.min.js` (also as `socket.io.min.js` and `socket.io.js`, global `io`) and
   * `<path>/duplexio.esm.min.js`, with source maps, ETag and gzip.
   */
  serveClient?: boolean;
  /** Milliseconds a connection may stay without joining a namespace before it is closed (default 45000). */
  connectTimeout?: number;
  /**
   * Default acknowledgement timeout in milliseconds of every namespace (default: none, as in
   * socket.io: an unanswered acknowledgement waits forever). When set, an emit with a callback,
   * `emitWithAck` or a broadcast with acknowledgements that has no `timeout(ms)` of its own behaves
   * as if given `timeout(ackTimeout)`, like socket.io-client's `ackTimeout`: the callback gets an
   * Error ("operation has timed out") first, or `null` then the answer. A namespace can change
   * its own with {@link Namespace.ackTimeout}.
   */
  ackTimeout?: number;
  /** The adapter class or factory (default: the in-memory adapter). */
  adapter?: AdapterConstructor;
  /** Enables connection state recovery (disabled by default). */
  connectionStateRecovery?: ConnectionStateRecoveryOptions;
  /** Remove dynamic child namespaces once their last socket leaves (default false). */
  cleanupEmptyChildNamespaces?: boolean;
  /**
   * Longest namespace name a client may connect to, in characters (default 256; socket.io has no
   * limit). A CONNECT for a longer name is taken as abuse: the client gets a CONNECT_ERROR
   * "Invalid namespace" on "/" (the name is not echoed back) and its connection is closed.
   * Names are sent in every packet of their namespace, so real ones are short: a path or two
   * identifiers; 256 leaves room for a UUID-based tenant and room pair several times over.
   */
  maxNamespaceLength?: number;
  /**
   * Namespaces one connection may be in at once, connections under way included (default 100;
   * socket.io has no limit). Further CONNECTs get a CONNECT_ERROR "Too many namespaces"; the
   * connection stays.
   */
  maxNamespacesPerClient?: number;
  /**
   * Child namespaces of `io.of(regex | fn)` that clients' CONNECTs may create, all parents
   * together (default 10000; socket.io has no limit). When a new name would exceed it, the
   * oldest client-created child without sockets is removed first (as
   * `cleanupEmptyChildNamespaces` would); when every one has sockets, the CONNECT is refused
   * with "Invalid namespace". Children created by the application (`io.of(name)`) are not
   * counted, nor removed.
   */
  maxChildNamespaces?: number;
}

/** Default of {@link ServerOptions.maxNamespaceLength}. */
export const DEFAULT_MAX_NAMESPACE_LENGTH = 256;
/** Default of {@link ServerOptions.maxNamespacesPerClient}. */
export const DEFAULT_MAX_NAMESPACES_PER_CLIENT = 100;
/** Default of {@link ServerOptions.maxChildNamespaces}. */
export const DEFAULT_MAX_CHILD_NAMESPACES = 10_000;

/** The namespace limits, resolved. */
export interface NamespaceLimits {
  maxNamespaceLength: number;
  maxNamespacesPerClient: number;
  maxChildNamespaces: number;
}

/**
 * The namespace limits of `options`, defaults filled in.
 * @throws TypeError for a limit that is not a non-negative integer (or Infinity).
 */
export function resolveNamespaceLimits(options: ServerOptions): NamespaceLimits {
  const limit = (key: keyof NamespaceLimits, fallback: number): number => {
    const value = options[key] ?? fallback;
    if (
      typeof value !== "number" ||
      !(Number.isSafeInteger(value) || value === Number.POSITIVE_INFINITY) ||
      value < 0
    ) {
      throw new TypeError(`"${key}" must be a non-negative integer`);
    }
    return value;
  };
  return {
    maxNamespaceLength: limit("maxNamespaceLength", DEFAULT_MAX_NAMESPACE_LENGTH),
    maxNamespacesPerClient: limit("maxNamespacesPerClient", DEFAULT_MAX_NAMESPACES_PER_CLIENT),
    maxChildNamespaces: limit("maxChildNamespaces", DEFAULT_MAX_CHILD_NAMESPACES),
  };
}

/** The server's options as its namespaces and adapters read them. */
export interface ResolvedServerOptions extends ServerOptions {
  connectionStateRecovery: ResolvedConnectionStateRecovery | undefined;
  cleanupEmptyChildNamespaces: boolean;
}

/** Default recovery settings. */
export const DEFAULT_RECOVERY: ResolvedConnectionStateRecovery = Object.freeze({
  maxDisconnectionDuration: 2 * 60 * 1000,
  skipMiddlewares: true,
  maxSessions: 10_000,
  maxBufferedPackets: 10_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxMissedPacketsPerSession: 1000,
});

/** Default path. */
export const DEFAULT_PATH = "/socket.io/";
/** Default connect timeout, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT = 45_000;

/**
 * Resolves the recovery options (undefined when recovery is off).
 * @throws TypeError for a limit that is not a non-negative number (a configuration mistake).
 */
export function resolveRecovery(
  options: ConnectionStateRecoveryOptions | undefined,
): ResolvedConnectionStateRecovery | undefined {
  if (!options) return undefined;
  const resolved = { ...DEFAULT_RECOVERY };
  for (const key of Object.keys(DEFAULT_RECOVERY) as (keyof ResolvedConnectionStateRecovery)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (key === "skipMiddlewares") {
      resolved.skipMiddlewares = Boolean(value);
      continue;
    }
    if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
      throw new TypeError(`connectionStateRecovery.${key} must be a non-negative number`);
    }
    resolved[key] = value;
  }
  return resolved;
}
