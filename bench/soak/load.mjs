// The soak's load process: `node load.mjs`, then "start" { port, durationMs, ... }. Mixed,
// bounded traffic for the whole duration against one server (see README.md):
// - Socket.IO clients (the official socket.io-client), a population of `sioClients` that keeps
//   renewing: each lives 5-40 s, on WebSocket only, polling only, or polling upgraded to
//   WebSocket; joins and leaves rooms (acked), emits echoes with acks (strings, objects and
//   binary), asks for broadcasts to its rooms, receives the server's ticks;
// - raw WebSocket clients (the ws package) on /raw: echo, and the server's news feed;
// - slow readers: raw sockets that complete the handshake (raw WebSocket, or Socket.IO joined
//   to a room) and then never read, for 60 s each;
// - abrupt disconnects: 15% of the WebSocket clients that leave destroy their TCP connection
//   without a close (ws's terminate()).
// Every ack and every echo is accounted for: a client leaves only once its acks came back, and
// an ack that has not come back after 20 s counts as lost. "counters" answers with the counts
// and the populations; "finish" stops everything and answers with the final counts.
import { io } from "socket.io-client";
import WebSocket from "ws";
import { exitWithParent } from "../abuse/lib/children.mjs";
import { FrameReader, maskedFrame, OP_CLOSE, OP_TEXT } from "../abuse/lib/ws-frames.mjs";
import { openWebSocket } from "../lib/handshake.mjs";

exitWithParent();
const send = (message) => process.connected && process.send(message, () => {});

const ACK_TIMEOUT_MS = 20_000;
const SLOW_LIFETIME_MS = 60_000;
const ABRUPT_SHARE = 0.15;
const ROOMS = 10;

let seed = 0x9e3779b9;
/** Deterministic pseudo-random in [0, 1) (xorshift32), so runs are comparable. */
function random() {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
}
const between = (a, b) => a + random() * (b - a);
const room = () => `room-${Math.floor(random() * ROOMS)}`;

const counters = {
  sio: {
    started: 0,
    connected: 0,
    connectErrors: {},
    cleanLeaves: 0,
    abruptLeaves: 0,
    unexpectedDisconnects: {},
    transports: { websocket: 0, polling: 0, upgrade: 0 },
    acksSent: 0,
    acksOk: 0,
    acksLost: {},
    acksMismatch: 0,
    roomMessages: 0,
    ticks: 0,
  },
  raw: {
    started: 0,
    opened: 0,
    errors: {},
    cleanLeaves: 0,
    abruptLeaves: 0,
    unexpectedCloses: {},
    echoesSent: 0,
    echoesOk: 0,
    echoesLost: 0,
    echoesMismatch: 0,
    news: 0,
  },
  slow: { started: 0, failed: 0, endedByServer: 0, stillOpenAtEnd: 0 },
};
const bump = (map, key) => {
  map[key] = (map[key] ?? 0) + 1;
};

const sioClients = new Set();
const rawClients = new Set();
const slowClients = new Set();
let url;
let port;
let stopping = false;

function sioPayload(n) {
  const r = random();
  if (r < 0.1) return Buffer.alloc(Math.floor(between(1, 4096)), n & 0xff);
  if (r < 0.4)
    return {
      n,
      text: "t".repeat(Math.floor(between(0, 512))),
      list: [n, n + 1, { deep: [true, null] }],
    };
  return `echo ${n} ${"s".repeat(Math.floor(between(0, 2048)))}`;
}

function samePayload(a, b) {
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

let ackSeq = 0;
function emitWithAck(c, event, payload, check) {
  c.pending++;
  counters.sio.acksSent++;
  c.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (error, answer) => {
    c.pending--;
    if (error) bump(counters.sio.acksLost, String(error.message ?? error));
    else if (!check(answer)) counters.sio.acksMismatch++;
    else counters.sio.acksOk++;
  });
}

function startSio(now) {
  const r = random();
  const mode = r < 0.4 ? "websocket" : r < 0.7 ? "polling" : "upgrade";
  counters.sio.started++;
  counters.sio.transports[mode]++;
  const socket = io(url, {
    forceNew: true,
    reconnection: false,
    timeout: 20_000,
    transports:
      mode === "websocket"
        ? ["websocket"]
        : mode === "polling"
          ? ["polling"]
          : ["polling", "websocket"],
    upgrade: mode !== "polling",
  });
  const c = {
    socket,
    mode,
    state: "connecting",
    pending: 0,
    rooms: new Set(),
    leaveAt: now + between(5_000, 40_000),
    nextAction: now + between(300, 1500),
    abrupt: mode !== "polling" && random() < ABRUPT_SHARE,
  };
  sioClients.add(c);
  socket.on("connect", () => {
    c.state = "connected";
    counters.sio.connected++;
    const first = room();
    c.rooms.add(first);
    emitWithAck(c, "join", first, (a) => a?.ok === true && a.room === first);
  });
  socket.on("connect_error", (error) => {
    bump(counters.sio.connectErrors, String(error.message ?? error));
    c.state = "gone";
    sioClients.delete(c);
    socket.close();
  });
  socket.on("disconnect", (reason) => {
    if (c.state !== "leaving") bump(counters.sio.unexpectedDisconnects, reason);
    c.state = "gone";
    sioClients.delete(c);
  });
  socket.on("room-message", () => {
    counters.sio.roomMessages++;
  });
  socket.on("tick", () => {
    counters.sio.ticks++;
  });
}

