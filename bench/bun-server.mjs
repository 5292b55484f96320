// The Bun (uWebSockets) server under test, run by the Bun binary from the npm package
// @oven/bun-linux-x64 (lib/processes.mjs forks it with that binary as execPath, so Bun speaks
// the same IPC as Node: lib/server-control.mjs). Config in argv[2] as for raw-server.mjs:
// { mode: "echo" | "broadcast" }. Bun.serve's WebSocket handlers with the same semantics:
// echo sends every message back as it came (text or binary); broadcast publishes every message
// to every connected client (the sender too) through one topic, which Bun encodes once.
// permessage-deflate is off, as for the other servers in the rows Bun is part of.
import { fail } from "./lib/child-ipc.mjs";
import { counters, serveControl, serverConfig } from "./lib/server-control.mjs";

const config = serverConfig();
const TOPIC = "all";

try {
  const server = globalThis.Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, bunServer) {
      if (bunServer.upgrade(request)) return undefined;
      return new Response("WebSocket only", { status: 426 });
    },
    websocket: {
      perMessageDeflate: false,
      // Same as Node's servers: no idle timeout closing held connections during a run.
      idleTimeout: 0,
      open(ws) {
        counters.connections++;
        if (config.mode === "broadcast") ws.subscribe(TOPIC);
      },
      close() {
        counters.connections--;
      },
      message(ws, message) {
        counters.messages++;
        if (config.mode === "broadcast") server.publish(TOPIC, message);
        else ws.send(message);
      },
    },
  });
  serveControl(server.port);
} catch (error) {
  fail(error);
}
