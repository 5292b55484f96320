/**
 * `Socket`: one client's presence in one namespace. Events in and out, acknowledgements, rooms,
 * middleware per event, catch-all listeners, disconnection.
 */

import type { IncomingMessage } from "node:http";
import type { EngineSocket } from "../engine/index.js";
import { randomId } from "../engine/random-id.js";
import { noop } from "../protocol/noop.js";
import {
  type AckPacket,
  type EventPacket,
  isReservedEventName,
  type OutgoingSocketPacket,
  SocketPacketType,
} from "../protocol/socketio/index.js";
import { listenerTable, useListenerTable } from "../websocket/listener-table.js";
import { registerAck } from "./acks.js";
import {
  type AckHandler,
  type BroadcastFlags,
  type NamespaceAdapter,
  NO_ROOMS,
  type PrivateSessionId,
  type Room,
  type Session,
  type SocketId,
} from "./adapter.js";
import { BroadcastOperator } from "./broadcast-operator.js";
import type { Client } from "./client.js";
import { debug } from "./debug.js";
import { buildHandshake } from "./handshake.js";
import type { Namespace } from "./namespace.js";
import {
  type DisconnectReason,
  type Handshake,
  RECOVERABLE_DISCONNECT_REASONS,
  type SocketReservedEventsMap,
} from "./socket-types.js";
import {
  type AllButLast,
  type CatchAllListener,
  type DecorateAcknowledgements,
  type DecorateAcknowledgementsWithMultipleResponses,
  type DefaultEventsMap,
  type DefaultSocketData,
  type EventNames,
  type EventNamesWithAck,
  type EventParams,
  type EventsMap,
  type FirstNonErrorArg,
  type Last,
  type MessageParams,
  StrictEventEmitter,
  type UntypedArg,
} from "./typed-events.js";

/** An incoming event as socket middlewares see it: `[eventName, ...args]`. */
export type Event = [string, ...unknown[]];

/** A per-event middleware: call `next()` to go on, `next(err)` to drop the event ("error" event). */
export type SocketMiddleware = (event: Event, next: (err?: Error) => void) => void;

/** A catch-all listener: the event name, then its arguments (see {@link CatchAllListener}). */
export type AnyListener = CatchAllListener;

/** Options of one packet written to a client. */
interface PacketOptions {
  volatile?: boolean | undefined;
  compress?: boolean | undefined;
}

const NO_FLAGS: Readonly<BroadcastFlags> = Object.freeze({});

/** A socket's listener table: one per connection, with the application's events. */
const SocketListeners = listenerTable();

