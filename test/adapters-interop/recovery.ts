/**
 * Connection state recovery across the nodes of a cluster (Redis Streams adapters): a client of
 * node `from` loses its transport, misses broadcasts, and comes back through node `to` (as a
 * load balancer may send it), which restores its session (id, rooms, data) and replays what it
 * missed, in order, once.
 */
import assert from "node:assert/strict";
import {
  Control,
  connectClient,
  eventually,
  expectDeliveries,
  joinRooms,
  type NodeRef,
  nextClientEvent,
} from "./harness.js";

/**
 * Bound on a reconnection with restore (socket.io's nodes take a few ms): far below the adapters'
 * request timeouts, so that a restore waiting for a node that never answers fails.
 */
const RESTORE_BOUND_MS = 1500;

/** Runs the recovery from `from` to `to`; closes its clients and controls whatever happens. */
export async function recoverAcross(from: NodeRef, to: NodeRef): Promise<void> {
  const closers: (() => void)[] = [];
  try {
    const controlFrom = await Control.connect(from);
    closers.push(() => controlFrom.close());
    const controlTo = await Control.connect(to);
    closers.push(() => controlTo.close());
    const client = await connectClient(from, "roamer");
    closers.push(() => client.socket.disconnect());
    // Bystanders on both nodes: once they got a broadcast, it is in the stream.
    const watchers = [
      await connectClient(from, "watcher-from"),
      await connectClient(to, "watcher-to"),
    ];
    for (const watcher of watchers) closers.push(() => watcher.socket.disconnect());
    await joinRooms(client, ["room-r"]);
    for (const watcher of watchers) await joinRooms(watcher, ["room-r"]);

    await controlTo.call("emit", { rooms: ["room-r"], event: "msg", args: ["before"] });
    await expectDeliveries(
      [client, ...watchers],
      [{ event: "msg", tag: "before", count: () => 1 }],
    );
    const id = client.socket.id;

    // The transport is cut, not closed by the client: `from` keeps the session (in Redis).
    const disconnected = nextClientEvent(client.socket, "disconnect");
    client.socket.io.engine.close();
    await disconnected;
    await eventually(async () => {
      const sockets = await controlFrom.call("localSockets", {});
      assert.ok(!sockets.some((s) => s.id === id), "the old node let the socket go");
    }, 5000);

    // Each node's broadcasts enter the stream in order; between nodes, the watchers tell when
    // one is in before the other node broadcasts.
    await controlTo.call("emit", { rooms: ["room-r"], event: "msg", args: ["missed-1"] });
    await expectDeliveries(watchers, [{ event: "msg", tag: "missed-1", count: () => 1 }]);
    await controlFrom.call("emit", { event: "msg", args: ["missed-2", { n: 2 }] });
    await controlFrom.call("emit", { rooms: ["elsewhere"], event: "msg", args: ["not-for-it"] });
    await controlFrom.call("emit", { except: ["room-r"], event: "msg", args: ["not-for-it-2"] });
    await controlFrom.call("emit", { rooms: [id!], event: "msg", args: ["missed-3"] });
    await controlFrom.call("emit", { rooms: ["room-r"], event: "msg", args: ["missed-4"] });
    await expectDeliveries(watchers, [
      { event: "msg", tag: "missed-1", count: () => 1 },
      { event: "msg", tag: "missed-2", count: () => 1 },
      { event: "msg", tag: "missed-4", count: () => 1 },
    ]);

    // Back, through the other node.
    (client.socket.io as unknown as { uri: string }).uri = to.url;
    const reconnected = nextClientEvent(client.socket, "connect", 10_000);
    const reconnectingAt = Date.now();
    client.socket.connect();
    await reconnected;
    const restoreMs = Date.now() - reconnectingAt;
    assert.equal(client.socket.recovered, true, "recovered");
    assert.equal(client.socket.id, id);
    await expectDeliveries(
      [client],
      ["before", "missed-1", "missed-2", "missed-3", "missed-4", "not-for-it", "not-for-it-2"].map(
        (tag) => ({
          event: "msg",
          tag,
          count: () => (tag.startsWith("not") ? 0 : 1),
        }),
      ),
    );
    assert.deepEqual(
      client.events.map((e) => e.args[0]),
      ["before", "missed-1", "missed-2", "missed-3", "missed-4"],
    );
    assert.deepEqual(client.events[2]!.args[1], { n: 2 });
    const restored = (await controlTo.call("localSockets", {})).find((s) => s.id === id);
    assert.equal(restored?.recovered, true);
    assert.ok(restored.rooms.includes("room-r"));

    // Later broadcasts reach it once, from either node.
    await controlFrom.call("emit", { rooms: ["room-r"], event: "msg", args: ["after-1"] });
    await controlTo.call("emit", { rooms: ["room-r"], event: "msg", args: ["after-2"] });
    await expectDeliveries(
      [client],
      ["after-1", "after-2"].map((tag) => ({ event: "msg", tag, count: () => 1 })),
    );
    // Checked last, so that a slow restore does not hide whether the rest works.
    assert.ok(
      restoreMs < RESTORE_BOUND_MS,
      `the reconnection through ${to.name} took ${restoreMs} ms (a restore from Redis takes a few)`,
    );
  } finally {
    for (const close of closers.reverse()) close();
  }
}
