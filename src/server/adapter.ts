/**
 * The adapter: which sockets are in which rooms, and delivery of broadcasts to them. This module
 * holds two things only: the adapter contract (socket.io-adapter 2.5's interface, the narrow views
 * of namespace and socket an adapter gets, and the `ClusterAnswer` marking of cluster-wide
 * results, which the server reads and the cluster adapters write), and the in-memory adapter of a
 * single server, which an adapter for many servers extends, overriding the cluster-wide methods
 * and calling `super` for local delivery. Adapters across processes (Redis, Redis Streams, Node
 * cluster) live in `src/adapters/`; the server never imports them.
 */
import { EventEmitter } from "node:events";
import type { PreparedEngineMessage } from "../engine/prepared-message.js";
import type { BroadcastFlags } from "../protocol/cluster/messages.js";
import type { EncodedSocketPacket, OutgoingSocketPacket } from "../protocol/socketio/index.js";
import { adapterDebug, describeSocketPacket, describeTargets } from "./debug.js";
import type { ResolvedServerOptions } from "./options.js";
import { encodeOrThrow, type PacketEncoder, prepareParts } from "./packet-encoding.js";
import type { Handshake } from "./socket-types.js";

/** A socket's public id (sent to the client at connection). */
export type SocketId = string;
/** A socket's private session id, used for connection state recovery (never share it). */
export type PrivateSessionId = string;
/** A room name. */
export type Room = string | number;

export type { BroadcastFlags };

/** Which sockets a broadcast reaches: those in any of `rooms` (all when empty), minus `except`. */
export interface BroadcastOptions {
  rooms: ReadonlySet<Room>;
  except?: ReadonlySet<Room>;
  flags?: BroadcastFlags;
}

/**
 * How complete the answer of a cluster-wide request is: the arrays that `fetchSockets()`,
 * `serverSideEmitWithAck()` and friends resolve with carry these two properties (not
 * enumerable) when a duplexio adapter answered them.
 *
 * @example
 * const sockets = await io.fetchSockets();
 * if (!(sockets as Partial<ClusterAnswer>).complete) console.warn(`${(sockets as ClusterAnswer).missingNodes} node(s) did not answer`);
 */
export interface ClusterAnswer {
  /** True when every node the request waited for answered in time. */
  readonly complete: boolean;
  /**
   * How many nodes did not answer in time (or could not be asked: the transport was down, or
   * too many requests were under way).
   */
  readonly missingNodes: number;
}

/** Adds the {@link ClusterAnswer} properties to `items` (not enumerable: copies drop them). */
export function markAnswer<T extends object>(items: T, missingNodes: number): T & ClusterAnswer {
  Object.defineProperties(items, {
    complete: { value: missingNodes === 0, enumerable: false, configurable: true },
    missingNodes: { value: missingNodes, enumerable: false, configurable: true },
  });
  return items as T & ClusterAnswer;
}

/** The {@link ClusterAnswer} of a result, when the adapter gave one. */
export function answerOf(result: object): ClusterAnswer | undefined {
  const { complete, missingNodes } = result as Partial<ClusterAnswer>;
  return typeof complete === "boolean" && typeof missingNodes === "number"
    ? { complete, missingNodes }
    : undefined;
}

/** What is kept of a disconnected socket for connection state recovery. */
export interface SessionToPersist {
  sid: SocketId;
  pid: PrivateSessionId;
  rooms: Room[];
  data: unknown;
}

/** A restored session: the socket's state and the event data it missed, in order. */
export interface Session extends SessionToPersist {
  missedPackets: unknown[][];
}

/** An empty room set, shared (never mutated): "no rooms" in broadcast options. */
export const NO_ROOMS: ReadonlySet<Room> = new Set();

/** Options of a write to one client. */
export interface WriteOptions {
  volatile?: boolean | undefined;
  compress?: boolean | undefined;
}

/** An acknowledgement handler: called with the client's acknowledgement arguments. */
export type AckHandler = (...args: unknown[]) => void;

/**
 * What an adapter uses of a socket (the server's `Socket` provides it). `acks` holds the pending
 * acknowledgement handlers by packet id; broadcasts with acknowledgement register theirs there.
 */
