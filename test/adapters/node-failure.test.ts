/**
 * A node that stops answering, for both Redis adapters (node-redis client), three processes:
 * frozen with SIGSTOP (its connections stay open, it just goes silent) and killed with SIGKILL.
 * Requests on the other nodes (fetchSockets, serverSideEmitWithAck, broadcast with
 * acknowledgements) return within their timeout with the answers of the nodes that answered,
 * marked incomplete (`complete === false`, `missingNodes === 1`) while the silent node is still
 * counted; once the heartbeat timeout has passed, it is not waited for any more: requests return
 * at once, complete. Never a rejection.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RedisProcess, startRedis } from "../helpers/redis.js";
import { delay, waitUntil } from "../helpers/timing.js";
import {
  type Cluster,
  FAST_TIMING,
  type NodeProcess,
  startCluster,
  type TestClient,
  waitForPeers,
} from "./cluster-harness.js";
import { connectClients } from "./scenarios.js";

interface FetchResult {
  ms: number;
  sockets: { id: string }[];
  complete: boolean;
  missingNodes: number;
}
interface ServerAckResult {
  ok: boolean;
  responses: { node: string }[];
  complete: boolean;
  missingNodes: number;
  ms: number;
  error?: string;
}
interface AckResult {
  ok: boolean;
  responses: { tag: string }[];
  ms: number;
  error?: string;
}

const sorted = <T>(items: Iterable<T>): T[] => [...items].sort();
/** Slack on timings measured across processes on a loaded 2-core machine. */
const SLACK_MS = 400;
/** A request that waits for nobody: a round trip through Redis at most. */
const FAST_MS = 150;

async function nodeGoneSeen(node: NodeProcess, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const events = await node.rpc<{ event: string }[]>("adapterEvents");
    if (events.filter((e) => e.event === "node-gone").length >= count) return;
    if (Date.now() > deadline) throw new Error(`node ${node.name} never reported node-gone`);
    await delay(20);
  }
}

