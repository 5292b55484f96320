/**
 * The demo server: one HTTP server, one process, in-memory state, serving
 *
 * | path | what |
 * | --- | --- |
 * | `/` | the chat page (examples/chat/public/index.html) |
 * | `/dashboard` | the live dashboard page |
 * | `/metrics` | the same figures for Prometheus (text format) |
 * | `/socket.io/` | the Socket.IO endpoint (namespaces "/" for the chat, "/dashboard" for the feed), and the client bundle at `/socket.io/duplexio.min.js` |
 * | `/ws` | a plain WebSocket endpoint (echo, subprotocol "chat.v1") |
 *
 * This file only wires the pieces together; each lives in its own module.
 * @module
 */

import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { createHttpServer } from "../engine/http-server.js";
import type { HttpServerTimeouts } from "../engine/index.js";
import { type AdapterConstructor, Server } from "../server/index.js";
import type { WebSocketServer } from "../websocket/index.js";
import { attachChat, type DemoIo, type RateLimit } from "./chat.js";
import { ClusterView, connectDemoRedis } from "./cluster.js";
import { attachDashboard } from "./dashboard.js";
import { DemoMetrics } from "./metrics.js";
import { isSameOrigin } from "./origin.js";
import { attachPlainWebSocket } from "./plain-websocket.js";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.js";
import { serveStaticFile } from "./static-files.js";
import { TrafficCounter } from "./traffic.js";

/** Options of {@link startDemoServer}; every one has a default. */
export interface DemoServerOptions {
  /** Address to listen on (default "127.0.0.1": reachable from this machine only). */
  host?: string;
  /** TCP port (default 8080; 0 picks a free one). */
  port?: number;
  /** Milliseconds between the server's clock ticks (default 5000). */
  tickIntervalMs?: number;
  /** Milliseconds between dashboard snapshots (default 1000). */
  snapshotIntervalMs?: number;
  /** Chat messages per socket (default: bursts of 5, then 1 per second). */
  messageRateLimit?: RateLimit;
  /** Joins, leaves and typing notifications per socket (default: bursts of 20, then 5 per second). */
  actionRateLimit?: RateLimit;
  /** Plain WebSocket messages per connection (default: bursts of 20, then 10 per second). */
  plainWebSocketRateLimit?: RateLimit;
  /** The rate limiters' clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Milliseconds `stop()` lets clients take to go before cutting them off (default 3000). */
  shutdownGraceMs?: number;
  /**
   * Timeouts of the HTTP server (default: headers within 5 s, a whole request within 30 s,
   * idle kept-alive connections closed after 5 s): connections that never send a complete
   * request are closed.
   */
  httpServerTimeouts?: HttpServerTimeouts;
  /**
   * A Redis server to share the chat with other demo servers (`redis://host:port`): rooms,
   * presence, messages and recovered sessions span all the servers that use it. Default: none
   * (one server, in memory).
   */
  redisUrl?: string;
  /**
   * The adapter joining this server to others when `redisUrl` is not given (the cluster adapter
   * of `duplexio serve --workers`). Default: none (one server, in memory).
   */
  adapter?: AdapterConstructor;
}

/** A running demo server. */
export interface DemoServer {
  /** The chat page's address, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  readonly host: string;
  /** The port listened on (the real one when 0 was asked for). */
  readonly port: number;
  readonly httpServer: HttpServer;
  /** The Socket.IO server. */
  readonly io: DemoIo;
  /** The plain WebSocket endpoint. */
  readonly plainWebSocket: WebSocketServer;
  /** The figures behind the dashboard and /metrics. */
  readonly metrics: DemoMetrics;
  /**
   * Shuts down gracefully: Socket.IO clients get a disconnect for each namespace (so they do not
   * try to reconnect to a server that is going away) and close their connections, plain
   * WebSockets get a close with 1001 (going away); clients still there after `shutdownGraceMs`
   * are cut off; then the HTTP server closes. Resolves when all is closed; calling it again
   * returns the same promise.
   */
  stop(): Promise<void>;
}

