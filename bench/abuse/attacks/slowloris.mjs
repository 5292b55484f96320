// Attack 5, slowloris and idle connections against the servers duplexio makes by itself
// (new WebSocketServer({ port }), new Server(port), `duplexio serve`, `duplexio echo`) and
// ws's / socket.io's with their own port option:
//   slowloris  2,000 connections, each trickling a WebSocket upgrade request, one byte per second
//   idle       5,000 connections that connect and send nothing
// held for --hold seconds. Per connection: cut or not, when (from its own connect), and what
// it had received (an HTTP status line? nothing?) and how it ended (FIN, RST).
import { connect } from "node:net";
import { endingOf, firstLine, spread, tally } from "../lib/abuse-helpers.mjs";

export const name = "slowloris";
export const title = "Attack 5: slowloris (one byte per second) and idle connections";

const ALL_SERVERS = [
  "ws:duplexio",
  "sio:duplexio",
  "cli:serve",
  "cli:echo",
  "ws:ws",
  "sio:socket.io",
];

export function cases(options) {
  const hold = options.holdS * 1000;
  return [
    {
      id: "slowloris",
      label: `${options.slowlorisConnections} connections trickling an upgrade request, 1 byte/s, held ${options.holdS} s`,
      servers: ALL_SERVERS,
      probe: "http",
      connections: options.slowlorisConnections,
      config: { mode: "trickle", connections: options.slowlorisConnections, holdMs: hold },
    },
    {
      id: "idle",
      label: `${options.idleConnections} idle connections (connect, send nothing), held ${options.holdS} s`,
      servers: ALL_SERVERS,
      probe: "http",
      connections: options.idleConnections,
      config: { mode: "idle", connections: options.idleConnections, holdMs: hold },
    },
  ];
}

export async function orchestrate({ port, kind, config, startAbuser }) {
  const path = kind.startsWith("sio:") ? "/socket.io/?EIO=4&transport=websocket" : "/";
  const abuser = await startAbuser({ ...config, port, path });
  const { result } = await abuser.next("result", config.holdMs + 180_000);
  return result;
}

function openOne(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const began = performance.now();
    const entry = {
      socket,
      connectMs: null,
      connectedAt: null,
      received: null,
      sawEnd: false,
      errorCode: null,
      closedAt: null,
    };
    socket.once("connect", () => {
      entry.connectedAt = performance.now();
      entry.connectMs = entry.connectedAt - began;
      resolve(entry);
    });
    socket.on("data", (chunk) => {
      if (entry.received === null)
        entry.received = { at: performance.now(), head: Buffer.from(chunk.subarray(0, 200)) };
    });
    socket.on("end", () => {
      entry.sawEnd = true;
    });
    socket.on("error", (error) => {
      entry.errorCode = error.code ?? "error";
      if (entry.connectedAt === null) resolve(entry);
    });
    socket.on("close", () => {
      entry.closedAt = performance.now();
    });
  });
}

export async function abuse({ port, path, mode, connections, holdMs }) {
  const request =
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  const entries = [];
  const connectStart = performance.now();
  // Batches of 250, so the server's accept queue (511) never overflows into SYN retries.
  for (let i = 0; i < connections; i += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, connections - i) }, () => openOne(port)),
    );
    entries.push(...batch);
  }
  const connected = entries.filter((e) => e.connectedAt !== null);
  const connectDurationMs = performance.now() - connectStart;
  const holdStart = performance.now();
  let sent = 0;
  let trickle = null;
  if (mode === "trickle") {
    const tick = () => {
      for (const e of connected) {
        if (e.closedAt !== null || e.socket.destroyed) continue;
        if (sent < request.length) e.socket.write(request[sent]);
      }
      sent++;
    };
    tick();
    trickle = setInterval(tick, 1000);
  }
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  clearInterval(trickle);
  const stillOpen = connected.filter((e) => e.closedAt === null).length;
  for (const e of entries) e.socket.destroy();
  const cuts = connected
    .filter((e) => e.closedAt !== null && e.closedAt <= holdStart + holdMs + 1)
    .map((e) => ({
      afterMs: Math.round(e.closedAt - e.connectedAt),
      received: firstLine(e.received?.head) || "nothing",
      ending: endingOf(e),
    }));
  return {
    mode,
    requested: connections,
    connected: connected.length,
    connectFailures: tally(
      entries.filter((e) => e.connectedAt === null).map((e) => e.errorCode ?? "?"),
    ),
    connectDurationMs: Math.round(connectDurationMs),
    bytesTrickled: mode === "trickle" ? Math.min(sent, request.length) : 0,
    holdMs,
    stillOpen,
    cuts,
  };
}

export const columns = [
  "connected",
  "cut ≤30 s",
  "cut ≤60 s",
  "cut by end",
  "cut at (min/p50/max s)",
  "abuser received",
];

export function cells(run) {
  const r = run.result;
  if (r === undefined) return ["-", "-", "-", "-", "-", "-"];
  const within = (ms) => r.cuts.filter((c) => c.afterMs <= ms).length;
  const s = spread(r.cuts.map((c) => c.afterMs));
  const sec = (ms) => (ms / 1000).toFixed(1);
  return [
    `${r.connected}/${r.requested}`,
    String(within(30_000)),
    r.holdMs >= 60_000 ? String(within(60_000)) : `(hold < 60 s)`,
    String(r.cuts.length),
    s.n === 0 ? "-" : `${sec(s.min)}/${sec(s.p50)}/${sec(s.max)}`,
    r.cuts.length === 0
      ? "-"
      : tally(
          r.cuts.map((c) => `${c.received} (${c.ending})`),
          2,
        ),
  ];
}

export function details(run) {
  const r = run.result;
  if (r === undefined) return [];
  return [
    `opening ${r.requested} connections took ${(r.connectDurationMs / 1000).toFixed(1)} s` +
      (r.connectFailures ? `, failures: ${r.connectFailures}` : "") +
      (r.mode === "trickle" ? `; ${r.bytesTrickled} bytes of the request sent per connection` : ""),
  ];
}
