/**
 * `Server`: the Socket.IO server. Owns the Engine.IO server, the namespaces (static and dynamic)
 * and the options; forwards the main namespace's API (`io.emit`, `io.to`, `io.on("connection")`).
 */
import { EventEmitter } from "node:events";
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { Server as HttpsServer } from "node:https";
import { EngineServer, type EngineSocket } from "../engine/index.js";
import { Adapter, type AdapterConstructor, type Room, type SocketId } from "./adapter.js";
import type { BroadcastOperator, RemoteSocket } from "./broadcast-operator.js";
import { Client } from "./client.js";
import { SessionAwareAdapter } from "./in-memory-adapter.js";
import { Namespace, type NamespaceMiddleware, type ServerReservedEventsMap } from "./namespace.js";
import {
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_PATH,
  type ResolvedServerOptions,
  resolveRecovery,
  type ServerOptions,
} from "./options.js";
import { PACKET_ENCODER, type PacketEncoder } from "./packet-encoding.js";
import { ParentNamespace, type ParentNspNameMatchFn } from "./parent-namespace.js";
import { createClientBundleHandler } from "./serve-client.js";
import type { Socket } from "./socket.js";
import {
  type AllButLast,
  type DecorateAcknowledgements,
  type DecorateAcknowledgementsWithMultipleResponses,
  type DecorateAcknowledgementsWithTimeoutAndMultipleResponses,
  type DefaultEventsMap,
  type DefaultSocketData,
  type EventNames,
  type EventNamesWithAck,
  type EventParams,
  type EventsMap,
  type FirstNonErrorArg,
  type Last,
  type MessageParams,
  type RemoveAcknowledgements,
  StrictEventEmitter,
} from "./typed-events.js";

/** An HTTP(S) server Socket.IO can attach to. */
export type AttachableServer = HttpServer | HttpsServer;

