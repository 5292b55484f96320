// The soak's server process (started by run.mjs with --expose-gc and the abuse bench's
// server-preload.mjs, which binds to 127.0.0.1 and answers "memory"/"gc"):
// `node server.mjs DIST`. One HTTP server with duplexio's Socket.IO `Server` (default options)
// and a raw `WebSocketServer` on the path /raw, and an ordinary chat-like application:
// - Socket.IO: join/leave rooms (acked), echo with ack, broadcast to a room, and every second a
//   tick to the room "all";
// - raw WebSocket: echo, and every 100 ms a 512-byte "news" message to every raw client.
// "stats" answers with the preload's snapshot (event-loop delay since the last stats) plus
// connection counts and what the application handled.
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { snapshot } from "../abuse/server-preload.mjs";

const dist = process.argv[2];
const { Server } = await import(pathToFileURL(join(dist, "index.js")).href);
const { WebSocketServer } = await import(pathToFileURL(join(dist, "websocket/index.js")).href);

const counters = {
  echoes: 0,
  joins: 0,
  leaves: 0,
  broadcasts: 0,
  rawMessages: 0,
  ticks: 0,
  news: 0,
};
const errors = new Map();
function recordError(where, error) {
  const key =
    `${where}: ${error?.code ?? error?.name ?? "Error"}: ${error?.message ?? error}`.slice(0, 160);
  errors.set(key, (errors.get(key) ?? 0) + 1);
}
const disconnectReasons = new Map();
const rawCloseCodes = new Map();

const httpServer = createServer();
const io = new Server(httpServer);
const wss = new WebSocketServer({ server: httpServer, path: "/raw" });

io.on("connection", (socket) => {
  socket.join("all");
  socket.on("join", (room, ack) => {
    socket.join(String(room));
    counters.joins++;
    if (typeof ack === "function") ack({ ok: true, room });
  });
  socket.on("leave", (room, ack) => {
    socket.leave(String(room));
    counters.leaves++;
    if (typeof ack === "function") ack({ ok: true, room });
  });
  socket.on("echo", (data, ack) => {
    counters.echoes++;
    if (typeof ack === "function") ack(data);
  });
  socket.on("broadcast", (room, data) => {
    counters.broadcasts++;
    io.to(String(room)).emit("room-message", room, data);
  });
  socket.on("error", (error) => recordError("socket", error));
  socket.on("disconnect", (reason) =>
    disconnectReasons.set(reason, (disconnectReasons.get(reason) ?? 0) + 1),
  );
});
io.engine.on("connection_error", (error) =>
  recordError("engine connection_error", { code: error.code, message: error.message }),
);

wss.on("error", (error) => recordError("wss", error));
wss.on("connection", (socket) => {
  socket.on("error", (error) => recordError("raw socket", error));
  socket.on("message", (data, isBinary) => {
    counters.rawMessages++;
    socket.send(data, { binary: isBinary });
  });
  socket.on("close", (code) => rawCloseCodes.set(code, (rawCloseCodes.get(code) ?? 0) + 1));
});

const news = `{"news":"${"n".repeat(500)}"}`;
setInterval(() => {
  for (const client of wss.clients) {
    if (client.readyState === 1) {
      client.send(news);
      counters.news++;
    }
  }
}, 100);
setInterval(() => {
  io.to("all").emit("tick", Date.now());
  counters.ticks++;
}, 1000);

function stats(reset) {
  return {
    ...snapshot(reset),
    engineClients: io.engine.clientsCount,
    sioSockets: io.of("/").sockets.size,
    rooms: io.of("/").adapter.rooms.size,
    rawClients: wss.clients.size,
    counters: { ...counters },
    errors: Object.fromEntries(errors),
    disconnectReasons: Object.fromEntries(disconnectReasons),
    rawCloseCodes: Object.fromEntries(rawCloseCodes),
  };
}

process.on("message", (message) => {
  if (message?.type === "stats") {
    process.send(
      { type: "stats", id: message.id, stats: stats(message.resetLoopDelay === true) },
      () => {},
    );
  }
});

httpServer.listen(0);