/** Starts the demo server; rejects with the listen error (port in use, ...). */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const host = options.host ?? "127.0.0.1";
  const redis =
    options.redisUrl === undefined ? undefined : await connectDemoRedis(options.redisUrl);
  const now = options.now === undefined ? {} : { now: options.now };
  const traffic = new TrafficCounter();

  // Assigned below; requests cannot arrive before the server listens.
  let metrics: DemoMetrics | undefined;
  // Slowloris and idle connections are closed by the server's timeouts; long-polling requests
  // waiting for data are not (see HttpServerTimeouts).
  const httpServer = createHttpServer((request, response) => {
    if (serveStaticFile(request, response)) return;
    if (pathOf(request) === "/metrics" && metrics !== undefined) {
      serveMetrics(metrics, request, response);
      return;
    }
    response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    response.end("Not found\n");
  }, options.httpServerTimeouts);
  traffic.watchHttpServer(httpServer);

  const io: DemoIo = new Server(httpServer, {
    // Serves duplexio's browser bundle at /socket.io/duplexio.min.js for the pages.
    serveClient: true,
    // A chat message is at most 500 characters: 100 kB per request is ample, and bounds what a
    // hostile client can make the server parse.
    maxHttpBufferSize: 100_000,
    // An acknowledgement the server asks for never waits forever: a page that went away without
    // answering gets its callback an Error after 10 s (what `timeout(ms)` gives).
    ackTimeout: 10_000,
    // A client that lost its connection for up to 2 minutes gets its id, rooms and the messages
    // it missed back (the page shows "recovered" when that happens).
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
    // Browsers apply no CORS to WebSockets: refuse other sites' pages (see origin.ts).
    allowRequest: (request, answer) => answer(null, isSameOrigin(request)),
    // With Redis, the servers share rooms and sessions (a client may come back on another one).
    ...(redis === undefined
      ? options.adapter === undefined
        ? {}
        : { adapter: options.adapter }
      : { adapter: redis.adapter }),
  });
  traffic.watchEngine(io.engine);

  const plainWebSocket = attachPlainWebSocket(httpServer, {
    traffic,
    rateLimit: options.plainWebSocketRateLimit ?? { capacity: 20, refillPerSecond: 10 },
    ...now,
  });
  const snapshotIntervalMs = options.snapshotIntervalMs ?? 1000;
  const cluster = new ClusterView(
    io,
    redis !== undefined ? "redis-streams" : options.adapter === undefined ? undefined : "cluster",
    snapshotIntervalMs,
  );
  let url = "";
  metrics = new DemoMetrics({
    io,
    traffic,
    plainWebSocketClients: () => plainWebSocket.clients.size,
    cluster,
    url: () => url,
  });
  const chat = attachChat(io, {
    tickIntervalMs: options.tickIntervalMs ?? 5000,
    messageRateLimit: options.messageRateLimit ?? { capacity: 5, refillPerSecond: 1 },
    actionRateLimit: options.actionRateLimit ?? { capacity: 20, refillPerSecond: 5 },
    ...now,
  });
  const dashboard = attachDashboard(io, metrics, cluster, snapshotIntervalMs);

  const stopTimers = (): void => {
    chat.close();
    dashboard.close();
    metrics?.close();
  };
  try {
    await listen(httpServer, options.port ?? 8080, host);
  } catch (error) {
    stopTimers();
    plainWebSocket.close();
    await io.close();
    await redis?.close();
    throw error;
  }
  const address = httpServer.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  url = `http://${urlHost}:${port}/`;

  let stopping: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    httpServer,
    io,
    plainWebSocket,
    metrics,
    stop: () => {
      stopping ??= shutDown({
        io,
        plainWebSocket,
        stopTimers,
        graceMs: options.shutdownGraceMs ?? 3000,
      }).then(() => redis?.close());
      return stopping;
    },
  };
}

async function shutDown(parts: {
  io: DemoIo;
  plainWebSocket: WebSocketServer;
  stopTimers: () => void;
  graceMs: number;
}): Promise<void> {
  const { io, plainWebSocket, graceMs } = parts;
  parts.stopTimers();
  // Plain WebSockets: close 1001 to each, then wait for their closing handshakes (or give up after
  // the grace period).
  const wsClosed = new Promise<void>((resolve) => plainWebSocket.close(() => resolve()));
  // Socket.IO: with `reconnect: false`, io.close() sends a DISCONNECT for every namespace of every
  // client of this server (in a cluster, the other servers' clients stay), so that they do not
  // try to reconnect; then the Engine.IO close; clients still there after the grace period are
  // cut off, and the HTTP server closes.
  await Promise.all([
    io.close({ timeout: graceMs, reconnect: false }),
    Promise.race([wsClosed, delay(graceMs)]),
  ]);
}

function listen(server: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? "/";
  const queryAt = url.indexOf("?");
  return queryAt === -1 ? url : url.slice(0, queryAt);
}

function serveMetrics(metrics: DemoMetrics, request: IncomingMessage, response: ServerResponse) {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { Allow: "GET, HEAD" }).end();
    return;
  }
  const text = metrics.prometheusText();
  response.writeHead(200, {
    "Content-Type": PROMETHEUS_CONTENT_TYPE,
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(request.method === "HEAD" ? undefined : text);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
