// One server under test, in its own process (started by run.mjs with --expose-gc and
// server-preload.mjs): `node server.mjs KIND DIST`.
//   ws:duplexio    new WebSocketServer({ port }) from DIST/websocket/index.js
//   ws:ws          new WebSocketServer({ port }) from the ws package
//   sio:duplexio   new Server(port) from DIST/index.js
//   sio:socket.io  new Server(port) from the socket.io package
// Options are the libraries' defaults; the port is 0 and the preload binds it to 127.0.0.1.
// The application is what a careless but ordinary app does:
// - WebSocket: every connection echoes what it gets; connections whose URL starts with /slow
//   are the slow readers' and are sent a 10 KB message every event-loop turn on "flood";
// - Socket.IO: socket.on("echo", (data, ack) => ack(data)) on the main namespace.
// Every connection's close (time, code, reason) and error is recorded; slow clients' closes are
// reported at once ("client-closed"), so the runner can tell the abuser.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [kind, dist] = process.argv.slice(2);
const require = createRequire(import.meta.url);

function send(message) {
  if (process.connected) process.send(message, () => {});
}

/** Slow readers by their id (the i of /slow?i=N), and every connection's fate. */
const slow = new Map();
const closes = [];
const errors = new Map();

function recordError(error) {
  const key = `${error?.code ?? error?.name ?? "Error"}: ${error?.message ?? error}`.slice(0, 160);
  errors.set(key, (errors.get(key) ?? 0) + 1);
}

async function startWebSocketServer() {
  const { WebSocketServer } =
    kind === "ws:duplexio"
      ? await import(pathToFileURL(join(dist, "websocket/index.js")).href)
      : require("ws");
  const wss = new WebSocketServer({ port: 0 });
  wss.on("error", recordError);
  wss.on("connection", (socket, request) => {
    const url = request.url ?? "/";
    const openedAt = Date.now();
    socket.on("error", recordError);
    const slowId = url.startsWith("/slow")
      ? Number(new URL(url, "http://x").searchParams.get("i"))
      : null;
    if (slowId !== null) slow.set(slowId, socket);
    else socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on("close", (code, reason) => {
      const record = {
        slowId,
        path: url.slice(0, 40),
        openedAt,
        closedAt: Date.now(),
        code,
        reason: String(reason ?? "").slice(0, 200),
      };
      closes.push(record);
      if (slowId !== null) send({ type: "client-closed", ...record });
    });
  });
}

async function startSocketIoServer() {
  const { Server } =
    kind === "sio:duplexio"
      ? await import(pathToFileURL(join(dist, "index.js")).href)
      : require("socket.io");
  const io = new Server(0);
  io.on("connection", (socket) => {
    socket.on("echo", (data, ack) => {
      if (typeof ack === "function") ack(data);
    });
  });
  io.engine.on("connection_error", (error) =>
    recordError({ code: error.code, message: error.message }),
  );
}

/**
 * Sends a fresh ~`payloadBytes` string to every open slow client every event-loop turn
 * (setImmediate), never looking at bufferedAmount, until `durationMs` has passed or the process's
 * RSS passes `maxRssBytes` (the bench's safety stop). Samples every 500 ms: messages sent,
 * messages whose send callback ran (written to the kernel), bufferedAmount, open slow clients.
 */
function flood({ durationMs, payloadBytes, maxRssBytes }) {
  return new Promise((resolve) => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const pad = "x".repeat(Math.max(0, payloadBytes - 32));
    let turns = 0;
    let sent = 0;
    let delivered = 0;
    let sendErrors = 0;
    let stopReason = null;
    const samples = [];
    const onSent = (error) => {
      if (error) sendErrors++;
      else delivered++;
    };
    const sample = () => {
      let open = 0;
      let buffered = 0;
      let maxBuffered = 0;
      for (const socket of slow.values()) {
        if (socket.readyState === 1) open++;
        const amount = socket.bufferedAmount ?? 0;
        buffered += amount;
        if (amount > maxBuffered) maxBuffered = amount;
      }
      const memory = process.memoryUsage();
      samples.push({
        t: Math.round(performance.now() - t0),
        sent,
        delivered,
        sendErrors,
        open,
        bufferedTotal: buffered,
        bufferedMax: maxBuffered,
        rss: memory.rss,
        arrayBuffers: memory.arrayBuffers,
      });
    };
    const sampler = setInterval(sample, 500);
    sample();
    const finish = (reason) => {
      stopReason = reason;
      clearInterval(sampler);
      sample();
      resolve({
        startedAt,
        durationMs: Math.round(performance.now() - t0),
        stopReason,
        turns,
        sent,
        delivered,
        sendErrors,
        samples,
      });
    };
    const turn = () => {
      if (performance.now() - t0 >= durationMs) return finish("duration");
      if ((turns & 7) === 0 && process.memoryUsage.rss() > maxRssBytes) return finish("rss-cap");
      const message = `{"seq":${turns},"pad":"${pad}"}`;
      for (const socket of slow.values()) {
        if (socket.readyState !== 1) continue;
        sent++;
        try {
          socket.send(message, onSent);
        } catch (error) {
          sendErrors++;
          recordError(error);
        }
      }
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
  });
}

process.on("message", async (message) => {
  if (message?.type === "flood") {
    const result = await flood(message);
    send({ type: "flood", id: message.id, result });
  } else if (message?.type === "report") {
    send({
      type: "report",
      id: message.id,
      closes,
      errors: Object.fromEntries(errors),
      slowOpen: [...slow.values()].filter((s) => s.readyState === 1).length,
    });
  }
});

if (kind.startsWith("ws:")) await startWebSocketServer();
else if (kind.startsWith("sio:")) await startSocketIoServer();
else throw new Error(`unknown server kind ${kind}`);