function actSio(c) {
  const r = random();
  const n = ++ackSeq;
  if (r < 0.6) {
    const payload = sioPayload(n);
    emitWithAck(c, "echo", payload, (a) => samePayload(payload, a));
  } else if (r < 0.75) {
    const target = [...c.rooms][Math.floor(random() * c.rooms.size)] ?? "all";
    c.socket.emit("broadcast", target, { n, text: "hello room" });
  } else if (r < 0.85) {
    const target = room();
    c.rooms.add(target);
    emitWithAck(c, "join", target, (a) => a?.ok === true && a.room === target);
  } else if (r < 0.95 && c.rooms.size > 0) {
    const target = [...c.rooms][0];
    c.rooms.delete(target);
    emitWithAck(c, "leave", target, (a) => a?.ok === true && a.room === target);
  }
}

/** Leaves once every ack came back: cleanly (disconnect) or, for some, by destroying the TCP connection. */
function leaveSio(c) {
  if (c.pending > 0) return false;
  c.state = "leaving";
  const ws = c.socket.io.engine?.transport?.ws;
  if (c.abrupt && ws && typeof ws.terminate === "function") {
    counters.sio.abruptLeaves++;
    ws.terminate();
    c.socket.close();
  } else {
    counters.sio.cleanLeaves++;
    c.socket.disconnect();
  }
  sioClients.delete(c);
  return true;
}

