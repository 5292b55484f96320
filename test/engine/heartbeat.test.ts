/**
 * Heartbeat (revision 4): the server pings every pingInterval; a client that does not answer
 * within pingTimeout is closed with "ping timeout".
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { EngineSocket } from "../../src/engine/index.js";
import {
  once,
  poll,
  pollingHandshake,
  post,
  startServer,
  type TestServer,
  until,
} from "./helpers.js";

describe("engine heartbeat", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 60, pingTimeout: 80 });
  });
  after(() => server.close());

  it("pings a polling client after pingInterval and closes it after pingTimeout without pong", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const { sid } = await pollingHandshake(server.port);
    const [socket] = await connected;
    const closed = once<[string]>(socket, "close", 3000);
    const started = Date.now();
    assert.equal((await poll(server.port, sid)).text, "2");
    assert.deepEqual(await closed, ["ping timeout", undefined]);
    // Not before the ping plus its timeout (timer granularity aside).
    assert.ok(Date.now() - started >= 60, `closed after ${Date.now() - started} ms`);
    const gone = await poll(server.port, sid);
    assert.equal(gone.status, 400);
    assert.equal(JSON.parse(gone.text).code, 1);
  });

  it("keeps a polling client that answers every ping", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const { sid } = await pollingHandshake(server.port);
    const [socket] = await connected;
    let heartbeats = 0;
    socket.on("heartbeat", () => heartbeats++);
    for (let i = 0; i < 4; i++) {
      assert.equal((await poll(server.port, sid)).text, "2");
      assert.equal((await post(server.port, sid, "3")).text, "ok");
    }
    assert.equal(heartbeats, 4);
    assert.equal(socket.readyState, "open");
    socket.close(true);
  });

  it("pings a WebSocket client and closes it with ping timeout when it stays silent", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`);
    const messages: string[] = [];
    ws.on("message", (data: Buffer) => messages.push(data.toString()));
    const [socket] = await connected;
    const [reason] = await once<[string]>(socket, "close", 3000);
    assert.equal(reason, "ping timeout");
    assert.ok(messages[0].startsWith('0{"sid":'));
    assert.equal(messages[1], "2");
    await once(ws, "close", 3000);
  });

  it("keeps a WebSocket client that answers pings", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`);
    let pings = 0;
    ws.on("message", (data: Buffer) => {
      if (data.toString() === "2") {
        pings++;
        ws.send("3");
      }
    });
    const [socket] = await connected;
    await until(() => pings >= 5, 3000, "five pings");
    assert.equal(socket.readyState, "open");
    ws.close();
  });

  it("closes a revision 4 client that pings the server (wrong heartbeat direction)", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const { sid } = await pollingHandshake(server.port);
    const [socket] = await connected;
    const closed = once<[string, Error]>(socket, "close");
    await post(server.port, sid, "2");
    const [reason, error] = await closed;
    assert.equal(reason, "transport error");
    assert.equal(error.message, "invalid heartbeat direction");
  });
});