for (const adapter of ["redis", "streams"] as const) {
  describe(`${adapter} adapter: a frozen node, a killed node`, () => {
    let redis: RedisProcess | undefined;
    let cluster: Cluster | undefined;
    let clients: TestClient[] = [];

    before(async () => {
      redis = await startRedis();
      cluster = await startCluster({
        adapter,
        lib: "node-redis",
        redis: { url: redis.url },
        recovery: false,
        namespaces: ["/"],
        ...FAST_TIMING,
      });
      clients = await connectClients(cluster, [0, 1]);
    });

    after(async () => {
      await cluster?.stop();
      await redis?.stop();
    });

    /**
     * Requests from the nodes still alive while `silent` is silent: partial answers at first,
     * then complete and fast once it is detected. Returns the measured times.
     */
    async function checkRequestsWithout(silent: NodeProcess): Promise<Record<string, number>> {
      const { requestsTimeout, heartbeatTimeout } = FAST_TIMING;
      const [first, second] = cluster!.nodes.filter((node) => node !== silent) as [
        NodeProcess,
        NodeProcess,
      ];
      const answering = clients.filter((c) => c.node !== silent.name);
      const answeringIds = sorted(answering.map((c) => c.id));
      const answeringTags = sorted(answering.map((c) => c.tag));

      // During the detection window: every request is sent right after the node went silent.
      const [shortFetch, fetch, serverAck, acks] = await Promise.all([
        first.rpc<FetchResult>("fetchSockets", { timeout: 300 }),
        second.rpc<FetchResult>("fetchSockets"),
        second.rpc<ServerAckResult>("serverSideEmitWithAck", { event: "node-ping", args: [1] }),
        first.rpc<AckResult>("emitWithAck", { timeout: 3000, event: "ask", args: [1] }),
      ]);
      assert.equal(shortFetch.complete, false, "a request shorter than the detection: incomplete");
      assert.equal(shortFetch.missingNodes, 1);
      assert.deepEqual(sorted(shortFetch.sockets.map((s) => s.id)), answeringIds);
      assert.ok(shortFetch.ms < 300 + SLACK_MS, `fetchSockets(300 ms) took ${shortFetch.ms} ms`);

      assert.equal(fetch.complete, false);
      assert.equal(fetch.missingNodes, 1);
      assert.deepEqual(sorted(fetch.sockets.map((s) => s.id)), answeringIds);
      // It ends when the silent node is declared gone, before its own timeout.
      assert.ok(fetch.ms < requestsTimeout + SLACK_MS, `fetchSockets took ${fetch.ms} ms`);

      assert.equal(serverAck.ok, true, serverAck.error);
      assert.equal(serverAck.complete, false);
      assert.equal(serverAck.missingNodes, 1);
      assert.deepEqual(
        serverAck.responses.map((r) => r.node),
        [first.name],
      );
      assert.ok(
        serverAck.ms < requestsTimeout + SLACK_MS,
        `serverSideEmitWithAck: ${serverAck.ms} ms`,
      );

      assert.equal(acks.ok, true, `emitWithAck rejected: ${acks.error}`);
      assert.deepEqual(sorted(acks.responses.map((r) => r.tag)), answeringTags);
      assert.ok(acks.ms < heartbeatTimeout + 2 * FAST_TIMING.heartbeatInterval + SLACK_MS);

      // After the detection: nobody waits for the silent node.
      await Promise.all([nodeGoneSeen(first, 1), nodeGoneSeen(second, 1)]);
      const [fetchAfter, serverAckAfter, acksAfter] = await Promise.all([
        first.rpc<FetchResult>("fetchSockets"),
        second.rpc<ServerAckResult>("serverSideEmitWithAck", { event: "node-ping", args: [2] }),
        first.rpc<AckResult>("emitWithAck", { timeout: 3000, event: "ask", args: [2] }),
      ]);
      assert.equal(fetchAfter.complete, true);
      assert.equal(fetchAfter.missingNodes, 0);
      assert.deepEqual(sorted(fetchAfter.sockets.map((s) => s.id)), answeringIds);
      assert.ok(fetchAfter.ms < FAST_MS, `fetchSockets after detection took ${fetchAfter.ms} ms`);
      assert.equal(serverAckAfter.complete, true);
      assert.deepEqual(
        serverAckAfter.responses.map((r) => r.node),
        [first.name],
      );
      assert.ok(
        serverAckAfter.ms < FAST_MS,
        `serverSideEmitWithAck after: ${serverAckAfter.ms} ms`,
      );
      assert.equal(acksAfter.ok, true, acksAfter.error);
      assert.deepEqual(sorted(acksAfter.responses.map((r) => r.tag)), answeringTags);
      assert.ok(acksAfter.ms < FAST_MS, `emitWithAck after detection took ${acksAfter.ms} ms`);
      return {
        shortFetch: shortFetch.ms,
        fetch: fetch.ms,
        serverAck: serverAck.ms,
        acks: acks.ms,
        fetchAfter: fetchAfter.ms,
        serverAckAfter: serverAckAfter.ms,
        acksAfter: acksAfter.ms,
      };
    }

    it("a frozen node (SIGSTOP): partial answers during detection, then complete and fast; it rejoins when thawed", async (t) => {
      const C = cluster!.node("C");
      C.freeze();
      try {
        const times = await checkRequestsWithout(C);
        t.diagnostic(`frozen node, ${adapter}: ${JSON.stringify(times)} (ms)`);
      } finally {
        C.thaw();
      }
      // Back: every node sees it again, and it answers.
      await waitForPeers(cluster!.nodes, ["/"]);
      const all = await cluster!.node("A").rpc<FetchResult>("fetchSockets");
      assert.equal(all.complete, true);
      assert.deepEqual(sorted(all.sockets.map((s) => s.id)), sorted(clients.map((c) => c.id)));
    });

    it("a killed node (SIGKILL): partial answers during detection, then complete and fast", async (t) => {
      const B = cluster!.node("B");
      await B.kill();
      const times = await checkRequestsWithout(B);
      t.diagnostic(`killed node, ${adapter}: ${JSON.stringify(times)} (ms)`);
      // The clients of the killed node lost their connection; the others did not.
      await waitUntil(
        () => clients.every((c) => c.socket.connected === (c.node !== "B")),
        5000,
        "the clients of B to notice",
      );
    });
  });
}
