/**
 * Plumbing for the Socket.IO server tests: a server on 127.0.0.1 (port 0) with the official
 * socket.io-client v4 connecting to it, and bounded waits.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket as ClientSocket } from "socket.io-client";
import { io as connectClient, type ManagerOptions, type SocketOptions } from "socket.io-client";
import { Server, type ServerOptions } from "../../src/index.js";
import { nextEvent, withTimeout } from "../helpers/timing.js";

export type { ClientSocket };

/** The arguments of the next `event` of an emitter; rejects after `ms` (default 5 s). */
export { nextEvent as waitFor };

/** Collects the arguments of every `event` of `emitter`. */
export function collect<T extends unknown[] = unknown[]>(
  emitter: { on(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
): T[] {
  const seen: T[] = [];
  emitter.on(event, ((...args: unknown[]) => seen.push(args as T)) as (...args: never[]) => void);
  return seen;
}

/** Client options: a new connection each time, no reconnection unless asked. */
export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** A Socket.IO server under test and its clients. */
export interface TestServer {
  io: Server;
  http: HttpServer;
  port: number;
  url: string;
  /** Connects a client to namespace `nsp` (not waiting for it). */
  client(nsp?: string, options?: ClientOptions): ClientSocket;
  /** Connects a client and waits for "connect". */
  connect(nsp?: string, options?: ClientOptions): Promise<ClientSocket>;
  /** Closes the clients, the server and the HTTP server, bounded. */
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1, a free port. */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const http = createServer((_request, response) => {
    response.writeHead(404).end("not found");
  });
  const io = new Server(http, options);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const clients: ClientSocket[] = [];
  const client = (nsp = "/", clientOptions: ClientOptions = {}): ClientSocket => {
    const socket = connectClient(`${url}${nsp}`, {
      forceNew: true,
      reconnection: false,
      ...clientOptions,
    });
    clients.push(socket);
    return socket;
  };
  return {
    io,
    http,
    port,
    url,
    client,
    async connect(nsp, clientOptions) {
      const socket = client(nsp, clientOptions);
      await nextEvent(socket, "connect");
      return socket;
    },
    close: () =>
      withTimeout(
        (async () => {
          for (const socket of clients) {
            socket.io.reconnection(false);
            socket.disconnect();
          }
          await io.close();
          http.closeAllConnections();
        })(),
        10_000,
        "closing the test server",
      ),
  };
}

/** The transports the tests run over. */
export const TRANSPORTS = [
  { name: "polling", options: { transports: ["polling"] } },
  { name: "websocket", options: { transports: ["websocket"] } },
] as const satisfies readonly { name: string; options: ClientOptions }[];
