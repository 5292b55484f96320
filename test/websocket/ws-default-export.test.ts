/**
 * Code written against ws's module object (`const WebSocket = require("ws")`, `WebSocket.Server`,
 * `WebSocket.RawData`, ...) runs unchanged with duplexio/websocket: its default export and what
 * `require("duplexio/websocket")` returns are the WebSocket class carrying the server class. The
 * same code runs against ws itself, so the test checks ws's shape too.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import DuplexioWebSocket, { WebSocketServer } from "../../src/websocket/index.js";
import { WebSocket as NamedWebSocket } from "../../src/websocket/websocket.js";
import { MessageQueue } from "../helpers/message-queue.js";
import { nextEvent } from "../helpers/timing.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** ws as CommonJS code gets it (its ES module wrapper's default export lacks `.Server`). */
const wsModule = createRequire(import.meta.url)("ws") as typeof DuplexioWebSocket;

/** ws-style code: a server made as `new WebSocket.Server`, echoing to a client; what came back. */
async function echoThroughModule(WebSocket: typeof DuplexioWebSocket): Promise<string[]> {
  const wss = new WebSocket.Server({ port: 0, host: "127.0.0.1" });
  await nextEvent(wss, "listening");
  wss.on("connection", (socket) => {
    socket.on("message", (data: DuplexioWebSocket.RawData, isBinary: boolean) => {
      socket.send(data, { binary: isBinary });
    });
  });
  const { port } = wss.address() as AddressInfo;
  const client = new WebSocket.WebSocket(`ws://127.0.0.1:${port}`);
  // Both echoes may arrive in one TCP read: queue them from the start.
  const messages = new MessageQueue(client);
  const received: string[] = [];
  try {
    await nextEvent(client, "open");
    assert.equal(client.readyState, WebSocket.OPEN);
    client.send("text");
    client.send(Buffer.from("bytes"));
    for (let i = 0; i < 2; i++) {
      const { data, isBinary } = await messages.next(5000);
      received.push(`${isBinary ? "binary" : "text"}:${data.toString()}`);
    }
    client.close(1000);
    await nextEvent(client, "close");
  } finally {
    client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
  return received;
}

describe("ws-style module object", () => {
  it("the default export is the WebSocket class, carrying the server class as Server and WebSocketServer", () => {
    assert.equal(DuplexioWebSocket, NamedWebSocket);
    assert.equal(DuplexioWebSocket.Server, WebSocketServer);
    assert.equal(DuplexioWebSocket.WebSocketServer, WebSocketServer);
    assert.equal(DuplexioWebSocket.WebSocket, NamedWebSocket);
    // ws's module object has the same shape.
    assert.equal(wsModule.Server, wsModule.WebSocketServer);
    assert.equal(wsModule.WebSocket, wsModule);
  });

  it("ws's type names compile against it (WebSocket.ServerOptions, ClientOptions, Data, Server)", () => {
    const serverOptions: DuplexioWebSocket.ServerOptions = { noServer: true, maxPayload: 1024 };
    const clientOptions: DuplexioWebSocket.ClientOptions = { handshakeTimeout: 1000 };
    const data: DuplexioWebSocket.Data = "text";
    const server: DuplexioWebSocket.Server = new DuplexioWebSocket.Server(serverOptions);
    assert.equal(server.clients.size, 0);
    assert.equal(clientOptions.handshakeTimeout, 1000);
    assert.equal(data, "text");
    server.close();
  });

  it("runs the same ws-style echo code as ws", async () => {
    const expected = ["text:text", "binary:bytes"];
    assert.deepEqual(await echoThroughModule(wsModule), expected);
    assert.deepEqual(await echoThroughModule(DuplexioWebSocket), expected);
  });

  it('CommonJS: require("duplexio/websocket") is the class, as require("ws") is (built package)', async () => {
    const script = `
      const WebSocket = require(process.argv[1]);
      const { WebSocketServer, prepareMessage } = require(process.argv[1]);
      const wss = new WebSocket.Server({ port: 0, host: "127.0.0.1" }, () => {
        const client = new WebSocket("ws://127.0.0.1:" + wss.address().port);
        client.on("message", (data) => {
          console.log([typeof WebSocket, WebSocketServer === WebSocket.Server, typeof prepareMessage, String(data)].join(" "));
          client.close();
          wss.close();
        });
      });
      wss.on("connection", (socket) => socket.send("hello"));`;
    const run = async (specifier: string): Promise<string> => {
      const { stdout } = await promisify(execFile)(process.execPath, ["-e", script, specifier], {
        cwd: root,
        timeout: 10_000,
      });
      return stdout.trim();
    };
    assert.equal(await run("duplexio/websocket"), "function true function hello");
    // ws has no prepareMessage: the rest is the same.
    assert.equal(await run("ws"), "function true undefined hello");
  });
});
