/**
 * Any node serves any request (issue 11): three duplexio nodes behind a round-robin proxy without
 * stickiness (every request and every upgrade to the next node), joined by Redis (Pub/Sub,
 * sharded Pub/Sub, Streams) or by the IPC channels of `node:cluster`. Polling-only clients and
 * clients that upgrade, of both libraries, connect, emit with acknowledgements, receive room
 * broadcasts exactly once and in order, and disconnect, without one "Session ID unknown". Then the
 * owner of sessions killed with SIGKILL while their polls wait on other nodes: every request ends
 * within a bound and the clients reconnect.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { io as sioClient } from "socket.io-client";
import { io as duplexioClient } from "../../src/client/node.js";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { delay, nextEvent, waitUntil, withTimeout } from "../helpers/timing.js";
import { type ClientLib, type Cluster, FAST_TIMING, startCluster } from "./cluster-harness.js";
import { RoundRobinProxy } from "./round-robin-proxy.js";

type Transports = ("polling" | "websocket")[];

/** What the tests use of a client socket, common to both libraries. */
interface Client {
  id: string | undefined;
  connected: boolean;
  io: { engine: { id?: string; transport: { name: string } } };
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  emitWithAck(event: string, ...args: unknown[]): Promise<unknown>;
  disconnect(): unknown;
}

function connect(
  lib: ClientLib,
  url: string,
  transports: Transports,
  reconnection = false,
): Client {
  const options = {
    forceNew: true,
    transports,
    reconnection,
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
    auth: { rooms: ["forwarded"] },
    // Each poll a new connection, as through a load balancer that does not keep them.
    agent: false as const,
  };
  return (lib === "duplexio"
    ? duplexioClient(url, options)
    : sioClient(url, options)) as unknown as Client;
}

const CLIENTS = 4;
const BROADCASTS = 30;

/**
 * Connects clients through the proxy; each emits with acks; every one receives the numbered room
 * broadcasts that `broadcast(seq)` sends from node `seq % 3`.
 */
async function exercise(
  proxy: RoundRobinProxy,
  lib: ClientLib,
  transports: Transports,
  broadcast: (seq: number) => Promise<unknown>,
): Promise<void> {
  const clients: Client[] = [];
  const ticks = new Map<Client, number[]>();
  const before = { ...proxy.stats };
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const client = connect(lib, proxy.url, transports);
      const received: number[] = [];
      ticks.set(client, received);
      client.on("tick", ((payload: { seq: number; bytes: Buffer | number[] }) => {
        // Binary data crosses intact.
        assert.deepEqual([...payload.bytes], [payload.seq, 0, 255]);
        received.push(payload.seq);
      }) as never);
      clients.push(client);
      await nextEvent(client as never, "connect", 10_000);
    }
    if (transports.includes("websocket")) {
      await waitUntil(
        () => clients.every((client) => client.io.engine.transport.name === "websocket"),
        10_000,
        "every client upgraded",
      );
    }
    for (const client of clients) {
      for (let n = 0; n < 5; n++) {
        const answer = (await client.emitWithAck("echo", { n, bytes: Buffer.from([n, 1]) })) as {
          payload: { n: number; bytes: Buffer };
        };
        assert.equal(answer.payload.n, n);
        assert.deepEqual([...answer.payload.bytes], [n, 1]);
      }
    }
    for (let seq = 0; seq < BROADCASTS; seq++) await broadcast(seq);
    const expected = Array.from({ length: BROADCASTS }, (_, seq) => seq);
    await waitUntil(
      () => clients.every((client) => ticks.get(client)!.length >= BROADCASTS),
      10_000,
      "every broadcast delivered",
    );
    for (const client of clients) {
      const got = ticks.get(client)!;
      // Each exactly once; those of one node in the order it sent them (broadcasts of different
      // nodes may interleave).
      assert.deepEqual(
        [...got].sort((a, b) => a - b),
        expected,
      );
      for (let node = 0; node < 3; node++) {
        assert.deepEqual(
          got.filter((seq) => seq % 3 === node),
          expected.filter((seq) => seq % 3 === node),
        );
      }
      assert.ok(client.connected);
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
  const stats = proxy.stats;
  assert.equal(stats.unknownSid, before.unknownSid, JSON.stringify(stats));
  if (transports.includes("websocket")) {
    // The handshake's requests, then the upgrade: most land on other nodes than the owner.
    assert.ok(stats.forwarded > before.forwarded, JSON.stringify(stats));
    assert.ok(stats.bridged > before.bridged, JSON.stringify(stats));
  } else {
    assert.ok(stats.forwarded - before.forwarded > 10, JSON.stringify(stats));
  }
}

