/**
 * `BroadcastOperator`: an immutable selection of sockets (rooms to reach, rooms to skip, flags) and
 * what can be done to them; and `RemoteSocket`, a socket as `fetchSockets()` returns it.
 */
import { isReservedEventName, SocketPacketType } from "../protocol/socketio/index.js";
import { type AckTimeoutError, broadcastWithAck } from "./acks.js";
import {
  type AdapterSocket,
  answerOf,
  type BroadcastFlags,
  type BroadcastOptions,
  markAnswer,
  type NamespaceAdapter,
  NO_ROOMS,
  type Room,
  type SocketDetails,
  type SocketId,
} from "./adapter.js";
import type { Handshake } from "./socket-types.js";
import type {
  AllButLast,
  DecorateAcknowledgements,
  EventNames,
  EventNamesWithError,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  TypedEventBroadcaster,
} from "./typed-events.js";

/**
 * Targets sockets for an emit or another action. Every modifier returns a new operator, so an
 * operator can be kept and reused:
 *
 * @example
 * const admins = io.to("admins");
 * admins.emit("alert", "disk full");
 * admins.except(socket.id).emit("joined", socket.id);
 * await io.timeout(1000).to("room1").emitWithAck("ping"); // one response per client
 */
export class BroadcastOperator<EmitEvents extends EventsMap, SocketData>
  implements TypedEventBroadcaster<EmitEvents>
{
  readonly #adapter: NamespaceAdapter;
  readonly #rooms: ReadonlySet<Room>;
  readonly #exceptRooms: ReadonlySet<Room>;
  readonly #flags: Readonly<BroadcastFlags>;

  /**
   * @param adapter - the namespace's adapter
   * @param rooms - rooms to reach (all sockets when empty)
   * @param exceptRooms - rooms whose sockets are skipped
   * @param flags - broadcast modifiers
   */
  constructor(
    adapter: NamespaceAdapter,
    rooms: ReadonlySet<Room> = NO_ROOMS,
    exceptRooms: ReadonlySet<Room> = NO_ROOMS,
    flags: Readonly<BroadcastFlags> = {},
  ) {
    this.#adapter = adapter;
    this.#rooms = rooms;
    this.#exceptRooms = exceptRooms;
    this.#flags = flags;
  }

  /** Targets `room` (or each room of an array) too; a socket in several gets one copy. */
  to(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(
      this.#adapter,
      union(this.#rooms, room),
      this.#exceptRooms,
      this.#flags,
    );
  }

  /** Same as {@link to}. */
  in(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Skips the sockets in `room` (or in any room of an array). */
  except(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(
      this.#adapter,
      this.#rooms,
      union(this.#exceptRooms, room),
      this.#flags,
    );
  }

  /** Allows or forbids compression of what is sent. */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#withFlags({ compress });
  }

  /** Drops the event for clients that cannot take it right now (e.g. polling mid-request). */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#withFlags({ volatile: true });
  }

  /** Only this server's clients (meaningful with a cluster adapter). */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#withFlags({ local: true });
  }

  /**
   * Waits at most `timeout` ms for the acknowledgements: the callback gets `(err, responses)`.
   *
   * @example
   * io.timeout(1000).emit("ping", (err, responses) => {
   *   if (err) console.log("some clients did not answer in time", responses);
   * });
   */
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return new BroadcastOperator(this.#adapter, this.#rooms, this.#exceptRooms, {
      ...this.#flags,
      timeout,
    });
  }

  /**
   * Emits to the targeted sockets; the packet is encoded once for all of them. With a callback
   * as last argument, every recipient must acknowledge (use {@link timeout}).
   *
   * @returns true
   * @throws Error for a reserved event name; TypeError for data that cannot be encoded.
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    if (isReservedEventName(ev)) throw new Error(`"${String(ev)}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const opts = this.#options();
    const last = data[data.length - 1];
    if (typeof last !== "function") {
      this.#adapter.broadcast({ type: SocketPacketType.Event, nsp: "/", data }, opts);
      return true;
    }
    data.pop();
    const ack = last as (err: Error | null, responses: unknown) => void;
    const ackTimeout = this.#adapter.nsp.ackTimeout;
    if (opts.flags?.timeout === undefined && ackTimeout !== undefined) {
      opts.flags = { ...opts.flags, timeout: ackTimeout };
    }
    broadcastWithAck(this.#adapter, { type: SocketPacketType.Event, nsp: "/", data }, opts, ack);
    return true;
  }

  /**
   * Emits and resolves with the responses of all targeted clients (one per client), or rejects
   * with an Error whose `responses` holds those received before the timeout.
   */
  emitWithAck<Ev extends EventNamesWithError<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    return new Promise((resolve, reject) => {
      const callback = (err: AckTimeoutError | null, responses: unknown): void => {
        if (err) {
          err.responses = responses;
          reject(err);
        } else {
          resolve(responses as FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>);
        }
      };
      const emitArgs = [...args, callback] as unknown as EventParams<EmitEvents, Ev>;
      this.emit(ev, ...emitArgs);
    });
  }

  /**
   * The ids of the targeted sockets.
   *
   * @deprecated use {@link fetchSockets}.
   */
  allSockets(): Promise<Set<SocketId>> {
    return this.#adapter.sockets(this.#rooms);
  }

  /** The targeted sockets (with a cluster adapter, those of the other servers too). */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.#adapter.fetchSockets(this.#options()).then((sockets) => {
      const found = sockets.map((socket) =>
        isLocalSocket(socket)
          ? // A local Socket has everything a RemoteSocket has (and more).
            (socket as unknown as RemoteSocket<EmitEvents, SocketData>)
          : new RemoteSocket<EmitEvents, SocketData>(this.#adapter, socket),
      );
      // A cluster adapter's word on how complete the list is (see ClusterAnswer) stays on it.
      const answer = answerOf(sockets);
      return answer === undefined ? found : markAnswer(found, answer.missingNodes);
    });
  }

  /** Makes the targeted sockets join `room` (or each room of an array). */
  socketsJoin(room: Room | readonly Room[]): void {
    this.#adapter.addSockets(this.#options(), toArray(room));
  }

  /** Makes the targeted sockets leave `room` (or each room of an array). */
  socketsLeave(room: Room | readonly Room[]): void {
    this.#adapter.delSockets(this.#options(), toArray(room));
  }

  /** Disconnects the targeted sockets; with `close`, their whole connection. */
  disconnectSockets(close = false): void {
    this.#adapter.disconnectSockets(this.#options(), close);
  }

  #withFlags(flags: BroadcastFlags): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#adapter, this.#rooms, this.#exceptRooms, {
      ...this.#flags,
      ...flags,
    });
  }

  #options(): BroadcastOptions {
    return { rooms: this.#rooms, except: this.#exceptRooms, flags: this.#flags };
  }
}