export interface AdapterSocket {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly rooms: Set<Room>;
  readonly data: unknown;
  readonly client: AdapterClient;
  readonly acks: Map<number, AckHandler>;
  /**
   * The Engine.IO connection: `close(true)` ends it at once ("forced close"), which keeps the
   * socket's session for recovery.
   */
  readonly conn: { close(discard?: boolean): unknown };
  /** @internal The private session id, when recovery is on (never send or log it). */
  readonly _pid?: PrivateSessionId | undefined;
  /** Tells the socket's `onAnyOutgoing` listeners about a packet sent to it. */
  notifyOutgoingListeners(packet: { data?: unknown }): void;
  join(rooms: Room | Room[]): Promise<void> | void;
  leave(rooms: Room | Room[]): Promise<void> | void;
  disconnect(close?: boolean): unknown;
}

/** What an adapter uses of a socket's connection. */
export interface AdapterClient {
  /** Writes packets encoded once for many clients (see PreparedEngineMessage). */
  writePrepared(parts: readonly PreparedEngineMessage[], opts: WriteOptions): void;
}

/** What an adapter uses of its namespace (the server's `Namespace` provides it). */
export interface AdapterNamespace {
  readonly name: string;
  readonly sockets: ReadonlyMap<SocketId, AdapterSocket>;
  /** The next acknowledgement id of the namespace (shared by emits and broadcasts). */
  _ids: number;
  /** The namespace's default acknowledgement timeout (undefined: none); broadcasts read it. */
  readonly ackTimeout?: number | undefined;
  /** What adapters use of the server: its resolved options and its packet encoder. */
  readonly server: { readonly opts: ResolvedServerOptions; readonly encoder: PacketEncoder };
  /** Delivers an event emitted by another server with `serverSideEmit`. */
  _onServerSideEmit(args: unknown[]): void;
}

/** A socket held by another server, as `fetchSockets` gets it from a cluster adapter. */
export interface SocketDetails {
  id: SocketId;
  handshake: Handshake;
  rooms: Room[];
  data: unknown;
}

/**
 * A listener of "create-room" and "delete-room". Checked bivariantly (declared as a method), so
 * that socket.io code annotating the room as a string (`(room: string) => ...`, which its
 * untyped EventEmitter accepts) compiles too, while unrelated types are still refused.
 */
export type RoomListener = { bivarianceHack(room: Room): void }["bivarianceHack"];

/** A listener of "join-room" and "leave-room"; checked bivariantly, as {@link RoomListener}. */
export type RoomMemberListener = {
  bivarianceHack(room: Room, id: SocketId): void;
}["bivarianceHack"];

/**
 * What the server calls on the adapter of a namespace: the contract of socket.io-adapter 2.5, so
 * that its adapters (and those built on it: `@socket.io/redis-adapter`, `-redis-streams-adapter`,
 * `-cluster-adapter`...) plug in as they are, and duplexio's own adapters, which extend
 * {@link Adapter}. Methods may answer synchronously or with a promise; cluster adapters use the
 * promise.
 *
 * Emits "create-room" (room), "delete-room" (room), "join-room" (room, id), "leave-room" (room, id).
 */
