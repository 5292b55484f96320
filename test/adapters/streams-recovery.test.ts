/**
 * Connection state recovery across nodes with the Redis Streams adapter (node-redis client),
 * three processes. A client (the official socket.io-client, reconnection on) reaches the cluster
 * through a TCP proxy that the test re-points from one node to another, so that its reconnection
 * lands on another node. Events go to its room from A, B and C while it is away, one after the
 * other (each one seen by watcher clients on every node before the next: a total order). Back on
 * the other node it has `recovered === true`, the same socket id, and every event of its room
 * since it first connected, in order, exactly once — whether it had received events before it
 * dropped or none, whether it comes back after a second or within a few milliseconds, and whether
 * its old node saw it leave or not (a silent network cut).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { delay, nextEvent, waitUntil } from "../helpers/timing.js";
import {
  type Cluster,
  connectClient,
  FAST_TIMING,
  type NodeProcess,
  SwitchProxy,
  startCluster,
  type TestClient,
} from "./cluster-harness.js";

const ROOM = "r";

describe("Redis Streams adapter: connection state recovery across nodes", () => {
  let redis: RedisProcess | undefined;
  let cluster: Cluster | undefined;
  const watchers: TestClient[] = [];
  const subjects: TestClient[] = [];
  const proxies: SwitchProxy[] = [];
  /** Every event emitted to the room, in order. */
  const emitted: number[] = [];
  let nextId = 1;

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
    for (const [i, node] of cluster.nodes.entries()) {
      watchers.push(
        await cluster.connect({
          node,
          lib: i % 2 === 0 ? "duplexio" : "socket.io-client",
          rooms: [ROOM],
          tag: `watcher-${node.name}`,
        }),
      );
    }
  });

  after(async () => {
    for (const subject of subjects) subject.close();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await cluster?.stop();
    await redis?.stop();
  });

  const ids = (client: TestClient) => client.payloads<{ id: number }>("m").map((p) => p.id);

  /** Emits the next event to the room from `node`; returns once every watcher has it. */
  async function emitFrom(node: NodeProcess): Promise<number> {
    const id = nextId++;
    await node.rpc("emit", { to: [ROOM], event: "m", args: [{ id, from: node.name }] });
    emitted.push(id);
    await waitUntil(
      () => watchers.every((w) => ids(w).includes(id)),
      5000,
      `event ${id} from ${node.name} to reach the watchers`,
    );
    return id;
  }

  /** A subject client through its own proxy to `node`. */
  async function connectSubject(
    node: NodeProcess,
    reconnectionDelay: number,
  ): Promise<{ client: TestClient; proxy: SwitchProxy; since: number }> {
    const proxy = await SwitchProxy.start(node.port);
    proxies.push(proxy);
    const since = emitted.length;
    const client = await connectClient({
      lib: "socket.io-client",
      url: proxy.url,
      node: node.name,
      rooms: [ROOM],
      tag: `subject-${subjects.length}`,
      reconnection: true,
      reconnectionDelay,
      reconnectionDelayMax: reconnectionDelay,
    });
    subjects.push(client);
    return { client, proxy, since };
  }

  async function where(sid: string): Promise<string[]> {
    const found: string[] = [];
    for (const node of cluster!.nodes) {
      const sockets = await node.rpc<{ id: string }[]>("local");
      if (sockets.some((socket) => socket.id === sid)) found.push(node.name);
    }
    return found;
  }

  /** Asserts that `client` got exactly the events emitted since it connected, in order. */
  async function assertAllSince(client: TestClient, since: number): Promise<void> {
    const want = emitted.slice(since);
    await waitUntil(
      () => ids(client).length >= want.length,
      5000,
      `${client.tag} to get ${want.length} events`,
    ).catch(() => undefined);
    // Long enough for a duplicate to show up.
    await delay(200);
    assert.deepEqual(ids(client), want, `${client.tag}: every event of its room, once, in order`);
  }

  it("a client that received events comes back on another node a second later: every missed event, in order, once", async () => {
    const [A, B, C] = cluster!.nodes as [NodeProcess, NodeProcess, NodeProcess];
    const { client, proxy, since } = await connectSubject(A, 1000);
    const sid = client.id;
    for (const node of [A, B, C]) await emitFrom(node);
    await waitUntil(() => ids(client).length === 3, 5000, "the first events");

    proxy.target = B.port;
    const back = nextEvent(client.socket, "connect", 10_000);
    client.socket.io.engine.close();
    await waitUntil(() => !client.socket.connected, 2000, "the client to drop");
    for (const node of [A, B, C, A]) await emitFrom(node);
    assert.equal(client.socket.connected, false, "still away while the events were emitted");
    await back;

    assert.equal(client.socket.recovered, true, "recovered");
    assert.equal(client.id, sid, "same socket id");
    assert.deepEqual(await where(sid), ["B"]);
    for (const node of [B, C]) await emitFrom(node);
    await assertAllSince(client, since);
  });

  it("a client that had received nothing yet comes back on another node: every event since it connected", async () => {
    const [A, B, C] = cluster!.nodes as [NodeProcess, NodeProcess, NodeProcess];
    const { client, proxy, since } = await connectSubject(B, 1000);
    const sid = client.id;
    proxy.target = C.port;
    const back = nextEvent(client.socket, "connect", 10_000);
    client.socket.io.engine.close();
    await waitUntil(() => !client.socket.connected, 2000, "the client to drop");
    for (const node of [A, B, C]) await emitFrom(node);
    assert.deepEqual(ids(client), [], "nothing received before coming back");
    await back;

    assert.equal(client.socket.recovered, true, "recovered");
    assert.equal(client.id, sid, "same socket id");
    assert.deepEqual(await where(sid), ["C"]);
    await emitFrom(A);
    await assertAllSince(client, since);
  });

  it("a client that comes back within a few milliseconds, while events are emitted: each once, in order", async (t) => {
    const [A, B, C] = cluster!.nodes as [NodeProcess, NodeProcess, NodeProcess];
    const { client, proxy, since } = await connectSubject(C, 1);
    const sid = client.id;
    await emitFrom(A);
    proxy.target = A.port;
    const back = nextEvent(client.socket, "connect", 10_000);
    const droppedAt = Date.now();
    client.socket.io.engine.close();
    const before = emitted.length;
    const emitting = (async () => {
      for (const node of [B, C, A, B, C, A]) await emitFrom(node);
    })();
    await back;
    const awayMs = Date.now() - droppedAt;
    const whileAway = emitted.length - before;
    await emitting;
    t.diagnostic(
      `away ${awayMs} ms; events emitted meanwhile (seen by every watcher): ${whileAway}`,
    );

    assert.equal(client.socket.recovered, true, "recovered");
    assert.equal(client.id, sid, "same socket id");
    assert.deepEqual(await where(sid), ["A"]);
    assert.ok(awayMs < 500, `back after ${awayMs} ms`);
    await assertAllSince(client, since);
  });

  it("a client cut off silently (its old node does not notice) comes back on another node at once", async () => {
    const [A, B, C] = cluster!.nodes as [NodeProcess, NodeProcess, NodeProcess];
    const { client, proxy, since } = await connectSubject(A, 1);
    const sid = client.id;
    await emitFrom(B);
    proxy.target = B.port;
    const back = nextEvent(client.socket, "connect", 10_000);
    proxy.dropSilently();
    const emitting = (async () => {
      for (const node of [A, C, B]) await emitFrom(node);
    })();
    await back;
    await emitting;

    assert.equal(client.socket.recovered, true, "recovered");
    assert.equal(client.id, sid, "same socket id");
    // The old node let the socket go when the new one claimed its session.
    assert.deepEqual(await where(sid), ["B"]);
    await emitFrom(C);
    await assertAllSince(client, since);
  });

  it("every subject and watcher got every event of its time in the room, once, in order", async () => {
    for (const watcher of watchers) {
      assert.deepEqual(ids(watcher), emitted, `${watcher.tag}`);
    }
    for (const subject of subjects) {
      assert.ok(subject.socket.connected, `${subject.tag} connected`);
    }
  });
});
