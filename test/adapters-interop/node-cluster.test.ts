/**
 * duplexio's own Node cluster adapter (`duplexio/adapters/cluster`) in real `node:cluster`
 * workers: a primary with duplexio's `setupPrimary()` and two duplexio workers, WebSocket
 * clients on each. The cluster scenario; then a worker killed with SIGKILL: the other worker's
 * requests still answer, marked incomplete (`ClusterAnswer`: `complete === false`,
 * `missingNodes === 1`) until the dead worker's heartbeats are overdue, then complete with its
 * own sockets only.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startCluster } from "./cluster-process.js";
import { eventually, expectDeliveries, sorted } from "./harness.js";
import { populate, runScenario } from "./scenario.js";

const HEARTBEAT_INTERVAL = 200;
const HEARTBEAT_TIMEOUT = 2500;
const REQUESTS_TIMEOUT = 700;

function workers() {
  return [0, 1].map((i) => ({
    name: `worker-${i}`,
    server: "duplexio" as const,
    adapter: "duplexio" as const,
    adapterOptions: {
      heartbeatInterval: HEARTBEAT_INTERVAL,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      requestsTimeout: REQUESTS_TIMEOUT,
    },
  }));
}

describe("duplexio/adapters/cluster: setupPrimary() and two workers", () => {
  it("the cluster scenario", async () => {
    const cluster = await startCluster({ primary: "duplexio", workers: workers() });
    try {
      await runScenario(cluster.nodes);
    } finally {
      await cluster.stop();
    }
  });

  it("a worker killed with SIGKILL: partial answers, then the survivor alone", async () => {
    const cluster = await startCluster({ primary: "duplexio", workers: workers() });
    const nodes = cluster.nodes;
    const state = await populate(nodes);
    try {
      const [survivor] = state.controls;
      const own = state.clients[0]!;
      const ownIds = sorted(own.map((c) => c.socket.id!));
      const before = await survivor!.call("fetchSockets", {});
      assert.equal(before.sockets.length, 4);
      assert.equal(before.complete, true);

      const killedAt = Date.now();
      await cluster.kill(nodes[1]!.name, "SIGKILL");

      // The dead worker is still expected: the request ends at its timeout, marked incomplete.
      const startedAt = Date.now();
      const partial = await survivor!.call("fetchSockets", {});
      assert.ok(Date.now() - killedAt < HEARTBEAT_TIMEOUT, "asked before the heartbeat timeout");
      assert.ok(Date.now() - startedAt >= REQUESTS_TIMEOUT - 50, "waited for the dead worker");
      assert.deepEqual(sorted(partial.sockets.map((s) => s.id)), ownIds);
      assert.equal(partial.complete, false);
      assert.equal(partial.missingNodes, 1);
      const emitted = await survivor!.call("serverSideEmitWithAck", {
        event: "whoami",
        args: ["anyone?"],
      });
      assert.deepEqual(emitted.responses, []);
      if (Date.now() - killedAt < HEARTBEAT_TIMEOUT) assert.equal(emitted.complete, false);

      // Once its heartbeats are overdue, the survivor is the whole cluster.
      await eventually(async () => {
        const alone = await survivor!.call("fetchSockets", {});
        assert.equal(alone.complete, true);
        assert.equal(alone.missingNodes, 0);
        assert.deepEqual(sorted(alone.sockets.map((s) => s.id)), ownIds);
      }, HEARTBEAT_TIMEOUT + 3000);
      assert.ok(Date.now() - killedAt >= HEARTBEAT_TIMEOUT - 500, "not before the timeout");
      assert.equal(await survivor!.call("serverCount", {}), 1);
      const quick = Date.now();
      const alone = await survivor!.call("serverSideEmitWithAck", { event: "whoami", args: [1] });
      assert.deepEqual(alone, { responses: [], complete: true, missingNodes: 0 });
      assert.ok(Date.now() - quick < REQUESTS_TIMEOUT, "nobody to wait for");
      const acks = await survivor!.call("emitWithAck", {
        timeout: 3000,
        event: "ask",
        args: ["alone"],
      });
      assert.deepEqual(sorted(acks), sorted(own.map((c) => `${c.name}:alone`)));
      await survivor!.call("emit", { rooms: ["room-a"], event: "msg", args: ["still here"] });
      await expectDeliveries(own, [{ event: "msg", tag: "still here", count: () => 1 }]);
    } finally {
      state.close();
      await cluster.stop();
    }
  });
});