/**
 * One client connected to one namespace.
 *
 * @example
 * io.on("connection", (socket) => {
 *   socket.emit("welcome", socket.id);
 *   socket.on("chat", (text: string, ack: (ok: boolean) => void) => {
 *     socket.to("room1").emit("chat", text);
 *     ack(true);
 *   });
 *   socket.on("disconnect", (reason) => console.log(socket.id, reason));
 * });
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = DefaultSocketData,
> extends StrictEventEmitter<ListenEvents, EmitEvents, SocketReservedEventsMap> {
  /** The socket's public id (restored on connection state recovery). */
  readonly id: SocketId;
  /** Whether this socket restored a previous session (id, rooms, data, missed packets). */
  readonly recovered: boolean;
  /** Whether the socket is connected (false while namespace middlewares run). */
  connected = false;
  /** The namespace the socket belongs to. */
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The connection the socket uses (shared by its sockets of other namespaces). */
  readonly client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;

  readonly #pid: PrivateSessionId | undefined;
  // Made when first needed: most sockets never use some of them, and an idle socket's memory
  // is what a server's capacity is counted in.
  #data: SocketData | undefined;
  #acks: Map<number, AckHandler> | undefined;
  #handshake: Handshake | undefined;
  readonly #auth: Record<string, unknown>;
  /** When the socket was created (ms since the epoch), for its handshake. */
  readonly #issued: number;
  /** Modifiers of the next emit; replaced, never mutated (NO_FLAGS is shared). */
  #flags: Readonly<BroadcastFlags> = NO_FLAGS;
  /** This socket's own room, as the target set of its emits through the adapter. */
  #ownRoom: ReadonlySet<Room> | undefined;
  #fns: SocketMiddleware[] | undefined;
  #anyListeners: AnyListener[] | undefined;
  #anyOutgoingListeners: AnyListener[] | undefined;
  #missedPackets: unknown[][] | undefined;
  /** Set once the socket has left its namespace for good: no more rooms, no more packets. */
  #cleanedUp = false;

  /**
   * @internal Sockets are created by their namespace.
   * @param previousSession - a session restored by connection state recovery
   */
  constructor(
    nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, unknown>,
    previousSession?: Session,
  ) {
    super();
    useListenerTable(this, SocketListeners);
    this.nsp = nsp;
    this.client = client;
    if (previousSession) {
      this.id = previousSession.sid;
      this.#pid = previousSession.pid;
      this.#data = previousSession.data as SocketData;
      this.#missedPackets = previousSession.missedPackets;
      this.recovered = true;
      void this.join(previousSession.rooms);
    } else {
      // Not the Engine.IO id: that one is a credential for the polling transport.
      this.id = randomId();
      this.#pid = nsp.server.opts.connectionStateRecovery ? randomId() : undefined;
      this.recovered = false;
    }
    this.#auth = auth;
    this.#issued = Date.now();
  }

  /** Details of the connection's handshake and the client's auth payload. */
  get handshake(): Handshake {
    this.#handshake ??= buildHandshake(
      this.client.request,
      this.client.conn.remoteAddress,
      this.#auth,
      this.#issued,
    );
    return this.#handshake;
  }

  /** Application data kept with the socket; included by `fetchSockets()` and recovery. */
  get data(): SocketData {
    this.#data ??= {} as SocketData;
    return this.#data;
  }

  set data(data: SocketData) {
    this.#data = data;
  }

  /**
   * @internal Pending acknowledgement handlers by packet id (adapters register the handlers of
   * broadcasts with acknowledgement here).
   */
  get acks(): Map<number, AckHandler> {
    this.#acks ??= new Map();
    return this.#acks;
  }

  /**
   * @internal The private session id (connection state recovery), for adapters that hand sessions
   * over between nodes. A credential: never send or log it.
   */
  get _pid(): PrivateSessionId | undefined {
    return this.#pid;
  }

  /** The request that opened the connection. */
  get request(): IncomingMessage {
    return this.client.request;
  }

  /** The Engine.IO connection (`conn.transport.name` is "polling" or "websocket"). */
  get conn(): EngineSocket {
    return this.client.conn;
  }

  /** Whether the socket is disconnected. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** The rooms the socket is in (its own id among them). */
  get rooms(): Set<Room> {
    return this.#adapter.socketRooms(this.id) ?? new Set();
  }

  get #adapter(): NamespaceAdapter {
    // Read each time: `io.adapter(...)` may replace a namespace's adapter.
    return this.nsp.adapter;
  }

  /**
   * Emits an event to this client. A function as last argument asks for an acknowledgement
   * (with `timeout(ms)` first, it gets an Error on expiry).
   *
   * @returns true
   * @throws Error for a reserved event name; TypeError for data that cannot be encoded.
   */
  override emit<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: EventParams<EmitEvents, Ev>
  ): boolean {
    if (isReservedEventName(ev)) throw new Error(`"${String(ev)}" is a reserved event name`);
    const flags = this.#flags;
    this.#flags = NO_FLAGS;
    const data: unknown[] = [ev, ...args];
    const packet: OutgoingSocketPacket = { type: SocketPacketType.Event, nsp: this.nsp.name, data };
    const last = data[data.length - 1];
    let ack: AckHandler | undefined;
    if (typeof last === "function") {
      data.pop();
      ack = last as AckHandler;
      packet.id = this.nsp._ids++;
    }
    // Once the client has left this namespace nothing is sent: its library would buffer the
    // event and deliver it on its next, unrelated connection. (An acknowledgement with a
    // timeout still times out.)
    if (!this.#cleanedUp) {
      if (this.nsp.server.opts.connectionStateRecovery) {
        // Through the adapter, so that the packet gets an offset and is kept for replay.
        this.#ownRoom ??= new Set([this.id]);
        // `except` given even when empty: cluster adapters serialize it as it is.
        this.#adapter.broadcast(packet, { rooms: this.#ownRoom, except: NO_ROOMS, flags });
      } else {
        this.notifyOutgoingListeners(packet);
        this.#packet(packet, flags);
      }
    }
    // Registered after a successful send (an answer cannot come before this turn ends), so that
    // an emit that throws leaves nothing behind.
    if (ack !== undefined) {
      registerAck(this.acks, packet.id!, ack, flags.timeout ?? this.nsp.ackTimeout, this);
    }
    return true;
  }

  /**
   * Emits and resolves with the client's acknowledgement (its first argument); after
   * `timeout(ms)`, rejects when the client does not answer in time.
   */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    const withError = (this.#flags.timeout ?? this.nsp.ackTimeout) !== undefined;
    return new Promise((resolve, reject) => {
      const callback = (first: unknown, second: unknown): void => {
        type Result = FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>;
        if (!withError) resolve(first as Result);
        else if (first) reject(first);
        else resolve(second as Result);
      };
      const emitArgs = [...args, callback] as unknown as EventParams<EmitEvents, Ev>;
      this.emit(ev, ...emitArgs);
    });
  }

  /** Emits a "message" event. */
  send(...args: MessageParams<EmitEvents>): this {
    this.#emitMessage(args);
    return this;
  }

  /** Same as {@link send}. */
  write(...args: MessageParams<EmitEvents>): this {
    this.#emitMessage(args);
    return this;
  }

  #emitMessage(args: readonly unknown[]): void {
    const emit = this.emit as (ev: string, ...rest: unknown[]) => boolean;
    emit.call(this, "message", ...args);
  }

  /** Targets `room` for a broadcast that skips this socket. */
  to(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#newBroadcastOperator().to(room);
  }

  /** Same as {@link to}. */
  in(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#newBroadcastOperator().in(room);
  }

  /** A broadcast to every socket except this one and those in `room`. */
  except(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#newBroadcastOperator().except(room);
  }

  /** A broadcast to every socket of the namespace except this one. */
  get broadcast(): BroadcastOperator<
    DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
    SocketData
  > {
    return this.#newBroadcastOperator();
  }

  /** A broadcast to this server's sockets except this one. */
  get local(): BroadcastOperator<
    DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
    SocketData
  > {
    return this.#newBroadcastOperator().local;
  }

  /** The next emit may be dropped if the client cannot take it right now. */
  get volatile(): this {
    this.#flags = { ...this.#flags, volatile: true };
    return this;
  }

  /** Allows or forbids compression for the next emit. */
  compress(compress: boolean): this {
    this.#flags = { ...this.#flags, compress };
    return this;
  }

  /**
   * The acknowledgement of the next emit gets an Error first, when the client did not answer
   * within `timeout` ms (`null` otherwise).
   *
   * @example
   * socket.timeout(5000).emit("question", (err, answer) => {});
   */
  timeout(
    timeout: number,
  ): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData> {
    this.#flags = { ...this.#flags, timeout };
    return this as unknown as Socket<
      ListenEvents,
      DecorateAcknowledgements<EmitEvents>,
      ServerSideEvents,
      SocketData
    >;
  }

  #newBroadcastOperator(): BroadcastOperator<
    DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
    SocketData
  > {
    const flags = this.#flags;
    this.#flags = NO_FLAGS;
    this.#ownRoom ??= new Set([this.id]);
    return new BroadcastOperator(this.#adapter, undefined, this.#ownRoom, flags);
  }

  /** Joins `rooms` (one room or an array). Does nothing once the socket is disconnected. */
  join(rooms: Room | readonly Room[]): Promise<void> | void {
    if (this.#cleanedUp) return;
    return this.#adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms as Room]));
  }

  /** Leaves `room` (or each room of an array). */
  leave(room: Room | readonly Room[]): Promise<void> | void {
    if (!Array.isArray(room)) return this.#adapter.del(this.id, room as Room);
    const pending: Promise<void>[] = [];
    for (const one of room as readonly Room[]) {
      const result = this.#adapter.del(this.id, one);
      if (result instanceof Promise) pending.push(result);
    }
    if (pending.length > 0) return Promise.all(pending).then(noop);
  }

  /** Registers a middleware run for every incoming event of this socket. */
  use(fn: SocketMiddleware): this {
    this.#fns ??= [];
    this.#fns.push(fn);
    return this;
  }

  /** Adds a listener called for every incoming event (name first). */
  onAny(listener: AnyListener): this {
    this.#anyListeners ??= [];
    this.#anyListeners.push(listener);
    return this;
  }

  /** Adds a catch-all listener before the others. */
  prependAny(listener: AnyListener): this {
    this.#anyListeners ??= [];
    this.#anyListeners.unshift(listener);
    return this;
  }

  /** Removes a catch-all listener; all of them without argument. */
  offAny(listener?: AnyListener): this {
    this.#anyListeners = removeListener(this.#anyListeners, listener);
    return this;
  }

  /** The catch-all listeners. */
  listenersAny(): AnyListener[] {
    return this.#anyListeners ?? [];
  }

  /** Adds a listener called for every outgoing event, broadcasts included (acks excluded). */
  onAnyOutgoing(listener: AnyListener): this {
    this.#anyOutgoingListeners ??= [];
    this.#anyOutgoingListeners.push(listener);
    return this;
  }

  /** Adds an outgoing catch-all listener before the others. */
  prependAnyOutgoing(listener: AnyListener): this {
    this.#anyOutgoingListeners ??= [];
    this.#anyOutgoingListeners.unshift(listener);
    return this;
  }

  /** Removes an outgoing catch-all listener; all of them without argument. */
  offAnyOutgoing(listener?: AnyListener): this {
    this.#anyOutgoingListeners = removeListener(this.#anyOutgoingListeners, listener);
    return this;
  }

  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): AnyListener[] {
    return this.#anyOutgoingListeners ?? [];
  }

  /** @internal Tells the outgoing catch-all listeners about `packet` (called by adapters too). */
  notifyOutgoingListeners(packet: { data?: unknown }): void {
    const listeners = this.#anyOutgoingListeners;
    if (listeners === undefined || listeners.length === 0 || !Array.isArray(packet.data)) return;
    const args = packet.data as [string, ...UntypedArg[]];
    for (const listener of listeners.slice()) listener.apply(this, args);
  }

  /**
   * Disconnects the socket from its namespace; with `close`, closes the whole connection (all
   * its namespaces).
   */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.client._disconnect();
    } else {
      this.#packet({ type: SocketPacketType.Disconnect, nsp: this.nsp.name }, {});
      this._onclose("server namespace disconnect");
    }
    return this;
  }

  /**
   * @internal The server is closing: the socket leaves with "server shutting down"; with
   * `notifyClient`, its client is first sent a DISCONNECT, so that it does not reconnect.
   */
  _shutdown(notifyClient: boolean): void {
    if (!this.connected) return;
    if (notifyClient) this.#packet({ type: SocketPacketType.Disconnect, nsp: this.nsp.name }, {});
    this._onclose("server shutting down");
  }

  /** @internal The namespace accepted the socket: CONNECT goes out, missed packets follow. */
  _onconnect(): void {
    debug?.(`socket ${this.id} connected to ${this.nsp.name} (client ${this.client.conn.id})`);
    this.connected = true;
    void this.join(this.id);
    this.#packet(
      {
        type: SocketPacketType.Connect,
        nsp: this.nsp.name,
        // Protocol v4 (Engine.IO 3 clients) has no payload in the server's CONNECT.
        data: this.client.conn.protocol === 3 ? undefined : { sid: this.id, pid: this.#pid },
      },
      {},
    );
    const missed = this.#missedPackets;
    if (missed !== undefined) {
      this.#missedPackets = undefined;
      for (const data of missed) {
        this.#packet({ type: SocketPacketType.Event, nsp: this.nsp.name, data }, {});
      }
    }
  }

  /** @internal A packet from the client for this namespace. */
  _onpacket(packet: EventPacket | AckPacket): void {
    if (!this.connected) return;
    if (packet.type === SocketPacketType.Event) this.#onevent(packet);
    else this.#onack(packet);
  }

  #onevent(packet: EventPacket): void {
    const args: unknown[] = packet.data;
    if (packet.id !== undefined) args.push(this.#ackFor(packet.id));
    const any = this.#anyListeners;
    if (any !== undefined && any.length > 0) {
      for (const listener of any.slice()) listener.apply(this, args as [string, ...UntypedArg[]]);
    }
    const event = args as Event;
    if (this.#fns === undefined || this.#fns.length === 0) {
      this.emitUntyped(event);
      return;
    }
    this.#runMiddlewares(event, (err) => {
      // As in socket.io, a middleware may call next() later: deliver on a fresh tick.
      process.nextTick(() => {
        if (err) this._onerror(err);
        else if (this.connected) this.emitUntyped(event);
      });
    });
  }

  /**
   * The callback given to listeners of an event that asks for an acknowledgement. It never
   * throws: arguments that cannot be encoded are reported as an "error" event of the socket and
   * nothing is sent (acknowledgements often echo what the client sent).
   */
  #ackFor(id: number): (...args: unknown[]) => void {
    let sent = false;
    return (...args: unknown[]): void => {
      if (sent) return;
      sent = true;
      try {
        this.#packet({ type: SocketPacketType.Ack, nsp: this.nsp.name, id, data: args }, {});
      } catch (error) {
        this._onerror(error instanceof Error ? error : new Error(String(error)));
      }
    };
  }

  #onack(packet: AckPacket): void {
    const ack = this.#acks?.get(packet.id);
    if (ack === undefined) return;
    this.#acks!.delete(packet.id);
    ack.apply(this, packet.data);
  }

  #runMiddlewares(event: Event, done: (err?: Error) => void): void {
    const fns = this.#fns!.slice();
    const run = (i: number): void => {
      let called = false;
      fns[i]!(event, (err) => {
        if (called) return;
        called = true;
        if (err) done(err);
        else if (i + 1 < fns.length) run(i + 1);
        else done();
      });
    };
    run(0);
  }

  /**
   * @internal Emits "error" (a refused event, or a connection error). Unheard errors are
   * dropped: they must never crash the process.
   */
  _onerror(err: Error): void {
    if (this.listenerCount("error") > 0) this.emitReserved("error", err);
  }

  /** @internal The client left (or the connection closed): "disconnecting", then "disconnect". */
  _onclose(reason: DisconnectReason, description?: unknown): void {
    if (!this.connected) return;
    debug?.(`socket ${this.id} left ${this.nsp.name}: ${reason}`);
    this.emitReserved("disconnecting", reason, description);
    const recovery = this.nsp.server.opts.connectionStateRecovery;
    if (recovery && this.#pid !== undefined && RECOVERABLE_DISCONNECT_REASONS.has(reason)) {
      void this.#adapter.persistSession({
        sid: this.id,
        pid: this.#pid,
        rooms: [...this.rooms],
        data: this.data,
      });
    }
    this._cleanup();
    this.client._remove(this);
    this.connected = false;
    this.emitReserved("disconnect", reason, description);
  }

  /** @internal Leaves all rooms and the namespace; no room can be joined afterwards. */
  _cleanup(): void {
    this.#adapter.delAll(this.id);
    this.nsp._remove(this);
    this.#cleanedUp = true;
  }

  /** @internal Refuses the connection to the namespace (CONNECT_ERROR). */
  _error(data: { message: string; data?: unknown }): void {
    debug?.(
      `connection to ${this.nsp.name} refused: ${data.message} (client ${this.client.conn.id})`,
    );
    this.#packet({ type: SocketPacketType.ConnectError, nsp: this.nsp.name, data }, {});
  }

  #packet(packet: OutgoingSocketPacket, opts: PacketOptions): void {
    this.client._packet(packet, opts);
  }
}

function removeListener(
  listeners: AnyListener[] | undefined,
  listener: AnyListener | undefined,
): AnyListener[] | undefined {
  if (listeners === undefined) return undefined;
  if (listener === undefined) return [];
  const index = listeners.indexOf(listener);
  if (index !== -1) listeners.splice(index, 1);
  return listeners;
}