export interface NamespaceAdapter {
  /** Room to the ids of this server's sockets in it. */
  readonly rooms: Map<Room, Set<SocketId>>;
  /** Socket id to the rooms it is in (this server's sockets). */
  readonly sids: Map<SocketId, Set<Room>>;
  /** The namespace served. */
  readonly nsp: AdapterNamespace;
  init(): Promise<void> | void;
  close(): Promise<void> | void;
  /** The number of servers in the cluster (1 for a single server). */
  serverCount(): Promise<number>;
  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void;
  del(id: SocketId, room: Room): Promise<void> | void;
  delAll(id: SocketId): void;
  broadcast(packet: OutgoingSocketPacket, opts: BroadcastOptions): unknown;
  broadcastWithAck(
    packet: OutgoingSocketPacket,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: AckHandler,
  ): unknown;
  sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>>;
  socketRooms(id: SocketId): Set<Room> | undefined;
  fetchSockets(opts: BroadcastOptions): Promise<(AdapterSocket | SocketDetails)[]>;
  addSockets(opts: BroadcastOptions, rooms: Room[]): unknown;
  delSockets(opts: BroadcastOptions, rooms: Room[]): unknown;
  disconnectSockets(opts: BroadcastOptions, close: boolean): unknown;
  serverSideEmit(packet: unknown[]): unknown;
  persistSession(session: SessionToPersist): Promise<void> | void;
  restoreSession(
    pid: PrivateSessionId,
    offset: string | undefined,
  ): Promise<Session | null> | Session | null;
  /**
   * Forgets the acknowledgement handlers of broadcast `id` after its timeout (duplexio's adapters
   * have it; for others the server clears the handlers from its sockets itself).
   */
  removeAcks?(id: number, opts: BroadcastOptions): void;
  // The adapter is an EventEmitter: the room events above, and any of its own.
  on(event: "create-room" | "delete-room", listener: RoomListener): unknown;
  on(event: "join-room" | "leave-room", listener: RoomMemberListener): unknown;
  on(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
  off(event: "create-room" | "delete-room", listener: RoomListener): unknown;
  off(event: "join-room" | "leave-room", listener: RoomMemberListener): unknown;
  off(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
  once(event: "create-room" | "delete-room", listener: RoomListener): unknown;
  once(event: "join-room" | "leave-room", listener: RoomMemberListener): unknown;
  once(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

/**
 * An adapter class, or a factory (e.g. `createAdapter(...)` of a cluster adapter package), given
 * the namespace ({@link AdapterNamespace}). The parameter is typed `never` so that any adapter
 * type-checks, whatever it declares its namespace to be (socket.io's adapters declare `any`, or
 * socket.io's own `Namespace`).
 */
export type AdapterConstructor =
  | (new (
      nsp: never,
    ) => NamespaceAdapter)
  | ((nsp: never) => NamespaceAdapter);

/** Events of an adapter. */
export interface AdapterEvents {
  "create-room": [room: Room];
  "delete-room": [room: Room];
  "join-room": [room: Room, id: SocketId];
  "leave-room": [room: Room, id: SocketId];
  /** Cluster adapters: the transport between the nodes is lost (this node goes on serving). */
  "transport-down": [reason: Error];
  /** Cluster adapters: the transport is back after `downForMs` milliseconds. */
  "transport-up": [downForMs: number];
  /** Cluster adapters: node `uid` (another node's adapter of this namespace) is gone. */
  "node-gone": [uid: string];
}

const NO_WRITE_OPTIONS: WriteOptions = {};

/**
 * The in-memory adapter: rooms of one namespace on one server, broadcasts encoded once and
 * written to every matching client (the same bytes through `EngineSocket.sendPrepared`).
 *
 * Emits "create-room" (room), "delete-room" (room), "join-room" (room, id), "leave-room" (room, id).
 */
export class Adapter extends EventEmitter<AdapterEvents> implements NamespaceAdapter {
  /** Room to the ids of the sockets in it. */
  readonly rooms: Map<Room, Set<SocketId>> = new Map();
  /** Socket id to the rooms it is in. */
  readonly sids: Map<SocketId, Set<Room>> = new Map();
  /** The namespace served. */
  readonly nsp: AdapterNamespace;

  constructor(nsp: AdapterNamespace) {
    super();
    this.nsp = nsp;
  }

  /** Called once the adapter is created (cluster adapters connect here). */
  init(): Promise<void> | void {}

  /** Called when the namespace or the server closes. */
  close(): Promise<void> | void {}

  /** The number of servers in the cluster: 1 here. */
  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  /**
   * Adds socket `id` to `rooms`.
   *
   * A socket only in its own room (the state of most sockets) has one Set for both maps: the
   * room's members and the socket's rooms are then the same `{ id }`. It is copied before either
   * side changes, so every read answers as two Sets would.
   */
  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void {
    let joined = this.sids.get(id);
    if (joined === undefined) {
      if (rooms.size === 1 && rooms.has(id) && !this.rooms.has(id)) {
        const own = new Set<string>([id]);
        this.sids.set(id, own);
        this.rooms.set(id, own);
        this.emit("create-room", id);
        this.emit("join-room", id, id);
        return;
      }
      joined = new Set();
      this.sids.set(id, joined);
    } else {
      joined = this.#ownedRoomsOf(id, joined);
    }
    for (const room of rooms) {
      joined.add(room);
      let members = this.rooms.get(room);
      if (members === undefined) {
        members = new Set();
        this.rooms.set(room, members);
        this.emit("create-room", room);
      } else if (room !== id && typeof room === "string" && members === this.sids.get(room)) {
        // Another socket joins a socket's own room: that socket's rooms must not change.
        members = new Set(members);
        this.rooms.set(room, members);
      }
      if (!members.has(id)) {
        members.add(id);
        this.emit("join-room", room, id);
      }
    }
  }

  /** Removes socket `id` from `room`. */
  del(id: SocketId, room: Room): Promise<void> | void {
    const joined = this.sids.get(id);
    if (joined !== undefined) this.#ownedRoomsOf(id, joined).delete(room);
    this.#leave(room, id);
  }

  /** Removes socket `id` from all its rooms. */
  delAll(id: SocketId): void {
    const joined = this.sids.get(id);
    if (joined === undefined) return;
    // Leaving deletes from the room's members, which may be `joined` itself: Sets allow that.
    for (const room of joined) this.#leave(room, id);
    this.sids.delete(id);
  }

  /** `joined` (the rooms of socket `id`), no longer shared with its own room's members. */
  #ownedRoomsOf(id: SocketId, joined: Set<Room>): Set<Room> {
    if (joined !== this.rooms.get(id)) return joined;
    const own = new Set(joined);
    this.sids.set(id, own);
    return own;
  }

  #leave(room: Room, id: SocketId): void {
    const members = this.rooms.get(room);
    if (members === undefined) return;
    if (members.delete(id)) this.emit("leave-room", room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.emit("delete-room", room);
  }

  /**
   * Sends `packet` to the matching sockets: encoded once, the same prepared bytes for all.
   *
   * @throws TypeError when the packet cannot be encoded.
   */
  broadcast(packet: OutgoingSocketPacket, opts: BroadcastOptions): void {
    packet.nsp = this.nsp.name;
    adapterDebug?.(`broadcast ${describeSocketPacket(packet)} to ${describeTargets(opts)}`);
    this.broadcastEncoded(packet, encodeOrThrow(packet), opts);
  }

  /**
   * Sends `packet` to the matching sockets, each of which registers `ack` for the packet's id;
   * then reports how many sockets got it. Ack handlers of clients that never answer are removed
   * by {@link removeAcks} when the broadcast times out.
   *
   * @throws TypeError when the packet cannot be encoded.
   */
  broadcastWithAck(
    packet: OutgoingSocketPacket,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: AckHandler,
  ): void {
    packet.nsp = this.nsp.name;
    // One id for every recipient: ids come from the namespace's counter, so none is reused.
    const id = this.nsp._ids++;
    packet.id = id;
    adapterDebug?.(
      `broadcast ${describeSocketPacket(packet)} to ${describeTargets(opts)}, acks asked`,
    );
    const parts = encodeOrThrow(packet);
    const writeOptions = writeOptionsOf(opts.flags);
    let prepared: PreparedEngineMessage[] | undefined;
    let clientCount = 0;
    this.#apply(opts, (socket) => {
      clientCount++;
      socket.acks.set(id, ack);
      socket.notifyOutgoingListeners(packet);
      prepared ??= prepareParts(parts);
      socket.client.writePrepared(prepared, writeOptions);
    });
    clientCountCallback(clientCount);
  }

  /** Forgets the acknowledgement handlers of broadcast `id` (after its timeout). */
  removeAcks(id: number, opts: BroadcastOptions): void {
    this.#apply(opts, (socket) => {
      socket.acks.delete(id);
    });
  }

  /** Delivers already encoded `parts` of `packet` to the sockets matching `opts`. */
  protected broadcastEncoded(
    packet: OutgoingSocketPacket,
    parts: EncodedSocketPacket,
    opts: BroadcastOptions,
  ): void {
    const writeOptions = writeOptionsOf(opts.flags);
    // Prepared lazily: a broadcast that reaches nobody costs no wire forms.
    let prepared: PreparedEngineMessage[] | undefined;
    this.#apply(opts, (socket) => {
      socket.notifyOutgoingListeners(packet);
      prepared ??= prepareParts(parts);
      socket.client.writePrepared(prepared, writeOptions);
    });
  }

  /** The ids of the sockets in any of `rooms` (all sockets when empty). */
  sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.#apply({ rooms }, (socket) => {
      ids.add(socket.id);
    });
    return Promise.resolve(ids);
  }

  /** The rooms socket `id` is in. */
  socketRooms(id: SocketId): Set<Room> | undefined {
    return this.sids.get(id);
  }

  /** The matching sockets (local Socket instances here; details of remote ones in a cluster). */
  fetchSockets(opts: BroadcastOptions): Promise<(AdapterSocket | SocketDetails)[]> {
    return Promise.resolve(this.#collect(opts));
  }

  /** Makes the matching sockets join `rooms`. */
  addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const socket of this.#collect(opts)) void socket.join(rooms);
  }

  /** Makes the matching sockets leave `rooms`. */
  delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const socket of this.#collect(opts)) void socket.leave(rooms);
  }

  /** Disconnects the matching sockets (`close`: their whole connection). */
  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const socket of this.#collect(opts)) socket.disconnect(close);
  }

  /**
   * Sends an event to the other servers of the cluster: there are none here. An acknowledgement
   * callback (last element) gets `(null, [])` on the next tick, as with a one-server cluster.
   */
  serverSideEmit(packet: unknown[]): void {
    const ack = packet[packet.length - 1];
    if (typeof ack === "function") process.nextTick(ack, null, []);
  }

  /** Keeps a disconnected socket's session for recovery (nothing to keep without recovery). */
  persistSession(_session: SessionToPersist): Promise<void> | void {}

  /** Restores a session and the packets it missed (none without recovery). */
  restoreSession(
    _pid: PrivateSessionId,
    _offset: string | undefined,
  ): Promise<Session | null> | Session | null {
    return null;
  }

  /**
   * Calls `callback` for each connected socket matching `opts`: in any of the rooms (all sockets
   * when none is given), and in none of the excepted rooms; each socket once.
   */
  #apply(opts: BroadcastOptions, callback: (socket: AdapterSocket) => void): void {
    const rooms = opts.rooms;
    const except = this.#exceptedIds(opts.except);
    const sockets = this.nsp.sockets;
    if (rooms.size === 0) {
      for (const id of this.sids.keys()) {
        if (except?.has(id)) continue;
        const socket = sockets.get(id);
        if (socket !== undefined) callback(socket);
      }
      return;
    }
    if (rooms.size === 1) {
      // The common case (one room, or one socket's own room): no duplicate can occur.
      for (const room of rooms) {
        const members = this.rooms.get(room);
        if (members === undefined) return;
        for (const id of members) {
          if (except?.has(id)) continue;
          const socket = sockets.get(id);
          if (socket !== undefined) callback(socket);
        }
      }
      return;
    }
    const seen = new Set<SocketId>();
    for (const room of rooms) {
      const members = this.rooms.get(room);
      if (members === undefined) continue;
      for (const id of members) {
        if (seen.has(id) || except?.has(id)) continue;
        const socket = sockets.get(id);
        if (socket !== undefined) {
          seen.add(id);
          callback(socket);
        }
      }
    }
  }

  /** The matching sockets, collected first: the caller's actions may change the rooms. */
  #collect(opts: BroadcastOptions): AdapterSocket[] {
    const found: AdapterSocket[] = [];
    this.#apply(opts, (socket) => {
      found.push(socket);
    });
    return found;
  }

  #exceptedIds(exceptRooms: ReadonlySet<Room> | undefined): ReadonlySet<SocketId> | undefined {
    if (exceptRooms === undefined || exceptRooms.size === 0) return undefined;
    if (exceptRooms.size === 1) {
      // socket.broadcast excludes the socket's own room: use that room's member set as is.
      for (const room of exceptRooms) return this.rooms.get(room);
    }
    const ids = new Set<SocketId>();
    for (const room of exceptRooms) {
      const members = this.rooms.get(room);
      if (members !== undefined) for (const id of members) ids.add(id);
    }
    return ids;
  }
}

function writeOptionsOf(flags: BroadcastFlags | undefined): WriteOptions {
  if (flags === undefined || (flags.volatile === undefined && flags.compress === undefined)) {
    return NO_WRITE_OPTIONS;
  }
  return { volatile: flags.volatile, compress: flags.compress };
}

/** Creates the adapter of `nsp` from a class or a factory. */
export function createAdapter(
  adapter: AdapterConstructor,
  nsp: AdapterNamespace,
): NamespaceAdapter {
  // Arrow functions (factories) have no prototype and cannot be constructed; classes and plain
  // functions returning an object can (socket.io constructs both with `new`).
  if (adapter.prototype === undefined) {
    return (adapter as unknown as (nsp: AdapterNamespace) => NamespaceAdapter)(nsp);
  }
  return new (adapter as unknown as new (nsp: AdapterNamespace) => NamespaceAdapter)(nsp);
}
