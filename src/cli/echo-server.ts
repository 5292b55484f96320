import { createServer, type Server as HttpServer } from "node:http";
import { httpServerTimeouts } from "../websocket/http-timeouts.js";
import { WebSocketServer } from "../websocket/index.js";

/** Options of an echo endpoint. */
export interface EchoServerOptions {
  host: string;
  port: number;
  deflate: boolean;
  maxPayload: number;
}

/** A running echo endpoint: its HTTP server, its WebSocket server and a stop function. */
export interface EchoServer {
  http: HttpServer;
  wss: WebSocketServer;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts an HTTP server with a WebSocket endpoint (any path) that echoes every message back as it
 * came: text as text, binary as binary. Rejects with the listen error (port in use, ...).
 */
export function startEchoServer(options: EchoServerOptions): Promise<EchoServer> {
  // Plain HTTP requests learn that this is a WebSocket endpoint (426 Upgrade Required).
  // Connections that never complete a request are cut as on WebSocketServer's own server: 5 s
  // for the request head (silent or slowloris connections), 10 s for a whole request.
  const http = createServer(httpServerTimeouts(), (_req, res) => {
    res.writeHead(426, { "Content-Type": "text/plain; charset=utf-8", Upgrade: "websocket" });
    res.end("This is a WebSocket echo endpoint: connect with a WebSocket client.\n");
  });
  const wss = new WebSocketServer({
    server: http,
    perMessageDeflate: options.deflate,
    maxPayload: options.maxPayload,
  });
  wss.on("connection", (socket) => {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, () => {
      http.off("error", reject);
      const address = http.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      resolve({
        http,
        wss,
        port,
        stop: () =>
          new Promise<void>((done) => {
            wss.close(() => http.close(() => done()));
            http.closeAllConnections();
          }),
      });
    });
  });
}

/** ws://host:port/path for printing, with IPv6 hosts in brackets. */
export function formatUrl(scheme: string, host: string, port: number, path = "/"): string {
  const shown = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${shown}:${port}${path}`;
}
