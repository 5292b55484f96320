/**
 * PreparedEngineMessage: encoded once, written to sessions on every transport and revision.
 */
import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { type EngineSocket, PreparedEngineMessage } from "../../src/engine/index.js";
import {
  once,
  openClient,
  poll,
  pollingHandshake,
  startServer,
  type TestServer,
  until,
} from "./helpers.js";

describe("PreparedEngineMessage", () => {
  it("builds each wire form once and reuses it", () => {
    const text = new PreparedEngineMessage("hi");
    assert.equal(text.websocketFrame(4, true), text.websocketFrame(4, false));
    assert.equal(text.websocketFrame(4, true), text.websocketFrame(3, true));
    assert.deepEqual([...text.websocketFrame(4, true).frame], [0x81, 3, 0x34, 0x68, 0x69]);
    assert.equal(text.pollingText(4), "4hi");
    assert.equal(text.pollingText(3), "4hi");

    const binary = new PreparedEngineMessage(new Uint8Array([1, 2, 3]));
    assert.equal(binary.binary, true);
    assert.equal(binary.size, 3);
    const frame = binary.websocketFrame(4, true);
    assert.equal(frame, binary.websocketFrame(4, true));
    assert.deepEqual([...frame.frame], [0x82, 3, 1, 2, 3]);
    assert.deepEqual([...binary.websocketFrame(3, true).frame], [0x82, 4, 4, 1, 2, 3]);
    assert.deepEqual(Buffer.from(binary.websocketFrame(4, false).payload).toString(), "bAQID");
    assert.deepEqual(Buffer.from(binary.websocketFrame(3, false).payload).toString(), "b4AQID");
    assert.equal(binary.pollingText(4), "bAQID");
    assert.equal(binary.pollingText(3), "b4AQID");
  });

  it("accepts ArrayBuffers and views without copying", () => {
    const store = new Uint8Array([9, 8, 7, 6]);
    const view = new DataView(store.buffer, 1, 2);
    const message = new PreparedEngineMessage(view);
    assert.equal((message.data as Uint8Array).buffer, store.buffer);
    assert.deepEqual([...(message.data as Uint8Array)], [8, 7]);
  });
});

describe("EngineSocket.sendPrepared", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ allowEIO3: true, pingInterval: 10_000 });
  });
  after(() => server.close());

  it("writes the same message to WebSocket, polling and revision 3 sessions", async () => {
    const sessions: EngineSocket[] = [];
    server.engine.on("connection", (socket) => sessions.push(socket));

    const client = await openClient(server.port, { transports: ["websocket"] });
    const clientGot: unknown[] = [];
    client.on("message", (data) => clientGot.push(data));

    const { sid: pollingSid } = await pollingHandshake(server.port);
    const { sid: v3Sid } = await pollingHandshake(server.port, "EIO=3&transport=polling&b64=1");

    const raw = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=3&transport=websocket`);
    const rawGot: (string | number[])[] = [];
    raw.on("message", (data: Buffer, isBinary: boolean) =>
      rawGot.push(isBinary ? [...data] : data.toString()),
    );
    await once(raw, "open");
    await until(() => sessions.length === 4, 2000, "four sessions");

    const text = new PreparedEngineMessage("news");
    const binary = new PreparedEngineMessage(Buffer.from([1, 2]));
    let written = 0;
    for (const socket of sessions) {
      socket.sendPrepared(text, () => written++);
      socket.sendPrepared(binary, { compress: false });
    }

    await until(() => clientGot.length === 2, 2000, "WebSocket client");
    assert.equal(clientGot[0], "news");
    assert.deepEqual([...new Uint8Array(clientGot[1] as ArrayBuffer)], [1, 2]);
    assert.equal((await poll(server.port, pollingSid)).text, "4news\x1ebAQI=");
    assert.equal(
      (await poll(server.port, v3Sid, "EIO=3&transport=polling&b64=1")).text,
      "5:4news6:b4AQI=",
    );
    await until(() => rawGot.length === 3, 2000, "revision 3 WebSocket");
    assert.deepEqual(rawGot.slice(1), ["4news", [4, 1, 2]]);
    await until(() => written === 4, 2000, "send callbacks");

    const clientClosed = once(client as unknown as EventEmitter, "close");
    client.close();
    raw.close();
    await clientClosed;
  });

  it("fails the callback of a prepared message sent to a closed session", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    await pollingHandshake(server.port);
    const [socket] = await connected;
    socket.close(true);
    const error = await new Promise<Error | undefined>((resolve) =>
      socket.sendPrepared(new PreparedEngineMessage("late"), resolve),
    );
    assert.ok(error instanceof Error);
  });
});
