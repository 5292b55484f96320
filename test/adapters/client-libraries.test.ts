/**
 * The Redis adapters with the other client library and the other Pub/Sub flavour, on one
 * standalone Redis 7, three processes each: a compact version of the broadcast and request
 * checks (see ./scenarios.ts) with ioredis for the Pub/Sub and Streams adapters, and the sharded
 * adapter (SPUBLISH/SSUBSCRIBE) with node-redis (the full checks) and ioredis.
 */
import { after, before, describe, it } from "node:test";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import {
  type Cluster,
  FAST_TIMING,
  type NodeConfig,
  startCluster,
  type TestClient,
} from "./cluster-harness.js";
import { checkBroadcasts, checkRequests, connectClients } from "./scenarios.js";

const CONFIGS: {
  name: string;
  config: Pick<NodeConfig, "adapter" | "lib" | "shardedMode">;
  /** The full checks rather than the compact ones. */
  full?: boolean;
}[] = [
  { name: "Pub/Sub adapter, ioredis", config: { adapter: "redis", lib: "ioredis" } },
  { name: "Streams adapter, ioredis", config: { adapter: "streams", lib: "ioredis" } },
  {
    name: "sharded adapter (dynamic), node-redis",
    config: { adapter: "sharded", lib: "node-redis", shardedMode: "dynamic" },
    full: true,
  },
  {
    name: "sharded adapter (dynamic-private), ioredis",
    config: { adapter: "sharded", lib: "ioredis", shardedMode: "dynamic-private" },
  },
];

let redis: RedisProcess | undefined;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

for (const { name, config, full = false } of CONFIGS) {
  describe(`${name}, standalone Redis, 3 processes`, () => {
    let cluster: Cluster | undefined;
    let clients: TestClient[] = [];

    before(async () => {
      cluster = await startCluster({
        ...config,
        redis: { url: redis!.url },
        recovery: false,
        namespaces: ["/"],
        ...FAST_TIMING,
      });
      clients = await connectClients(cluster, full ? [0, 1, 2, 3] : [0, 1]);
    });

    after(async () => {
      await cluster?.stop();
    });

    it("broadcasts: rooms, except, local, volatile, from a socket; each targeted client once", async () => {
      await checkBroadcasts(cluster!, clients, !full);
    });

    it("requests: acks, fetchSockets, serverSideEmitWithAck, socketsJoin, RemoteSocket, disconnectSockets", async () => {
      await checkRequests(cluster!, clients, !full);
    });
  });
}
