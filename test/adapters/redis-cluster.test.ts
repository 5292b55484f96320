/**
 * The Redis adapters on a Redis Cluster (three masters), three duplexio processes each, with
 * node-redis's `createCluster` and ioredis's `Cluster`: a compact version of the broadcast and
 * request checks (see ./scenarios.ts) for the Pub/Sub, Streams and sharded adapters. And an
 * ioredis Cluster without `shardedSubscribers: true` (which cannot receive sharded messages) is
 * refused up front by the adapters that would use sharded Pub/Sub.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cluster as IoRedisCluster } from "ioredis";
import { createShardedAdapter } from "../../src/adapters/redis/index.js";
import { createAdapter as createStreamsAdapter } from "../../src/adapters/redis-streams/index.js";
import { type RedisClusterProcess, startRedisCluster } from "../helpers/redis.js";
import {
  type Cluster,
  FAST_TIMING,
  type NodeConfig,
  startCluster,
  type TestClient,
} from "./cluster-harness.js";
import { checkBroadcasts, checkRequests, connectClients } from "./scenarios.js";

const CONFIGS: { name: string; config: Pick<NodeConfig, "adapter" | "lib" | "shardedMode"> }[] = [
  {
    name: "Pub/Sub adapter, node-redis createCluster",
    config: { adapter: "redis", lib: "node-redis" },
  },
  { name: "Pub/Sub adapter, ioredis Cluster", config: { adapter: "redis", lib: "ioredis" } },
  {
    name: "Streams adapter, node-redis createCluster",
    config: { adapter: "streams", lib: "node-redis" },
  },
  { name: "Streams adapter, ioredis Cluster", config: { adapter: "streams", lib: "ioredis" } },
  {
    name: "sharded adapter (dynamic), node-redis createCluster",
    config: { adapter: "sharded", lib: "node-redis", shardedMode: "dynamic" },
  },
  {
    name: "sharded adapter (static), ioredis Cluster",
    config: { adapter: "sharded", lib: "ioredis", shardedMode: "static" },
  },
];

let redis: RedisClusterProcess | undefined;
before(async () => {
  redis = await startRedisCluster({ masters: 3 });
});
after(async () => {
  await redis?.stop();
});

for (const { name, config } of CONFIGS) {
  describe(`${name}, 3 processes`, () => {
    let cluster: Cluster | undefined;
    let clients: TestClient[] = [];

    before(async () => {
      cluster = await startCluster({
        ...config,
        redis: { cluster: redis!.nodes.map(({ host, port }) => ({ host, port })) },
        recovery: false,
        namespaces: ["/"],
        ...FAST_TIMING,
      });
      clients = await connectClients(cluster, [0, 1]);
    });

    after(async () => {
      await cluster?.stop();
    });

    it("broadcasts: rooms, except, local, volatile, from a socket; each targeted client once", async () => {
      await checkBroadcasts(cluster!, clients, true);
    });

    it("requests: acks, fetchSockets, serverSideEmitWithAck, socketsJoin, RemoteSocket, disconnectSockets", async () => {
      await checkRequests(cluster!, clients, true);
    });
  });
}

describe("sharded Pub/Sub with an ioredis Cluster", () => {
  it("needs its option shardedSubscribers: true (else nothing would ever be received)", async () => {
    const nodes = redis!.nodes.map(({ host, port }) => ({ host, port }));
    const plain = new IoRedisCluster(nodes, { lazyConnect: true });
    const sharded = new IoRedisCluster(nodes, { lazyConnect: true, shardedSubscribers: true });
    try {
      assert.throws(() => createShardedAdapter(plain, plain), /shardedSubscribers: true/);
      assert.throws(
        () => createStreamsAdapter(plain, { useShardedPubSub: true }),
        /shardedSubscribers: true/,
      );
      assert.equal(typeof createShardedAdapter(plain, sharded), "function");
    } finally {
      plain.disconnect();
      sharded.disconnect();
    }
  });
});
