/**
 * `Server`: the Socket.IO server. Owns the Engine.IO server, the namespaces (static and dynamic)
 * and the options; forwards the main namespace's API (`io.emit`, `io.to`, `io.on("connection")`).
 */
import { EventEmitter } from "node:events";
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Http2SecureServer } from "node:http2";
import type { Server as HttpsServer } from "node:https";
import { createHttpServer } from "../engine/http-server.js";
import { DEFAULT_CLOSE_TIMEOUT, EngineServer, type EngineSocket } from "../engine/index.js";
import type { EngineBinding } from "../engine/session-forwarder.js";
import { Adapter, type AdapterConstructor, type Room, type SocketId } from "./adapter.js";
import type { BroadcastOperator, RemoteSocket } from "./broadcast-operator.js";
import { Client } from "./client.js";
import { SessionAwareAdapter } from "./in-memory-adapter.js";
import { Namespace, type NamespaceMiddleware, type ServerReservedEventsMap } from "./namespace.js";
import {
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_PATH,
  type NamespaceLimits,
  type ResolvedServerOptions,
  resolveNamespaceLimits,
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

/**
 * An HTTP(S) server Socket.IO can attach to. An `http2.createSecureServer({ allowHTTP1: true })`
 * server is one too, as in socket.io: its HTTP/1.1 requests and upgrades are served like an HTTPS
 * server's (a plain `http2.createServer()` is left out: browsers speak no cleartext HTTP/2, and it
 * has no HTTP/1.1 for the WebSocket upgrade).
 */
export type AttachableServer = HttpServer | HttpsServer | Http2SecureServer;

/** Options of {@link Server.close}. */
export interface ServerCloseOptions {
  /**
   * Milliseconds the clients have to leave and the HTTP server to close (default 5000). Then the
   * Engine.IO sessions still open are cut, and so are the HTTP server's connections.
   */
  timeout?: number;
  /**
   * Whether the clients may reconnect (default true, as with socket.io 4's `close()`): they are
   * sent the Engine.IO close only, so socket.io-client sees "transport close" and reconnects, to
   * this server once it is back or to another server of the cluster (restarts, deploys; with
   * connection state recovery they get their session back). `false` is for a server going away
   * for good: each client also gets a DISCONNECT for each of its namespaces, reports
   * "io server disconnect", and does not try to reconnect.
   */
  reconnect?: boolean;
}

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
 *
 * Abuse: `new Server(port)` creates an HTTP server that closes connections which do not send a
 * complete request in time (`httpServerTimeouts`); an HTTP server you pass keeps its own settings,
 * so give it the same ones:
 * `createServer({ headersTimeout: 5000, requestTimeout: 30000, connectionsCheckingInterval: 1000 })`
 * (never an inactivity `timeout` below `pingInterval`: long-polling requests wait that long).
 * Clients are bounded in the namespaces they may use (`maxNamespaceLength`,
 * `maxNamespacesPerClient`, `maxChildNamespaces`) and in what they may send (`maxHttpBufferSize`).
 * Rooms are not limited (as in socket.io): only the application joins sockets to rooms, so when
 * it does so with names a client chose, it should bound them itself.
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
  #limits: NamespaceLimits;
  /** close() was called: connections opened from now on are closed at once. */
  #closing = false;
  /**
   * Child namespaces created by clients' CONNECTs, oldest first, with their parent: what
   * `maxChildNamespaces` counts, and where room is made for a new one.
   */
  readonly #clientChildren = new Map<
    Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();

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
    this.#limits = resolveNamespaceLimits(opts);
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

  /** @internal The namespace limits, resolved (`maxNamespaceLength`, ...). */
  get _limits(): NamespaceLimits {
    return this.#limits;
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
    if (this.#engine !== undefined) this.#bindAdapter(this.#engine);
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
   * The HTTP server created for a port closes connections that do not send a complete request in
   * time (`httpServerTimeouts`: headers within 5 s, a whole request within 30 s), so that idle or
   * trickling connections (slowloris) do not pile up. A server you pass keeps its own settings:
   * give it the same ones (see `HttpServerTimeouts`), e.g.
   * `http.createServer({ headersTimeout: 5000, requestTimeout: 30000, connectionsCheckingInterval: 1000 })`.
   * Do not set its `timeout` (inactivity) below `pingInterval`: long-polling requests wait that
   * long for data.
   *
   * @throws Error when given an Express-style request handler instead of a server.
   * @throws TypeError for invalid options.
   */
  attach(srv: AttachableServer | number, opts: ServerOptions = {}): this {
    if (typeof srv === "function") {
      throw new Error(
        "You are trying to attach socket.io to an express request handler function. Please pass a http.Server instance.",
      );
    }
    this.#limits = resolveNamespaceLimits({ ...this.#opts, ...opts });
    let server: AttachableServer;
    if (typeof srv === "object") {
      server = srv;
    } else {
      // A port may come as a string too (socket.io accepts "3000").
      server = createHttpServer((_request, response) => {
        response.writeHead(404);
        response.end();
      }, opts.httpServerTimeouts ?? this.#opts.httpServerTimeouts);
      server.listen(Number(srv));
    }
    Object.assign(this.#opts, opts, {
      connectionStateRecovery: this.#opts.connectionStateRecovery,
      cleanupEmptyChildNamespaces: this.#opts.cleanupEmptyChildNamespaces,
    });
    this.#closing = false;
    if (opts.path !== undefined) this.#path = opts.path;
    if (this.#engine === undefined) this.bind(new EngineServer(this.#engineOptions()));
    // An HTTP/2 server with allowHTTP1 emits the same "request"/"upgrade" events for HTTP/1.1.
    this.#engine!.attach(server as HttpServer, { ...this.#engineOptions(), path: this.#path });
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
    this.#bindAdapter(engine);
    engine.on("connection", (conn: EngineSocket) => {
      // A session the closing engine let through (it began before close()) goes at once.
      if (this.#closing) {
        conn.close();
        return;
      }
      new Client(this, conn);
    });
    return this;
  }

  /** A cluster adapter that relays requests for other nodes' sessions hooks into the engine. */
  #bindAdapter(engine: EngineServer): void {
    (this.sockets.adapter as Partial<EngineBinding>).bindEngine?.(engine);
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
        fn(this.#createClientChild(parent, name) ?? false);
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
   * A child namespace for a client's CONNECT, within `maxChildNamespaces`: at the limit, the
   * oldest client-created child without sockets (nor connections under way) is removed first.
   * Null when every one is in use.
   */
  #createClientChild(
    parent: ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    name: string,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | null {
    while (this.#clientChildren.size >= this.#limits.maxChildNamespaces) {
      let removed = false;
      for (const [child, childParent] of this.#clientChildren) {
        if (child.sockets.size === 0 && child._connecting === 0) {
          this._removeChild(child, childParent);
          removed = true;
          break;
        }
      }
      if (!removed) return null;
    }
    const child = parent.createChild(name);
    this.#clientChildren.set(child, parent);
    return child;
  }

  /** @internal Removes a child namespace (empty, or being emptied): its adapter closes. */
  _removeChild(
    child: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    parent: ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  ): void {
    if (this._nsps.get(child.name) === child) this._nsps.delete(child.name);
    parent.children.delete(child);
    this.#clientChildren.delete(child);
    // A failing adapter close (a cluster adapter's) must not surface as an unhandled rejection.
    Promise.resolve()
      .then(() => child.adapter.close())
      .catch(() => {});
  }

  /**
   * Closes the server, gracefully:
   *
   * 1. every socket of every namespace leaves with "server shutting down" (its session kept for
   *    connection state recovery); with `reconnect: false` its client is sent a DISCONNECT first;
   *    new connections are refused from now on (HTTP 503: clients retry later);
   * 2. each Engine.IO session is closed politely (what is buffered for it, then the close packet)
   *    and the adapters close;
   * 3. once the sessions are gone, the HTTP server attached to closes.
   *
   * It resolves when all that is done, or after `timeout` ms (default 5000): then the sessions
   * still open are cut and so are the HTTP server's remaining connections (its other routes'
   * included), so that a client that never answers cannot hold the shutdown. socket.io 4's
   * `close()` drops what is buffered for the clients and waits for the HTTP server without limit.
   *
   * @param fn - called once done, with the HTTP server's close error if any (e.g. it was not
   * listening), as socket.io's
   * @returns a promise that resolves once done; it rejects (TypeError) only for a timeout that is
   * not a non-negative number
   */
  close(fn?: (err?: Error) => void): Promise<void>;
  close(options: ServerCloseOptions, fn?: (err?: Error) => void): Promise<void>;
  async close(
    options?: ServerCloseOptions | ((err?: Error) => void),
    fn?: (err?: Error) => void,
  ): Promise<void> {
    if (typeof options === "function") {
      fn = options;
      options = undefined;
    }
    const timeout = options?.timeout ?? DEFAULT_CLOSE_TIMEOUT;
    if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
      throw new TypeError('"timeout" must be a non-negative number of milliseconds');
    }
    const notifyClients = options?.reconnect === false;
    const deadline = performance.now() + timeout;
    const remaining = (): number => Math.max(0, deadline - performance.now());
    this.#closing = true;
    const namespaces = [...this._nsps.values()];
    for (const nsp of namespaces) {
      for (const socket of [...nsp.sockets.values()]) socket._shutdown(notifyClients);
    }
    // Started before anything is awaited, so that no CONNECT slips in meanwhile: a closing
    // session accepts none.
    const engine = this.#engine;
    const sessionsGone =
      engine === undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) => engine.close({ timeout }, resolve));
    await withDeadline(
      Promise.allSettled(namespaces.map(async (nsp) => nsp.adapter.close())),
      remaining(),
    );
    await sessionsGone;
    const httpServer = this.httpServer;
    if (httpServer === undefined) {
      fn?.();
      return;
    }
    await new Promise<void>((resolve) => {
      let settled = false;
      const done = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn?.(err);
        resolve();
      };
      const timer = setTimeout(() => {
        // Not listening any more; what is still connected (a request that never ends) is cut.
        (httpServer as HttpServer).closeAllConnections?.();
        done();
      }, remaining());
      httpServer.close((err) => done(err));
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

/** Waits for `promise`, at most `ms` milliseconds. */
async function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
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
