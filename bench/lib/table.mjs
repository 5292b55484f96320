// Issue 10's table: its rows, how each cell is measured, and the targets read from the medians.
// bench/run.mjs runs the rows round after round; this module knows what a row is.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { runMessageLoad } from "../socketio/measure.mjs";
import { runEcho, runIdle, runMeasured } from "./processes.mjs";

const CONNECTIONS_LOAD = fileURLToPath(new URL("../connections-load.mjs", import.meta.url));
const HOST = "127.0.0.1";

/** The servers a cell can name, with the table column each belongs to. */
export const SERVERS = {
  "duplexio raw": { column: "duplexio", protocol: "websocket" },
  "duplexio Socket.IO": { column: "duplexio", protocol: "socketio" },
  ws: { column: "ws", protocol: "websocket" },
  "socket.io": { column: "socket.io", protocol: "socketio" },
  Bun: { column: "Bun (uWebSockets)", protocol: "websocket" },
  "Node TCP": { column: "Node TCP", protocol: "tcp" },
};
export const COLUMNS = ["duplexio", "ws", "socket.io", "Bun (uWebSockets)", "Node TCP"];

/** The server process for a cell: `{ kind, config }` as lib/processes.mjs takes it. */
function serverSpec(
  name,
  { mode = "echo", deflate = false, serverNoContextTakeover = false, duplexioRoot },
) {
  switch (name) {
    case "duplexio raw":
      return {
        kind: "raw",
        config: {
          implementation: "duplexio",
          mode,
          deflate,
          serverNoContextTakeover,
          duplexioRoot,
        },
      };
    case "ws":
      return {
        kind: "raw",
        config: { implementation: "ws", mode, deflate, serverNoContextTakeover },
      };
    case "Node TCP":
      return { kind: "raw", config: { implementation: "tcp", mode } };
    case "Bun":
      return { kind: "bun", config: { mode } };
    case "duplexio Socket.IO":
      return { kind: "socketio", config: { implementation: "duplexio", duplexioRoot } };
    case "socket.io":
      return { kind: "socketio", config: { implementation: "socket.io" } };
    default:
      throw new Error(`unknown server ${name}`);
  }
}

/** Server CPU microseconds per unit (message, delivery, connection) from a rate and CPU %. */
function cpuMicros(rate, cpuPercent) {
  return rate > 0 ? ((cpuPercent / 100) * 1e6) / rate : null;
}

/** Throughput and server CPU per message of a run from runEcho or runMessageLoad. */
function throughput(result) {
  return {
    rate: result.messagesPerSec,
    cpuUs: result.messagesPerServerCpuSecond > 0 ? 1e6 / result.messagesPerServerCpuSecond : null,
  };
}

const RATE = { key: "rate", label: "per s", kind: "count" };
const CPU = { key: "cpuUs", label: "server CPU us", kind: "micros" };

/**
 * Every row of the table. `cells` name SERVERS; `run(name, ctx)` measures one cell once and
 * resolves with `{ metrics, detail }` (metrics as in `metrics`; detail goes to the JSON).
 * `title` is a string or a function of the options.
 */
