/**
 * A migration from socket.io to duplexio on `node:cluster`: one primary, two duplexio workers
 * with `duplexio/adapters/cluster` and one socket.io 4.8 worker with `@socket.io/cluster-adapter`,
 * WebSocket clients on each. The cluster scenario from every worker, with the primary set up by
 * duplexio's `setupPrimary()`, then by the official package's.
 */
import { describe, it } from "node:test";
import { startCluster, type WorkerConfig } from "./cluster-process.js";
import { runScenario } from "./scenario.js";

const workers: WorkerConfig[] = [
  {
    name: "duplexio-0",
    server: "duplexio",
    adapter: "duplexio",
    adapterOptions: { heartbeatInterval: 300 },
  },
  {
    name: "socket.io-1",
    server: "socket.io",
    adapter: "socket.io",
    adapterOptions: { heartbeatInterval: 300 },
  },
  {
    name: "duplexio-2",
    server: "duplexio",
    adapter: "duplexio",
    adapterOptions: { heartbeatInterval: 300 },
  },
];

describe("a mixed node:cluster: two duplexio workers, one socket.io worker", () => {
  for (const primary of ["duplexio", "socket.io"] as const) {
    const whose = primary === "duplexio" ? "duplexio's" : "@socket.io/cluster-adapter's";
    it(`the scenario from every worker, under ${whose} setupPrimary()`, async () => {
      const cluster = await startCluster({ primary, workers });
      try {
        await runScenario(cluster.nodes);
      } finally {
        await cluster.stop();
      }
    });
  }
});
