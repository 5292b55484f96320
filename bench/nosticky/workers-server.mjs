// The echo server of bench/nosticky/workers.mjs: one process, or N cluster workers on one port
// through duplexio/workers (runWorkers). Started by bench/lib/processes.mjs's runMeasured:
//   node bench/nosticky/workers-server.mjs <raw|socketio> <workers: 0 = one process, N>
// Same IPC protocol as bench/echo-server.mjs: { type: "listening", port } once every worker
// listens on 127.0.0.1 (port 0: cluster gives them all the same one), { type: "usage", id }
// answered with the CPU time of the whole server (primary and workers, from /proc), exit on
// { type: "stop" } or when the parent goes away.
//
// raw: a WebSocketServer echoing each message (bench/echo-server.mjs's handler). socketio: a
// Socket.IO server, WebSocket transport, answering "echo" with an ack (bench/socketio/server.mjs's
// handler); with workers, joined by the cluster adapter, as `duplexio serve --workers` runs.
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";

const [kind, workersArg] = process.argv.slice(2);
const workers = Number(workersArg);
if ((kind !== "raw" && kind !== "socketio") || !Number.isSafeInteger(workers) || workers < 0) {
  console.error("usage: node bench/nosticky/workers-server.mjs <raw|socketio> <workers>");
  process.exit(2);
}

/** Starts the echo server in this process; resolves once it listens, with its port. */
async function startEcho(adapter) {
  if (kind === "raw") {
    const { WebSocketServer } = await import("../../dist/websocket/index.js");
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
    server.on("connection", (ws) => {
      ws.on("error", () => {});
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    return new Promise((resolve) => server.on("listening", () => resolve(server.address().port)));
  }
  const { Server } = await import("../../dist/index.js");
  const httpServer = createServer();
  const io = new Server(httpServer, {
    transports: ["websocket"],
    ...(adapter === undefined ? {} : { adapter }),
  });
  io.on("connection", (socket) => {
    socket.on("echo", (data, ack) => {
      if (typeof ack === "function") ack(data);
    });
  });
  return new Promise((resolve) =>
    httpServer.listen(0, "127.0.0.1", () => resolve(httpServer.address().port)),
  );
}

/** CPU microseconds (user + system) of another process, from /proc/<pid>/stat. */
function processCpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}

function answerIpc(workerPids) {
  process.on("message", (message) => {
    if (message?.type === "usage") {
      const own = process.cpuUsage();
      const others = workerPids().reduce((sum, pid) => sum + processCpuMicros(pid), 0);
      process.send?.({
        type: "usage",
        id: message.id,
        cpu: { user: own.user + others, system: own.system },
        elu: performance.eventLoopUtilization(),
        at: performance.now(),
        rss: process.memoryUsage.rss(),
        messages: 0,
      });
    } else if (message?.type === "stop") {
      stop();
    }
  });
  process.on("disconnect", () => stop());
}

let stop = () => process.exit(0);

if (workers === 0) {
  const port = await startEcho(undefined);
  answerIpc(() => []);
  process.send?.({ type: "listening", port });
} else {
  const { runWorkers } = await import("../../dist/workers/index.js");
  const managed = runWorkers(
    async () => {
      const adapter =
        kind === "socketio"
          ? (await import("../../dist/adapters/cluster/index.js")).createAdapter()
          : undefined;
      await startEcho(adapter);
    },
    { workers, handleSignals: false, shutdownTimeoutMs: 2000 },
  );
  if (cluster.isPrimary && managed !== undefined) {
    stop = () => managed.stop().then(() => process.exit(0));
    answerIpc(() => managed.pids());
    let listening = 0;
    cluster.on("listening", (_worker, address) => {
      listening++;
      if (listening === workers) process.send?.({ type: "listening", port: address.port });
    });
  }
}
