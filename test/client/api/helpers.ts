/**
 * Plumbing for the client API tests: duplexio's Socket.IO server on 127.0.0.1 (port 0) and
 * duplexio's client connecting to it, with bounded waits.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type IoOptions, io, type Manager, type Socket } from "../../../src/client/node.js";
import { Server, type ServerOptions } from "../../../src/index.js";
import { nextEvent, withTimeout } from "../../helpers/timing.js";

export type { Socket as ClientSocket };

/** The arguments of the next `event` of an emitter; rejects after `ms` (default 5 s). */
export { nextEvent as waitFor };

/** Records the name of each listed event of `emitter` (with its first argument) in order. */
export function record(
  emitter: { on(event: string, listener: (...args: never[]) => void): unknown },
  events: readonly string[],
  into: unknown[][] = [],
): unknown[][] {
  for (const event of events) {
    emitter.on(event, ((...args: unknown[]) => into.push([event, ...args])) as (
      ...args: never[]
    ) => void);
  }
  return into;
}

/** A Socket.IO server under test and the clients made against it. */
export interface TestServer {
  io: Server;
  http: HttpServer;
  url: string;
  /** A client Socket of namespace `nsp` (not waited for): a new connection, no reconnection. */
  client(nsp?: string, options?: IoOptions): Socket;
  /** A client, once connected. */
  connect(nsp?: string, options?: IoOptions): Promise<Socket>;
  /** Closes every client, the server and the HTTP server, bounded. */
  close(): Promise<void>;
}

/** Starts a server; `clientDefaults` apply to every client it makes. */
export async function startServer(
  options: Partial<ServerOptions> = {},
  clientDefaults: IoOptions = {},
): Promise<TestServer> {
  const http = createServer();
  const server = new Server(http, options);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const managers = new Set<Manager>();
  const client = (nsp = "/", clientOptions: IoOptions = {}): Socket => {
    const socket = io(`${url}${nsp}`, {
      forceNew: true,
      reconnection: false,
      ...clientDefaults,
      ...clientOptions,
    });
    managers.add(socket.io as unknown as Manager);
    return socket;
  };
  return {
    io: server,
    http,
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
          for (const manager of managers) {
            manager.reconnection(false);
            manager._close();
          }
          await server.close();
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
] as const satisfies readonly { name: string; options: IoOptions }[];
