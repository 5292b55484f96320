// One raw WebSocket (or plain TCP) server under test, alone in its Node process. Started by
// lib/processes.mjs with fork(): `node --expose-gc bench/raw-server.mjs '<config JSON>'`, config
// { implementation: "duplexio" | "ws" | "tcp", deflate, serverNoContextTakeover,
// mode: "echo" | "broadcast", duplexioRoot }. Speaks lib/server-control.mjs's IPC protocol. Every implementation runs the
// same handlers:
// - echo: `ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }))`;
// - broadcast: every message received goes to every connected client (the sender too), encoded
//   once where the library offers it (duplexio's prepareMessage; ws has no such API, so its
//   loop is the one its documentation shows);
// - tcp: a `net` server writing back whatever it reads (no WebSocket at all: the baseline).
import { createServer } from "node:net";
import { fail } from "./lib/child-ipc.mjs";
import { counters, duplexioDist, serveControl, serverConfig } from "./lib/server-control.mjs";

const config = serverConfig();

async function loadWebSocketModule() {
  if (config.implementation === "ws") return await import("ws");
  try {
    return await import(duplexioDist(config, "websocket/index.js"));
  } catch (error) {
    throw new Error(
      `cannot load dist/websocket/index.js under ${config.duplexioRoot} (run npm run build): ${error.message}`,
    );
  }
}

function startTcp() {
  const server = createServer((socket) => {
    counters.connections++;
    socket.on("error", () => {});
    socket.on("close", () => counters.connections--);
    socket.on("data", (chunk) => {
      counters.messages++;
      socket.write(chunk);
    });
  });
  server.on("error", fail);
  server.listen(0, "127.0.0.1", () => serveControl(server.address().port));
}

async function startWebSocket() {
  const library = await loadWebSocketModule();
  // Same explicit settings for both: ws's defaults for a server (threshold 1024 bytes, at most
  // 10 zlib jobs at once), context takeover both ways unless the row asks the server to declare
  // server_no_context_takeover (RFC 7692 7.1.1.1 lets it do so unasked).
  const perMessageDeflate = config.deflate
    ? {
        threshold: 1024,
        concurrencyLimit: 10,
        ...(config.serverNoContextTakeover ? { serverNoContextTakeover: true } : {}),
      }
    : false;
  const server = new library.WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate });
  const broadcast =
    config.implementation === "duplexio"
      ? (data, isBinary) => {
          const prepared = library.prepareMessage(data, { binary: isBinary });
          for (const client of server.clients) client.sendPrepared(prepared);
        }
      : (data, isBinary) => {
          for (const client of server.clients) client.send(data, { binary: isBinary });
        };
  server.on("connection", (ws) => {
    counters.connections++;
    // The load generator tears connections down abruptly at the end of a run.
    ws.on("error", () => {});
    ws.on("close", () => counters.connections--);
    if (config.mode === "broadcast") {
      ws.on("message", (data, isBinary) => {
        counters.messages++;
        broadcast(data, isBinary);
      });
    } else {
      ws.on("message", (data, isBinary) => {
        counters.messages++;
        ws.send(data, { binary: isBinary });
      });
    }
  });
  server.on("error", fail);
  server.on("listening", () => serveControl(server.address().port));
}

if (config.implementation === "tcp") startTcp();
else startWebSocket().catch(fail);