function union(rooms: ReadonlySet<Room>, more: Room | readonly Room[]): Set<Room> {
  const result = new Set(rooms);
  if (Array.isArray(more)) for (const room of more) result.add(room);
  else result.add(more as Room);
  return result;
}

function toArray(room: Room | readonly Room[]): Room[] {
  return Array.isArray(room) ? [...room] : [room as Room];
}

function isLocalSocket(socket: AdapterSocket | SocketDetails): socket is AdapterSocket {
  return "client" in socket;
}

/**
 * A socket as {@link BroadcastOperator.fetchSockets} gives it: its details and the actions that
 * work on any server of a cluster. (Sockets of this server are returned as themselves.)
 */
export class RemoteSocket<EmitEvents extends EventsMap, SocketData>
  implements TypedEventBroadcaster<EmitEvents>
{
  /** The socket's id. */
  readonly id: SocketId;
  /** The socket's handshake. */
  readonly handshake: Handshake;
  /** The rooms the socket was in when fetched. */
  readonly rooms: Set<Room>;
  /** The socket's `data` when fetched. */
  readonly data: SocketData;
  readonly #operator: BroadcastOperator<EmitEvents, SocketData>;

  constructor(adapter: NamespaceAdapter, details: SocketDetails) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data as SocketData;
    // One response expected, so that an emit with acknowledgement behaves like socket.emit.
    this.#operator = new BroadcastOperator(adapter, new Set([this.id]), NO_ROOMS, {
      expectSingleResponse: true,
    });
  }

  /** Waits at most `timeout` ms for the acknowledgement of the next emit. */
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return this.#operator.timeout(timeout);
  }

  /** Emits to this socket. */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#operator.emit(ev, ...args);
  }

  /** Makes the socket join `room` (or each room of an array). */
  join(room: Room | readonly Room[]): void {
    this.#operator.socketsJoin(room);
  }

  /** Makes the socket leave `room` (or each room of an array). */
  leave(room: Room | readonly Room[]): void {
    this.#operator.socketsLeave(room);
  }

  /** Disconnects the socket; with `close`, its whole connection. */
  disconnect(close = false): this {
    this.#operator.disconnectSockets(close);
    return this;
  }
}
