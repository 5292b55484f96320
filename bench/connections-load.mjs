// The connection load generator: idle connections held open (memory per connection) and
// connections opened and closed in a loop (connection rate). One process, raw `net` sockets,
// handshakes by hand (lib/handshake.mjs and socketio/packet-reader.mjs for idle connections,
// lib/connection-cycle.mjs for the rate loops): neither server's client.
// Started by lib/processes.mjs with fork(), config JSON in argv[2]:
//   { scenario: "idle" | "rate", protocol: "websocket" | "socketio" | "tcp", deflate, host, ... }
//
// - idle { count, concurrency }: on { type: "start", port } opens `count` connections, at most
//   `concurrency` handshakes at a time, says { type: "connected", connectMs } and holds them
//   (reading and discarding what arrives; Socket.IO pings answered) until told to stop.
// - rate { concurrency, warmupMs, durationMs }: `concurrency` loops each open a connection
//   (WebSocket: upgrade and 101; Socket.IO: also the open packet, "40" and its "40{...}"
//   answer), then close it (a close frame, 1000) and wait until the server has closed the TCP
//   connection; then the next. "measure-start" / "measure-end" around the measured window, then
//   { type: "result" } with connections completed per second.
import { performance } from "node:perf_hooks";
import { fail, send, sleep } from "./lib/child-ipc.mjs";
import { ConnectionCycles } from "./lib/connection-cycle.mjs";
import { openMany, openTcp, openWebSocket } from "./lib/handshake.mjs";
import { connectSocketIO } from "./socketio/packet-reader.mjs";

const config = JSON.parse(process.argv[2]);
/** Per connection of the rate loop: open, close and the server's TCP close, or it failed. */
const CYCLE_TIMEOUT_MS = 10_000;

/** Opens one connection of the configured protocol; resolves with { socket }. */
function openOne(port, onError) {
  const { host, protocol, deflate } = config;
  if (protocol === "tcp") return openTcp(host, port);
  if (protocol === "socketio") return connectSocketIO({ host, port, onError });
  return openWebSocket({ host, port, deflate }).then(({ socket }) => ({ socket }));
}

async function runIdle(port) {
  let firstError = "";
  const onError = (message) => {
    if (firstError === "") firstError = message;
  };
  const start = performance.now();
  const opened = await openMany(config.count, config.concurrency, () => openOne(port, onError));
  for (const { socket } of opened) {
    socket.on("error", () => {});
    // Socket.IO connections have their reader attached (it answers pings); others discard.
    if (config.protocol !== "socketio") socket.resume();
  }
  send({ type: "connected", connectMs: performance.now() - start });
  // Held until the orchestrator stops this process.
}

async function runRate(port) {
  const { concurrency, warmupMs, durationMs } = config;
  let firstError = "";
  let errors = 0;
  const cycles = new ConnectionCycles({
    host: config.host,
    port,
    protocol: config.protocol,
    concurrency,
    cycleTimeoutMs: CYCLE_TIMEOUT_MS,
    onError: (message) => {
      errors++;
      if (firstError === "") firstError = message;
    },
  });
  await sleep(warmupMs);
  send({ type: "measure-start" });
  const startCompleted = cycles.completed;
  const startCpu = process.cpuUsage();
  const startAt = performance.now();
  await sleep(durationMs);
  const elapsedMs = performance.now() - startAt;
  const count = cycles.completed - startCompleted;
  const cpu = process.cpuUsage(startCpu);
  send({ type: "measure-end" });
  // Bounded: every cycle has its timeout.
  await cycles.stop();
  return {
    elapsedMs,
    messages: count,
    messagesPerSec: count / (elapsedMs / 1000),
    loadCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    protocolErrors: errors,
    droppedConnections: 0,
    firstError,
  };
}

process.on("message", (message) => {
  if (message?.type === "start") {
    if (config.scenario === "idle") runIdle(message.port).catch(fail);
    else
      runRate(message.port).then((result) => {
        send({ type: "result", result });
        process.disconnect?.();
      }, fail);
  } else if (message?.type === "stop") {
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
send({ type: "waiting" });
