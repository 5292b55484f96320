/**
 * An echo endpoint of the implementation under test, like `duplexio echo`: text comes back as
 * text, binary as binary. Listens on 127.0.0.1, port 0. It attaches no `error` listener to the
 * sockets on purpose: a hostile peer must not be able to crash a server whose user attached none.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { subjectIsWsPackage, type WebSocket, WebSocketServer } from "./subject.js";

/** Options passed through to the WebSocketServer (besides `server`, which this helper owns). */
export type EchoServerOptions = Omit<
  NonNullable<ConstructorParameters<typeof WebSocketServer>[0]>,
  "server" | "port" | "noServer"
>;

/** A running echo server. */
export interface RunningEchoServer {
  http: HttpServer;
  wss: WebSocketServer;
  port: number;
  url: string;
  /** Closes the WebSocket server, every connection, and the HTTP server. */
  close(): Promise<void>;
}

/** Starts an echo server; `onConnection` runs for each new socket after the echo is wired. */
export async function startEchoServer(
  options: EchoServerOptions = {},
  onConnection?: (socket: WebSocket) => void,
): Promise<RunningEchoServer> {
  const http = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" });
    res.end("WebSocket only\n");
  });
  const wss = new WebSocketServer({ ...options, server: http });
  wss.on("connection", (socket) => {
    // The ws package throws on an unhandled socket error; only there does the helper listen.
    if (subjectIsWsPackage) socket.on("error", () => {});
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
    onConnection?.(socket);
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    http,
    wss,
    port,
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => http.close(() => resolve()));
        http.closeAllConnections();
      }),
  };
}
