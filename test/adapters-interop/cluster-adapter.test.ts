/**
 * `@socket.io/cluster-adapter` plugged into duplexio servers in real `node:cluster` workers: a
 * primary calls the package's `setupPrimary()` and forks two workers, each a duplexio server with
 * the package's `createAdapter()`; WebSocket clients connect to each worker. The cluster scenario
 * runs through them; the same runs on socket.io 4.8 workers as a control of the test itself.
 */
import { describe, it } from "node:test";
import { startCluster } from "./cluster-process.js";
import type { Kind } from "./harness.js";
import { runScenario } from "./scenario.js";

for (const kind of ["duplexio", "socket.io"] as Kind[]) {
  const label = kind === "socket.io" ? " (control: socket.io)" : "";
  describe(`@socket.io/cluster-adapter in two ${kind} workers${label}`, () => {
    it("the cluster scenario", async () => {
      const cluster = await startCluster({
        primary: "socket.io",
        workers: [0, 1].map((i) => ({
          name: `${kind}-worker-${i}`,
          server: kind,
          adapter: "socket.io",
          adapterOptions: { heartbeatInterval: 500 },
        })),
      });
      try {
        await runScenario(cluster.nodes);
      } finally {
        await cluster.stop();
      }
    });
  });
}
