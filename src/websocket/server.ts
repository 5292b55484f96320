/**
 * `WebSocketServer`: accepts WebSocket upgrades (RFC 6455 section 4.2) on its own HTTP server, on
 * an application's http/https server, or handed over by the application (`noServer`). Drop-in
 * for ws's `WebSocketServer`.
 * @module
 */

import { EventEmitter } from "node:events";
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  STATUS_CODES,
} from "node:http";
import type { Server as HttpsServer } from "node:https";
import { type AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { CloseCode } from "../protocol/websocket/close-codes.js";
import { checkUpgradeRequest, formatAcceptResponse } from "../protocol/websocket/handshake.js";
import { firstHeaderValue } from "../protocol/websocket/http-tokens.js";
import {
  type DeflateParams,
  isValidWindowBits,
  negotiateDeflateAsServer,
} from "../protocol/websocket/permessage-deflate-params.js";
import { nodeAcceptKey } from "./accept-key.js";
import { debugLogger } from "./debug.js";
import { WebSocketHandshakeError } from "./handshake-error.js";
import { type Heartbeat, type HeartbeatSettings, startHeartbeat } from "./heartbeat.js";
import {
  DEFAULT_HEADERS_TIMEOUT,
  DEFAULT_REQUEST_TIMEOUT,
  httpServerTimeouts,
} from "./http-timeouts.js";
import {
  type AnyHttp2Server,
  attachExtendedConnect,
  isHttp2Server,
} from "./http2-extended-connect.js";
import {
  type ConnectionLimitOptions,
  type ConnectionLimits,
  resolveConnectionLimits,
} from "./limits.js";
import type { ReceiverOptions } from "./message-receiver.js";
import { type AllowedOrigins, createOriginCheck, type OriginCheck } from "./origin-check.js";
import { PerMessageDeflate, type PerMessageDeflateOptions } from "./permessage-deflate.js";
import { rejectHandshake } from "./reject-handshake.js";
import { attachUpgradeTarget, type UpgradeTarget } from "./upgrade-router.js";
import { runVerifyClient, type VerifyClient, type VerifyClientInfo } from "./verify-client.js";
import {
  acceptWebSocket,
  type ConnectionOptions,
  DEFAULT_MAX_PAYLOAD,
  WebSocket,
} from "./websocket.js";

const debug = debugLogger("duplexio:websocket");

/** How long `close()` waits for clients to finish the closing handshake before dropping them. */
const DEFAULT_CLOSE_TIMEOUT = 10_000;
/** Ms between two looks for connections quiet since the last one (to drop their idle state). */
const SHED_INTERVAL = 2_000;

/**
 * Options of {@link WebSocketServer}. Exactly one of `port`, `server` and `noServer` is required.
 * The per-connection limits (`maxBufferedAmount`, `backpressure`, `backpressureCloseCode`,
 * `maxFragments`) are those of {@link ConnectionLimitOptions}; `maxPendingAutoPongs`,
 * `skipUTF8Validation` and `allowSynchronousEvents` those of {@link ConnectionOptions}.
 * `T`: the class of the connections (see `WebSocket`); `U`: the HTTP server's request class.
 */
export interface WebSocketServerOptions<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof IncomingMessage = typeof IncomingMessage,
> extends ConnectionLimitOptions,
    ConnectionOptions {
  /** Listen on this port with a new HTTP server (0 picks a free one). */
  port?: number;
  /** Address to listen on with `port` (default: all interfaces, like `net.Server#listen`). */
  host?: string;
  /** Pending-connection queue length with `port`. */
  backlog?: number;
  /**
   * Take upgrade requests from this http or https server. Its timeouts stay the application's:
   * to cut connections that never complete a request (silent, slowloris), create it with
   * `{ headersTimeout: 5000, requestTimeout: 10000, connectionsCheckingInterval: 1000 }` (see
   * `headersTimeout` below and docs/design/websocket.md); Node's defaults leave them open for
   * up to 90 s.
   */
  server?: HttpServer<U> | HttpsServer<U> | AnyHttp2Server;
  /**
   * With an `http2` server (`http2.createSecureServer({ allowHTTP1: true })`): also accept
   * WebSockets over HTTP/2 (RFC 8441 extended CONNECT, the same checks and options as HTTP/1.1
   * upgrades), and advertise SETTINGS_ENABLE_CONNECT_PROTOCOL on the server's new sessions
   * (default true). Browsers that see the setting open their WebSockets to that origin on the
   * HTTP/2 connection: set false if another library serves WebSockets on the same server.
   */
  http2?: boolean;
  /**
   * Take no requests by itself: the application calls {@link WebSocketServer.handleUpgrade}.
   * The HTTP server's timeouts are then the application's, as with `server`.
   */
  noServer?: boolean;
  /** Accept only this path (the URL without its query). Other paths are left to other handlers. */
  path?: string | undefined;
  /** Largest message accepted, in bytes (default 100 MiB); 0 means no limit. */
  maxPayload?: number;
  /** Offer permessage-deflate (RFC 7692) to clients that ask for it (default false). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Picks the subprotocol from those the client offered; false selects none. Without it the
   * first offered protocol is selected (as ws does). A value the client did not offer is ignored,
   * as RFC 6455 section 4.2.2 allows only offered protocols.
   */
  handleProtocols?: (protocols: Set<string>, request: InstanceType<U>) => string | false;
  /** Accepts or refuses a client before the handshake is answered; see {@link VerifyClient}. */
  verifyClient?: VerifyClient;
  /** Browser origins allowed to connect; others are refused with 403. Default: any origin. */
  allowedOrigins?: AllowedOrigins;
  /** Keep connected clients in {@link WebSocketServer.clients} (default true). */
  clientTracking?: boolean;
  /** Ping every client every `interval` ms and terminate those that do not answer in time. */
  heartbeat?: HeartbeatOptions;
  /** Answer pings with pongs automatically (default true). */
  autoPong?: boolean;
  /**
   * The class of the server's connections (default {@link WebSocket}): a subclass of it, which
   * must pass its constructor arguments on to `super` (it is called with an internal marker and
   * these options, as ws calls it). `connection` and `clients` then hold instances of it.
   */
  WebSocket?: T;
  /**
   * Ms that `close()` waits for clients' closing handshakes before terminating them (default
   * 10 s); also how long a connection failed by this server (protocol error, backpressure) waits
   * for the peer's close frame before its socket is destroyed.
   */
  closeTimeout?: number;
  /**
   * With `port` (the server creates its own HTTP server): ms a TCP connection has, from the
   * moment it is accepted, to send a complete request head (default 5 s; 0: no limit). A
   * connection that sends nothing, or trickles its headers (slowloris), gets 408 and is closed.
   * Node checks every second (more often below 5 s), so the cut comes up to that much later.
   * Connections that upgraded are not concerned. With `server` or `noServer` the HTTP server is
   * the application's: set its `headersTimeout` (and `connectionsCheckingInterval` when creating
   * it) yourself, see docs/design/websocket.md.
   */
  headersTimeout?: number;
  /**
   * With `port`: ms a request may take in all, body included (default 10 s; 0: no limit); cuts
   * plain HTTP requests that trickle a body to the server's 426 answer. Must not be below
   * `headersTimeout` (unless one of them is 0); when not given, it is at least `headersTimeout`.
   */
  requestTimeout?: number;
}

/**
 * The `heartbeat` option: `interval` ms between pings, `timeout` ms (default: `interval`) for the
 * pong; `timers` replaces the timer functions (tests).
 */
export type HeartbeatOptions = HeartbeatSettings;

/** Events of {@link WebSocketServer} and their arguments. */
export interface WebSocketServerEventMap<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof IncomingMessage = typeof IncomingMessage,
> {
  /** A client completed the handshake. */
  connection: [socket: InstanceType<T>, request: InstanceType<U>];
  /** The underlying HTTP server failed (e.g. port in use), or a user hook threw. */
  error: [error: Error];
  /** The 101 response lines, before they are written: push lines to add headers. */
  headers: [headers: string[], request: InstanceType<U>];
  /** `close()` finished: every client is gone and the own HTTP server is closed. */
  close: [];
  /** The underlying HTTP server is listening. */
  listening: [];
  /**
   * A malformed upgrade request. With a listener, answering and closing `socket` is the
   * listener's job; without one the server answers `error.statusCode` itself.
   */
  wsClientError: [error: WebSocketHandshakeError, socket: Duplex, request: InstanceType<U>];
}

enum State {
  Running,
  Closing,
  Closed,
}

/** Ends a socket that fails while its handshake is pending; errors here are the peer's doing. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Releases what a handshake corked (a terminate() in between already did). */
function uncorkSocket(socket: Socket): void {
  if (socket.writableCorked > 0) socket.uncork();
}

/** Response lines pushed by `headers` listeners must not be able to split the response. */
function isSafeHeaderLine(line: unknown): boolean {
  return typeof line === "string" && !/[\r\n\0]/.test(line);
}

/**
 * A WebSocket server, API-compatible with ws's `WebSocketServer`.
 *
 * ```ts
 * const wss = new WebSocketServer({ port: 8080 });
 * wss.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
 * ```
 *
 * Malformed and refused handshakes are answered with an HTTP error and never throw. `close()`
 * closes every client with 1001 (going away) and terminates the ones that do not answer.
 *
 * As ws's `Server<T, U>`: `T` is the class of the connections (the `WebSocket` option), `U` the
 * request class of the HTTP server, so `connection` hands out `InstanceType<T>`.
 */
export class WebSocketServer<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof IncomingMessage = typeof IncomingMessage,
> extends EventEmitter<WebSocketServerEventMap<T, U>> {
  /**
   * Connected clients (with `clientTracking`, the default; otherwise always empty). A client
   * leaves the set when its connection closes.
   */
  readonly clients = new Set<InstanceType<T>>();
  /** The options as given, with defaults filled in. */
  readonly options: Readonly<WebSocketServerOptions<T, U>>;
  /** skipUTF8Validation and allowSynchronousEvents, one object for every connection. */
  readonly #receive: ReceiverOptions;

  readonly #maxPayload: number;
  readonly #closeTimeout: number;
  readonly #limits: ConnectionLimits;
  readonly #deflateOptions: PerMessageDeflateOptions | null;
  readonly #originCheck: OriginCheck | null;
  readonly #tracking: boolean;
  /** The HTTP server listened on or attached to (null with noServer). */
  readonly #httpServer: HttpServer | HttpsServer | AnyHttp2Server | null = null;
  /** Whether #httpServer was created here, so `close()` closes it. */
  readonly #ownsHttpServer: boolean = false;
  /** Every open connection, tracked even without clientTracking so `close()` reaches them. */
  readonly #live = new Set<InstanceType<T>>();
  /** Sockets waiting for an asynchronous verifyClient. */
  readonly #pending = new Set<Duplex>();
  /** Sockets already handed to handleUpgrade, to catch a second call with the same socket. */
  readonly #handled = new WeakSet<Duplex>();
  #state = State.Running;
  #detach: (() => void) | null = null;
  #removeForwarders: (() => void) | null = null;
  #httpServerClosed = true;
  #closeTimer: NodeJS.Timeout | null = null;
  #heartbeat: Heartbeat | null = null;
  /** Runs {@link WebSocket._shedIdleState} over the connections while there are some. */
  #shedTimer: NodeJS.Timeout | null = null;

  /**
   * @param options exactly one of `port`, `server` or `noServer`, plus handshake options.
   * @param callback with `port`: called once the server is listening.
   * @throws TypeError when the mode options are missing or contradict each other or a numeric
   * option is invalid; RangeError for out-of-range perMessageDeflate settings (configuration
   * mistakes, found at construction).
   */
  constructor(options: WebSocketServerOptions<T, U>, callback?: () => void) {
    super();
    const modes =
      (options.port !== undefined && options.port !== null ? 1 : 0) +
      (options.server ? 1 : 0) +
      (options.noServer ? 1 : 0);
    if (modes !== 1) {
      throw new TypeError(
        'One and only one of the "port", "server", or "noServer" options must be specified',
      );
    }
    const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!Number.isSafeInteger(maxPayload) || maxPayload < 0) {
      throw new TypeError('"maxPayload" must be a non-negative integer');
    }
    const closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    if (!Number.isFinite(closeTimeout) || closeTimeout < 0) {
      throw new TypeError('"closeTimeout" must be a non-negative number of milliseconds');
    }
    this.#maxPayload = maxPayload;
    this.#closeTimeout = closeTimeout;
    this.#limits = resolveConnectionLimits(options);
    const headersTimeout = options.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT;
    const requestTimeout =
      options.requestTimeout ??
      (headersTimeout === 0
        ? DEFAULT_REQUEST_TIMEOUT
        : Math.max(DEFAULT_REQUEST_TIMEOUT, headersTimeout));
    for (const [name, value] of [
      ["headersTimeout", headersTimeout],
      ["requestTimeout", requestTimeout],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new TypeError(`"${name}" must be a non-negative integer number of milliseconds`);
      }
    }
    if (requestTimeout > 0 && headersTimeout > requestTimeout) {
      // Node refuses this combination too.
      throw new TypeError('"headersTimeout" must not exceed "requestTimeout" (unless one is 0)');
    }
    const deflate = options.perMessageDeflate ?? false;
    this.#deflateOptions = deflate === false ? null : deflate === true ? {} : deflate;
    if (this.#deflateOptions) checkDeflateOptions(this.#deflateOptions, maxPayload);
    this.#originCheck = options.allowedOrigins ? createOriginCheck(options.allowedOrigins) : null;
    this.#tracking = options.clientTracking ?? true;
    if (options.WebSocket !== undefined && !isWebSocketClass(options.WebSocket)) {
      throw new TypeError('"WebSocket" must be the WebSocket class or a subclass of it');
    }
    this.#receive = {
      skipUtf8Validation: options.skipUTF8Validation ?? false,
      allowSynchronousEvents: options.allowSynchronousEvents ?? true,
    };
    if (options.heartbeat) checkHeartbeatOptions(options.heartbeat);
    const ownsServer = options.port !== undefined && options.port !== null;
    this.options = {
      ...options,
      maxPayload,
      closeTimeout,
      perMessageDeflate: deflate,
      clientTracking: this.#tracking,
      maxPendingAutoPongs: options.maxPendingAutoPongs ?? 60,
      skipUTF8Validation: this.#receive.skipUtf8Validation,
      allowSynchronousEvents: this.#receive.allowSynchronousEvents,
      ...this.#limits,
      // Only the server's own HTTP server has these; an application's keeps its settings.
      ...(ownsServer ? { headersTimeout, requestTimeout } : {}),
    };

    if (ownsServer) {
      this.#httpServer = createServer(
        httpServerTimeouts(headersTimeout, requestTimeout),
        (_request, response) => {
          const body = STATUS_CODES[426] ?? "Upgrade Required";
          response.writeHead(426, {
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Length": Buffer.byteLength(body),
            Upgrade: "websocket",
          });
          response.end(body);
        },
      );
      this.#ownsHttpServer = true;
    } else if (options.server) {
      this.#httpServer = options.server;
    }
    if (options.heartbeat) this.#heartbeat = startHeartbeat(this.#live, options.heartbeat);
    if (this.#httpServer) this.#attach(this.#httpServer);
    if (this.#ownsHttpServer && this.#httpServer) {
      if (callback) this.once("listening", callback);
      this.#httpServerClosed = false;
      this.#httpServer.listen(options.port, options.host, options.backlog);
    }
  }

  /** Routes the HTTP server's upgrades here and re-emits its `listening` and `error`. */
  #attach(server: HttpServer | HttpsServer | AnyHttp2Server): void {
    const target: UpgradeTarget = {
      // The server's requests are instances of its request class U.
      claimUpgrade: (request, socket, head) =>
        this.#claimUpgrade(request as InstanceType<U>, socket, head),
    };
    const detachUpgrades = attachUpgradeTarget(server, target);
    const detachConnects =
      isHttp2Server(server) && this.options.http2 !== false
        ? attachExtendedConnect(server, target)
        : null;
    this.#detach = () => {
      detachUpgrades();
      detachConnects?.();
    };
    const onListening = (): void => {
      this.emit("listening");
    };
    const onError = (error: Error): void => {
      // An application's own server has its own error handling: re-emitting there without a
      // listener here would turn a handled error into a crash.
      if (this.#ownsHttpServer || this.listenerCount("error") > 0) this.emit("error", error);
    };
    server.on("listening", onListening);
    server.on("error", onError);
    this.#removeForwarders = () => {
      server.off("listening", onListening);
      server.off("error", onError);
    };
  }

  /**
   * The address of the underlying HTTP server (`null` with `noServer` or before it listens).
   */
  address(): AddressInfo | string | null {
    return this.#httpServer ? this.#httpServer.address() : null;
  }

  /**
   * Whether this server takes `request`: with a `path` option, only requests for that path
   * (the query string is ignored). Subclasses may override it.
   */
  shouldHandle(request: InstanceType<U>): boolean {
    const path = this.options.path;
    if (path === undefined || path === null) return true;
    const url = request.url ?? "";
    const query = url.indexOf("?");
    return (query === -1 ? url : url.slice(0, query)) === path;
  }

  /**
   * Completes the handshake for an upgrade request and calls `callback` with the open socket.
   * Requests this server does not take, malformed requests and refused clients get an HTTP error
   * and the socket is closed; `callback` is then never called. Never throws (an exception from
   * `callback` itself propagates to the caller, as from any listener).
   *
   * @param request the `upgrade` event's request
   * @param socket the `upgrade` event's socket
   * @param head the `upgrade` event's head: bytes received after the request head
   * @param callback receives the WebSocket; with `noServer`, emit `connection` from here
   */
  handleUpgrade(
    request: InstanceType<U>,
    socket: Duplex,
    head: Buffer,
    callback: (socket: InstanceType<T>, request: InstanceType<U>) => void,
  ): void {
    let wanted: boolean;
    try {
      wanted = this.shouldHandle(request);
    } catch (error) {
      this.#hookFailed(socket, error);
      return;
    }
    if (!wanted) {
      rejectHandshake(socket, 400, "No WebSocket endpoint at this path");
      return;
    }
    this.#upgrade(request, socket, head, callback);
  }

  /** The router's question: does this server take the request? If so, it is handled here. */
  #claimUpgrade(request: InstanceType<U>, socket: Duplex, head: Buffer): boolean {
    try {
      if (!this.shouldHandle(request)) return false;
    } catch (error) {
      this.#hookFailed(socket, error);
      return true;
    }
    this.#upgrade(request, socket, head, (client, req) => {
      this.emit("connection", client, req);
    });
    return true;
  }

  #upgrade(
    request: InstanceType<U>,
    socket: Duplex,
    head: Buffer,
    callback: (socket: InstanceType<T>, request: InstanceType<U>) => void,
  ): void {
    if (this.#handled.has(socket)) {
      // Programming error in the application; the first call owns the socket, so leave it be.
      this.#reportError(
        new Error("handleUpgrade() was called more than once with the same socket"),
      );
      return;
    }
    this.#handled.add(socket);
    socket.on("error", destroyOnError);
    if (this.#state !== State.Running) {
      rejectHandshake(socket, 503, "The server is shutting down");
      return;
    }

    const check = checkUpgradeRequest({ method: request.method ?? "", headers: request.headers });
    if (!check.ok) {
      this.#refuseMalformed(request, socket, check.status, check.message, check.headers);
      return;
    }

    const origin = firstHeaderValue(request.headers.origin);
    let protocol = "";
    let deflate: { params: DeflateParams; response: string } | null = null;
    try {
      if (this.#originCheck && !this.#originCheck(origin, request)) {
        rejectHandshake(socket, 403, "Origin not allowed");
        return;
      }
      protocol = this.#selectProtocol(check.protocols, request);
    } catch (error) {
      this.#hookFailed(socket, error);
      return;
    }
    if (this.#deflateOptions && check.extensions.length > 0) {
      // Other extensions are not supported, so they are simply not answered (RFC 6455 9.1).
      deflate = negotiateDeflateAsServer(check.extensions, this.#deflateOptions);
    }

    const verify = this.options.verifyClient;
    if (!verify) {
      this.#complete(request, socket, head, check.key, protocol, deflate, callback);
      return;
    }
    const info: VerifyClientInfo = {
      origin,
      secure: isSecure(request),
      req: request,
    };
    // Until the hook decides, the socket is ours to close: on shutdown, or when the peer leaves.
    this.#pending.add(socket);
    const forget = (): void => {
      this.#pending.delete(socket);
    };
    socket.once("close", forget);
    runVerifyClient(verify, info, (outcome) => {
      socket.off("close", forget);
      this.#pending.delete(socket);
      if (outcome.accepted) {
        this.#complete(request, socket, head, check.key, protocol, deflate, callback);
      } else if ("error" in outcome) {
        this.#hookFailed(socket, outcome.error);
      } else {
        rejectHandshake(socket, outcome.status, outcome.message, outcome.headers);
      }
    });
  }

  /** The subprotocol to answer with ("" for none). */
  #selectProtocol(offered: string[], request: InstanceType<U>): string {
    if (offered.length === 0) return "";
    const handle = this.options.handleProtocols;
    if (!handle) return offered[0];
    const chosen = handle(new Set(offered), request);
    return typeof chosen === "string" && offered.includes(chosen) ? chosen : "";
  }

  /** A malformed request: `wsClientError` listeners decide, else the HTTP error goes out. */
  #refuseMalformed(
    request: InstanceType<U>,
    socket: Duplex,
    status: number,
    message: string,
    headers: Record<string, string> | undefined,
  ): void {
    if (this.listenerCount("wsClientError") > 0) {
      this.emit(
        "wsClientError",
        new WebSocketHandshakeError(message, status, headers),
        socket,
        request,
      );
      return;
    }
    rejectHandshake(socket, status, message, headers);
  }

  /** Writes the 101 response and hands the socket to a WebSocket. */
  #complete(
    request: InstanceType<U>,
    socket: Duplex,
    head: Buffer,
    key: string,
    protocol: string,
    deflate: { params: DeflateParams; response: string } | null,
    callback: (socket: InstanceType<T>, request: InstanceType<U>) => void,
  ): void {
    // The peer may have left while verifyClient was thinking.
    if (socket.destroyed || !socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if (this.#state !== State.Running) {
      rejectHandshake(socket, 503, "The server is shutting down");
      return;
    }
    const extensions = deflate ? deflate.response : "";
    let response = formatAcceptResponse(
      {
        key,
        protocol: protocol || undefined,
        extensions: extensions || undefined,
      },
      nodeAcceptKey,
    );
    if (this.listenerCount("headers") > 0) {
      // ws hands listeners the response as lines they can push to; the blank line is added back.
      const lines = response.slice(0, -4).split("\r\n");
      try {
        this.emit("headers", lines, request);
      } catch (error) {
        this.#hookFailed(socket, error);
        return;
      }
      if (!lines.every(isSafeHeaderLine)) {
        this.#hookFailed(
          socket,
          new TypeError("A 'headers' listener added a line with CR, LF or NUL"),
        );
        return;
      }
      response = `${lines.join("\r\n")}\r\n\r\n`;
    }

    const compressor = deflate
      ? new PerMessageDeflate(
          deflate.params,
          "server",
          this.#deflateOptions ?? {},
          this.#maxPayload,
        )
      : null;
    // On a TCP socket the response waits, corked, for what the application sends in its
    // `connection` listener (an Engine.IO open packet, a greeting): the write queue flushes those
    // on this turn's tick and the uncork queued after the callback lets them leave with the
    // response in one write (one syscall on a loopback costs more than the rest of the answer).
    const corked = socket instanceof Socket;
    if (corked) socket.cork();
    socket.write(response);
    socket.off("error", destroyOnError);
    const client = acceptWebSocket<T>(socket, head, {
      maxPayload: this.#maxPayload,
      protocol,
      extensions,
      deflate: compressor,
      autoPong: this.options.autoPong,
      maxPendingAutoPongs: this.options.maxPendingAutoPongs,
      receive: this.#receive,
      WebSocket: this.options.WebSocket,
      constructorOptions: this.options,
      closeTimeout: this.#closeTimeout,
      limits: this.#limits,
      onClosed: this.#untrack,
    });
    this.#live.add(client);
    if (this.#shedTimer === null) {
      this.#shedTimer = setInterval(this.#shedIdleState, SHED_INTERVAL);
      this.#shedTimer.unref();
    }
    if (this.#tracking) this.clients.add(client);
    debug?.(`handshake accepted: ${request.url} protocol "${protocol}" extensions "${extensions}"`);
    if (!corked) {
      callback(client, request);
      return;
    }
    try {
      callback(client, request);
    } finally {
      // After any flush the callback scheduled: those writes join the corked response.
      process.nextTick(uncorkSocket, socket);
    }
  }

  /** Every socket of this server calls it as it closes (before its `close` listeners). */
  readonly #untrack = (client: WebSocket): void => {
    this.#live.delete(client as InstanceType<T>);
    this.clients.delete(client as InstanceType<T>);
    this.#finishClosing();
  };

  readonly #shedIdleState = (): void => {
    // Stopped here rather than when the last client leaves: connections that come and go one
    // at a time would otherwise start and stop the interval each time.
    if (this.#live.size === 0) {
      this.#stopShedding();
      return;
    }
    for (const client of this.#live) client._shedIdleState();
  };

  #stopShedding(): void {
    if (this.#shedTimer !== null) clearInterval(this.#shedTimer);
    this.#shedTimer = null;
  }

  /** A user hook (verifyClient, handleProtocols, ...) threw: 500 to the client, report the bug. */
  #hookFailed(socket: Duplex, error: unknown): void {
    rejectHandshake(socket, 500, "Internal Server Error");
    this.#reportError(error instanceof Error ? error : new Error(String(error)));
  }

  /** To `error` listeners when there are some; a warning otherwise, never a crash. */
  #reportError(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
    else process.emitWarning(error);
  }

  /**
   * Stops accepting connections, closes every client with 1001 (going away), terminates the
   * ones still open after `closeTimeout`, closes the HTTP server if this server created it, then
   * emits `close` and calls `callback`. Pending handshakes are refused with 503. An
   * application's own HTTP server is left running. Calling it again while closing just adds
   * `callback`; after the server closed, `callback` gets an error.
   */
  close(callback?: (error?: Error) => void): void {
    if (this.#state === State.Closed) {
      if (callback) process.nextTick(callback, new Error("The server is not running"));
      return;
    }
    if (callback) this.once("close", () => callback());
    if (this.#state === State.Closing) return;
    this.#state = State.Closing;

    this.#detach?.();
    this.#detach = null;
    // Closing clients answer the close frame, not pings: terminating them here would be wrong.
    this.#heartbeat?.stop();
    this.#heartbeat = null;
    for (const socket of this.#pending) rejectHandshake(socket, 503, "The server is shutting down");
    this.#pending.clear();
    if (this.#ownsHttpServer && this.#httpServer) {
      // The server's own is always an http.Server.
      const server = this.#httpServer as HttpServer;
      server.close(() => {
        this.#httpServerClosed = true;
        this.#finishClosing();
      });
      // Plain HTTP connections and half-sent requests; upgraded sockets are not affected.
      server.closeAllConnections();
    }
    for (const client of this.#live) client.close(CloseCode.GoingAway, "Server shutting down");
    if (this.#live.size > 0) {
      this.#closeTimer = setTimeout(() => {
        this.#closeTimer = null;
        for (const client of this.#live) client.terminate();
      }, this.#closeTimeout);
    }
    this.#finishClosing();
  }

  /** Emits `close` once closing has nothing left to wait for. */
  #finishClosing(): void {
    if (this.#state !== State.Closing || this.#live.size > 0 || !this.#httpServerClosed) return;
    this.#state = State.Closed;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    this.#stopShedding();
    this.#removeForwarders?.();
    this.#removeForwarders = null;
    process.nextTick(() => this.emit("close"));
  }
}

/** Whether `value` is WebSocket or a class derived from it. */
function isWebSocketClass(value: unknown): boolean {
  return (
    value === WebSocket || (typeof value === "function" && value.prototype instanceof WebSocket)
  );
}

/** Heartbeat timings must be usable by timers: positive interval, non-negative timeout. */
function checkHeartbeatOptions(options: HeartbeatSettings): void {
  if (!Number.isFinite(options.interval) || options.interval <= 0) {
    throw new TypeError('"heartbeat.interval" must be a positive number of milliseconds');
  }
  if (
    options.timeout !== undefined &&
    !(Number.isFinite(options.timeout) && options.timeout >= 0)
  ) {
    throw new TypeError('"heartbeat.timeout" must be a non-negative number of milliseconds');
  }
}

/**
 * Finds option mistakes at construction rather than at the first client: the window sizes, and
 * whatever PerMessageDeflate itself refuses (threshold, zlib settings).
 */
function checkDeflateOptions(options: PerMessageDeflateOptions, maxPayload: number): void {
  const { serverMaxWindowBits, clientMaxWindowBits } = options;
  if (serverMaxWindowBits !== undefined && !isValidWindowBits(serverMaxWindowBits)) {
    throw new RangeError('"serverMaxWindowBits" must be an integer from 8 to 15');
  }
  if (
    clientMaxWindowBits !== undefined &&
    clientMaxWindowBits !== true &&
    !isValidWindowBits(clientMaxWindowBits)
  ) {
    throw new RangeError('"clientMaxWindowBits" must be true or an integer from 8 to 15');
  }
  const probe: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
  new PerMessageDeflate(probe, "server", options, maxPayload).close();
}

/** Whether the request came over TLS (https server, or a TLS socket handed to noServer). */
function isSecure(request: IncomingMessage): boolean {
  const socket = request.socket as (Duplex & { encrypted?: boolean; authorized?: boolean }) | null;
  return Boolean(socket && (socket.encrypted || socket.authorized));
}
