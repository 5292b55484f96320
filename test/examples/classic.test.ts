/**
 * The classic socket.io example (examples/classic), CommonJS with `require("duplexio").listen` and
 * ES module with `new Server`, run as processes: the HTML page still answers, a client's send()
 * is printed by the server, the server's periodic send() reaches the client, over the default
 * transports (polling, then the upgrade) and over WebSocket alone.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { waitUntil } from "../helpers/timing.js";
import {
  type ClientSocket,
  connectClient,
  expectEchoes,
  nextClientEvent,
} from "../socketio-interop/client.js";
import { type ExampleProcess, startExample } from "./example-process.js";

const INTERVAL_MS = 150;

for (const file of ["examples/classic/server.cjs", "examples/classic/server.mjs"]) {
  describe(file, () => {
    let example: ExampleProcess;
    const clients: ClientSocket[] = [];

    before(async () => {
      example = await startExample(file, { MESSAGE_INTERVAL_MS: String(INTERVAL_MS) });
    });
    after(async () => {
      for (const client of clients) client.disconnect();
      await example.stop();
    });

    it("serves the HTML page at / next to the Socket.IO server", async () => {
      const res = await fetch(`${example.url}/`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/html");
      assert.equal(await res.text(), "<h1>Hello Socket Lover!</h1>");
    });

    for (const transports of [undefined, ["websocket"]]) {
      const over = transports ? "WebSocket only" : "the default transports";
      it(`prints a client's send() and send()s to it periodically, over ${over}`, async () => {
        const client = await connectClient(example.url, transports ? { transports } : {});
        clients.push(client);
        const text = `hello from ${over} ${client.id}`;
        client.send(text);
        await example.waitForOutput(new RegExp(`Received message from client! ${text}\\n`), 5000);

        // Two periodic messages in a row: the interval keeps running for this client.
        const pattern = /^This is a message from the server! (\d+)$/;
        const [first] = await nextClientEvent(client, "message", 5000);
        const [second] = await nextClientEvent(client, "message", 5000);
        const firstAt = Number(String(first).match(pattern)?.[1]);
        const secondAt = Number(String(second).match(pattern)?.[1]);
        assert.ok(firstAt > 0 && secondAt >= firstAt, `periodic messages: ${first}, ${second}`);

        if (!transports) {
          await waitUntil(
            () => client.io.engine.transport.name === "websocket",
            5000,
            "the upgrade from polling to WebSocket",
          );
        }
        client.disconnect();
        assert.equal(example.alive, true);
      });
    }

    it("printed nothing on stderr", () => {
      assert.equal(example.stderr, "");
    });
  });
}

// The other ways the classic API attaches a server, with options passed through (a custom path);
// `io(server, options)` is socket.io's CommonJS module function (`require("socket.io")(server)`).
for (const call of [
  "io(server, options)",
  "io.listen(server, options)",
  "io.attach(server, options)",
  "new io.Server(server, options)",
]) {
  describe(`require("duplexio"): ${call}`, () => {
    let example: ExampleProcess;

    before(async () => {
      const script = `
        const http = require("http");
        const io = require("duplexio");
        const server = http.createServer((req, res) => res.end("page"));
        const options = { path: "/realtime" };
        const socket = ${call};
        socket.on("connection", (client) => client.on("echo", (...args) => args.pop()(...args)));
        server.listen(Number(process.env.PORT), process.env.HOST, () =>
          console.log("Listening on http://localhost:" + server.address().port + "/"));`;
      example = await startExample(["-e", script]);
    });
    after(() => example.stop());

    it("answers on the configured path only, and leaves the rest to the page handler", async () => {
      const client = await connectClient(example.url, { path: "/realtime" });
      try {
        await expectEchoes(client, call);
      } finally {
        client.disconnect();
      }
      const res = await fetch(`${example.url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(await res.text(), "page");
      assert.equal(example.stderr, "");
    });
  });
}
