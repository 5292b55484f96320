/**
 * `EngineServer`: the Engine.IO v4 server (with revision 3 behind `allowEIO3`). It routes HTTP
 * long-polling requests and WebSocket upgrades to sessions, checks each request as the protocol
 * requires (answering refusals with the protocol's error codes), runs handshakes, and attaches
 * to an application's HTTP server without disturbing its other routes.
 * @module
 */

import { EventEmitter } from "node:events";
import type {
  Server as HttpServer,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { debugLogger } from "../websocket/debug.js";
import { WebSocketServer } from "../websocket/server.js";
import { DEFAULT_WHEEL_TICK, TimerWheel } from "../websocket/timer-wheel.js";
import type { WebSocket } from "../websocket/websocket.js";
import { serializeCookie } from "./cookie.js";
import { createCorsMiddleware } from "./cors.js";
import { type EnginePacketEvent, type EngineSessionHost, EngineSocket } from "./engine-socket.js";
import {
  ENGINE_ERROR_MESSAGES,
  EngineErrorCode,
  type EngineErrorContext,
  errorMessage,
  rejectUpgrade,
  respondWithError,
} from "./errors.js";
import { routeEngineRequests } from "./http-routing.js";
import { runMiddlewares } from "./middlewares.js";
import {
  type AttachOptions,
  computePath,
  type EngineMiddleware,
  type EngineServerOptions,
  type ResolvedEngineOptions,
  resolveOptions,
  type TransportName,
} from "./options.js";
import { randomId } from "./random-id.js";
import { type Verdict, verifyRequest } from "./request-checks.js";
import { prepareQuery, protocolOf } from "./request-query.js";
import type { SessionForwarder } from "./session-forwarder.js";
import { type PollingSettings, PollingTransport } from "./transports/polling.js";
import type { Transport } from "./transports/transport.js";
import { WebSocketTransport } from "./transports/websocket.js";
import { UpgradeResponse } from "./upgrade-response.js";

/** Why a handshake is refused during `close()` (answered with HTTP 503). */
const debug = debugLogger("duplexio:engine");

const SHUTTING_DOWN: EngineErrorContext = Object.freeze({
  name: "SERVER_SHUTTING_DOWN",
  message: "Server shutting down",
});

/** Argument of the `connection_error` event. */
export interface EngineConnectionError {
  req: IncomingMessage;
  code: EngineErrorCode;
  message: string;
  context: EngineErrorContext;
}

/** Options of {@link EngineServer.close}. */
export interface EngineCloseOptions {
  /**
   * Milliseconds the sessions have to close politely (their buffered packets, then the close
   * packet, delivered) before those still open are cut (default 5000).
   */
  timeout?: number;
}

/** Default of {@link EngineCloseOptions.timeout}. */
export const DEFAULT_CLOSE_TIMEOUT = 5000;

/** Events of {@link EngineServer}. */
export interface EngineServerEventMap {
  /** A new session. */
  connection: [socket: EngineSocket];
  /** A request was refused. */
  connection_error: [error: EngineConnectionError];
  /** Headers of a handshake response (polling or WebSocket), before they are written. */
  initial_headers: [headers: OutgoingHttpHeaders, request: IncomingMessage];
  /** Headers of every response, before they are written. */
  headers: [headers: OutgoingHttpHeaders, request: IncomingMessage];
  /** A session hands its write buffer to its transport. */
  flush: [socket: EngineSocket, packets: EnginePacketEvent[]];
  /** A session's write buffer was handed to its transport. */
  drain: [socket: EngineSocket];
}

/**
 * The Engine.IO server. Attach it to an HTTP server (`attach`), or hand it requests yourself
 * (`handleRequest`, `handleUpgrade`).
 *
 * ```ts
 * const engine = new EngineServer({ pingInterval: 10_000 });
 * engine.attach(httpServer);
 * engine.on("connection", (socket) => socket.send("hello"));
 * ```
 */
export class EngineServer extends EventEmitter<EngineServerEventMap> {
  /** The protocol's error codes, under engine.io's names. */
  static readonly errors = {
    UNKNOWN_TRANSPORT: EngineErrorCode.UnknownTransport,
    UNKNOWN_SID: EngineErrorCode.UnknownSid,
    BAD_HANDSHAKE_METHOD: EngineErrorCode.BadHandshakeMethod,
    BAD_REQUEST: EngineErrorCode.BadRequest,
    FORBIDDEN: EngineErrorCode.Forbidden,
    UNSUPPORTED_PROTOCOL_VERSION: EngineErrorCode.UnsupportedProtocolVersion,
  } as const;
  /** The message of each error code. */
  static readonly errorMessages = ENGINE_ERROR_MESSAGES;

  /** The options, defaults filled in. */
  readonly opts: ResolvedEngineOptions;
  /** Open sessions by id. */
  readonly clients = new Map<string, EngineSocket>();
  /** The HTTP server created by `listen()`, if any. */
  httpServer: HttpServer | HttpsServer | undefined;
  /** Serves requests for sessions of other processes (set by a cluster adapter); null: none. */
  sessionForwarder: SessionForwarder | null = null;

  readonly #middlewares: EngineMiddleware[] = [];
  #websocketServer: WebSocketServer | null = null;
  /** Session ids chosen before a WebSocket handshake, for the cookie in its 101 answer. */
  readonly #upgradeIds = new WeakMap<IncomingMessage, string>();
  /** Headers that middlewares set for a WebSocket handshake. */
  readonly #upgradeHeaders = new WeakMap<IncomingMessage, OutgoingHttpHeaders>();
  /**
   * The sessions' deadlines (heartbeats, upgrades; the Socket.IO connect timeout): late by at
   * most a tenth of the shortest of those delays, 100 ms with the defaults.
   */
  readonly #timers: TimerWheel;
  /** What every session needs of the server: one object for all of them. */
  readonly #sessionHost: EngineSessionHost;
  /** What every polling transport needs of the server: one object for all of them. */
  readonly #pollingSettings: PollingSettings;
  /** A `close()` under way: who waits for it, and its deadline. */
  #closing: { callbacks: (() => void)[]; deadline: NodeJS.Timeout } | null = null;

  /** @throws TypeError for invalid options. */
  constructor(options: EngineServerOptions = {}) {
    super();
    this.opts = resolveOptions(options);
    const { pingInterval, pingTimeout, upgradeTimeout } = this.opts;
    const shortest = Math.min(pingInterval, pingTimeout, upgradeTimeout);
    this.#timers = new TimerWheel({
      tick: Math.min(DEFAULT_WHEEL_TICK, Math.max(1, Math.floor(shortest / 10))),
    });
    this.#sessionHost = {
      options: this.opts,
      timers: this.#timers,
      upgrades: (transport) => this.upgrades(transport),
      wantsFlushEvents: () => this.listenerCount("flush") > 0,
      sessionFlushing: (session, packets) => {
        this.emit("flush", session, packets);
      },
      sessionDrained: (session) => {
        if (this.listenerCount("drain") > 0) this.emit("drain", session);
      },
      sessionClosed: (session) => this.#onSessionClosed(session),
    };
    this.#pollingSettings = {
      options: this.opts,
      onHeaders: (headers, request, sid) => this.#addPollingHeaders(headers, request, sid),
    };
    if (this.opts.cors) this.#middlewares.push(createCorsMiddleware(this.opts.cors));
    // Created now so that invalid perMessageDeflate settings throw here, not at the first client.
    if (this.opts.transports.includes("websocket"))
      this.#websocketServer = this.#createWebSocketServer();
  }

  /** Number of open sessions. */
  get clientsCount(): number {
    return this.clients.size;
  }

  /** Adds an Express-style middleware, run on every Engine.IO request before it is checked. */
  use(middleware: EngineMiddleware): this {
    this.#middlewares.push(middleware);
    return this;
  }

  /** Transports a session on `transport` may upgrade to. */
  upgrades(transport: TransportName): string[] {
    if (!this.opts.allowUpgrades) return [];
    return transport === "polling" && this.opts.transports.includes("websocket")
      ? ["websocket"]
      : [];
  }

  /** A new session id (override, or use the `generateId` option, to choose your own). */
  generateId(request: IncomingMessage): string | Promise<string> {
    if (this.opts.generateId) return this.opts.generateId(request);
    const id = randomId();
    return this.sessionForwarder?.markSessionId(id) ?? id;
  }

  /**
   * Takes the Engine.IO requests of `server` (those under the path) and leaves every other
   * request to the listeners it already had.
   */
  attach(server: HttpServer | HttpsServer, options: AttachOptions = {}): this {
    routeEngineRequests(server, this, {
      path: computePath(
        options.path ?? this.opts.path,
        options.addTrailingSlash ?? this.opts.addTrailingSlash,
      ),
      upgrades: this.opts.transports.includes("websocket"),
      destroyUpgrade: options.destroyUpgrade ?? this.opts.destroyUpgrade,
      destroyUpgradeTimeout: options.destroyUpgradeTimeout ?? this.opts.destroyUpgradeTimeout,
    });
    return this;
  }

  /** Handles an Engine.IO HTTP request (polling GET/POST, CORS preflight). Never throws. */
  handleRequest(request: IncomingMessage, response: ServerResponse): void {
    const query = prepareQuery(request);
    // Another process's session: its owner runs the whole request, middlewares included.
    if (query.sid && !this.clients.has(query.sid)) {
      if (this.sessionForwarder?.forwardRequest(query.sid, request, response)) return;
    }
    runMiddlewares(this.#middlewares, request, response, (error) => {
      if (error !== undefined) {
        this.#refuseRequest(request, response, EngineErrorCode.BadRequest, {
          name: "MIDDLEWARE_FAILURE",
          error,
        });
        return;
      }
      // A middleware answered (a CORS preflight, an authentication failure).
      if (response.headersSent || response.writableEnded) return;
      verifyRequest(this, request, query, false, (code, context) => {
        if (code !== undefined) {
          this.#refuseRequest(request, response, code, context);
          return;
        }
        if (query.sid) {
          // verify() checked that the session exists and is on polling.
          const transport = this.clients.get(query.sid)?.transport;
          if (transport instanceof PollingTransport) transport.onRequest(request, response);
          else this.#refuseRequest(request, response, EngineErrorCode.BadRequest);
          return;
        }
        if (this.#closing !== null) {
          this.#refuseRequest(request, response, EngineErrorCode.BadRequest, SHUTTING_DOWN, 503);
          return;
        }
        this.#pollingHandshake(request, response, query);
      });
    });
  }

  /** Handles a WebSocket upgrade request for Engine.IO. Never throws. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const query = prepareQuery(request);
    // The head may be a view on a buffer Node reuses; middlewares and hooks may be asynchronous.
    const ownHead = head.length > 0 ? Buffer.from(head) : head;
    // Only middlewares set headers on it (#addUpgradeHeaders starts from {} without one).
    const response = this.#middlewares.length > 0 ? new UpgradeResponse(request, socket) : null;
    if (response !== null) this.#upgradeHeaders.set(request, response.headers);
    const refuse = (
      code: EngineErrorCode = EngineErrorCode.BadRequest,
      context: EngineErrorContext = {},
      status?: number,
    ): void => {
      this.#upgradeHeaders.delete(request);
      this.#emitConnectionError(request, code, context);
      rejectUpgrade(socket, code, context, status);
    };
    runMiddlewares(this.#middlewares, request, response as unknown as ServerResponse, (error) => {
      if (error !== undefined) {
        refuse(EngineErrorCode.BadRequest, { name: "MIDDLEWARE_FAILURE", error });
        return;
      }
      if (response?.writableEnded || socket.destroyed) return;
      verifyRequest(this, request, query, true, (code, context) => {
        // Another process's session: accepted here, bridged to its owner.
        if (code === EngineErrorCode.UnknownSid && this.sessionForwarder !== null) {
          const accept = (onOpen: (websocket: WebSocket) => void): void =>
            this.#acceptWebSocket(request, socket, ownHead, onOpen);
          if (this.sessionForwarder.forwardUpgrade(query.sid, request, accept)) return;
        }
        if (code !== undefined) {
          refuse(code, context);
          return;
        }
        if (query.transport !== "websocket") {
          refuse(EngineErrorCode.BadRequest, { name: "TRANSPORT_HANDSHAKE_ERROR" });
          return;
        }
        if (query.sid) this.#upgradeSession(request, socket, ownHead, query, refuse);
        else if (this.#closing !== null) refuse(EngineErrorCode.BadRequest, SHUTTING_DOWN, 503);
        else this.#websocketHandshake(request, socket, ownHead, query, refuse);
      });
    });
  }

  /**
   * Closes every session politely ("forced close"): what is buffered for it is sent, then the
   * close packet (a polling client gets it with its next GET). Sessions still open after
   * `options.timeout` ms (default 5000) are cut. Until then new sessions are refused (HTTP 503);
   * afterwards the server accepts them again, as engine.io's does. An attached HTTP server is
   * left running.
   *
   * @param callback - called once every session is gone (at the latest at the deadline)
   * @throws TypeError for a timeout that is not a non-negative number.
   */
  close(options?: EngineCloseOptions | (() => void), callback?: () => void): this {
    if (typeof options === "function") {
      callback = options;
      options = undefined;
    }
    const timeout = options?.timeout ?? DEFAULT_CLOSE_TIMEOUT;
    if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
      throw new TypeError('"timeout" must be a non-negative number of milliseconds');
    }
    if (this.#closing === null) {
      const deadline = setTimeout(() => {
        // Whatever the clients did not finish in time (no poll came for the close packet, a
        // WebSocket that never answers its close) ends now.
        for (const client of [...this.clients.values()]) client._terminate();
        this.#closed();
      }, timeout);
      // A shutdown must not be what keeps the process alive.
      deadline.unref();
      this.#closing = { callbacks: [], deadline };
    }
    if (callback) this.#closing.callbacks.push(callback);
    for (const client of [...this.clients.values()]) client.close();
    if (this.clients.size === 0) this.#closed();
    return this;
  }

  /** Ends a `close()`: its callbacks run, and the server takes new sessions again. */
  #closed(): void {
    const closing = this.#closing;
    if (closing === null) return;
    this.#closing = null;
    clearTimeout(closing.deadline);
    // Only now: closing the WebSocket server closes the connections it still has, which would
    // cut the sessions' own close short (their last packets, the Socket.IO DISCONNECTs among
    // them). The next upgrade request creates a new one.
    if (this.#websocketServer !== null) {
      this.#websocketServer.close();
      this.#websocketServer = null;
    }
    for (const callback of closing.callbacks) process.nextTick(callback);
  }

  // ---- checks ---------------------------------------------------------------------------

  #refuseRequest(
    request: IncomingMessage,
    response: ServerResponse,
    code: EngineErrorCode,
    context: EngineErrorContext = {},
    status?: number,
  ): void {
    this.#emitConnectionError(request, code, context);
    respondWithError(response, code, context, status);
  }

  #emitConnectionError(
    request: IncomingMessage,
    code: EngineErrorCode,
    context: EngineErrorContext,
  ): void {
    debug?.(
      `handshake refused: ${errorMessage(code, context)}${context.name ? ` (${context.name})` : ""}, ${request.method} ${request.url}`,
    );
    this.emit("connection_error", {
      req: request,
      code,
      message: ENGINE_ERROR_MESSAGES[code],
      context,
    });
  }

  // ---- handshakes -----------------------------------------------------------------------

  #pollingHandshake(
    request: IncomingMessage,
    response: ServerResponse,
    query: Record<string, string>,
  ): void {
    const protocol = protocolOf(query, this.opts.allowEIO3)!;
    this.#newId(request, (id, context) => {
      if (id === null) {
        this.#refuseRequest(request, response, EngineErrorCode.BadRequest, context);
        return;
      }
      // The client may have given up while the id was being chosen.
      if (response.destroyed || response.writableEnded) return;
      const transport = new PollingTransport(request, protocol, !query.b64, this.#pollingSettings);
      const socket = this.#register(id, transport, request, protocol);
      transport.onRequest(request, response);
      this.emit("connection", socket);
    });
  }

  #websocketHandshake(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    query: Record<string, string>,
    refuse: Verdict,
  ): void {
    const protocol = protocolOf(query, this.opts.allowEIO3)!;
    this.#newId(request, (id, context) => {
      if (id === null) {
        refuse(EngineErrorCode.BadRequest, context);
        return;
      }
      this.#upgradeIds.set(request, id);
      this.#acceptWebSocket(request, socket, head, (websocket) => {
        if (this.clients.has(id)) {
          websocket.close();
          return;
        }
        const transport = this.#websocketTransport(request, websocket, protocol, query);
        const session = this.#register(id, transport, request, protocol);
        this.emit("connection", session);
      });
    });
  }

  /** A WebSocket for an existing polling session: it probes, then takes over the session. */
  #upgradeSession(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    query: Record<string, string>,
    refuse: Verdict,
  ): void {
    const upgradable = (session: EngineSocket | undefined): session is EngineSocket =>
      session !== undefined &&
      this.opts.allowUpgrades &&
      session.readyState === "open" &&
      session.transport.name === "polling" &&
      !session.upgrading &&
      !session.upgraded;
    const known = this.clients.get(query.sid);
    if (known === undefined || !this.opts.allowUpgrades || known.readyState !== "open") {
      refuse(EngineErrorCode.BadRequest, { name: "UPGRADE_REFUSED" });
      return;
    }
    // A session that already has its WebSocket (upgrading or upgraded) gets this extra one
    // accepted, then closed: the protocol says to close it, as the reference server does, and an
    // HTTP error instead would surface in Node clients as an "error" event rather than a close.
    this.#acceptWebSocket(request, socket, head, (websocket) => {
      // The session may also have closed or started another upgrade during the handshake.
      const session = this.clients.get(query.sid);
      if (!upgradable(session)) {
        websocket.close();
        return;
      }
      session.maybeUpgrade(this.#websocketTransport(request, websocket, session.protocol, query));
    });
  }

  #websocketTransport(
    request: IncomingMessage,
    websocket: WebSocket,
    protocol: 3 | 4,
    query: Record<string, string>,
  ): WebSocketTransport {
    const deflate = this.opts.perMessageDeflate;
    const threshold = deflate ? (deflate.threshold ?? 1024) : -1;
    return new WebSocketTransport(request, websocket, protocol, !query.b64, threshold);
  }

  #acceptWebSocket(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onOpen: (websocket: WebSocket) => void,
  ): void {
    this.#websocketServer ??= this.#createWebSocketServer();
    this.#websocketServer.handleUpgrade(request, socket, head, (websocket) => onOpen(websocket));
  }

  #createWebSocketServer(): WebSocketServer {
    const limit = this.opts.maxHttpBufferSize;
    const server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      // 0 is "no limit" for the WebSocket layer.
      maxPayload: Number.isFinite(limit) ? Math.floor(limit) : 0,
      perMessageDeflate: this.opts.perMessageDeflate,
      // The session bounds what it queues itself (maxWriteBufferSize, "write buffer full"), and
      // flushes its queue at once when a slow reader drains: the WebSocket layer's own limit
      // would cut such a session first.
      maxBufferedAmount: 0,
    });
    server.on("headers", (lines, req) => this.#addUpgradeHeaders(lines, req));
    return server;
  }

  /** The 101 answer's extra headers: middlewares', the cookie, `headers` listeners'. */
  #addUpgradeHeaders(lines: string[], request: IncomingMessage): void {
    const headers = this.#upgradeHeaders.get(request) ?? {};
    this.#upgradeHeaders.delete(request);
    if (!prepareQuery(request).sid) {
      const id = this.#upgradeIds.get(request);
      if (this.opts.cookie && id !== undefined) {
        headers["Set-Cookie"] = [serializeCookie(id, this.opts.cookie)];
      }
      this.emit("initial_headers", headers, request);
    }
    this.emit("headers", headers, request);
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) lines.push(`${name}: ${item}`);
      else lines.push(`${name}: ${value}`);
    }
  }

  /**
   * A polling response's headers (a WebSocket's come with its 101, through #addUpgradeHeaders):
   * the handshake's get the session cookie and `initial_headers`, every one `headers`.
   */
  #addPollingHeaders(headers: OutgoingHttpHeaders, request: IncomingMessage, sid: string): void {
    if (!prepareQuery(request).sid) {
      if (this.opts.cookie) headers["Set-Cookie"] = [serializeCookie(sid, this.opts.cookie)];
      this.emit("initial_headers", headers, request);
    }
    this.emit("headers", headers, request);
  }

  /** Creates the session for a new transport and keeps it in `clients` until it closes. */
  #register(
    id: string,
    transport: Transport,
    request: IncomingMessage,
    protocol: 3 | 4,
  ): EngineSocket {
    debug?.(`handshake accepted: session ${id} over ${transport.name} (protocol ${protocol})`);
    const socket = new EngineSocket(id, this.#sessionHost, transport, request, protocol);
    this.clients.set(id, socket);
    // A handshake that began before close() (an asynchronous generateId) ends with the others.
    if (this.#closing !== null) process.nextTick(() => socket.close());
    return socket;
  }

  /**
   * A session closed (told through the session host, before its `close` listeners: one function
   * for all sessions, where a `close` listener would be a closure and a `once` wrapper each).
   */
  #onSessionClosed(socket: EngineSocket): void {
    if (this.clients.get(socket.id) === socket) this.clients.delete(socket.id);
    if (this.#closing !== null && this.clients.size === 0) this.#closed();
  }

  /** Runs `generateId` (sync or async), refusing ids that are empty or already in use. */
  #newId(
    request: IncomingMessage,
    callback: (id: string | null, context: EngineErrorContext) => void,
  ): void {
    const accept = (id: unknown): void => {
      if (typeof id !== "string" || id.length === 0 || this.clients.has(id)) {
        callback(null, { name: "ID_GENERATION_ERROR" });
        return;
      }
      callback(id, {});
    };
    const fail = (error: unknown): void => {
      callback(null, { name: "ID_GENERATION_ERROR", error });
    };
    let result: string | Promise<string>;
    try {
      result = this.generateId(request);
    } catch (error) {
      fail(error);
      return;
    }
    if (typeof result === "string") accept(result);
    else Promise.resolve(result).then(accept, fail);
  }
}
