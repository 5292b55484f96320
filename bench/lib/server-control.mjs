// The server side of the bench's IPC protocol, one home for every server under test (Node's and
// Bun's: both run this file). The orchestrator talks to a server only at phase changes:
//   -> { type: "listening", port, rss }          once bound (rss: the baseline before any client)
//   <- { type: "usage", id }    -> { type: "usage", id, cpu, elu, at, rss, messages, connections }
//   <- { type: "memory", id }   -> { type: "memory", id, rss, heapUsed, connections } after GC
//   <- { type: "stop" }         exit (also when the parent goes away)
// Server CPU is read by the orchestrator from /proc (lib/processes.mjs), so it is the same
// measurement for every runtime; `cpu` here is a fallback where /proc is missing.
import { performance } from "node:perf_hooks";
import { fail, send } from "./child-ipc.mjs";

/** Counters the server's handlers bump; reported with every sample. */
export const counters = { messages: 0, connections: 0 };

/** Collects garbage as thoroughly as the runtime allows (node --expose-gc, or Bun.gc). */
async function collectGarbage() {
  for (let i = 0; i < 4; i++) {
    if (typeof globalThis.Bun !== "undefined") globalThis.Bun.gc(true);
    else if (typeof globalThis.gc === "function") globalThis.gc();
    else throw new Error("no GC hook: start the server with --expose-gc");
    // Let finalizers and freed native handles run between passes.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Says the server listens on `port` and answers the orchestrator from then on. */
export function serveControl(port) {
  process.on("message", (message) => {
    if (message?.type === "usage") {
      send({
        type: "usage",
        id: message.id,
        cpu: process.cpuUsage(),
        // Bun has no event-loop utilization.
        elu: performance.eventLoopUtilization?.() ?? null,
        at: performance.now(),
        rss: process.memoryUsage.rss(),
        messages: counters.messages,
        connections: counters.connections,
      });
    } else if (message?.type === "memory") {
      collectGarbage().then(() => {
        const { rss, heapUsed } = process.memoryUsage();
        send({ type: "memory", id: message.id, rss, heapUsed, connections: counters.connections });
      }, fail);
    } else if (message?.type === "stop") {
      process.exit(0);
    }
  });
  process.on("disconnect", () => process.exit(0));
  send({ type: "listening", port, rss: process.memoryUsage.rss() });
}

/** Parses the server's configuration (JSON in argv[2]). */
export function serverConfig() {
  return JSON.parse(process.argv[2]);
}

/** The directory of the duplexio checkout to measure (its built dist/ is loaded). */
export function duplexioDist(config, path) {
  return new URL(`dist/${path}`, `file://${config.duplexioRoot.replace(/\/?$/, "/")}`).href;
}
