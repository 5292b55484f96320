/**
 * Plumbing for the multi-process tests of duplexio's Redis adapters: server processes
 * (fixtures/node.ts) driven over their IPC channel, clients of both libraries (socket.io-client
 * and duplexio's own) that record what they receive, delivery checks, and a TCP proxy that can be
 * re-pointed from one node to another. Every wait is bounded; `stop()` ends every process, frozen
 * ones included.
 */
import assert from "node:assert/strict";
import { type ChildProcess, fork, spawn } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { io as sioClient } from "socket.io-client";
import { io as duplexioClient } from "../../src/client/node.js";
import { delay, nextEvent, waitUntil, withTimeout } from "../helpers/timing.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/node.ts", import.meta.url));

/** What fixtures/node.ts is told (its `Config`). */
export interface NodeConfig {
  name: string;
  adapter: "redis" | "streams" | "sharded";
  lib: "node-redis" | "ioredis";
  redis: { url: string } | { cluster: { host: string; port: number }[] };
  recovery: boolean;
  namespaces: string[];
  heartbeatInterval: number;
  heartbeatTimeout: number;
  requestsTimeout: number;
  redisRetryMs?: number;
  shardedMode?: "static" | "dynamic" | "dynamic-private";
  streamsBlockMs?: number;
}

