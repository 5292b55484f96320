/**
 * Plumbing of the client suites: the two servers every client test runs against (duplexio's and
 * the official socket.io v4), a server on 127.0.0.1 (port 0) with the client under test connecting
 * to it, and bounded waits that work on any emitter with on/once/off.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe } from "node:test";
import * as reference from "socket.io";
import * as duplexio from "../../../src/index.js";
import { withTimeout } from "../../helpers/timing.js";
import {
  type ClientSocket,
  io,
  type ManagerOptions,
  type SocketOptions,
} from "./client-under-test.js";

export type { ClientSocket };
export type Server = duplexio.Server;
export type ServerOptions = duplexio.ServerOptions;
export type ServerSocket = duplexio.Socket;

/** A Socket.IO server implementation the client is tested against. */
export interface ServerKind {
  name: "duplexio" | "socket.io";
  /** Typed as duplexio's Server; socket.io's is API-compatible for everything the suites use. */
  Server: typeof duplexio.Server;
}

/** duplexio's server and the official one: each client test runs once against each. */
export const SERVER_KINDS: readonly ServerKind[] = [
  { name: "duplexio", Server: duplexio.Server },
  { name: "socket.io", Server: reference.Server as unknown as typeof duplexio.Server },
];

/** Declares the suite `title` once per server kind (`title [against duplexio]`, ...). */
export function describeAgainstEachServer(title: string, suite: (kind: ServerKind) => void): void {
  for (const kind of SERVER_KINDS) {
    describe(`${title} [against ${kind.name}]`, () => suite(kind));
  }
}

/** Any emitter with on/once/off (Node's, both clients', both servers'), whatever its typing. */
interface AnyEmitter {
  on: (...args: never[]) => unknown;
  once: (...args: never[]) => unknown;
  off: (...args: never[]) => unknown;
}

type Subscribe = (event: string, listener: (...args: unknown[]) => void) => unknown;

/** The arguments of the next `event` of `emitter`; rejects after `ms`. */
export function waitFor<T extends unknown[] = unknown[]>(
  emitter: AnyEmitter,
  event: string,
  ms = 5000,
): Promise<T> {
  const listener = (...args: unknown[]) => resolveNext(args as T);
  let resolveNext: (args: T) => void = () => {};
  const next = new Promise<T>((resolve) => {
    resolveNext = resolve;
  });
  (emitter.once as unknown as Subscribe).call(emitter, event, listener);
  return withTimeout(next, ms, `waiting for "${event}"`).finally(() =>
    (emitter.off as unknown as Subscribe).call(emitter, event, listener),
  );
}

/** Records the arguments of every `event` of `emitter`. */
export function collect<T extends unknown[] = unknown[]>(emitter: AnyEmitter, event: string): T[] {
  const seen: T[] = [];
  (emitter.on as unknown as Subscribe).call(emitter, event, (...args: unknown[]) =>
    seen.push(args as T),
  );
  return seen;
}

/** The bytes of a received binary value (Buffer, Uint8Array or ArrayBuffer, per platform). */
export function bytesOf(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) {
    return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  }
  throw new Error(`not binary: ${Object.prototype.toString.call(value)}`);
}

/**
 * The client's current transport: `socket.io.engine.transport.name` as socket.io's documentation
 * shows it, or duplexio's `transportName` (the events suite checks the former separately).
 */
export function transportName(client: ClientSocket): string | undefined {
  const engine = client.io.engine as unknown as {
    transport?: { name?: string };
    transportName?: string | null;
  };
  return engine.transport?.name ?? engine.transportName ?? undefined;
}

/** Client options: a new connection each time, no reconnection unless asked. */
export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** A server under test and the clients connected to it. */
export interface TestServer {
  kind: ServerKind;
  io: Server;
  http: HttpServer;
  port: number;
  url: string;
  /** Creates a client of namespace `nsp` (not waiting for it). */
  client(nsp?: string, options?: ClientOptions): ClientSocket;
  /** Creates a client and waits for its "connect". */
  connect(nsp?: string, options?: ClientOptions): Promise<ClientSocket>;
  /** Closes the clients, the server and the HTTP server, bounded. */
  close(): Promise<void>;
}

/** Starts a `kind` server on 127.0.0.1, on `port` (default: a free one). */
export async function startServer(
  kind: ServerKind,
  options: ServerOptions = {},
  port = 0,
): Promise<TestServer> {
  const http = createServer((_request, response) => {
    response.writeHead(404).end("not found");
  });
  const server = new kind.Server(http, options);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const actualPort = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${actualPort}`;
  const clients: ClientSocket[] = [];
  const client = (nsp = "/", clientOptions: ClientOptions = {}): ClientSocket => {
    const socket = io(`${url}${nsp}`, { forceNew: true, reconnection: false, ...clientOptions });
    clients.push(socket);
    return socket;
  };
  return {
    kind,
    io: server,
    http,
    port: actualPort,
    url,
    client,
    async connect(nsp, clientOptions) {
      const socket = client(nsp, clientOptions);
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once("connect", () => resolve());
          socket.once("connect_error", reject);
        }),
        5000,
        `connecting to ${url}${nsp ?? "/"}`,
      );
      return socket;
    },
    close: () =>
      withTimeout(
        (async () => {
          for (const socket of clients) {
            socket.io.reconnection(false);
            socket.disconnect();
          }
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

/** The next "connection" of namespace `nsp` of `server` (socket.io's and duplexio's alike). */
export function nextConnection(server: TestServer, nsp = "/", ms = 5000): Promise<ServerSocket> {
  return waitFor<[ServerSocket]>(server.io.of(nsp), "connection", ms).then(([socket]) => socket);
}

/** Connects a client and returns it with its server-side socket. */
export async function connectPair(
  server: TestServer,
  nsp = "/",
  options: ClientOptions = {},
): Promise<{ client: ClientSocket; socket: ServerSocket }> {
  const connection = nextConnection(server, nsp);
  const client = await server.connect(nsp, options);
  return { client, socket: await connection };
}
