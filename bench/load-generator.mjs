// The load generator: one process, raw TCP sockets, pre-encoded masked frames. Started by
// run.mjs with fork(); reads its configuration from argv[2] (JSON), says { type: "waiting" },
// gets { type: "start", port } once the server listens, and talks to the parent over the IPC
// channel only at phase changes, never per message.
//
// N load connections each keep a window of M messages in flight: M frames go out at start and
// every echoed message is answered by one more frame (batched: k echoes in a chunk, one write
// of k frames). A separate probe connection keeps exactly one message in flight and times each
// round trip. The run has a warm-up, then a measured window, then everything is torn down.
//
// With config.tcp the server is a plain TCP echo (the baseline): no handshake, and the echoes
// are the client's own masked frames, which the counter reads as they are.
import { performance } from "node:perf_hooks";
import { fail, send, sleep } from "./lib/child-ipc.mjs";
import { FrameCounter } from "./lib/frame-counter.mjs";
import {
  compressMessage,
  encodeMaskedFrame,
  makeFrameBatches,
  makePayload,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_TEXT,
} from "./lib/frames.mjs";
import { openMany, openTcp, openWebSocket } from "./lib/handshake.mjs";
import { LatencyProbe } from "./lib/probe.mjs";
import { percentile } from "./lib/stats.mjs";

const MAX_LATENCY_SAMPLES = 500_000;
/** Handshakes in progress at once while connecting (1,000 connections must not storm). */
const CONNECT_CONCURRENCY = 100;

const config = JSON.parse(process.argv[2]);
const { host, connections, window: windowSize, size, warmupMs, durationMs, deflate, tcp } = config;
const opcode = config.text ? OPCODE_TEXT : OPCODE_BINARY;

async function main(port) {
  const payload = makePayload(size);
  let stopping = false;
  let received = 0;
  let rxWireBytes = 0;
  let protocolErrors = 0;
  let droppedConnections = 0;
  let firstError = "";
  const noteError = (message) => {
    if (firstError === "") firstError = message;
  };

  // Connect everything first (probe last), so the handshake storm is over before load starts.
  const open = tcp ? () => openTcp(host, port) : () => openWebSocket({ host, port, deflate });
  const opened = await openMany(connections + 1, CONNECT_CONCURRENCY, open);
  if (opened.some((o) => o.socket.destroyed))
    throw new Error("a connection closed right after its handshake");
  const windowBits = opened[0].clientWindowBits;
  if (opened.some((o) => o.clientWindowBits !== windowBits)) {
    throw new Error("connections negotiated different client window sizes");
  }
  const body = deflate ? compressMessage(payload, windowBits) : payload;
  const frame = encodeMaskedFrame(opcode, body, deflate);
  const batches = makeFrameBatches(frame, windowSize);

  const checkMessage = (gotOpcode, rsv1, length) => {
    // A compressed echo cannot be length-checked without inflating; the opcode still can.
    if (gotOpcode !== opcode || (rsv1 && !deflate) || (!rsv1 && length !== size)) {
      protocolErrors++;
      noteError(`unexpected echo: opcode ${gotOpcode}, rsv1 ${rsv1}, length ${length}`);
    }
  };
  const onControl = (controlOpcode) => {
    if (controlOpcode === OPCODE_CLOSE && !stopping) {
      protocolErrors++;
      noteError("server sent a close frame");
    }
  };
  const watch = (socket) => {
    socket.on("error", (error) => {
      if (!stopping) noteError(error.message);
    });
    socket.on("close", () => {
      if (!stopping) droppedConnections++;
    });
  };

  const loadSockets = opened.slice(0, connections).map(({ socket, leftover }) => {
    const counter = new FrameCounter(checkMessage, onControl, undefined);
    const onData = (chunk) => {
      rxWireBytes += chunk.length;
      const k = counter.push(chunk);
      if (k === 0) return;
      received += k;
      if (!stopping) socket.write(batches[k]);
    };
    watch(socket);
    socket.on("data", onData);
    if (leftover.length > 0) onData(leftover);
    return socket;
  });

  const probe = new LatencyProbe(opened[connections].socket, {
    frame,
    // A TCP echo returns the masked bytes.
    payload: tcp ? frame.subarray(frame.length - body.length) : payload,
    opcode,
    deflate,
    maxSamples: MAX_LATENCY_SAMPLES,
    onError: (message) => {
      protocolErrors++;
      noteError(message);
    },
  });
  watch(probe.socket);

  // Start: every load connection fills its window, the probe sends its first message.
  for (const socket of loadSockets) socket.write(batches[windowSize]);
  probe.start();

  await sleep(warmupMs);
  send({ type: "measure-start" });
  probe.recording = true;
  const startReceived = received;
  const startRx = rxWireBytes;
  const startCpu = process.cpuUsage();
  const startElu = performance.eventLoopUtilization();
  const startAt = performance.now();

  await sleep(durationMs);
  const elapsedMs = performance.now() - startAt;
  const messages = received - startReceived;
  const rx = rxWireBytes - startRx;
  const cpu = process.cpuUsage(startCpu);
  const elu = performance.eventLoopUtilization(startElu);
  probe.recording = false;
  send({ type: "measure-end" });

  stopping = true;
  for (const socket of loadSockets) socket.destroy();
  probe.stop();
  probe.socket.destroy();

  const seconds = elapsedMs / 1000;
  const samples = probe.sortedSamples();
  send({
    type: "result",
    result: {
      elapsedMs,
      messages,
      messagesPerSec: messages / seconds,
      payloadMBps: (messages * size) / seconds / 1e6,
      rxWireMBps: rx / seconds / 1e6,
      frameBytes: frame.length,
      latencyMs: {
        samples: samples.length,
        p50: percentile(samples, 0.5),
        p99: percentile(samples, 0.99),
        max: samples.length > 0 ? samples[samples.length - 1] : null,
      },
      loadCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
      loadEventLoopUtilization: elu.utilization,
      protocolErrors,
      droppedConnections,
      firstError,
    },
  });
}

process.on("message", (message) => {
  if (message?.type === "start") {
    main(message.port).then(() => process.disconnect?.(), fail);
  } else if (message?.type === "stop") {
    process.exit(0);
  }
});
send({ type: "waiting" });
