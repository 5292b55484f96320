/**
 * `@socket.io/redis-adapter` 8 (`createAdapter` over node-redis and ioredis, `createShardedAdapter`)
 * plugged into three duplexio servers sharing one real redis-server: cross-server broadcasts,
 * acknowledgements, fetchSockets, serverSideEmitWithAck, socketsJoin, disconnectSockets, remote
 * sockets. The same runs on three socket.io 4.8 servers as a control of the test itself.
 */
import { after, before, describe, it } from "node:test";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { Cleanup, type Kind, type LocalNode, startNode } from "./harness.js";
import { type RedisLibrary, redisClient } from "./redis-clients.js";
import { runScenario } from "./scenario.js";

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

interface Variant {
  name: string;
  library: RedisLibrary;
  adapter(pub: unknown, sub: unknown, prefix: string): unknown;
  /** Sharded adapters subscribe to a room's channel when the room appears. */
  settleAfterJoinMs?: number;
}

const variants: Variant[] = [
  {
    name: "createAdapter, node-redis clients",
    library: "node-redis",
    adapter: (pub, sub, key) => createAdapter(pub as never, sub as never, { key }),
  },
  {
    name: "createAdapter, ioredis clients",
    library: "ioredis",
    adapter: (pub, sub, key) => createAdapter(pub as never, sub as never, { key }),
  },
  {
    name: "createShardedAdapter, node-redis clients",
    library: "node-redis",
    adapter: (pub, sub, channelPrefix) =>
      createShardedAdapter(pub as never, sub as never, { channelPrefix }),
    settleAfterJoinMs: 200,
  },
  {
    name: "createShardedAdapter (dynamic-private), ioredis clients",
    library: "ioredis",
    adapter: (pub, sub, channelPrefix) =>
      createShardedAdapter(pub as never, sub as never, {
        channelPrefix,
        subscriptionMode: "dynamic-private",
      }),
    settleAfterJoinMs: 200,
  },
];

/** Three nodes of `kind` on `prefix`, each with its own pair of Redis clients. */
async function startRedisNodes(
  cleanup: Cleanup,
  kind: Kind,
  variant: Variant,
  prefix: string,
): Promise<LocalNode[]> {
  const nodes: LocalNode[] = [];
  for (let i = 0; i < 3; i++) {
    const pub = await redisClient(variant.library, redis.url);
    cleanup.add("pub client", () => pub.close());
    const sub = await redisClient(variant.library, redis.url);
    cleanup.add("sub client", () => sub.close());
    const node = await startNode(kind, `${kind}-${i}`, {
      adapter: variant.adapter(pub.client, sub.client, prefix),
    });
    cleanup.add(node.name, () => node.close());
    nodes.push(node);
  }
  return nodes;
}

let run = 0;
for (const kind of ["duplexio", "socket.io"] as Kind[]) {
  const label = kind === "socket.io" ? " (control: socket.io)" : "";
  describe(`@socket.io/redis-adapter on three ${kind} servers${label}`, () => {
    for (const variant of variants) {
      it(variant.name, async () => {
        const cleanup = new Cleanup();
        try {
          const nodes = await startRedisNodes(cleanup, kind, variant, `t${run++}`);
          await runScenario(nodes, { settleAfterJoinMs: variant.settleAfterJoinMs });
        } finally {
          await cleanup.run();
        }
      });
    }
  });
}
