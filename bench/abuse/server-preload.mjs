// Loaded with --import into every server under test (the bench's own server.mjs and duplexio's
// CLI alike), so all are observed the same way, without touching their code:
// - every TCP listen without a host is bound to 127.0.0.1 (servers made with just a port, like
//   `new Server(port)`, would otherwise listen on every interface), and the port is reported;
// - over IPC it answers "memory" (process.memoryUsage(), active handles and sockets, event-loop
//   delay since the last reset, beyond the 10 ms sampling interval) and "gc" (two forced
//   collections first: start with --expose-gc);
// - "stop" exits at once, and so does losing the IPC channel (the runner died).
import net from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";

const LOOPBACK = "127.0.0.1";

function send(message) {
  if (process.connected) process.send(message, () => {});
}

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listen(...args) {
  const [first] = args;
  if (typeof first === "function") args.unshift(0, LOOPBACK);
  else if (
    first === undefined ||
    first === null ||
    typeof first === "number" ||
    /^\d+$/.test(first)
  ) {
    // listen(port, host?, backlog?, callback?)
    if (args.length === 0) args.push(0);
    if (args[1] === undefined || args[1] === null) args[1] = LOOPBACK;
    else if (typeof args[1] !== "string") args.splice(1, 0, LOOPBACK);
  } else if (typeof first === "object" && first.path === undefined && first.handle === undefined) {
    if (first.host === undefined && first.fd === undefined) args[0] = { ...first, host: LOOPBACK };
  }
  this.once("listening", () => {
    const address = this.address();
    if (address !== null && typeof address === "object") {
      send({ type: "listening", port: address.port, address: address.address });
    }
  });
  return originalListen.apply(this, args);
};

/**
 * The histogram records the time between its timer's firings, so every value includes the
 * sampling interval itself: it is subtracted, leaving the delay (0 for an idle loop).
 */
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();

/** What the runner samples: memory, handles, sockets, event-loop delay (ms) since last reset. */
export function snapshot(resetLoopDelay = false) {
  const memory = process.memoryUsage();
  const resources = process.getActiveResourcesInfo();
  let sockets = 0;
  for (const name of resources) if (name === "TCPSocketWrap") sockets++;
  const ms = (ns) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : null);
  const result = {
    at: Date.now(),
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    handles: process._getActiveHandles().length,
    resources: resources.length,
    sockets,
    loopDelay: {
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
    },
  };
  if (resetLoopDelay) loopDelay.reset();
  return result;
}

process.on("message", async (message) => {
  if (message?.type === "memory") {
    send({ type: "memory", id: message.id, snapshot: snapshot(message.resetLoopDelay === true) });
  } else if (message?.type === "gc") {
    if (typeof globalThis.gc === "function") {
      globalThis.gc();
      // Let finalizers and freed external memory settle between the two collections.
      await new Promise((resolve) => setTimeout(resolve, 100));
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    send({
      type: "gc",
      id: message.id,
      forced: typeof globalThis.gc === "function",
      snapshot: snapshot(),
    });
  } else if (message?.type === "stop") {
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
