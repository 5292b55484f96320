// One echo server under test, alone in its process. Started by run.mjs with fork():
//   node bench/echo-server.mjs <duplexio|ws> <deflate: 0|1>
// Sends { type: "listening", port } once bound to 127.0.0.1 on an ephemeral port, answers
// { type: "usage", id } with its CPU time and event-loop utilization (same id), exits on { type: "stop" } or
// when the parent goes away. Both implementations run the very same echo handler.
import { performance } from "node:perf_hooks";

const [implementation, deflateFlag] = process.argv.slice(2);
const deflate = deflateFlag === "1";

async function loadServerClass() {
  if (implementation === "ws") return (await import("ws")).WebSocketServer;
  if (implementation === "duplexio") {
    try {
      return (await import("../dist/websocket/index.js")).WebSocketServer;
    } catch (error) {
      throw new Error(`cannot load dist/websocket/index.js (run npm run build): ${error.message}`);
    }
  }
  throw new Error(`unknown server implementation: ${implementation}`);
}

const WebSocketServer = await loadServerClass();
// Same explicit settings for both: ws's defaults for a server (threshold 1024 bytes, at most 10
// zlib jobs at once), context takeover both ways.
const perMessageDeflate = deflate ? { threshold: 1024, concurrencyLimit: 10 } : false;
const server = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate });

// Messages received, reported with each usage sample: a cross-check of the load generator's
// count that costs one increment per message, the same for both implementations.
let messages = 0;

server.on("connection", (ws) => {
  // The load generator tears connections down abruptly at the end of a run.
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => {
    messages++;
    ws.send(data, { binary: isBinary });
  });
});
server.on("error", (error) => {
  process.send?.({ type: "error", message: error.message });
  process.exit(1);
});
server.on("listening", () => {
  process.send?.({ type: "listening", port: server.address().port });
});

process.on("message", (message) => {
  if (message?.type === "usage") {
    process.send?.({
      type: "usage",
      id: message.id,
      cpu: process.cpuUsage(),
      elu: performance.eventLoopUtilization(),
      at: performance.now(),
      rss: process.memoryUsage.rss(),
      messages,
    });
  } else if (message?.type === "stop") {
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
