/**
 * Checks test/helpers/redis.ts with real clients (node-redis and ioredis): a server that
 * restarts empty and is reconnected to, a frozen server that answers once thawed, a cluster whose
 * keys land on different nodes, and no process left behind.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { Cluster, Redis } from "ioredis";
import { createClient, createCluster } from "redis";
import {
  type RedisClusterProcess,
  type RedisProcess,
  sendCommand,
  startRedis,
  startRedisCluster,
} from "../helpers/redis.js";
import { nextEvent, waitUntil, withTimeout } from "../helpers/timing.js";

/** The processes whose parent is this one (from /proc), but tsx's esbuild service. */
function childProcesses(): string[] {
  const children: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(fields[1]) === process.pid && name !== "esbuild")
        children.push(`${entry} ${name}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("redis helper", () => {
  const started: Array<RedisProcess | RedisClusterProcess> = [];
  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it("starts a server node-redis and ioredis use; restart() empties it and clients reconnect", async () => {
    const redis = await startRedis();
    started.push(redis);
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
    assert.ok(isRunning(redis.pid));

    const client = createClient({ url: redis.url });
    const errors: Error[] = [];
    client.on("error", (error: Error) => errors.push(error));
    await withTimeout(client.connect(), 5000, "node-redis connect");
    const ioredis = new Redis(redis.port, "127.0.0.1", { lazyConnect: true });
    ioredis.on("error", () => undefined);
    await withTimeout(ioredis.connect(), 5000, "ioredis connect");
    try {
      await client.set("greeting", "hello");
      assert.equal(await client.get("greeting"), "hello");
      assert.equal(await ioredis.get("greeting"), "hello");

      const firstPid = redis.pid;
      const reconnected = nextEvent(client, "ready", 15000);
      const ioreconnected = nextEvent(ioredis, "ready", 15000);
      await redis.restart();
      assert.notEqual(redis.pid, firstPid);
      assert.ok(!isRunning(firstPid), "the first redis-server is gone");
      await reconnected;
      await ioreconnected;
      assert.ok(errors.length > 0, "node-redis saw the connection drop");
      // Nothing is saved: the restarted server is empty.
      assert.equal(await withTimeout(client.get("greeting"), 5000, "GET after restart"), null);
      assert.equal(await withTimeout(ioredis.get("greeting"), 5000, "ioredis GET"), null);
      assert.equal(await client.dbSize(), 0);
      await client.set("greeting", "again");
      assert.equal(await ioredis.get("greeting"), "again");
    } finally {
      await client.close();
      await ioredis.quit();
    }
  });

  it("freeze() stops answers (the connection stays); thaw() brings them", async () => {
    const redis = await startRedis();
    started.push(redis);
    const client = createClient({ url: redis.url });
    client.on("error", () => undefined);
    await withTimeout(client.connect(), 5000, "node-redis connect");
    try {
      assert.equal(await client.ping(), "PONG");
      redis.freeze();
      const late = client.ping();
      late.catch(() => undefined);
      await assert.rejects(withTimeout(late, 500, "PING to a frozen server"), /timed out/);
      await assert.rejects(sendCommand(redis.port, ["PING"], 300), /timed out/);
      redis.thaw();
      // The PING sent while frozen is answered, on the same connection.
      assert.equal(await withTimeout(late, 5000, "the late PONG"), "PONG");
      assert.equal(await client.ping(), "PONG");
      await client.close();
    } finally {
      if (client.isOpen) client.destroy();
    }
    // A frozen server still stops (stop() sends SIGCONT after SIGTERM).
    redis.freeze();
    const pid = redis.pid;
    await redis.stop();
    assert.ok(!isRunning(pid));
    await redis.stop(); // idempotent
  });

  it("starts a 3-master cluster: keys on different nodes through node-redis and ioredis", async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    started.push(cluster);
    assert.equal(cluster.nodes.length, 3);

    // "a", "b" and "c" hash to slots 15495, 3300 and 7365: one per master.
    const keys = ["a", "b", "c"];
    const slots = await Promise.all(
      keys.map((key) => sendCommand(cluster.nodes[0].port, ["CLUSTER", "KEYSLOT", key])),
    );
    assert.deepEqual(slots, ["15495", "3300", "7365"]);

    const client = createCluster({ rootNodes: [{ url: cluster.nodes[0].url }] });
    client.on("error", () => undefined);
    await withTimeout(client.connect(), 10000, "node-redis cluster connect");
    try {
      for (const key of keys) await client.set(key, `node-redis ${key}`);
      for (const key of keys) assert.equal(await client.get(key), `node-redis ${key}`);
    } finally {
      await client.close();
    }

    // Each key is on exactly one node; the others answer MOVED.
    const owners = new Set<number>();
    for (const key of keys) {
      const holders: number[] = [];
      for (const node of cluster.nodes) {
        try {
          assert.equal(await sendCommand(node.port, ["GET", key]), `node-redis ${key}`);
          holders.push(node.port);
        } catch (error) {
          assert.match((error as Error).message, /^MOVED /);
        }
      }
      assert.equal(holders.length, 1, `key ${key} on one node`);
      owners.add(holders[0]);
    }
    assert.equal(owners.size, 3, "the three keys are on three different nodes");

    const ioredis = new Cluster([{ host: cluster.nodes[1].host, port: cluster.nodes[1].port }], {
      lazyConnect: true,
    });
    ioredis.on("error", () => undefined);
    await withTimeout(ioredis.connect(), 10000, "ioredis cluster connect");
    try {
      for (const key of keys) assert.equal(await ioredis.get(key), `node-redis ${key}`);
      for (const key of keys) await ioredis.set(key, `ioredis ${key}`);
      for (const key of keys) assert.equal(await ioredis.get(key), `ioredis ${key}`);
    } finally {
      await ioredis.quit();
    }

    const pids = cluster.servers.map((server) => server.pid);
    await cluster.stop();
    for (const pid of pids) assert.ok(!isRunning(pid), `redis-server ${pid} stopped`);
  });

  it("leaves no child process behind", async () => {
    await Promise.all(started.map((s) => s.stop()));
    // Each watchdog is killed as its server exits; give that a moment.
    await waitUntil(() => childProcesses().length === 0, 5000, "no child process").catch(() => {
      assert.deepEqual(childProcesses(), []);
    });
    assert.deepEqual(childProcesses(), []);
  });
});
