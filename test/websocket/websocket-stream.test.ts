/**
 * createWebSocketStream: a Duplex over a WebSocket, as ws's. Writes become messages, messages
 * become chunks, backpressure pauses the socket, end() closes, destroy() terminates, and the
 * stream ends when the WebSocket closes. The same checks run against ws's own function.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, it } from "node:test";
import DuplexioWebSocket, { createWebSocketStream } from "../../src/websocket/index.js";
import { nextEvent, waitUntil, withTimeout } from "../helpers/timing.js";

/** ws as CommonJS code gets it: the class carrying createWebSocketStream and Server. */
const wsModule = createRequire(import.meta.url)("ws") as typeof DuplexioWebSocket;

const subjects = [
  { name: "duplexio", WebSocket: DuplexioWebSocket, create: createWebSocketStream },
  { name: "ws", WebSocket: wsModule, create: wsModule.createWebSocketStream },
];

/** Everything the stream yields until it ends, as one string. */
async function readAll(stream: Duplex): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += String(chunk);
  return text;
}

for (const { name, WebSocket, create } of subjects) {
  describe(`createWebSocketStream (${name})`, () => {
    let server: InstanceType<typeof DuplexioWebSocket.Server> | undefined;
    afterEach(async () => {
      for (const client of server?.clients ?? []) client.terminate();
      await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
      server = undefined;
    });

    /** A server whose connections go to `onConnection`; resolves with its URL. */
    async function listen(
      onConnection: (socket: InstanceType<typeof DuplexioWebSocket>) => void,
    ): Promise<string> {
      server = new WebSocket.Server({ port: 0, host: "127.0.0.1" });
      server.on("connection", onConnection);
      await nextEvent(server, "listening");
      return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    it("writes before open wait for it; a server piping its stream into itself echoes them", async () => {
      const url = await listen((socket) => {
        const stream = create(socket);
        // The client goes away once it has its echo; a late write's error is not the subject here.
        stream.on("error", () => {});
        stream.pipe(stream);
      });
      const stream = create(new WebSocket(url));
      stream.write("one ");
      stream.write(Buffer.from("two "));
      stream.write("three");
      let echoed = "";
      await withTimeout(
        (async () => {
          for await (const chunk of stream) {
            echoed += String(chunk);
            if (echoed.length >= "one two three".length) break;
          }
        })(),
        5000,
        "the echo",
      );
      assert.equal(echoed, "one two three");
    });

    it("end() closes the WebSocket with a closing handshake; the stream then finishes and closes", async () => {
      const closed: number[] = [];
      const url = await listen((socket) => socket.on("close", (code: number) => closed.push(code)));
      const client = new WebSocket(url);
      const stream = create(client);
      stream.resume();
      const streamClosed = nextEvent(stream, "close", 5000);
      stream.end();
      await streamClosed;
      assert.equal(client.readyState, WebSocket.CLOSED);
      await waitUntil(() => closed.length === 1, 5000, "the server's close");
      assert.deepEqual(closed, [1005]);
    });

    it("destroy() terminates the WebSocket: the server sees 1006", async () => {
      const closed: number[] = [];
      const url = await listen((socket) => socket.on("close", (code: number) => closed.push(code)));
      const client = new WebSocket(url);
      await nextEvent(client, "open");
      const stream = create(client);
      const streamClosed = nextEvent(stream, "close", 5000);
      stream.destroy();
      await streamClosed;
      assert.equal(client.readyState, WebSocket.CLOSED);
      await waitUntil(() => closed.length === 1, 5000, "the server's close");
      assert.deepEqual(closed, [1006]);
    });

    it("the peer closing ends the readable side after everything it sent", async () => {
      const url = await listen((socket) => {
        for (let i = 0; i < 5; i++) socket.send(`m${i};`);
        socket.close(1000);
      });
      const stream = create(new WebSocket(url));
      assert.equal(await withTimeout(readAll(stream), 5000, "the messages"), "m0;m1;m2;m3;m4;");
    });

    it("a full readable buffer pauses the WebSocket; reading resumes it; nothing is lost", async () => {
      const count = 200;
      const url = await listen((socket) => {
        for (let i = 0; i < count; i++) socket.send(Buffer.alloc(1024, i % 256));
        socket.close(1000);
      });
      const client = new WebSocket(url);
      const stream = create(client, { highWaterMark: 4096 });
      await waitUntil(() => client.isPaused, 5000, "the WebSocket to be paused");
      // Chunks read may join several messages: check every byte against its message's fill.
      let offset = 0;
      for await (const chunk of stream) {
        for (const byte of chunk as Buffer) {
          assert.equal(byte, Math.floor(offset / 1024) % 256, `byte ${offset}`);
          offset++;
        }
      }
      assert.equal(offset, count * 1024);
    });

    it("readableObjectMode pushes text messages as strings and binary ones as Buffers", async () => {
      const url = await listen((socket) => {
        socket.send("text");
        socket.send(Buffer.from("bytes"));
        socket.close(1000);
      });
      const stream = create(new WebSocket(url), { readableObjectMode: true });
      const chunks: unknown[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.equal(chunks[0], "text");
      assert.ok(Buffer.isBuffer(chunks[1]));
      assert.equal(String(chunks[1]), "bytes");
    });
  });
}

describe("createWebSocketStream on the module object", () => {
  it("is reachable as WebSocket.createWebSocketStream, as in ws", () => {
    assert.equal(DuplexioWebSocket.createWebSocketStream, createWebSocketStream);
    assert.equal(typeof wsModule.createWebSocketStream, "function");
  });
});
