/**
 * Servers for the Node-option tests: duplexio's or the official socket.io server over http or
 * https on 127.0.0.1 (port 0), recording every request that reaches the HTTP server (polling
 * requests and WebSocket upgrades alike) with what the tests look at: URL, headers, and on TLS
 * the client certificate's name and the cipher. Plus a TCP tap that keeps the bytes a client
 * sends, and bounded waits for a client's outcome.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from "node:https";
import { type AddressInfo, connect as connectTcp, createServer as createTcpServer } from "node:net";
import type { TLSSocket } from "node:tls";
import { withTimeout } from "../../helpers/timing.js";
import { io } from "../behaviour/client-under-test.js";
import type {
  ClientOptions,
  ClientSocket,
  ServerKind,
  ServerOptions,
  Server as SocketIoServer,
} from "../behaviour/harness.js";

/** A request as the server saw it. */
export interface SeenRequest {
  method: string;
  url: URL;
  /** A WebSocket upgrade request (else a polling request or something else). */
  upgrade: boolean;
  headers: IncomingMessage["headers"];
  /** TLS: the client certificate's common name, when one was presented. */
  peerName: string | undefined;
  /** TLS: the negotiated cipher. */
  cipher: string | undefined;
  /** The client's port: which TCP connection carried it. */
  remotePort: number | undefined;
}

/** A server under test. */
export interface OptionsServer {
  kind: ServerKind;
  io: SocketIoServer;
  http: Server;
  url: string;
  port: number;
  /** Every request in arrival order. */
  requests: SeenRequest[];
  /** Requests under the Engine.IO path (`/socket.io/`). */
  engineRequests(): SeenRequest[];
  /** A client (not waited for), closed by `close()`: a new connection, no reconnection. */
  client(options?: ClientOptions): ClientSocket;
  close(): Promise<void>;
}

/** Starts `kind` on 127.0.0.1 port 0; with `tls`, over https. */
export async function startOptionsServer(
  kind: ServerKind,
  settings: { tls?: HttpsOptions; io?: ServerOptions } = {},
): Promise<OptionsServer> {
  const notFound = (_request: IncomingMessage, response: import("node:http").ServerResponse) => {
    response.writeHead(404).end("Not Found");
  };
  const http: Server =
    settings.tls === undefined
      ? createHttpServer(notFound)
      : (createHttpsServer(settings.tls, notFound) as unknown as Server);
  const server = new kind.Server(http, settings.io ?? {});
  server.on("connection", (socket) => {
    socket.on("echo", (value: unknown, ack: unknown) => {
      if (typeof ack === "function") ack(value);
    });
  });
  const requests: SeenRequest[] = [];
  const record = (upgrade: boolean) => (request: IncomingMessage) => {
    const tls = request.socket as Partial<TLSSocket>;
    const name = tls.getPeerCertificate?.()?.subject?.CN;
    requests.push({
      method: request.method ?? "",
      url: new URL(request.url ?? "/", "http://localhost"),
      upgrade,
      headers: request.headers,
      peerName: Array.isArray(name) ? name[0] : name,
      cipher: tls.getCipher?.()?.name,
      remotePort: request.socket.remotePort,
    });
  };
  // After attaching: both servers move the listeners already there behind their own.
  http.prependListener("request", record(false));
  const recordUpgrade = record(true);
  http.prependListener("upgrade", (request, socket) => {
    recordUpgrade(request);
    // A server without WebSocket (`transports: ["polling"]`) listens for no upgrade: refuse it
    // as a proxy would, rather than leave it hanging on this recorder alone.
    if (http.listenerCount("upgrade") === 1) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    }
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  const url = `${settings.tls === undefined ? "http" : "https"}://127.0.0.1:${port}`;
  const clients: ClientSocket[] = [];
  return {
    kind,
    io: server,
    http,
    url,
    port,
    requests,
    engineRequests: () => requests.filter((r) => r.url.pathname === "/socket.io/"),
    client(options = {}) {
      const socket = io(url, { forceNew: true, reconnection: false, ...options });
      clients.push(socket);
      return socket;
    },
    close: () =>
      withTimeout(
        (async () => {
          for (const socket of clients) socket.disconnect();
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            http.closeAllConnections();
          });
        })(),
        10_000,
        "closing the test server",
      ),
  };
}

/** How a client's first connection attempt ended. */
export type Outcome = { connected: true } | { connected: false; error: Error };

/** Waits for "connect" or "connect_error" (bounded). */
export function outcome(client: ClientSocket, ms = 8000): Promise<Outcome> {
  return withTimeout(
    new Promise<Outcome>((resolve) => {
      client.once("connect", () => resolve({ connected: true }));
      client.once("connect_error", (error) => resolve({ connected: false, error }));
    }),
    ms,
    "the connection attempt",
  );
}

/** Waits until the client's transport is WebSocket (the upgrade done), bounded. */
export async function upgraded(client: ClientSocket, ms = 5000): Promise<void> {
  const engine = client.io.engine as unknown as {
    transport: { name: string };
    once(event: "upgrade", listener: () => void): unknown;
  };
  if (engine.transport.name === "websocket") return;
  await withTimeout(
    new Promise<void>((resolve) => engine.once("upgrade", () => resolve())),
    ms,
    "the upgrade to WebSocket",
  );
}

/** A TCP relay to `port` that keeps the bytes clients send through it, per connection. */
export interface TcpTap {
  port: number;
  /** Bytes each connection sent, in order of the connections. */
  sent: Buffer[][];
  close(): Promise<void>;
}

export async function startTcpTap(port: number): Promise<TcpTap> {
  const sent: Buffer[][] = [];
  const sockets = new Set<import("node:net").Socket>();
  const tap = createTcpServer((client) => {
    const chunks: Buffer[] = [];
    sent.push(chunks);
    const upstream = connectTcp(port, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => tap.listen(0, "127.0.0.1", resolve));
  return {
    port: (tap.address() as AddressInfo).port,
    sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        tap.close(() => resolve());
      }),
  };
}
