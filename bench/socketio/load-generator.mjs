// The Socket.IO load generator: one process, raw TCP sockets speaking Engine.IO v4 over
// WebSocket by hand, pre-encoded masked frames. Started by bench/socketio/run.mjs through
// bench/lib/processes.mjs (same IPC protocol as the WebSocket bench's generator): config JSON in
// argv[2], { type: "waiting" }, then { type: "start", port }; "measure-start" and "measure-end"
// around the measured window; one { type: "result" }.
//
// Scenarios:
// - "echo": C connections each keep W `42<id>["echo","<payload>"]` packets in flight and answer
//   every chunk that completes k acks `43<id>[...]` with one write of k more; a probe connection
//   keeps one in flight and times it. Fixed warm-up and measured durations.
// - "broadcast": N receiving connections and one control connection; the control connection
//   sends bursts of B `42["broadcast","<payload>"]`, the server answers each with
//   io.emit("tick", payload), and the next burst goes out once every receiver has every tick of
//   this one. After K warm-up bursts, bursts go on until M broadcasts were measured or the
//   measured duration has passed (whichever comes first). Measures deliveries per second and,
//   per broadcast, the time from its burst's write to the last receiver getting it. With
//   config.protocol "raw" the same scenario runs over plain WebSocket connections on "/": the
//   raw server (bench/raw-server.mjs, bench/bun-server.mjs) sends each payload to everyone.
import { performance } from "node:perf_hooks";
import { fail, send, sleep } from "../lib/child-ipc.mjs";
import { makePayload } from "../lib/frames.mjs";
import { percentile } from "../lib/stats.mjs";
import {
  CHAR_3,
  CHAR_4,
  connectMany,
  connectRaw,
  connectSocketIO,
  frameBatches,
  textFrame,
} from "./packet-reader.mjs";

const MAX_LATENCY_SAMPLES = 500_000;
/** First ack id of the load frames: every id has three digits, so every ack has one length. */
const FIRST_LOAD_ID = 100;

const config = JSON.parse(process.argv[2]);

/**
 * A string of exactly `size` ASCII characters that JSON carries as is (no quotes, backslashes
 * or control characters), so both servers parse and re-encode the same bytes.
 */