/**
 * The Socket.IO server.
 *
 * @typeParam ListenEvents - events the clients send (`socket.on`)
 * @typeParam EmitEvents - events sent to the clients (`socket.emit`, `io.emit`)
 * @typeParam ServerSideEvents - events between servers of a cluster (`io.serverSideEmit`)
 * @typeParam SocketData - the type of `socket.data`
 *
 * @example
 * import { createServer } from "node:http";
 * import { Server } from "duplexio";
 *
 * const httpServer = createServer();
 * const io = new Server(httpServer, { connectionStateRecovery: {} });
 * io.on("connection", (socket) => {
 *   socket.on("chat", (text: string) => io.emit("chat", text));
 * });
 * httpServer.listen(3000);
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = DefaultSocketData,
> extends StrictEventEmitter<
  ServerSideEvents,
  RemoveAcknowledgements<EmitEvents>,
  ServerReservedEventsMap<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> {
  /** The main namespace ("/"), to which `io.on`, `io.use`, `io.emit`... forward. */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The HTTP server attached to (created by `attach(port)` / `listen(port)`). */
  httpServer: AttachableServer | undefined;
  /** @internal The namespaces by name. */
  readonly _nsps: Map<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> =
    new Map();

  readonly #opts: ResolvedServerOptions;
  readonly #parentNsps = new Map<
    ParentNspNameMatchFn,
    ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  readonly #parentNamespacesFromRegExp = new Map<
    RegExp,
    ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  #engine: EngineServer | undefined;
  #adapter: AdapterConstructor;
  #serveClient: boolean;
  #path: string;
  #connectTimeout: number;

  /** Creates a server, attached to nothing yet (see {@link attach}). */
  constructor(opts?: ServerOptions);
  /** Creates a server attached to `srv`, or to a new HTTP server listening on port `srv`. */
  constructor(srv: AttachableServer | number | undefined, opts?: ServerOptions);
  /** Either of the above, decided at run time (the `require("duplexio")(srv, opts)` function). */
  constructor(srv?: AttachableServer | number | ServerOptions, opts?: ServerOptions);
  constructor(srv?: AttachableServer | number | ServerOptions, opts: ServerOptions = {}) {
    super();
    if (typeof srv === "object" && srv !== null && !isHttpServer(srv)) {
      opts = srv;
      srv = undefined;
    }
    const recovery = resolveRecovery(opts.connectionStateRecovery);
    this.#opts = {
      ...opts,
      connectionStateRecovery: recovery,
      cleanupEmptyChildNamespaces: opts.cleanupEmptyChildNamespaces === true,
    };
    this.#path = opts.path ?? DEFAULT_PATH;
    this.#connectTimeout = opts.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    this.#serveClient = opts.serveClient !== false;
    this.#adapter = opts.adapter ?? (recovery ? SessionAwareAdapter : Adapter);
    this.sockets = this.of("/");
    if (srv !== undefined) this.attach(srv as AttachableServer | number);
  }

  /**
   * The options, defaults resolved (`opts.connectionStateRecovery` is undefined when recovery is
   * off), as namespaces and adapters read them (socket.io's adapters read `server.opts` too).
   */
  get opts(): ResolvedServerOptions {
    return this.#opts;
  }

  /**
   * The Socket.IO packet encoder (socket.io-parser's interface), for adapters that encode packets
   * themselves, as socket.io-adapter's do: `encode(packet)` gives the text part, then the binary
   * attachments.
   */
  readonly encoder: PacketEncoder = PACKET_ENCODER;

  /**
   * The Engine.IO server (created on first use with the Engine.IO options given to the
   * constructor, if nothing was attached yet).
   */
  get engine(): EngineServer {
    if (this.#engine === undefined) this.bind(new EngineServer(this.#engineOptions()));
    return this.#engine!;
  }

  /** Whether the client bundle would be served (accepted for compatibility; nothing is served yet). */
  serveClient(): boolean;
  /** Sets whether to serve the client bundle (accepted for compatibility; nothing is served yet). */
  serveClient(v: boolean): this;
  serveClient(v?: boolean): this | boolean {
    if (v === undefined) return this.#serveClient;
    this.#serveClient = v;
    return this;
  }

  /** The path of Socket.IO requests. */
  path(): string;
  /** Sets the path of Socket.IO requests (before attaching). */
  path(v: string): this;
  path(v?: string): this | string {
    if (v === undefined) return this.#path;
    this.#path = v;
    return this;
  }

  /** Milliseconds a connection may stay without joining a namespace. */
  connectTimeout(): number;
  /** Sets the connect timeout, in milliseconds. */
  connectTimeout(v: number): this;
  connectTimeout(v?: number): this | number {
    if (v === undefined) return this.#connectTimeout;
    this.#connectTimeout = v;
    return this;
  }

  /** The adapter class or factory. */
  adapter(): AdapterConstructor;
  /** Sets the adapter (existing namespaces get a new one). */
  adapter(v: AdapterConstructor): this;
  adapter(v?: AdapterConstructor): this | AdapterConstructor {
    if (v === undefined) return this.#adapter;
    this.#adapter = v;
    for (const nsp of this._nsps.values()) nsp._initAdapter();
    return this;
  }

  /** Same as {@link attach}. */
  listen(srv: AttachableServer | number, opts: ServerOptions = {}): this {
    return this.attach(srv, opts);
  }

  /**
   * Attaches to an HTTP(S) server, or to a new HTTP server listening on port `srv` (which
   * answers 404 to other requests). `opts` are merged into the constructor's.
   *
   * @throws Error when given an Express-style request handler instead of a server.
   */
  attach(srv: AttachableServer | number, opts: ServerOptions = {}): this {
    if (typeof srv === "function") {
      throw new Error(
        "You are trying to attach socket.io to an express request handler function. Please pass a http.Server instance.",
      );
    }
    let server: AttachableServer;
    if (typeof srv === "object") {
      server = srv;
    } else {
      // A port may come as a string too (socket.io accepts "3000").
      server = createServer((_request, response) => {
        response.writeHead(404);
        response.end();
      });
      server.listen(Number(srv));
    }
    Object.assign(this.#opts, opts, {
      connectionStateRecovery: this.#opts.connectionStateRecovery,
      cleanupEmptyChildNamespaces: this.#opts.cleanupEmptyChildNamespaces,
    });
    if (opts.path !== undefined) this.#path = opts.path;
    if (this.#engine === undefined) this.bind(new EngineServer(this.#engineOptions()));
    this.#engine!.attach(server, { ...this.#engineOptions(), path: this.#path });
    this.#routeClientBundle(server);
    this.httpServer = server;
    return this;
  }

  /**
   * Puts the client bundle handler in front of the server's request listeners (the Engine.IO
   * routing among them); `serveClient(false)` later turns it off without re-attaching.
   */
  #routeClientBundle(server: AttachableServer): void {
    const handler = createClientBundleHandler(this.#path);
    const previous = server.listeners("request").slice();
    server.removeAllListeners("request");
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      if (this.#serveClient && handler(request, response)) return;
      for (const listener of previous) listener.call(server, request, response);
    });
  }

  /** Uses `engine` (an Engine.IO server) for the connections. */
  bind(engine: EngineServer): this {
    this.#engine = engine;
    engine.on("connection", (conn: EngineSocket) => {
      new Client(this, conn);
    });
    return this;
  }

  #engineOptions(): ServerOptions {
    return { ...this.#opts, path: this.#path };
  }

  /**
   * The namespace `name` (created if needed). With a RegExp or a function, a parent namespace
   * whose children are created when clients connect to matching names.
   *
   * @param fn - optional "connection" listener
   */
  of(
    name: string | RegExp | ParentNspNameMatchFn,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name === "function" || name instanceof RegExp) {
      const parent = new ParentNamespace(this);
      if (typeof name === "function") {
        this.#parentNsps.set(name, parent);
      } else {
        const regex = name;
        this.#parentNsps.set((nsp, _auth, next) => next(null, regex.test(nsp)), parent);
        this.#parentNamespacesFromRegExp.set(regex, parent);
      }
      if (fn) parent.on("connect", fn);
      return parent;
    }
    if (!String(name).startsWith("/")) name = `/${name}`;
    let nsp = this._nsps.get(name);
    if (nsp === undefined) {
      for (const [regex, parent] of this.#parentNamespacesFromRegExp) {
        if (regex.test(name)) return parent.createChild(name);
      }
      nsp = new Namespace(this, name);
      this._nsps.set(name, nsp);
      if (name !== "/") this._emitNewNamespace(nsp);
    }
    if (fn) nsp.on("connect", fn);
    return nsp;
  }

  /** @internal Emits "new_namespace" (listened to on the main namespace). */
  _emitNewNamespace(nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    EventEmitter.prototype.emit.call(this.sockets, "new_namespace", nsp);
  }

  /**
   * @internal Finds a dynamic namespace for `name`: asks each parent's matcher in turn and
   * creates the child of the first that accepts; `fn(false)` when none does.
   */
  _checkNamespace(
    name: string,
    auth: Record<string, unknown>,
    fn: (nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | false) => void,
  ): void {
    const matchers = [...this.#parentNsps.keys()];
    const next = (i: number): void => {
      if (i >= matchers.length) {
        fn(false);
        return;
      }
      const matcher = matchers[i]!;
      let answered = false;
      const answer = (err: Error | null, allow: boolean): void => {
        if (answered) return;
        answered = true;
        if (err || !allow) {
          next(i + 1);
          return;
        }
        const existing = this._nsps.get(name);
        if (existing !== undefined) {
          // Created in the meantime (another client, or another matcher).
          fn(existing);
          return;
        }
        const parent = this.#parentNsps.get(matcher);
        if (parent === undefined) {
          next(i + 1);
          return;
        }
        fn(parent.createChild(name));
      };
      try {
        matcher(name, auth, answer);
      } catch (error) {
        // A throwing matcher refuses the name rather than crashing the connection's handler.
        answer(error instanceof Error ? error : new Error(String(error)), false);
      }
    };
    next(0);
  }

  /**
   * Closes the server: every socket disconnects ("server shutting down"), adapters close, the
   * Engine.IO server closes its sessions, and the attached HTTP server closes.
   *
   * @param fn - called once the HTTP server is closed (with its error, if any)
   */
  async close(fn?: (err?: Error) => void): Promise<void> {
    await Promise.allSettled(
      [...this._nsps.values()].map(async (nsp) => {
        for (const socket of [...nsp.sockets.values()]) socket._onclose("server shutting down");
        await nsp.adapter.close();
      }),
    );
    this.#engine?.close();
    const httpServer = this.httpServer;
    if (httpServer === undefined) {
      fn?.();
      return;
    }
    await new Promise<void>((resolve) => {
      httpServer.close((err) => {
        fn?.(err);
        resolve();
      });
    });
  }

  /** Registers a middleware of the main namespace. */
  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this.sockets.use(fn);
    return this;
  }

  /** Targets `room` on the main namespace. */
  to(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.to(room);
  }

  /** Same as {@link to}. */
  in(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.in(room);
  }

  /** Skips `room` on the main namespace. */
  except(
    room: Room | readonly Room[],
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.except(room);
  }

  /** Emits a "message" event to every socket of the main namespace. */
  send(...args: MessageParams<EmitEvents>): this {
    this.sockets.send(...args);
    return this;
  }

  /** Same as {@link send}. */
  write(...args: MessageParams<EmitEvents>): this {
    this.sockets.write(...args);
    return this;
  }

  /** Sends an event to the other servers of the cluster (see `Namespace.serverSideEmit`). */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<
      DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>,
      Ev & EventNames<DecorateAcknowledgementsWithTimeoutAndMultipleResponses<ServerSideEvents>>
    >
  ): boolean {
    return this.sockets.serverSideEmit(ev, ...args);
  }

  /** {@link serverSideEmit}, resolving with the other servers' responses. */
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]> {
    return this.sockets.serverSideEmitWithAck(ev, ...args);
  }

  /**
   * The ids of the sockets of the main namespace.
   *
   * @deprecated use {@link fetchSockets}.
   */
  allSockets(): Promise<Set<SocketId>> {
    return this.sockets.allSockets();
  }

  /** Allows or forbids compression on the main namespace's next broadcast. */
  compress(
    compress: boolean,
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.compress(compress);
  }

  /** A volatile broadcast on the main namespace. */
  get volatile(): BroadcastOperator<
    DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
    SocketData
  > {
    return this.sockets.volatile;
  }

  /** A broadcast to this server's sockets of the main namespace. */
  get local(): BroadcastOperator<
    DecorateAcknowledgementsWithMultipleResponses<EmitEvents>,
    SocketData
  > {
    return this.sockets.local;
  }

  /** A broadcast on the main namespace waiting at most `timeout` ms for acknowledgements. */
  timeout(
    timeout: number,
  ): BroadcastOperator<
    DecorateAcknowledgements<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>>,
    SocketData
  > {
    return this.sockets.timeout(timeout);
  }

  /** The sockets of the main namespace. */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.sockets.fetchSockets();
  }

  /** Makes every socket of the main namespace join `room`. */
  socketsJoin(room: Room | readonly Room[]): void {
    this.sockets.socketsJoin(room);
  }

  /** Makes every socket of the main namespace leave `room`. */
  socketsLeave(room: Room | readonly Room[]): void {
    this.sockets.socketsLeave(room);
  }

  /** Disconnects every socket of the main namespace; with `close`, their connections. */
  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }
}

function isHttpServer(value: object): value is AttachableServer {
  return typeof (value as { listen?: unknown }).listen === "function";
}

// EventEmitter methods of the server act on the main namespace: `io.on("connection", ...)` is
// `io.of("/").on("connection", ...)`, `io.emit(...)` broadcasts to it, and so on.
for (const method of Object.getOwnPropertyNames(EventEmitter.prototype)) {
  if (method === "constructor") continue;
  const original = Object.getOwnPropertyDescriptor(EventEmitter.prototype, method)?.value;
  if (typeof original !== "function") continue;
  Object.defineProperty(Server.prototype, method, {
    configurable: true,
    writable: true,
    value(this: Server, ...args: unknown[]): unknown {
      const target = this.sockets as unknown as Record<string, (...a: unknown[]) => unknown>;
      const result = target[method]!.apply(this.sockets, args);
      // Chaining (`io.on(...).on(...)`) continues on the server.
      return result === this.sockets ? this : result;
    },
  });
}