function startRaw(now) {
  counters.raw.started++;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/raw`);
  const c = {
    ws,
    state: "connecting",
    pending: new Map(),
    seq: 0,
    leaveAt: now + between(5_000, 40_000),
    nextAction: now + between(300, 1500),
    abrupt: random() < ABRUPT_SHARE,
  };
  rawClients.add(c);
  ws.on("open", () => {
    c.state = "connected";
    counters.raw.opened++;
  });
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data.length > 8 && data.toString("latin1", 0, 8) === '{"news":') {
      counters.raw.news++;
      return;
    }
    const seq = isBinary
      ? data.readUInt32BE(0)
      : Number(data.toString("latin1", 1, data.indexOf(58)));
    const expected = c.pending.get(seq);
    if (expected === undefined) return counters.raw.echoesMismatch++;
    c.pending.delete(seq);
    if (isBinary === Buffer.isBuffer(expected.data) && Buffer.from(expected.data).equals(data))
      counters.raw.echoesOk++;
    else counters.raw.echoesMismatch++;
  });
  ws.on("error", (error) => bump(counters.raw.errors, String(error.message ?? error)));
  ws.on("close", (code) => {
    if (c.state !== "leaving") bump(counters.raw.unexpectedCloses, code);
    counters.raw.echoesLost += c.pending.size;
    c.state = "gone";
    rawClients.delete(c);
  });
}

function actRaw(c, now) {
  const seq = ++c.seq;
  let data;
  if (random() < 0.3) {
    data = Buffer.alloc(Math.floor(between(4, 8192)), seq & 0xff);
    data.writeUInt32BE(seq, 0);
  } else {
    data = `e${seq}:${"r".repeat(Math.floor(between(0, 4096)))}`;
  }
  c.pending.set(seq, { data, at: now });
  counters.raw.echoesSent++;
  c.ws.send(data);
}

function leaveRaw(c) {
  if (c.pending.size > 0) return false;
  c.state = "leaving";
  if (c.abrupt) {
    counters.raw.abruptLeaves++;
    c.ws.terminate();
  } else {
    counters.raw.cleanLeaves++;
    c.ws.close(1000, "bye");
  }
  rawClients.delete(c);
  return true;
}

/** A slow reader: handshake, (Socket.IO: CONNECT and join a room,) then never read again. */
async function startSlow(kind, now) {
  counters.slow.started++;
  const c = { socket: null, endAt: now + SLOW_LIFETIME_MS, kind };
  slowClients.add(c);
  try {
    const path = kind === "sio" ? "/socket.io/?EIO=4&transport=websocket" : "/raw";
    const { socket } = await openWebSocket({ host: "127.0.0.1", port, deflate: false, path });
    c.socket = socket;
    socket.on("error", () => {});
    if (kind === "sio") {
      socket.write(maskedFrame(OP_TEXT, "40"));
      socket.write(maskedFrame(OP_TEXT, `42["join","${room()}"]`));
    }
    socket.pause();
  } catch {
    counters.slow.failed++;
    slowClients.delete(c);
  }
}

/**
 * At its end of life: did the server cut it meanwhile? It reads what is left for 2 s: a close
 * frame, or the end of the connection, means the server gave up on it.
 */
function endSlow(c) {
  slowClients.delete(c);
  const { socket } = c;
  if (socket === null) return;
  let cut = false;
  const reader = new FrameReader({
    keep: 0,
    onControl: (opcode) => {
      if (opcode === OP_CLOSE) cut = true;
    },
  });
  socket.on("end", () => {
    cut = true;
  });
  socket.on("close", () => {
    cut = true;
  });
  socket.on("data", (chunk) => reader.push(chunk));
  socket.resume();
  setTimeout(() => {
    if (cut) counters.slow.endedByServer++;
    else counters.slow.stillOpenAtEnd++;
    socket.destroy();
  }, 2000);
}

function populations() {
  let sioConnected = 0;
  for (const c of sioClients) if (c.state === "connected") sioConnected++;
  let rawOpen = 0;
  for (const c of rawClients) if (c.state === "connected") rawOpen++;
  return {
    sioConnected,
    sio: sioClients.size,
    rawOpen,
    raw: rawClients.size,
    slow: slowClients.size,
  };
}

function run(config) {
  port = config.port;
  url = `http://127.0.0.1:${port}`;
  const began = performance.now();
  const endAt = began + config.durationMs;
  let connectBudget = 0;
  const tick = () => {
    const now = performance.now();
    if (!stopping && now < endAt) {
      connectBudget = Math.min(
        connectBudget + config.connectsPerSecond / 10,
        config.connectsPerSecond,
      );
      while (connectBudget >= 1 && sioClients.size < config.sioClients) {
        connectBudget--;
        startSio(now);
      }
      while (connectBudget >= 1 && rawClients.size < config.rawClients) {
        connectBudget--;
        startRaw(now);
      }
      const slowPerKind = Math.ceil(config.slowReaders / 2);
      let rawSlow = 0;
      for (const c of slowClients) if (c.kind === "raw") rawSlow++;
      if (slowClients.size - rawSlow < slowPerKind) startSlow("sio", now);
      if (rawSlow < config.slowReaders - slowPerKind) startSlow("raw", now);
    }
    for (const c of [...sioClients]) {
      if (c.state !== "connected" && c.state !== "draining") continue;
      if (stopping || now >= c.leaveAt) {
        c.state = "draining";
        leaveSio(c);
      } else if (now >= c.nextAction) {
        actSio(c);
        c.nextAction = now + between(500, 1500);
      }
    }
    for (const c of [...rawClients]) {
      if (c.state !== "connected" && c.state !== "draining") continue;
      for (const [seq, p] of c.pending) {
        if (now - p.at > ACK_TIMEOUT_MS) {
          c.pending.delete(seq);
          counters.raw.echoesLost++;
        }
      }
      if (stopping || now >= c.leaveAt) {
        c.state = "draining";
        leaveRaw(c);
      } else if (now >= c.nextAction) {
        actRaw(c, now);
        c.nextAction = now + between(500, 1500);
      }
    }
    for (const c of [...slowClients])
      if (c.socket !== null && (stopping || now >= c.endAt)) endSlow(c);
  };
  return setInterval(tick, 100);
}

let timer = null;
process.on("message", async (message) => {
  if (message?.type === "start") {
    timer = run(message);
    send({ type: "started" });
  } else if (message?.type === "counters") {
    send({ type: "counters", id: message.id, counters, populations: populations() });
  } else if (message?.type === "finish") {
    // No new clients; every client leaves once its acks are back (bounded by the ack timeout).
    stopping = true;
    const deadline = performance.now() + ACK_TIMEOUT_MS + 5000;
    while (
      (sioClients.size > 0 || rawClients.size > 0 || slowClients.size > 0) &&
      performance.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    clearInterval(timer);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const left = populations();
    for (const c of sioClients) c.socket.close();
    for (const c of rawClients) c.ws.terminate();
    send({ type: "finish", id: message.id, counters, leftOver: left });
    setTimeout(() => process.exit(0), 200);
  } else if (message?.type === "stop") {
    process.exit(0);
  }
});
send({ type: "waiting" });
