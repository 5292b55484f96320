/**
 * Plumbing of the adapter interop tests: Socket.IO nodes (duplexio or socket.io servers, with the
 * agent of ./agent.ts) in this process, control connections to nodes anywhere, official
 * socket.io-client clients that record what they receive, and a cleanup list that stops
 * everything, bounded, even when a test fails.
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as socketIo from "socket.io";
import {
  io as connectIo,
  type ManagerOptions,
  type Socket,
  type SocketOptions,
} from "socket.io-client";
import { Server, type ServerOptions } from "../../src/index.js";
import { delay, withTimeout } from "../helpers/timing.js";
import { type AgentOps, installAgent, type OpName, type OpReply } from "./agent.js";

export type ClientSocket = Socket;
export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** Which implementation a node runs. */
export type Kind = "duplexio" | "socket.io";

/** A Socket.IO node running the agent, wherever it runs. */
export interface NodeRef {
  readonly name: string;
  readonly kind: Kind;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/** A node of this process. */
export interface LocalNode extends NodeRef {
  /** The server (a socket.io one is typed as duplexio's: the APIs match). */
  readonly io: Server;
  readonly http: HttpServer;
  close(): Promise<void>;
}

/** Server options for either implementation; `adapter` is whatever the adapter package gives. */
export type NodeOptions = Omit<ServerOptions, "adapter"> & { adapter?: unknown };

/** Starts a duplexio or socket.io server with the agent on 127.0.0.1, a free port. */
export async function startNode(
  kind: Kind,
  name: string,
  options: NodeOptions = {},
): Promise<LocalNode> {
  const http = createServer((_request, response) => {
    response.writeHead(404).end("not found");
  });
  const io =
    kind === "duplexio"
      ? new Server(http, options as ServerOptions)
      : (new socketIo.Server(
          http,
          options as Partial<socketIo.ServerOptions>,
        ) as unknown as Server);
  installAgent(io, name);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    name,
    kind,
    url: `http://127.0.0.1:${port}`,
    io,
    http,
    close() {
      closed ??= withTimeout(
        new Promise<void>((resolve) => {
          void io.close(() => resolve());
          http.closeAllConnections();
        }),
        10_000,
        `closing node ${name}`,
      );
      return closed;
    },
  };
}

/** Things to stop at the end, last added first; each bounded, every one attempted. */
export class Cleanup {
  readonly #steps: { what: string; fn: () => unknown }[] = [];

  add(what: string, fn: () => unknown): void {
    this.#steps.push({ what, fn });
  }