/** Short timings, so that failures are detected (and the suite runs) fast. */
export const FAST_TIMING = {
  heartbeatInterval: 200,
  heartbeatTimeout: 600,
  requestsTimeout: 1500,
} as const;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One server process. */
export class NodeProcess {
  port = 0;
  /** Its stdout and stderr, interleaved. */
  output = "";
  frozen = false;
  #thawGuard: ChildProcess | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  readonly #exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    const collect = (chunk: string) => {
      this.output = (this.output + chunk).slice(-256 * 1024);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.on(
      "message",
      (message: { id?: number; ok?: boolean; value?: unknown; error?: string }) => {
        if (message.id === undefined) return;
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return;
        this.#pending.delete(message.id);
        if (message.ok) pending.resolve(message.value);
        else pending.reject(new Error(`node ${name}: ${message.error}`));
      },
    );
    // A process killed mid-request: its callers learn it at once.
    child.on("error", () => undefined);
    this.#exited = new Promise((resolve) =>
      child.once("exit", () => {
        for (const pending of this.#pending.values()) {
          pending.reject(new Error(`node ${name} exited`));
        }
        this.#pending.clear();
        resolve();
      }),
    );
  }

  /** Forks a node and waits until it listens. */
  static async start(config: NodeConfig): Promise<NodeProcess> {
    // Not a test file: without the runner's marker it runs as a plain script.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = fork(FIXTURE, [], {
      execArgv: ["--import", "tsx"],
      env: { ...env, NODE_CONFIG: JSON.stringify(config) },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const node = new NodeProcess(config.name, child);
    running.add(node);
    // A node left running by a failed test must not keep the test process alive: the 'exit'
    // handler below kills it.
    child.unref();
    (child.channel as { unref?(): void } | undefined)?.unref?.();
    (child.stdout as { unref?(): void } | null)?.unref?.();
    (child.stderr as { unref?(): void } | null)?.unref?.();
    try {
      const ready = new Promise<number>((resolve, reject) => {
        child.on("message", (message: { type?: string; port?: number }) => {
          if (message.type === "ready") resolve(message.port!);
        });
        child.once("exit", (code, signal) =>
          reject(new Error(`node ${config.name} exited (${code ?? signal}):\n${node.output}`)),
        );
      });
      node.port = await withTimeout(ready, 30_000, `node ${config.name} to start`);
    } catch (error) {
      await node.stop();
      throw error;
    }
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Runs a command of the fixture; rejects after `ms` or when the process exits. */
  rpc<T = unknown>(cmd: string, args: Record<string, unknown> = {}, ms = 10_000): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`node ${this.name} is not running`));
    const id = this.#nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.child.send({ id, cmd, args });
    return withTimeout(answer, ms, `node ${this.name}: ${cmd}`).finally(() =>
      this.#pending.delete(id),
    );
  }

  /** How many times `text` appears in the output. */
  count(text: string): number {
    return this.output.split(text).length - 1;
  }

  /**
   * SIGSTOP: the process keeps its connections and answers nothing until {@link thaw}. Should
   * this test process die meanwhile (no 'exit' handler runs on SIGKILL), a guard sends SIGCONT
   * after 30 s: the node then sees its parent gone and exits.
   */
  freeze(): void {
    this.frozen = true;
    this.child.kill("SIGSTOP");
    this.#thawGuard = spawn("/bin/sh", ["-c", `sleep 30; kill -CONT ${this.child.pid}`], {
      stdio: "ignore",
      detached: true,
    });
    this.#thawGuard.on("error", () => undefined);
    this.#thawGuard.unref();
  }

  thaw(): void {
    this.frozen = false;
    this.child.kill("SIGCONT");
    const guard = this.#thawGuard;
    this.#thawGuard = undefined;
    // The guard's process group: the shell and its sleep.
    if (guard?.pid !== undefined) {
      try {
        process.kill(-guard.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    // SIGKILL ends a stopped (frozen) process too.
    if (this.alive) this.child.kill("SIGKILL");
    await withTimeout(this.#exited, 10_000, `node ${this.name} to exit`);
    running.delete(this);
  }

  /** Asks the node to close (bounded), else SIGKILL. Idempotent. */
  async stop(): Promise<void> {
    if (this.frozen) this.thaw();
    if (this.alive) {
      try {
        await this.rpc("close", {}, 4000);
        await withTimeout(this.#exited, 3000, `node ${this.name} to exit`);
      } catch {
        // Unresponsive: killed below.
      }
    }
    await this.kill();
  }
}

/** Every node started and not yet stopped (stopped at process exit at the latest). */
const running = new Set<NodeProcess>();
process.on("exit", () => {
  for (const node of running) node.child.kill("SIGKILL");
});

// --- clients ---------------------------------------------------------------------------------------

export type ClientLib = "socket.io-client" | "duplexio";
export const CLIENT_LIBS: readonly ClientLib[] = ["socket.io-client", "duplexio"];

/** What the tests use of a client Socket, common to both libraries. */
export interface ClientSocket {
  id: string | undefined;
  connected: boolean;
  recovered: boolean;
  io: {
    engine: { close(): void };
    reconnection(value: boolean): unknown;
    reconnectionDelay(value: number): unknown;
    reconnectionDelayMax(value: number): unknown;
    randomizationFactor(value: number): unknown;
  };
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  onAny(listener: (event: string, ...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

/** An event a client received. */
export interface Received {
  event: string;
  args: unknown[];
  at: number;
}

export interface ClientOptions {
  lib: ClientLib;
  /** Where it connects (a node's URL, or a proxy's). */
  url: string;
  /** The node it connects to (for expectations). */
  node: string;
  nsp?: string;
  rooms?: (string | number)[];
  tag: string;
  /** Reconnection settings (off by default). */
  reconnection?: boolean;
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
}

/** A client that records every event, and answers "ask" with its tag. */
export class TestClient {
  readonly socket: ClientSocket;
  readonly received: Received[] = [];
  readonly disconnects: string[] = [];
  readonly lib: ClientLib;
  readonly node: string;
  readonly tag: string;
  readonly rooms: (string | number)[];

  constructor(options: ClientOptions) {
    this.lib = options.lib;
    this.node = options.node;
    this.tag = options.tag;
    this.rooms = options.rooms ?? [];
    const url = `${options.url}${options.nsp ?? "/"}`;
    const clientOptions = {
      forceNew: true,
      transports: ["websocket" as const],
      reconnection: options.reconnection ?? false,
      reconnectionDelay: options.reconnectionDelay ?? 100,
      reconnectionDelayMax: options.reconnectionDelayMax ?? options.reconnectionDelay ?? 100,
      randomizationFactor: 0,
      auth: { rooms: this.rooms, tag: options.tag },
    };
    this.socket = (options.lib === "duplexio"
      ? duplexioClient(url, clientOptions)
      : sioClient(url, clientOptions)) as unknown as ClientSocket;
    this.socket.onAny((event, ...args) => {
      this.received.push({ event, args, at: Date.now() });
    });
    this.socket.on("ask", ((payload: unknown, ack: (answer: unknown) => void) => {
      ack({ tag: this.tag, payload });
    }) as (...args: never[]) => void);
    this.socket.on("disconnect", ((reason: string) => {
      this.disconnects.push(reason);
    }) as (...args: never[]) => void);
  }

  get id(): string {
    return this.socket.id ?? "";
  }

  /** The first arguments of the `event` events received, in order. */
  payloads<T = Record<string, unknown>>(event: string): T[] {
    return this.received.filter((r) => r.event === event).map((r) => r.args[0] as T);
  }

  count(event: string): number {
    let n = 0;
    for (const r of this.received) if (r.event === event) n++;
    return n;
  }

  close(): void {
    this.socket.io.reconnection(false);
    this.socket.disconnect();
  }
}

/** Connects a client and waits for "connect". */
export async function connectClient(options: ClientOptions): Promise<TestClient> {
  const client = new TestClient(options);
  await nextEvent(client.socket, "connect", 10_000);
  return client;
}

// --- a cluster of nodes ------------------------------------------------------------------------------

export interface Cluster {
  nodes: NodeProcess[];
  clients: TestClient[];
  /** The node of name `name`. */
  node(name: string): NodeProcess;
  /** Connects a client to `node` and keeps it for {@link stop}. */
  connect(
    options: Omit<ClientOptions, "url" | "node"> & { node: NodeProcess },
  ): Promise<TestClient>;
  /** Closes the clients and stops every node (bounded, SIGKILL as last resort). */
  stop(): Promise<void>;
}

/** Starts nodes A, B, C (or `names`) with `config`, in parallel. */
export async function startCluster(
  config: Omit<NodeConfig, "name">,
  names: readonly string[] = ["A", "B", "C"],
): Promise<Cluster> {
  const settled = await Promise.allSettled(
    names.map((name) => NodeProcess.start({ ...config, name })),
  );
  const nodes = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failed = settled.find((result) => result.status === "rejected");
  const clients: TestClient[] = [];
  const cluster: Cluster = {
    nodes,
    clients,
    node(name) {
      const node = nodes.find((candidate) => candidate.name === name);
      if (node === undefined) throw new Error(`no node ${name}`);
      return node;
    },
    async connect(options) {
      const client = await connectClient({
        ...options,
        url: options.node.url,
        node: options.node.name,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.close();
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
  try {
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    // Every node knows the two others before a test counts on them.
    await waitForPeers(nodes, config.namespaces);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** Waits until every node sees every other one alive, in every namespace. */
export async function waitForPeers(
  nodes: NodeProcess[],
  namespaces: readonly string[] = ["/"],
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (const node of nodes) {
    for (const nsp of namespaces) {
      for (;;) {
        const { live } = await node.rpc<{ live: number }>("stats", { nsp });
        if (live === nodes.length - 1) break;
        if (Date.now() > deadline) {
          throw new Error(
            `node ${node.name} sees ${live} peers in ${nsp}, not ${nodes.length - 1}`,
          );
        }
        await delay(50);
      }
    }
  }
}

// --- delivery checks ---------------------------------------------------------------------------------

/**
 * Asserts that every client for which `expected` holds received the `event` events numbered
 * 0..count-1 (payload `seq`), each exactly once and in order, and that the others got none.
 */
export function assertExactDelivery(
  clients: readonly TestClient[],
  event: string,
  count: number,
  expected: (client: TestClient) => boolean,
  what = event,
): void {
  const wanted = Array.from({ length: count }, (_, i) => i);
  const problems: string[] = [];
  for (const client of clients) {
    const seqs = client.payloads<{ seq: number }>(event).map((p) => p.seq);
    const want = expected(client) ? wanted : [];
    if (JSON.stringify(seqs) !== JSON.stringify(want)) {
      problems.push(
        `${client.tag} (${client.lib} on ${client.node}, rooms ${JSON.stringify(client.rooms)}): got [${seqs}], want [${want}]`,
      );
    }
  }
  assert.deepEqual(problems, [], `${what}: wrong deliveries`);
}

/** Waits until each client for which `expected` holds has `count` `event` events. */
export function waitForDelivery(
  clients: readonly TestClient[],
  event: string,
  count: number,
  expected: (client: TestClient) => boolean,
  ms = 5000,
): Promise<void> {
  return waitUntil(
    () => clients.every((client) => !expected(client) || client.count(event) >= count),
    ms,
    `every targeted client to get ${count} "${event}"`,
  );
}

// --- a re-pointable TCP proxy --------------------------------------------------------------------------

interface Pair {
  client: Socket;
  upstream: Socket;
  silenced: boolean;
}

/** A TCP proxy whose target can change: new connections go to the current one. */
export class SwitchProxy {
  readonly #pairs = new Set<Pair>();

  private constructor(
    readonly server: Server,
    readonly port: number,
    public target: number,
  ) {}

  static async start(target: number): Promise<SwitchProxy> {
    let proxy: SwitchProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no proxy port");
    proxy = new SwitchProxy(server, address.port, target);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Cuts the client side of every connection and keeps the server side open and silent: the
   * server does not notice that its client left (until its own ping timeout).
   */
  dropSilently(): void {
    for (const pair of this.#pairs) {
      pair.silenced = true;
      pair.client.destroy();
    }
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    await withTimeout(
      new Promise<void>((resolve) => this.server.close(() => resolve())),
      5000,
      "closing the proxy",
    );
  }

  private accept(client: Socket): void {
    const upstream = createConnection({ host: "127.0.0.1", port: this.target });
    const pair: Pair = { client, upstream, silenced: false };
    this.#pairs.add(pair);
    const end = () => {
      client.destroy();
      // A silenced pair keeps its server side open (closed by close()).
      if (pair.silenced) return;
      upstream.destroy();
      this.#pairs.delete(pair);
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", () => {
      client.destroy();
      this.#pairs.delete(pair);
    });
    client.on("data", (chunk: Buffer) => {
      if (!pair.silenced) upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!pair.silenced) client.write(chunk);
    });
  }
}
