// One Socket.IO server under test, alone in its process. Started by bench/socketio/run.mjs:
//   node bench/socketio/server.mjs <duplexio|socket.io>
// Same IPC protocol as bench/echo-server.mjs: { type: "listening", port } once bound to
// 127.0.0.1 on an ephemeral port, { type: "usage", id } answered with CPU time and event-loop
// utilization, exit on { type: "stop" } or when the parent goes away. Both implementations get
// the same options and run the very same handlers.
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";

const [implementation] = process.argv.slice(2);

async function loadServerClass() {
  if (implementation === "socket.io") return (await import("socket.io")).Server;
  if (implementation === "duplexio") {
    try {
      return (await import("../../dist/index.js")).Server;
    } catch (error) {
      throw new Error(
        `cannot load dist/index.js (run npx tsc -p tsconfig.build.json): ${error.message}`,
      );
    }
  }
  throw new Error(`unknown server implementation: ${implementation}`);
}

function fail(error) {
  const message = error instanceof Error ? error.message : String(error);
  if (process.send === undefined) {
    console.error(message);
    process.exit(1);
  }
  process.send({ type: "error", message }, () => process.exit(1));
}

let Server;
try {
  Server = await loadServerClass();
} catch (error) {
  fail(error);
}

if (Server !== undefined) {
  const httpServer = createServer();
  const io = new Server(httpServer, { transports: ["websocket"] });

  // Events handled, reported with each usage sample: a cross-check of the load generator's
  // counts that costs one increment per event, the same for both implementations.
  let messages = 0;

  io.on("connection", (socket) => {
    socket.on("echo", (data, ack) => {
      messages++;
      if (typeof ack === "function") ack(data);
    });
    socket.on("broadcast", (data) => {
      messages++;
      io.emit("tick", data);
    });
  });

  httpServer.on("error", fail);
  httpServer.listen(0, "127.0.0.1", () => {
    process.send?.({ type: "listening", port: httpServer.address().port });
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
}
