/**
 * Data nested 2000 levels deep, sent to a handler that acks its arguments back (the
 * hostile server's "echo": `(...args, ack) => ack(...args)`, an everyday pattern). The decoder
 * accepts such data (JSON.parse does), so whatever the server does with the echo (send it, or
 * refuse the packet up front), the process must survive it silently and keep serving clients.
 * (socket.io crashes a few thousand levels deeper, when its recursive binary scan overflows the
 * stack.)
 */
import { afterEach, beforeEach, it } from "node:test";
import { connectClient, expectEchoes } from "../socketio-interop/client.js";
import { rawSocketIo } from "./raw-engine.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";
import { placeholder } from "./violations.js";

/** Deeper than duplexio's encoder goes (1000), within the server's maxHttpBufferSize (10 000). */
const DEPTH = 2000;
const nested = (inner: string) => `${"[".repeat(DEPTH)}${inner}${"]".repeat(DEPTH)}`;

let server: ServerProcess;

// A process per test: a crash in one must not fail the other.
beforeEach(async () => {
  server = await startServerProcess();
});
afterEach(() => server.stop());

for (const { name, frames } of [
  { name: "text", frames: [`421["echo",${nested("1")}]`] },
  {
    name: "binary",
    frames: [`451-1["echo",${nested(JSON.stringify(placeholder(0)))}]`, Buffer.of(1, 2, 3)],
  },
]) {
  it(`an echo of ${name} data nested ${DEPTH} levels deep does not bring the server down`, async () => {
    const bystander = await connectClient(server.url, { transports: ["websocket"] });
    try {
      const { raw } = await rawSocketIo(server.url);
      for (const frame of frames) raw.send(frame);
      // The ack, or the connection's end: either is fine, as long as the process lives.
      await raw.next(1000).catch(() => undefined);
      raw.destroy();
      await server.expectAliveAndSilent();
      await expectEchoes(bystander, `after the ${name} echo`);
    } finally {
      bystander.disconnect();
    }
  });
}