export const ROWS = [
  ...[32, 4096].map((size) => ({
    id: `raw-echo-${size === 32 ? "32" : "4k"}`,
    title: `raw echo ${size === 32 ? "32 B" : "4 KiB"} text, 100 conns x 16 in flight: msg/s (server CPU per msg)`,
    cells: ["duplexio raw", "ws", "Bun", "Node TCP"],
    metrics: [RATE, CPU],
    async run(name, ctx) {
      const result = await runEcho({
        server: serverSpec(name, ctx),
        label: name,
        size,
        // Text, as JSON over WebSocket is: the server validates UTF-8 (the TCP echo does not).
        options: { ...ctx.options, text: true },
        deflate: false,
        connections: 100,
        window: 16,
      });
      return { metrics: throughput(result), detail: result };
    },
  })),
  ...[32, 4096].map((size) => ({
    id: `sio-echo-${size === 32 ? "32" : "4k"}`,
    title: `Socket.IO event echo with ack ${size === 32 ? "32 B" : "4 KiB"}, 100 conns x 16 in flight: acks/s (server CPU per ack)`,
    cells: ["duplexio Socket.IO", "socket.io"],
    metrics: [RATE, CPU],
    async run(name, ctx) {
      const result = await runMessageLoad({
        server: serverSpec(name, ctx),
        label: name,
        cell: { scenario: "echo", protocol: "socketio", size },
        options: { ...ctx.options, connections: 100, window: 16 },
      });
      return { metrics: throughput(result), detail: result };
    },
  })),
  {
    id: "broadcast",
    title: "broadcast 32 B to 1,000 clients, 16 in flight: deliveries/s (server CPU per delivery)",
    cells: ["duplexio raw", "duplexio Socket.IO", "ws", "socket.io", "Bun"],
    metrics: [RATE, CPU],
    async run(name, ctx) {
      const result = await runMessageLoad({
        server: serverSpec(name, { ...ctx, mode: "broadcast" }),
        label: name,
        cell: {
          scenario: "broadcast",
          protocol: SERVERS[name].protocol === "socketio" ? "socketio" : "raw",
          size: 32,
          clients: 1000,
        },
        options: { ...ctx.options, broadcasts: 5000, warmupBursts: 5, burst: 16 },
      });
      return { metrics: throughput(result), detail: result };
    },
  },
  ...[false, true].map((deflate) => ({
    id: deflate ? "idle-deflate" : "idle",
    title: (options) =>
      `${options.idleConnections.toLocaleString("en-US")} idle connections${deflate ? " with permessage-deflate negotiated" : ""}: RSS and heap used per connection after GC`,
    cells: deflate
      ? ["duplexio raw", "ws"]
      : ["duplexio raw", "duplexio Socket.IO", "ws", "socket.io", "Bun", "Node TCP"],
    metrics: [
      { key: "rss", label: "RSS B/conn", kind: "bytes" },
      { key: "heap", label: "heap B/conn", kind: "bytes" },
    ],
    async run(name, ctx) {
      const count = ctx.options.idleConnections;
      const result = await runIdle({
        server: serverSpec(name, { ...ctx, deflate }),
        loadModule: CONNECTIONS_LOAD,
        loadConfig: {
          scenario: "idle",
          protocol: SERVERS[name].protocol,
          deflate,
          host: HOST,
          count,
          concurrency: 100,
        },
        label: name,
        pin: ctx.options.pin,
        deadlineMs: 180_000,
      });
      return {
        // Bun's heap is JavaScriptCore's, not comparable with V8's: RSS only.
        metrics: {
          rss: result.rssPerConnection,
          heap: name === "Bun" ? null : result.heapPerConnection,
        },
        detail: result,
      };
    },
  })),
  {
    id: "rate",
    title: "connections/s opened, handshaken and closed (server CPU per connection)",
    cells: ["duplexio raw", "duplexio Socket.IO", "ws", "socket.io", "Bun"],
    metrics: [RATE, CPU],
    async run(name, ctx) {
      const { options } = ctx;
      const measured = await runMeasured({
        server: serverSpec(name, ctx),
        loadModule: CONNECTIONS_LOAD,
        loadConfig: {
          scenario: "rate",
          protocol: SERVERS[name].protocol,
          deflate: false,
          host: HOST,
          concurrency: options.rateConcurrency,
          warmupMs: options.warmupMs,
          durationMs: options.durationMs,
        },
        label: name,
        pin: options.pin,
        cpuProfile: options.cpuProfile,
        files: 4096,
        deadlineMs: options.warmupMs + options.durationMs + 60_000,
      });
      const rate = measured.result.messagesPerSec;
      if (measured.result.protocolErrors > 0) {
        throw new Error(`${measured.result.protocolErrors} failed: ${measured.result.firstError}`);
      }
      return {
        metrics: { rate, cpuUs: cpuMicros(rate, measured.server.cpuPercent) },
        detail: measured,
      };
    },
  },
  ...[false, true].map((serverNoContextTakeover) => ({
    id: serverNoContextTakeover ? "deflate-active-shared" : "deflate-active",
    title: `permessage-deflate${serverNoContextTakeover ? " with serverNoContextTakeover" : ""}, 1,000 conns x 1 in flight echoing 1 KiB JSON: msg/s (server CPU per msg; RSS per connection)`,
    cells: ["duplexio raw", "ws"],
    metrics: [RATE, CPU, { key: "rss", label: "RSS B/conn", kind: "bytes" }],
    async run(name, ctx) {
      const connections = 1000;
      const result = await runEcho({
        server: serverSpec(name, { ...ctx, deflate: true, serverNoContextTakeover }),
        label: name,
        size: 1024,
        options: { ...ctx.options, text: true },
        deflate: true,
        connections,
        window: 1,
      });
      return {
        metrics: {
          ...throughput(result),
          // RSS at the end of the measured window over the RSS before the first connection.
          rss: (result.server.rss - result.server.listeningRss) / connections,
        },
        detail: result,
      };
    },
  })),
];

/** gzip -9 size of a file, or null when it does not exist. */
function gzipSize(path) {
  try {
    return gzipSync(readFileSync(path), { level: 9 }).length;
  } catch {
    return null;
  }
}

/** The client bundle row: sizes, measured once (no rounds: they do not vary). */
export function measureBundles(duplexioRoot, benchRoot) {
  const sio = resolve(benchRoot, "node_modules/socket.io-client/dist");
  return {
    duplexio: {
      esm: gzipSize(resolve(duplexioRoot, "dist/client/duplexio.esm.min.js")),
      iife: gzipSize(resolve(duplexioRoot, "dist/client/duplexio.min.js")),
    },
    "socket.io": {
      esm: gzipSize(resolve(sio, "socket.io.esm.min.js")),
      iife: gzipSize(resolve(sio, "socket.io.min.js")),
    },
  };
}

