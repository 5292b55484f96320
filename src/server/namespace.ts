/**
 * `Namespace`: a channel multiplexed over the connections, with its own sockets, middlewares,
 * rooms (its adapter) and events.
 */
import {
  createAdapter,
  type NamespaceAdapter,
  type Room,
  type Session,
  type SocketId,
} from "./adapter.js";
import { BroadcastOperator, type RemoteSocket } from "./broadcast-operator.js";
import type { Client } from "./client.js";
import type { Server } from "./server.js";
import { Socket } from "./socket.js";
import type { ExtendedError } from "./socket-types.js";
import {
  type AllButLast,
  type DecorateAcknowledgements,
  type DecorateAcknowledgementsWithMultipleResponses,
  type DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  type DefaultEventsMap,
  type DefaultSocketData,
  type EventNames,
  type EventNamesWithAck,
  type EventNamesWithoutAck,
  type EventParams,
  type EventsMap,
  type FirstNonErrorArg,
  type Last,
  type MessageParams,
  type RemoveAcknowledgements,
  StrictEventEmitter,
} from "./typed-events.js";

/** Events a namespace emits itself. */
export interface NamespaceReservedEventsMap<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> {
  /** A socket connected (same as "connection"). */
  connect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  /** A socket connected. */
  connection: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

/** Events the server (its main namespace) emits itself. */
export interface ServerReservedEventsMap<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> extends NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  /** A namespace was created (including dynamic child namespaces). */
  new_namespace: (
    namespace: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  ) => void;
}

/** Names a namespace reserves for `serverSideEmit`. */
const NAMESPACE_RESERVED_EVENTS: ReadonlySet<string | symbol> = new Set([
  "connect",
  "connection",
  "new_namespace",
]);

/** A namespace middleware: `next()` accepts the socket, `next(err)` refuses it (CONNECT_ERROR). */
export type NamespaceMiddleware<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> = (
  socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  next: (err?: ExtendedError) => void,
) => void;

/**
 * A namespace. `io.of("/orders")` gets one; `io` itself forwards to the main namespace "/".
 *
 * @example
 * const orders = io.of("/orders");
 * orders.use((socket, next) => (socket.handshake.auth.token ? next() : next(new Error("no token"))));
 * orders.on("connection", (socket) => {
 *   socket.join("room1");
 *   orders.to("room1").emit("hello");
 * });
 */
