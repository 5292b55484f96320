/**
 * What a session does through its server: the server's `flush` and `drain` events, the open
 * packet's `upgrades` (from the server's `upgrades()`, a subclass's override included), the
 * server's options as they are when used, and each transport's `write`, the one method the
 * session writes single packets with.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  type EnginePacketEvent,
  EngineServer,
  type EngineSocket,
  type TransportName,
} from "../../src/engine/index.js";
import { EnginePacketType } from "../../src/protocol/engine/index.js";
import {
  once,
  packets,
  poll,
  pollingHandshake,
  startServer,
  type TestServer,
  until,
} from "./helpers.js";

describe("engine session and its server", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 60_000 });
  });
  after(() => server.close());

  it("tells the server's flush and drain listeners of each session's flush", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const { sid } = await pollingHandshake(server.port);
    const [socket] = await connected;
    const flushed: [EngineSocket, EnginePacketEvent[]][] = [];
    const drained: EngineSocket[] = [];
    const onFlush = (s: EngineSocket, events: EnginePacketEvent[]) => flushed.push([s, events]);
    const onDrain = (s: EngineSocket) => drained.push(s);
    server.engine.on("flush", onFlush);
    server.engine.on("drain", onDrain);
    try {
      const answer = poll(server.port, sid);
      await until(() => socket.transport.writable, 5000, "the poll to be pending");
      socket.send("one");
      socket.send("two", { compress: false });
      assert.deepEqual(packets((await answer).text), ["4one", "4two"]);
      assert.equal(flushed.length, 1);
      assert.equal(flushed[0][0], socket);
      assert.deepEqual(flushed[0][1], [
        { type: "message", data: "one", options: { compress: true } },
        { type: "message", data: "two", options: { compress: false } },
      ]);
      assert.deepEqual(drained, [socket]);
    } finally {
      server.engine.off("flush", onFlush);
      server.engine.off("drain", onDrain);
      socket.close();
    }
  });

  it("forgets a session once it closes, before its close listeners run", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    await pollingHandshake(server.port);
    const [socket] = await connected;
    assert.equal(server.engine.clients.get(socket.id), socket);
    let knownAtClose: boolean | undefined;
    socket.once("close", () => {
      knownAtClose = server.engine.clients.has(socket.id);
    });
    socket.close(true);
    await until(() => knownAtClose !== undefined, 5000, "the close");
    assert.equal(knownAtClose, false);
  });

  it("reads the server's options when it uses them", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const previous = server.engine.opts.initialPacket;
    server.engine.opts.initialPacket = "welcome";
    try {
      const { response } = await pollingHandshake(server.port);
      assert.equal(packets(response.text)[1], "4welcome");
    } finally {
      server.engine.opts.initialPacket = previous;
    }
    const [socket] = await connected;
    socket.close(true);
  });

  it("offers the upgrades of the server's upgrades(), a subclass's override included", async () => {
    class NoUpgrades extends EngineServer {
      override upgrades(_transport: TransportName): string[] {
        return [];
      }
    }
    const http = createServer();
    const engine = new NoUpgrades({ pingInterval: 60_000 });
    engine.attach(http);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    try {
      const { open } = await pollingHandshake(port);
      assert.deepEqual(open.upgrades, []);
      const plain = await pollingHandshake(server.port);
      assert.deepEqual(plain.open.upgrades, ["websocket"]);
    } finally {
      engine.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});

describe("engine transports' write", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 60_000 });
  });
  after(() => server.close());

  it("polling: answers the pending GET with the one packet, text or UTF-8 bytes", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const { sid } = await pollingHandshake(server.port);
    const [socket] = await connected;
    const transport = socket.transport;
    try {
      let answer = poll(server.port, sid);
      await until(() => transport.writable, 5000, "the poll to be pending");
      let written: Error | undefined | null = null;
      transport.write(EnginePacketType.Message, "hi", null, false, (error) => {
        written = error;
      });
      assert.equal((await answer).text, "4hi");
      await until(() => written !== null, 5000, "the write callback");
      assert.equal(written, undefined);

      answer = poll(server.port, sid);
      await until(() => transport.writable, 5000, "the poll to be pending");
      // The first byte is room for the packet type.
      transport.writeUtf8(Buffer.from(" h€llo"), false);
      assert.equal((await answer).text, "4h€llo");
    } finally {
      socket.close(true);
    }
  });

  it("websocket: writes each packet as one frame, the type written into the bytes' room", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`);
    const frames: string[] = [];
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      frames.push(isBinary ? `binary ${[...data].join(",")}` : data.toString());
    });
    await once(ws, "open");
    const [socket] = await connected;
    try {
      const transport = socket.transport;
      transport.write(EnginePacketType.Message, "hi", null, false, undefined);
      transport.write(EnginePacketType.Message, new Uint8Array([1, 2]), null, false, undefined);
      const bytes = Buffer.from(" h€llo");
      transport.writeUtf8(bytes, false);
      await until(() => frames.length === 4, 5000, "the frames");
      assert.match(frames[0], /^0\{/);
      assert.deepEqual(frames.slice(1), ["4hi", "binary 1,2", "4h€llo"]);
      assert.equal(bytes.toString(), "4h€llo", "sent as they are, type in the first byte");
    } finally {
      ws.terminate();
    }
  });
});