/** One client on each node (WebSocket, direct), to send that node's broadcasts. */
async function connectShouters(ports: number[]): Promise<Client[]> {
  const shouters: Client[] = [];
  for (const port of ports) {
    const shouter = connect("duplexio", `http://127.0.0.1:${port}`, ["websocket"]);
    shouters.push(shouter);
    await nextEvent(shouter as never, "connect", 10_000);
  }
  return shouters;
}

/** Broadcast number `seq` to the clients' room, from node `seq % 3`. */
function shout(shouters: Client[], binary: boolean): (seq: number) => Promise<unknown> {
  return (seq) =>
    shouters[seq % 3]!.emitWithAck("shout", "forwarded", "tick", {
      seq,
      bytes: binary ? Buffer.from([seq, 0, 255]) : [seq, 0, 255],
    });
}

const CASES: [ClientLib, Transports][] = [
  ["socket.io-client", ["polling"]],
  ["socket.io-client", ["polling", "websocket"]],
  ["duplexio", ["polling"]],
  ["duplexio", ["polling", "websocket"]],
];

for (const [adapter, lib] of [
  ["redis", "node-redis"],
  ["redis", "ioredis"],
  ["sharded", "node-redis"],
  ["streams", "ioredis"],
] as const) {
  describe(`session forwarding over ${adapter} with ${lib} (3 nodes, round robin)`, () => {
    let redis: RedisProcess | undefined;
    let cluster: Cluster | undefined;
    let proxy: RoundRobinProxy | undefined;

    before(async () => {
      redis = await startRedis();
      cluster = await startCluster({
        adapter,
        lib,
        redis: { url: redis.url },
        recovery: false,
        namespaces: ["/"],
        ...FAST_TIMING,
      });
      proxy = await RoundRobinProxy.start(cluster.nodes);
    });

    after(async () => {
      await proxy?.close();
      await cluster?.stop();
      await redis?.stop();
    });

    for (const [lib, transports] of CASES) {
      it(`${lib}, ${transports.join(" then ")}: acks, room broadcasts, no unknown session`, async () => {
        const shouters = await connectShouters(cluster!.nodes.map((node) => node.port));
        try {
          await exercise(proxy!, lib, transports, shout(shouters, true));
        } finally {
          for (const shouter of shouters) shouter.disconnect();
        }
      });
    }
  });
}

// --- node:cluster workers ------------------------------------------------------------------------

const CLUSTER_SCRIPT = fileURLToPath(new URL("./fixtures/forwarding-cluster.ts", import.meta.url));

/** The deployment of fixtures/forwarding-cluster.ts. */
class Workers {
  readonly #lines: Record<string, unknown>[] = [];
  readonly #waiters = new Set<() => void>();
  stderr = "";

