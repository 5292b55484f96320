/**
 * duplexio/adapters/redis-streams (node-redis client, connection state recovery on, so that
 * broadcasts carry their stream offset) across three server processes on one real Redis, with
 * clients of both libraries on each node: exact delivery of every kind of broadcast, and the
 * cluster-wide requests.
 */
import { after, before, describe, it } from "node:test";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { type Cluster, FAST_TIMING, startCluster, type TestClient } from "./cluster-harness.js";
import { checkBroadcasts, checkRequests, connectClients } from "./scenarios.js";

describe("Redis Streams adapter (node-redis, recovery on), 3 processes", () => {
  let redis: RedisProcess | undefined;
  let cluster: Cluster | undefined;
  let clients: TestClient[] = [];

  before(async () => {
    redis = await startRedis();
    cluster = await startCluster({
      adapter: "streams",
      lib: "node-redis",
      redis: { url: redis.url },
      recovery: true,
      namespaces: ["/"],
      ...FAST_TIMING,
    });
    clients = await connectClients(cluster);
  });

  after(async () => {
    await cluster?.stop();
    await redis?.stop();
  });

  it("delivers each broadcast exactly once to exactly the targeted clients of every node", async () => {
    await checkBroadcasts(cluster!, clients);
  });

  it("answers requests with every node: acks, fetchSockets, serverSideEmit, socketsJoin, RemoteSocket, disconnectSockets", async () => {
    await checkRequests(cluster!, clients);
  });
});