  async run(): Promise<void> {
    const errors: string[] = [];
    while (this.#steps.length > 0) {
      const { what, fn } = this.#steps.pop()!;
      try {
        await withTimeout(Promise.resolve().then(fn), 10_000, `cleanup: ${what}`);
      } catch (error) {
        errors.push(`${what}: ${(error as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(`cleanup failed:\n${errors.join("\n")}`);
  }
}

/** A socket.io-client socket: its own connection, no reconnection, WebSocket only by default. */
export function openSocket(url: string, options: ClientOptions = {}): ClientSocket {
  return connectIo(url, {
    forceNew: true,
    reconnection: false,
    transports: ["websocket"],
    ...options,
  });
}

/** Connects a socket.io-client socket and waits for "connect" (rejects on connect_error). */
export async function connectSocket(
  url: string,
  options: ClientOptions = {},
  ms = 8000,
): Promise<ClientSocket> {
  const socket = openSocket(url, options);
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      }),
      ms,
      `connecting to ${url}`,
    );
  } catch (error) {
    socket.disconnect();
    throw error;
  }
  return socket;
}

/** The control connection to a node's agent. */
export class Control {
  private constructor(
    readonly node: NodeRef,
    readonly socket: ClientSocket,
  ) {}

  static async connect(node: NodeRef): Promise<Control> {
    return new Control(node, await connectSocket(`${node.url}/control`));
  }

  /** Runs `op` on the node; rejects with the node's error, or after `ms`. */
  async call<K extends OpName>(op: K, arg: AgentOps[K][0], ms = 10_000): Promise<AgentOps[K][1]> {
    const reply = await withTimeout(
      new Promise<OpReply<AgentOps[K][1]>>((resolve) => this.socket.emit("op", op, arg, resolve)),
      ms,
      `${op} on ${this.node.name}`,
    );
    if (!reply.ok) throw new Error(`${op} on ${this.node.name} failed: ${reply.error}`);
    return reply.value;
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** A client of the tests: the events it received (arguments as sent, offsets included). */
export interface TestClient {
  readonly name: string;
  readonly node: NodeRef;
  /** The namespace it connected to. */
  readonly nsp: string;
  readonly socket: ClientSocket;
  readonly events: { event: string; args: unknown[] }[];
  /** Its rooms, as the test made it join them. */
  readonly rooms: (string | number)[];
}

/** Connects a recording client: it answers "ask" with `<name>:<argument>`. */
export async function connectClient(
  node: NodeRef,
  name: string,
  nsp = "/",
  options: ClientOptions = {},
): Promise<TestClient> {
  const socket = await connectSocket(`${node.url}${nsp === "/" ? "" : nsp}`, options);
  const events: TestClient["events"] = [];
  socket.onAny((event: string, ...args: unknown[]) => {
    events.push({ event, args });
  });
  socket.on("ask", (tag: unknown, ack: (answer: string) => void) => ack(`${name}:${tag}`));
  return { name, node, nsp, socket, events, rooms: [] };
}

/** Makes `client` join `rooms` (through its node's agent) and waits for it. */
export async function joinRooms(client: TestClient, rooms: (string | number)[]): Promise<void> {
  await withTimeout(
    new Promise<void>((resolve) => client.socket.emit("join", rooms, () => resolve())),
    5000,
    `${client.name} joining ${rooms.join(", ")}`,
  );
  client.rooms.push(...rooms);
}

/** How many `event`s with first argument `tag` `client` received. */
export function received(client: TestClient, event: string, tag: unknown): number {
  return client.events.filter((e) => e.event === event && e.args[0] === tag).length;
}

/** What each client is expected to receive: `event` with first argument `tag`, `count` times. */
export interface Delivery {
  event: string;
  tag: unknown;
  count(client: TestClient): number;
}

/**
 * Waits until every client received at least what `deliveries` expect, lets `settleMs` pass for
 * duplicates to show up, then asserts exact counts (every client, every delivery).
 */
export async function expectDeliveries(
  clients: readonly TestClient[],
  deliveries: readonly Delivery[],
  { ms = 8000, settleMs = 150 }: { ms?: number; settleMs?: number } = {},
): Promise<void> {
  const table = () =>
    clients.flatMap((client) =>
      deliveries.map((d) => ({
        client: client.name,
        event: d.event,
        tag: d.tag,
        got: received(client, d.event, d.tag),
        want: d.count(client),
      })),
    );
  const deadline = Date.now() + ms;
  while (table().some((row) => row.got < row.want) && Date.now() < deadline) await delay(10);
  await delay(settleMs);
  const wrong = table().filter((row) => row.got !== row.want);
  assert.deepEqual(wrong, [], `deliveries that differ:\n${JSON.stringify(wrong, null, 1)}`);
}

/** Retries `check` (an assertion) until it passes; rethrows its last error after `ms`. */
export async function eventually(
  check: () => Promise<void>,
  ms: number,
  stepMs = 50,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await delay(stepMs);
  }
}

/** Sorted copy. */
export function sorted<T>(values: Iterable<T>): T[] {
  return [...values].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

/** The next `event` of a client socket, bounded. */
export function nextClientEvent(
  socket: ClientSocket,
  event: string,
  ms = 5000,
): Promise<unknown[]> {
  return withTimeout(
    new Promise<unknown[]>((resolve) => socket.once(event, (...args: unknown[]) => resolve(args))),
    ms,
    `waiting for "${event}"`,
  );
}
