// One Socket.IO server under test, alone in its process. Started by lib/processes.mjs:
//   node --expose-gc bench/socketio/server.mjs '<config JSON>'
// config { implementation: "duplexio" | "socket.io", duplexioRoot }. Speaks
// lib/server-control.mjs's IPC protocol. Both implementations get the same options and run the
// very same handlers.
import { createServer } from "node:http";
import { fail } from "../lib/child-ipc.mjs";
import { counters, duplexioDist, serveControl, serverConfig } from "../lib/server-control.mjs";

const config = serverConfig();

async function loadServerClass() {
  if (config.implementation === "socket.io") return (await import("socket.io")).Server;
  if (config.implementation === "duplexio") {
    try {
      return (await import(duplexioDist(config, "index.js"))).Server;
    } catch (error) {
      throw new Error(
        `cannot load dist/index.js under ${config.duplexioRoot} (run npx tsc -p tsconfig.build.json): ${error.message}`,
      );
    }
  }
  throw new Error(`unknown server implementation: ${config.implementation}`);
}

async function start() {
  const Server = await loadServerClass();
  const httpServer = createServer();
  const io = new Server(httpServer, { transports: ["websocket"] });

  io.on("connection", (socket) => {
    counters.connections++;
    socket.on("disconnect", () => counters.connections--);
    socket.on("echo", (data, ack) => {
      counters.messages++;
      if (typeof ack === "function") ack(data);
    });
    socket.on("broadcast", (data) => {
      counters.messages++;
      io.emit("tick", data);
    });
  });

  httpServer.on("error", fail);
  httpServer.listen(0, "127.0.0.1", () => serveControl(httpServer.address().port));
}

start().catch(fail);
