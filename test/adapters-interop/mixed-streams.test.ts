/**
 * A migration from socket.io to duplexio over Redis Streams: on one real redis-server, two
 * duplexio servers with `duplexio/adapters/redis-streams` and one socket.io 4.8 server with
 * `@socket.io/redis-streams-adapter`, connection state recovery on. The cluster scenario from
 * every node; and sessions stored by one kind of node and restored by the other (both ways),
 * with the packets missed meanwhile replayed from the stream.
 */
import { after, before, describe, it } from "node:test";
import { createAdapter as officialAdapter } from "@socket.io/redis-streams-adapter";
import { createAdapter as duplexioAdapter } from "../../src/adapters/redis-streams/index.js";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { Cleanup, type Kind, type LocalNode, startNode } from "./harness.js";
import { recoverAcross } from "./recovery.js";
import { ioredis, type RedisLibrary, redisClient } from "./redis-clients.js";
import { broadcasts, populate, runScenario } from "./scenario.js";

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

let run = 0;

/**
 * duplexio-0 (node-redis), socket.io-1 (node-redis), duplexio-2 (ioredis; made with
 * `lazyConnect` when asked), on one stream.
 */
async function startMixed(cleanup: Cleanup, lazyConnect = false): Promise<LocalNode[]> {
  const prefix = `s${run++}`;
  const shared = {
    streamName: `${prefix}-stream`,
    channelPrefix: prefix,
    sessionKeyPrefix: `${prefix}:session:`,
    // Short blocking reads: the readers stop soon after the adapters close.
    blockTimeInMs: 300,
  };
  const members: [Kind, RedisLibrary][] = [
    ["duplexio", "node-redis"],
    ["socket.io", "node-redis"],
    ["duplexio", "ioredis"],
  ];
  const nodes: LocalNode[] = [];
  for (const [i, [kind, library]] of members.entries()) {
    const client =
      library === "ioredis" && lazyConnect
        ? await ioredis(redis.url, { lazyConnect })
        : await redisClient(library, redis.url);
    cleanup.add("redis client", () => client.close());
    const adapter =
      kind === "duplexio"
        ? duplexioAdapter(client.client, { ...shared, heartbeatInterval: 300, logger: false })
        : officialAdapter(client.client as never, shared);
    const node = await startNode(kind, `${kind}-${i}`, {
      adapter,
      connectionStateRecovery: { maxDisconnectionDuration: 30_000 },
    });
    cleanup.add(node.name, () => node.close());
    nodes.push(node);
  }
  return nodes;
}

describe("a mixed cluster on Redis Streams: two duplexio nodes, one socket.io node", () => {
  it("the scenario from every node", async () => {
    const cleanup = new Cleanup();
    try {
      await runScenario(await startMixed(cleanup));
    } finally {
      await cleanup.run();
    }
  });

  for (const [from, to] of [
    [0, 1],
    [1, 2],
    [2, 0],
  ]) {
    const kinds = ["duplexio", "socket.io", "duplexio"];
    it(`a session left on a ${kinds[from!]} node is restored by a ${kinds[to!]} node`, async () => {
      const cleanup = new Cleanup();
      try {
        const nodes = await startMixed(cleanup);
        await recoverAcross(nodes[from!]!, nodes[to!]!);
      } finally {
        await cleanup.run();
      }
    });
  }

  it("a duplexio node whose ioredis client was made with lazyConnect joins the cluster", async () => {
    const cleanup = new Cleanup();
    try {
      // duplexio duplicates the client (a stream reader, a subscriber): the copies inherit
      // lazyConnect and must be connected.
      const cluster = await populate(await startMixed(cleanup, true), { discoveryMs: 5000 });
      cleanup.add("clients", () => cluster.close());
      await broadcasts(cluster);
    } finally {
      await cleanup.run();
    }
  });
});