  private constructor(readonly child: ChildProcess) {
    child.stderr!.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-16_384);
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        this.#lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        return;
      }
      for (const waiter of this.#waiters) waiter();
    });
  }

  static start(serialization: "json" | "advanced", pingInterval: number): Workers {
    const child = spawn(process.execPath, ["--import", "tsx", CLUSTER_SCRIPT, "3", serialization], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, PING_INTERVAL: String(pingInterval) },
    });
    return new Workers(child);
  }

  line(predicate: (line: Record<string, unknown>) => boolean, what: string, ms = 25_000) {
    return withTimeout(
      new Promise<Record<string, unknown>>((resolve) => {
        const check = (): void => {
          const found = this.#lines.find(predicate);
          if (found === undefined) return;
          this.#waiters.delete(check);
          resolve(found);
        };
        this.#waiters.add(check);
        check();
      }),
      ms,
      what,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.stderr}`);
    });
  }

  async ports(): Promise<number[]> {
    const ready = await this.line((line) => Array.isArray(line.ready), "workers ready");
    return ready.ready as number[];
  }

  async kill(index: number): Promise<void> {
    this.child.stdin!.write(`kill ${index}\n`);
    await this.line((line) => line.exited === index, `worker ${index} exit`, 10_000);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin!.end();
    await withTimeout(exited, 5000, "cluster exit").catch(() => this.child.kill("SIGKILL"));
  }
}

describe("session forwarding over node:cluster IPC (3 workers, round robin)", () => {
  for (const serialization of ["advanced", "json"] as const) {
    it(`${serialization} serialization: both libraries, polling and upgrade`, async () => {
      const workers = Workers.start(serialization, 25_000);
      let proxy: RoundRobinProxy | undefined;
      const shouters: Client[] = [];
      try {
        const ports = await workers.ports();
        proxy = await RoundRobinProxy.start(ports.map((port) => ({ port })));
        shouters.push(...(await connectShouters(ports)));
        for (const [lib, transports] of CASES) {
          // Binary values between workers need the advanced serialization (see the adapter).
          await exercise(proxy, lib, transports, shout(shouters, serialization === "advanced"));
        }
      } finally {
        for (const shouter of shouters) shouter.disconnect();
        await proxy?.close();
        await workers.stop();
      }
    });
  }

  it("the owner killed (SIGKILL) while its sessions' polls and WebSockets go through other workers: every request ends in bounded time, the clients reconnect", async () => {
    // Polls wait up to the ping interval: long enough that only the owner's death can end them.
    const workers = Workers.start("advanced", 20_000);
    let proxy: RoundRobinProxy | undefined;
    const clients: Client[] = [];
    try {
      const ports = await workers.ports();
      proxy = await RoundRobinProxy.start(ports.map((port) => ({ port })));
      // Polling-only clients, and clients that upgrade (their WebSocket often bridged).
      for (let i = 0; i < 12; i++) {
        const client = connect(
          i % 2 ? "duplexio" : "socket.io-client",
          proxy.url,
          i < 6 ? ["polling"] : ["polling", "websocket"],
          true,
        );
        clients.push(client);
        await nextEvent(client as never, "connect", 10_000);
        await client.emitWithAck("echo", i);
      }
      // Worker 0's sessions, whose pending polls wait on another worker.
      await waitUntil(
        () => clients.slice(6).every((client) => client.io.engine.transport.name === "websocket"),
        10_000,
        "the upgrades",
      );
      const owned = clients.filter((client) => proxy!.owners.get(client.io.engine.id!) === 0);
      assert.ok(owned.length > 0, "worker 0 owns sessions");
      const disconnected = owned.map((client) => nextEvent(client as never, "disconnect", 10_000));
      const reconnected = owned.map((client) => nextEvent(client as never, "connect", 15_000));
      await delay(300);
      const killedAt = Date.now();
      await workers.kill(0);
      proxy.remove(0);
      await Promise.all(disconnected);
      // Noticed from the missing heartbeats (1 s), answered at once: well before the poll's end.
      assert.ok(Date.now() - killedAt < 5000, `disconnected after ${Date.now() - killedAt} ms`);
      await Promise.all(reconnected);
      for (const client of owned) {
        assert.notEqual(proxy.owners.get(client.io.engine.id!), 0, "a new session elsewhere");
        assert.deepEqual(
          ((await client.emitWithAck("echo", "again")) as { payload: string }).payload,
          "again",
        );
      }
      // Nothing waits at the proxy beyond the bound.
      await waitUntil(() => proxy!.pending <= clients.length, 5000, "no request left hanging");
    } finally {
      for (const client of clients) client.disconnect();
      await proxy?.close();
      await workers.stop();
    }
  });
});