const median = (summary, row, cell, key) => summary[row]?.[cell]?.[key]?.median ?? null;
const ratio = (a, b) => (a !== null && b !== null && b > 0 ? a / b : null);

/** `key` of cell `a` over `key` of cell `b` (rows `rowA`, `rowB`), from the medians. */
function figureRatio(key, rowA, a, rowB, b) {
  return (s) => ratio(median(s, rowA, a, key), median(s, rowB, b, key));
}

/** Rate of `a` over rate of `b` in `row`, and the same per server CPU (b's CPU per unit over a's). */
function rateRatio(row, a, b) {
  return {
    value: figureRatio("rate", row, a, row, b),
    perCpu: figureRatio("cpuUs", row, b, row, a),
  };
}

/**
 * Issue 10's targets, each read from the medians: `value(summary, bundles)` (null when a figure
 * is missing), for rate ratios also `perCpu`; a goal `atMost` / `atLeast`, or none (reported).
 */
export const TARGETS = [
  {
    name: "idle RSS per connection, raw duplexio (B)",
    value: (s) => median(s, "idle", "duplexio raw", "rss"),
    atMost: 3500,
  },
  {
    name: "idle RSS per connection, duplexio Socket.IO (B)",
    value: (s) => median(s, "idle", "duplexio Socket.IO", "rss"),
    atMost: 5000,
  },
  {
    name: "idle RSS per connection, socket.io / duplexio Socket.IO",
    value: figureRatio("rss", "idle", "socket.io", "idle", "duplexio Socket.IO"),
    atLeast: 3,
  },
  {
    name: "idle RSS per connection, raw duplexio / Node TCP",
    value: figureRatio("rss", "idle", "duplexio raw", "idle", "Node TCP"),
  },
  {
    name: "idle heap per connection, raw duplexio / ws",
    value: figureRatio("heap", "idle", "duplexio raw", "idle", "ws"),
  },
  {
    name: "Socket.IO echo 32 B msg/s, duplexio / socket.io",
    ...rateRatio("sio-echo-32", "duplexio Socket.IO", "socket.io"),
    atLeast: 5,
  },
  {
    name: "Socket.IO echo 4 KiB msg/s, duplexio / socket.io",
    ...rateRatio("sio-echo-4k", "duplexio Socket.IO", "socket.io"),
    atLeast: 4,
  },
  {
    name: "Socket.IO broadcast, server CPU per delivery socket.io / duplexio",
    value: figureRatio("cpuUs", "broadcast", "socket.io", "broadcast", "duplexio Socket.IO"),
    atLeast: 6,
  },
  {
    name: "raw echo 4 KiB msg/s, duplexio / Bun",
    ...rateRatio("raw-echo-4k", "duplexio raw", "Bun"),
    atLeast: 0.8,
  },
  {
    name: "connections/s Socket.IO, duplexio / socket.io",
    ...rateRatio("rate", "duplexio Socket.IO", "socket.io"),
    atLeast: 2,
  },
  {
    name: "connections/s raw, duplexio / ws",
    ...rateRatio("rate", "duplexio raw", "ws"),
    atLeast: 1.5,
  },
  {
    name: "idle RSS per connection, deflate / no deflate, raw duplexio",
    value: figureRatio("rss", "idle-deflate", "duplexio raw", "idle", "duplexio raw"),
    atMost: 1.5,
  },
  {
    name: "idle heap per connection, deflate / no deflate, raw duplexio",
    value: figureRatio("heap", "idle-deflate", "duplexio raw", "idle", "duplexio raw"),
  },
  {
    name: "deflate active msg/s, duplexio / ws",
    ...rateRatio("deflate-active", "duplexio raw", "ws"),
    atLeast: 3,
  },
  {
    name: "deflate active RSS per connection, duplexio / ws",
    value: figureRatio("rss", "deflate-active", "duplexio raw", "deflate-active", "ws"),
  },
  {
    name: "deflate active, serverNoContextTakeover, msg/s, duplexio / ws",
    ...rateRatio("deflate-active-shared", "duplexio raw", "ws"),
  },
  {
    name: "deflate active, serverNoContextTakeover, RSS per connection, duplexio / ws",
    value: figureRatio(
      "rss",
      "deflate-active-shared",
      "duplexio raw",
      "deflate-active-shared",
      "ws",
    ),
  },
  {
    name: "client bundle ESM, gzip -9 (B)",
    value: (_s, b) => b?.duplexio.esm ?? null,
    atMost: 11_000,
  },
  {
    name: "client bundle IIFE, gzip -9 (B)",
    value: (_s, b) => b?.duplexio.iife ?? null,
    atMost: 12_500,
  },
];