function makeStringPayload(size) {
  return makePayload(size).toString("latin1").replace(/"/g, "'").replace(/\n/g, " ");
}

function latencySummary(sorted) {
  return {
    samples: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : null,
  };
}

/** Counts protocol errors and dropped connections; keeps the first message. */
function makeErrorLog() {
  const log = {
    stopping: false,
    protocolErrors: 0,
    droppedConnections: 0,
    firstError: "",
    note(message) {
      if (log.firstError === "") log.firstError = message;
    },
    protocol(message) {
      log.protocolErrors++;
      log.note(message);
    },
    watch({ socket, reader }) {
      socket.on("error", (error) => {
        if (!log.stopping) log.note(error.message);
      });
      socket.on("close", () => {
        if (!log.stopping) {
          log.droppedConnections++;
          log.note("a connection was closed by the server");
        }
      });
      reader.onError = (message) => log.protocol(message);
    },
  };
  return log;
}

function stopAll(log, connections) {
  log.stopping = true;
  for (const { socket, reader } of connections) {
    reader.stopping = true;
    socket.destroy();
  }
}

async function runEcho(port) {
  const { host, connections, window: windowSize, size, warmupMs, durationMs } = config;
  const payload = makeStringPayload(size);
  const log = makeErrorLog();
  const onError = (message) => log.protocol(message);
  // Everything connects first (probe last), so the handshake storm is over before load starts.
  const connectStart = performance.now();
  const opened = await connectMany({ host, port, count: connections + 1, onError });
  const connectMs = performance.now() - connectStart;
  for (const connection of opened) log.watch(connection);

  const frames = Array.from({ length: windowSize }, (_, i) =>
    textFrame(`42${FIRST_LOAD_ID + i}["echo","${payload}"]`),
  );
  const batches = frameBatches(frames);
  const ackLength = `43${FIRST_LOAD_ID}["${payload}"]`.length;
  let received = 0;

  for (const { socket, reader } of opened.slice(0, connections)) {
    let acks = 0;
    reader.onPacket = (byte0, byte1, length) => {
      if (byte0 === CHAR_4 && byte1 === CHAR_3 && length === ackLength) acks++;
      else log.protocol(`unexpected packet starting ${String.fromCharCode(byte0, byte1)}`);
    };
    reader.onChunkEnd = () => {
      if (acks === 0) return;
      received += acks;
      if (!log.stopping) socket.write(batches[Math.min(acks, windowSize)]);
      acks = 0;
    };
  }

  // The probe: one echo in flight, a fresh id each time, every ack compared with what is due.
  const probe = opened[connections];
  probe.reader.capture = true;
  const samples = new Float64Array(MAX_LATENCY_SAMPLES);
  let sampleCount = 0;
  let recording = false;
  let probeId = 0;
  let sentAt = 0;
  const probeSend = () => {
    if (log.stopping) return;
    probeId++;
    sentAt = performance.now();
    probe.socket.write(textFrame(`42${probeId}["echo","${payload}"]`));
  };
  probe.reader.onPacket = (_byte0, _byte1, _length, text) => {
    const rtt = performance.now() - sentAt;
    if (text !== `43${probeId}["${payload}"]`) {
      log.protocol(`probe: unexpected packet ${text.slice(0, 40)}`);
      return;
    }
    if (recording && sampleCount < samples.length) samples[sampleCount++] = rtt;
    probeSend();
  };

  for (const { socket } of opened.slice(0, connections)) socket.write(batches[windowSize]);
  probeSend();

  await sleep(warmupMs);
  send({ type: "measure-start" });
  recording = true;
  const startReceived = received;
  const startCpu = process.cpuUsage();
  const startAt = performance.now();
  await sleep(durationMs);
  const elapsedMs = performance.now() - startAt;
  const messages = received - startReceived;
  const cpu = process.cpuUsage(startCpu);
  recording = false;
  send({ type: "measure-end" });
  stopAll(log, opened);

  return {
    connectMs,
    elapsedMs,
    messages,
    messagesPerSec: messages / (elapsedMs / 1000),
    payloadBytes: size,
    packetBytes: frames[0].length,
    latencyMs: latencySummary(samples.subarray(0, sampleCount).sort()),
    loadCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    protocolErrors: log.protocolErrors,
    droppedConnections: log.droppedConnections,
    firstError: log.firstError,
  };
}

async function runBroadcast(port) {
  const { host, clients, size, broadcasts, warmupBroadcasts, burst, durationMs, maxMs } = config;
  const total = warmupBroadcasts + broadcasts;
  const payload = makeStringPayload(size);
  const log = makeErrorLog();
  const onError = (message) => log.protocol(message);
  const connectStart = performance.now();
  const raw = config.protocol === "raw";
  const open = raw ? connectRaw : connectSocketIO;
  const receivers = await connectMany({ host, port, count: clients, onError, open });
  const control = await open({ host, port, onError });
  const connectMs = performance.now() - connectStart;
  for (const connection of [...receivers, control]) log.watch(connection);

  // Raw WebSocket: the server sends every message it gets to everyone, as it is.
  const trigger = raw ? payload : `42["broadcast","${payload}"]`;
  const tick = raw ? payload : `42["tick","${payload}"]`;
  const burstFrames = frameBatches(Array.from({ length: burst }, () => textFrame(trigger)));
  const tickLength = tick.length;
  const tick0 = tick.charCodeAt(0);
  const tick1 = tick.charCodeAt(1);
  // reached[i]: receivers that got broadcast i. Ticks arrive in order on each connection, so a
  // receiver's n-th tick is broadcast n.
  const reached = new Int32Array(total);
  const sentAt = new Float64Array(total);
  const doneAt = new Float64Array(total);
  let sent = 0;
  let completed = 0;
  let deliveries = 0;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  let measureStart = null;

  const sendBurst = () => {
    const count = Math.min(burst, total - sent);
    const now = performance.now();
    for (let i = 0; i < count; i++) sentAt[sent + i] = now;
    sent += count;
    control.socket.write(burstFrames[count]);
  };
  const onComplete = (index) => {
    doneAt[index] = performance.now();
    completed++;
    if (completed < sent) return;
    if (completed === warmupBroadcasts) {
      send({ type: "measure-start" });
      measureStart = { at: performance.now(), cpu: process.cpuUsage(), deliveries };
    } else if (
      measureStart !== null &&
      (completed === total || performance.now() - measureStart.at >= durationMs)
    ) {
      // Bounded both ways: at most `broadcasts` measured, and no burst starts after the
      // measured duration, so a slow server does not stretch the run.
      finish();
      return;
    }
    sendBurst();
  };

  for (const { reader } of receivers) {
    let ticks = 0;
    reader.onPacket = (byte0, byte1, length) => {
      if (byte0 !== tick0 || byte1 !== tick1 || length !== tickLength) {
        log.protocol(`unexpected packet starting ${String.fromCharCode(byte0, byte1)}`);
        return;
      }
      if (ticks >= total) {
        log.protocol("more ticks than broadcasts");
        return;
      }
      deliveries++;
      const index = ticks++;
      if (++reached[index] === clients) onComplete(index);
    };
  }
  // The control connection gets every tick too (io.emit reaches it); it is not a receiver.
  control.reader.onPacket = (byte0, byte1) => {
    if (byte0 !== tick0 || byte1 !== tick1) {
      log.protocol(`control: unexpected packet starting ${String.fromCharCode(byte0, byte1)}`);
    }
  };

  // Warm-up bursts go out first; the measured window starts at a burst boundary, so it holds
  // exactly broadcasts x clients deliveries.
  if (warmupBroadcasts === 0) {
    send({ type: "measure-start" });
    measureStart = { at: performance.now(), cpu: process.cpuUsage(), deliveries };
  }
  sendBurst();
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve("timeout"), maxMs);
  });
  const outcome = await Promise.race([finished, timedOut]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    throw new Error(
      `broadcast: ${completed} of ${total} broadcasts reached every client within ${maxMs} ms ` +
        `(${log.firstError || "no protocol error"})`,
    );
  }
  const elapsedMs = performance.now() - measureStart.at;
  const cpu = process.cpuUsage(measureStart.cpu);
  const measuredDeliveries = deliveries - measureStart.deliveries;
  send({ type: "measure-end" });
  stopAll(log, [...receivers, control]);

  const measured = completed - warmupBroadcasts;
  const fanOut = new Float64Array(measured);
  for (let i = 0; i < measured; i++) {
    fanOut[i] = doneAt[warmupBroadcasts + i] - sentAt[warmupBroadcasts + i];
  }
  return {
    connectMs,
    elapsedMs,
    messages: measuredDeliveries,
    messagesPerSec: measuredDeliveries / (elapsedMs / 1000),
    broadcasts: measured,
    broadcastsPerSec: measured / (elapsedMs / 1000),
    payloadBytes: size,
    latencyMs: latencySummary(fanOut.sort()),
    loadCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    protocolErrors: log.protocolErrors,
    droppedConnections: log.droppedConnections,
    firstError: log.firstError,
  };
}

process.on("message", (message) => {
  if (message?.type === "start") {
    const run = config.scenario === "broadcast" ? runBroadcast : runEcho;
    run(message.port).then((result) => {
      send({ type: "result", result });
      process.disconnect?.();
    }, fail);
  } else if (message?.type === "stop") {
    process.exit(0);
  }
});
send({ type: "waiting" });
