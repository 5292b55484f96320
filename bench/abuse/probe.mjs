// The well-behaved client, in its own process: is the server still serving others while it is
// being abused? `node probe.mjs` then a "start" message { mode, port, intervalMs }.
//   ws-echo   one raw WebSocket connection to "/", one 32-byte text message in flight at a
//             time (a new one every intervalMs), each echo timed
//   sio-echo  the same over Socket.IO on its WebSocket transport (raw Engine.IO by hand, like
//             bench/socketio): 42<id>["echo","..."] answered by the ack 43<id>[...]
//   http      every intervalMs a NEW TCP connection and a plain GET (Connection: close): time
//             to the status line, so a server that stops accepting connections shows
// "mark" splits the samples into baseline (before) and attack (after); "finish" ends it and
// replies with the figures ("stop" just exits). The probe never lets more than one request
// wait: a stalled server shows as one long round trip (and, at the end, as the age of the
// request still waiting).
import { connect } from "node:net";
import { openWebSocket } from "../lib/handshake.mjs";
import { percentile } from "../lib/stats.mjs";
import { exitWithParent } from "./lib/children.mjs";
import {
  FrameReader,
  maskedFrame,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  parseClosePayload,
} from "./lib/ws-frames.mjs";

exitWithParent();
const send = (message) => process.connected && process.send(message, () => {});

const samples = { baseline: [], attack: [] };
let phase = "baseline";
const failures = { baseline: 0, attack: 0 };
let lost = null;
let pendingSince = null;
let timer = null;
let stopped = false;

function record(ms) {
  samples[phase].push(ms);
}

function summarize(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length === 0 ? null : sorted[sorted.length - 1],
  };
}

async function startWebSocket({ port, intervalMs, socketio }) {
  const path = socketio ? "/socket.io/?EIO=4&transport=websocket" : "/";
  const { socket, leftover } = await openWebSocket({
    host: "127.0.0.1",
    port,
    deflate: false,
    path,
  });
  let seq = 0;
  let connected = !socketio;
  let readyResolve;
  const ready = new Promise((resolve) => {
    readyResolve = resolve;
  });
  const write = (text) => socket.write(maskedFrame(OP_TEXT, text));
  const reader = new FrameReader({
    keep: 512,
    onMessage: (_opcode, _length, head) => {
      const text = head.toString();
      if (socketio) {
        if (text === "2") return write("3");
        if (text.startsWith("0{")) return write("40");
        if (text.startsWith("40")) {
          connected = true;
          return readyResolve();
        }
        if (!text.startsWith("43")) return;
      }
      if (pendingSince !== null) {
        record(performance.now() - pendingSince);
        pendingSince = null;
      }
    },
    onControl: (opcode, payload) => {
      if (opcode === OP_PING) socket.write(maskedFrame(OP_PONG, payload));
      else if (opcode === OP_CLOSE && lost === null) {
        const { code, reason } = parseClosePayload(payload);
        lost = { at: Date.now(), phase, how: `close frame ${code} ${reason}`.trim() };
      }
    },
  });
  socket.on("data", (chunk) => reader.push(chunk));
  socket.on("error", () => {});
  socket.on("close", () => {
    if (!stopped && lost === null) lost = { at: Date.now(), phase, how: "connection closed" };
  });
  if (leftover.length > 0) reader.push(leftover);
  if (!socketio) readyResolve();
  await ready;
  const tick = () => {
    if (stopped || lost !== null || !connected || pendingSince !== null) return;
    seq++;
    pendingSince = performance.now();
    const body = `probe ${String(seq).padStart(8, "0")} ${"z".repeat(10)}`;
    write(socketio ? `42${seq}["echo","${body}"]` : body);
  };
  timer = setInterval(tick, intervalMs);
  return () => socket.destroy();
}

function startHttp({ port, intervalMs, path }) {
  const attempt = () => {
    if (stopped || pendingSince !== null) return;
    const began = performance.now();
    pendingSince = began;
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok) => {
      if (pendingSince !== began) return;
      pendingSince = null;
      clearTimeout(deadline);
      socket.destroy();
      if (ok) record(performance.now() - began);
      else failures[phase]++;
    };
    const deadline = setTimeout(() => done(false), 5000);
    socket.on("connect", () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`),
    );
    socket.on("data", (chunk) => done(chunk.toString("latin1", 0, 5) === "HTTP/"));
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
  };
  timer = setInterval(attempt, intervalMs);
  attempt();
  return () => {};
}

let close = () => {};
process.on("message", async (message) => {
  try {
    if (message?.type === "start") {
      const { mode } = message;
      if (mode === "http") close = startHttp(message);
      else close = await startWebSocket({ ...message, socketio: mode === "sio-echo" });
      send({ type: "ready" });
    } else if (message?.type === "mark") {
      phase = "attack";
      send({ type: "mark", id: message.id });
    } else if (message?.type === "stop") {
      process.exit(0);
    } else if (message?.type === "finish") {
      stopped = true;
      clearInterval(timer);
      const waitingMs = pendingSince === null ? null : performance.now() - pendingSince;
      close();
      send({
        type: "finish",
        id: message.id,
        baseline: { ...summarize(samples.baseline), failures: failures.baseline },
        attack: { ...summarize(samples.attack), failures: failures.attack },
        waitingMs,
        lost,
      });
      setTimeout(() => process.exit(0), 50);
    }
  } catch (error) {
    send({ type: "fatal", message: String(error?.message ?? error) });
    setTimeout(() => process.exit(1), 50);
  }
});
send({ type: "waiting" });
