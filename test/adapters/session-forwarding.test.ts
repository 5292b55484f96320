/**
 * Any node serves any request (issue 11): three duplexio nodes on one Redis behind a round-robin
 * proxy without stickiness (every request and every upgrade to the next node). Polling-only
 * clients and clients that upgrade, of both libraries, connect, emit with acknowledgements,
 * receive room broadcasts in order and disconnect, without one "Session ID unknown".
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { io as sioClient } from "socket.io-client";
import { io as duplexioClient } from "../../src/client/node.js";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { nextEvent, waitUntil } from "../helpers/timing.js";
import { type ClientLib, type Cluster, FAST_TIMING, startCluster } from "./cluster-harness.js";
import { RoundRobinProxy } from "./round-robin-proxy.js";

type Transports = ("polling" | "websocket")[];

/** What the tests use of a client socket, common to both libraries. */
interface Client {
  id: string | undefined;
  connected: boolean;
  io: { engine: { transport: { name: string } } };
  on(event: string, listener: (...args: never[]) => void): unknown;
  emitWithAck(event: string, ...args: unknown[]): Promise<unknown>;
  disconnect(): unknown;
}

function connect(lib: ClientLib, url: string, transports: Transports, tag: string): Client {
  const options = {
    forceNew: true,
    transports,
    reconnection: false,
    auth: { rooms: ["forwarded"], tag },
    // Each poll a new connection, as through a load balancer that does not keep them.
    agent: false as const,
  };
  return (lib === "duplexio"
    ? duplexioClient(url, options)
    : sioClient(url, options)) as unknown as Client;
}

/** Connects `count` clients, each emits with acks, all receive a numbered room broadcast. */
async function exercise(
  cluster: Cluster,
  proxy: RoundRobinProxy,
  lib: ClientLib,
  transports: Transports,
): Promise<void> {
  const clients: Client[] = [];
  const ticks = new Map<Client, number[]>();
  try {
    for (let i = 0; i < 4; i++) {
      const client = connect(lib, proxy.url, transports, `${lib}-${i}`);
      const received: number[] = [];
      ticks.set(client, received);
      client.on("tick", ((payload: { seq: number }) => received.push(payload.seq)) as never);
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
        const answer = (await client.emitWithAck("echo", { n })) as {
          payload: { n: number };
        };
        assert.equal(answer.payload.n, n);
      }
    }
    const count = 30;
    for (let seq = 0; seq < count; seq++) {
      await cluster.nodes[seq % 3]!.rpc("emit", {
        to: ["forwarded"],
        event: "tick",
        args: [{ seq }],
      });
    }
    const expected = Array.from({ length: count }, (_, seq) => seq);
    await waitUntil(
      () => clients.every((client) => ticks.get(client)!.length >= count),
      10_000,
      "every broadcast delivered",
    );
    for (const client of clients) {
      const got = ticks.get(client)!;
      // Each is delivered exactly once; those of one node in the order it sent them (broadcasts
      // of different nodes may interleave).
      assert.deepEqual(
        [...got].sort((a, b) => a - b),
        expected,
      );
      for (let node = 0; node < 3; node++) {
        const fromNode = got.filter((seq) => seq % 3 === node);
        assert.deepEqual(
          fromNode,
          expected.filter((seq) => seq % 3 === node),
        );
      }
      assert.ok(client.connected);
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

describe("session forwarding: any node serves any request (Redis Pub/Sub, 3 nodes, round robin)", () => {
  let redis: RedisProcess | undefined;
  let cluster: Cluster | undefined;
  let proxy: RoundRobinProxy | undefined;

  before(async () => {
    redis = await startRedis();
    cluster = await startCluster({
      adapter: "redis",
      lib: "node-redis",
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

  for (const lib of ["socket.io-client", "duplexio"] as const) {
    for (const transports of [["polling"], ["polling", "websocket"]] as Transports[]) {
      it(`${lib}, ${transports.join(" then ")}: acks, room broadcasts, no unknown session`, async () => {
        const before = { ...proxy!.stats };
        await exercise(cluster!, proxy!, lib, transports);
        const stats = proxy!.stats;
        assert.equal(stats.unknownSid, 0, JSON.stringify(stats));
        assert.ok(stats.forwarded - before.forwarded > 10, JSON.stringify(stats));
        if (transports.includes("websocket")) {
          assert.ok(stats.bridged - before.bridged > 0, JSON.stringify(stats));
        }
      });
    }
  }
});