export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = DefaultSocketData,
> extends StrictEventEmitter<
  ServerSideEvents,
  RemoveAcknowledgements<EmitEvents>,
  NamespaceReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  /** The namespace's name ("/" for the main one). */
  readonly name: string;
  /** The connected sockets of this namespace on this server, by id. */
  readonly sockets: Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> =
    new Map();
  /** The adapter (rooms and broadcasts). */
  adapter!: NamespaceAdapter;
  /** The server. */
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** @internal The next acknowledgement id (shared by emits and broadcasts of the namespace). */
  _ids = 0;
  /** @internal The middlewares. */
  _fns: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[] = [];
  /** @internal Connections to this namespace under way (so that it is not removed meanwhile). */
  _connecting = 0;
  /**
   * Default acknowledgement timeout of this namespace's emits and broadcasts, in milliseconds
   * (initially the server's `ackTimeout` option; a dynamic namespace's children take their
   * parent's): an emit with a callback and no `timeout(ms)` gets `timeout(ackTimeout)`. Set it
   * to change it for this namespace only, `undefined` to wait forever (socket.io's behaviour).
   *
   * @example
   * io.of("/admin").ackTimeout = 30_000;
   */
  ackTimeout: number | undefined;

  /** @internal Namespaces are created by `io.of(name)`. */
  constructor(
    server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    name: string,
  ) {
    super();
    this.server = server;
    this.name = name;
    this.ackTimeout = server.opts.ackTimeout;
    this._initAdapter();
  }

  /** @internal Creates the adapter (again, when `io.adapter(...)` changes it). */
  _initAdapter(): void {
    this.adapter = createAdapter(this.server.adapter(), this);
    void this.adapter.init();
  }

  /** Registers a middleware run for every socket connecting to this namespace. */
  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this._fns.push(fn);
    return this;
  }

  /** Targets `room` (or each room of an array). */
  to(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().to(room);
  }

  /** Same as {@link to}. */
  in(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().in(room);
  }

  /** Skips the sockets in `room` (or in any room of an array). */
  except(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().except(room);
  }

  /** Allows or forbids compression of what is sent. */
  compress(
    compress: boolean,
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().compress(compress);
  }

  /** Drops the event for clients that cannot take it right now. */
  get volatile(): BroadcastOperator<
    DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
    SocketData
  > {
    return this.#operator().volatile;
  }

  /** Only this server's clients. */
  get local(): BroadcastOperator<
    DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
    SocketData
  > {
    return this.#operator().local;
  }

  /** Waits at most `timeout` ms for the acknowledgements of the next broadcast. */
  timeout(
    timeout: number,
  ): BroadcastOperator<
    DecorateAcknowledgements<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>>,
    SocketData
  > {
    return this.#operator().timeout(timeout);
  }

  #operator(): BroadcastOperator<
    DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
    SocketData
  > {
    return new BroadcastOperator(this.adapter);
  }

  /**
   * Emits to every socket of the namespace (encoded once). For acknowledgements, use
   * `timeout(ms).emit(...)`.
   *
   * @returns true
   */
  override emit<Ev extends EventNamesWithoutAck<EmitEvents>>(
    ev: Ev,
    ...args: EventParams<EmitEvents, Ev>
  ): boolean {
    return new BroadcastOperator<EmitEvents, SocketData>(this.adapter).emit(ev, ...args);
  }

  /** Emits a "message" event to every socket. */
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
    const operator = new BroadcastOperator(this.adapter) as BroadcastOperator<
      { message: (...args: unknown[]) => void },
      SocketData
    >;
    operator.emit("message", ...args);
  }

  /**
   * Sends an event to the other servers of the cluster (their namespace of the same name emits
   * it). A callback as last argument collects their acknowledgements: with a single server,
   * it gets `(null, [])`.
   *
   * @throws Error for a reserved event name.
   */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<
      DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>,
      Ev & EventNames<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>>
    >
  ): boolean {
    if (NAMESPACE_RESERVED_EVENTS.has(ev)) {
      throw new Error(`"${String(ev)}" is a reserved event name`);
    }
    this.adapter.serverSideEmit([ev, ...args]);
    return true;
  }

  /** {@link serverSideEmit}, resolving with the other servers' responses. */
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]> {
    return new Promise((resolve, reject) => {
      const callback = (err: (Error & { responses?: unknown }) | null, responses: unknown) => {
        if (err) {
          err.responses = responses;
          reject(err);
        } else {
          resolve(responses as FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]);
        }
      };
      if (NAMESPACE_RESERVED_EVENTS.has(ev)) {
        reject(new Error(`"${String(ev)}" is a reserved event name`));
        return;
      }
      this.adapter.serverSideEmit([ev, ...args, callback]);
    });
  }

  /** @internal An event from another server (called by cluster adapters). */
  _onServerSideEmit(args: unknown[]): void {
    if (args.length === 0 || typeof args[0] !== "string") return;
    this.emitUntyped(args as [string, ...unknown[]]);
  }

  /**
   * The ids of the sockets of this namespace.
   *
   * @deprecated use {@link fetchSockets}.
   */
  allSockets(): Promise<Set<SocketId>> {
    return this.#operator().allSockets();
  }

  /** The sockets of this namespace (all servers of a cluster). */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return new BroadcastOperator<EmitEvents, SocketData>(this.adapter).fetchSockets();
  }

  /** Makes every socket join `room` (or each room of an array). */
  socketsJoin(room: Room | readonly Room[]): void {
    this.#operator().socketsJoin(room);
  }

  /** Makes every socket leave `room` (or each room of an array). */
  socketsLeave(room: Room | readonly Room[]): void {
    this.#operator().socketsLeave(room);
  }

  /** Disconnects every socket; with `close`, their whole connections. */
  disconnectSockets(close = false): void {
    this.#operator().disconnectSockets(close);
  }

  /**
   * @internal Connects `client` to this namespace: restores its session when asked and
   * possible, runs the middlewares, then sends CONNECT (or CONNECT_ERROR).
   * @param onConnect - called with the socket once it is connected, before "connection"
   * @returns a promise settled once the attempt is over (accepted, refused or abandoned)
   */
  async _add(
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, unknown>,
    onConnect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Promise<void> {
    this._connecting++;
    try {
      await this.#add(client, auth, onConnect);
    } finally {
      this._connecting--;
    }
  }

  async #add(
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, unknown>,
    onConnect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Promise<void> {
    const socket = await this.#createSocket(client, auth);
    const recovery = this.server.opts.connectionStateRecovery;
    if (recovery?.skipMiddlewares && socket.recovered && client.conn.readyState === "open") {
      this.#doConnect(socket, onConnect);
      return;
    }
    const err = await this.#runMiddlewares(socket);
    // As in socket.io, the outcome is applied on a fresh tick.
    await new Promise<void>((resolve) => process.nextTick(resolve));
    if (client.conn.readyState !== "open") {
      socket._cleanup();
      return;
    }
    if (err !== undefined) {
      socket._cleanup();
      const data = connectErrorData(err);
      try {
        socket._error(data);
      } catch {
        // `err.data` could not be encoded (circular, BigInt...): the message alone still can.
        socket._error({ message: data.message });
      }
      return;
    }
    this.#doConnect(socket, onConnect);
  }

  async #createSocket(
    client: Client<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    auth: Record<string, unknown>,
  ): Promise<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> {
    const pid = auth.pid;
    const offset = auth.offset;
    // Without an offset the client received no packet yet: adapters that know where its
    // session started can still restore it.
    if (
      this.server.opts.connectionStateRecovery &&
      typeof pid === "string" &&
      (typeof offset === "string" || offset === undefined)
    ) {
      let session: Session | null = null;
      try {
        session = await this.adapter.restoreSession(pid, offset);
      } catch {
        // A failing store (e.g. a cluster adapter's) means no recovery, not no connection.
        session = null;
      }
      if (session) return new Socket(this, client, auth, session);
    }
    return new Socket(this, client, auth);
  }

  /** Runs the middlewares; resolves with the first error, or undefined when all passed. */
  #runMiddlewares(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  ): Promise<unknown> {
    const fns = this._fns.slice();
    if (fns.length === 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const run = (i: number): void => {
        let called = false;
        fns[i]!(socket, (err) => {
          if (called) return;
          called = true;
          if (err) resolve(err);
          else if (i + 1 < fns.length) run(i + 1);
          else resolve(undefined);
        });
      };
      run(0);
    });
  }

  #doConnect(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    onConnect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): void {
    this.sockets.set(socket.id, socket);
    // The socket's own bookkeeping comes before user listeners, which may disconnect it.
    socket._onconnect();
    onConnect(socket);
    this.emitReserved("connect", socket);
    this.emitReserved("connection", socket);
  }

  /** @internal Forgets a socket (called by the socket as it leaves). */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    if (this.sockets.get(socket.id) === socket) this.sockets.delete(socket.id);
  }
}

/** The CONNECT_ERROR data for a middleware's error: `{ message, data }`. */
function connectErrorData(err: unknown): { message: string; data?: unknown } {
  if (err instanceof Error) {
    const data = (err as ExtendedError).data;
    return data === undefined ? { message: err.message } : { message: err.message, data };
  }
  return { message: String(err) };
}
