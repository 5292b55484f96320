/**
 * The plain WebSocket endpoint (`/ws`) for the page's "plain WebSocket" panel: no Socket.IO, just
 * what the browser's own `new WebSocket(url, protocols)` speaks, served by duplexio/websocket.
 *
 * The subprotocol is negotiated: the page offers a list, the server picks the first it supports
 * ("chat.v1"), and the browser shows the choice in `socket.protocol`. When the page offers none
 * that the server supports, the handshake answers without a protocol and the browser fails the
 * connection (`error` then `close` 1006), which the panel makes visible too.
 *
 * Each message is echoed back as it came (text as text, binary as binary). Limits: messages of
 * at most 64 KiB (larger ones close the connection with 1009), and a per-connection rate limit
 * whose breach closes it with 1008 (policy violation): closing is how a WebSocket protocol
 * without its own error messages says "you broke the rules".
 * @module
 */

import type { Server as HttpServer } from "node:http";
import { CloseCode, type WebSocket, WebSocketServer } from "../websocket/index.js";
import type { RateLimit } from "./chat.js";
import { isSameOrigin } from "./origin.js";
import { TokenBucket } from "./rate-limit.js";
import type { TrafficCounter } from "./traffic.js";

/** The path of the endpoint. */
export const PLAIN_WEBSOCKET_PATH = "/ws";
/** Subprotocols the server speaks, by preference. */
export const SUPPORTED_SUBPROTOCOLS: readonly string[] = ["chat.v1"];
/** Largest message accepted, in bytes. */
export const PLAIN_WEBSOCKET_MAX_PAYLOAD = 64 * 1024;

/** Options of {@link attachPlainWebSocket}. */
export interface PlainWebSocketOptions {
  traffic: TrafficCounter;
  rateLimit: RateLimit;
  /** The rate limiter's clock, in milliseconds. */
  now?: () => number;
}

/** Starts the endpoint on `httpServer`'s upgrades for {@link PLAIN_WEBSOCKET_PATH}. */
export function attachPlainWebSocket(
  httpServer: HttpServer,
  options: PlainWebSocketOptions,
): WebSocketServer {
  const { traffic } = options;
  const wss = new WebSocketServer({
    server: httpServer,
    path: PLAIN_WEBSOCKET_PATH,
    maxPayload: PLAIN_WEBSOCKET_MAX_PAYLOAD,
    // The first protocol the client offered that the server supports; `false` answers none.
    handleProtocols: (offered) => SUPPORTED_SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
    // Browsers do not apply CORS to WebSockets: refuse other sites' pages (see origin.ts).
    allowedOrigins: (_origin, request) => isSameOrigin(request),
    // Notices peers that vanished without closing (a laptop lid shut), so they do not linger.
    heartbeat: { interval: 30_000 },
  });

  wss.on("connection", (socket: WebSocket) => {
    const bucket = new TokenBucket(
      options.now === undefined ? options.rateLimit : { ...options.rateLimit, now: options.now },
    );
    socket.on("message", (data, isBinary) => {
      traffic.plainWebSocketMessagesIn++;
      if (!bucket.tryTake()) {
        socket.close(CloseCode.PolicyViolation, "rate limit exceeded");
        return;
      }
      socket.send(data, { binary: isBinary });
      traffic.plainWebSocketMessagesOut++;
    });
    // A peer's protocol errors surface here; the socket closes itself, nothing else to do.
    socket.on("error", () => {});
  });
  // No `error` listener on purpose: with an application's HTTP server, the WebSocket server then
  // leaves that server's errors (a port in use) to whoever listens, here startDemoServer, and
  // reports a throwing hook as a process warning instead of an event nobody would handle.
  return wss;
}
