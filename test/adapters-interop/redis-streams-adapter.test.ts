/**
 * `@socket.io/redis-streams-adapter` plugged into two duplexio servers sharing one real
 * redis-server, with connection state recovery on: the cluster scenario, and a client that
 * leaves one server and is restored by the other (session in Redis, missed packets from the
 * stream). The same runs on two socket.io 4.8 servers as a control of the test itself.
 */
import { after, before, describe, it } from "node:test";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { Cleanup, type Kind, type LocalNode, startNode } from "./harness.js";
import { recoverAcross } from "./recovery.js";
import { type RedisLibrary, redisClient } from "./redis-clients.js";
import { runScenario } from "./scenario.js";

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

let run = 0;

/** Two nodes of `kind`, each with its own Redis client, on a stream of their own. */
async function startNodes(
  cleanup: Cleanup,
  kind: Kind,
  library: RedisLibrary,
): Promise<LocalNode[]> {
  const prefix = `t${run++}`;
  const nodes: LocalNode[] = [];
  for (let i = 0; i < 2; i++) {
    const client = await redisClient(library, redis.url);
    cleanup.add("redis client", () => client.close());
    const node = await startNode(kind, `${kind}-${i}`, {
      adapter: createAdapter(client.client as never, {
        streamName: `${prefix}-stream`,
        channelPrefix: prefix,
        sessionKeyPrefix: `${prefix}:session:`,
        // Short blocking reads: the adapter's reader stops within this once closed.
        blockTimeInMs: 300,
        heartbeatInterval: 500,
      }),
      connectionStateRecovery: { maxDisconnectionDuration: 30_000 },
    });
    cleanup.add(node.name, () => node.close());
    nodes.push(node);
  }
  return nodes;
}

for (const kind of ["duplexio", "socket.io"] as Kind[]) {
  const label = kind === "socket.io" ? " (control: socket.io)" : "";
  describe(`@socket.io/redis-streams-adapter on two ${kind} servers${label}`, () => {
    for (const library of ["node-redis", "ioredis"] as RedisLibrary[]) {
      it(`the cluster scenario (${library})`, async () => {
        const cleanup = new Cleanup();
        try {
          await runScenario(await startNodes(cleanup, kind, library));
        } finally {
          await cleanup.run();
        }
      });
    }

    it("a session left on one server is restored by the other, with the missed packets", async () => {
      const cleanup = new Cleanup();
      try {
        const [a, b] = await startNodes(cleanup, kind, "node-redis");
        await recoverAcross(a!, b!);
      } finally {
        await cleanup.run();
      }
    });
  });
}
