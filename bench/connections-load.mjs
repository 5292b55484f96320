// The connection load generator: idle connections held open (memory per connection) and
// connections opened and closed in a loop (connection rate). One process, raw `net` sockets,
// handshakes by hand (lib/handshake.mjs, socketio/packet-reader.mjs): neither server's client.
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
import { encodeMaskedFrame, OPCODE_CLOSE } from "./lib/frames.mjs";
import { openMany, openTcp, openWebSocket } from "./lib/handshake.mjs";
import { connectSocketIO } from "./socketio/packet-reader.mjs";

const config = JSON.parse(process.argv[2]);
const CLOSE_FRAME = encodeMaskedFrame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8]));
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

/** One connection opened, closed by a close frame, and closed by the server: resolves when done. */
async function cycle(port, onError) {
  const { socket, reader } = await openOne(port, onError);
  // The server's close frame answers ours: not an error here.
  if (reader !== undefined) reader.stopping = true;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server did not close within ${CYCLE_TIMEOUT_MS} ms`));
    }, CYCLE_TIMEOUT_MS);
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
    // The server answers the close frame and closes the TCP connection (RFC 6455 7.1.1).
    socket.end(CLOSE_FRAME);
  });
}

async function runRate(port) {
  const { concurrency, warmupMs, durationMs } = config;
  let completed = 0;
  let stopping = false;
  let firstError = "";
  let errors = 0;
  const onError = (message) => {
    errors++;
    if (firstError === "") firstError = message;
  };
  const loop = async () => {
    while (!stopping) {
      try {
        await cycle(port, onError);
        completed++;
      } catch (error) {
        onError(error instanceof Error ? error.message : String(error));
        return;
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  await sleep(warmupMs);
  send({ type: "measure-start" });
  const startCompleted = completed;
  const startCpu = process.cpuUsage();
  const startAt = performance.now();
  await sleep(durationMs);
  const elapsedMs = performance.now() - startAt;
  const count = completed - startCompleted;
  const cpu = process.cpuUsage(startCpu);
  send({ type: "measure-end" });
  stopping = true;
  // Bounded: every cycle has its own timeout.
  await Promise.all(loops);
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
