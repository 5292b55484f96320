/**
 * Regressions found by running the public Engine.IO v4 protocol compliance suite: a second
 * WebSocket for a session that already has one is accepted and then closed (the protocol's rule),
 * and the first WebSocket keeps carrying the session.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { EngineSocket } from "../../src/engine/index.js";
import { once, pollingHandshake, startServer, type TestServer, until } from "./helpers.js";

/** Opens a raw WebSocket on `query` and records its text messages. */
async function openWebSocket(
  port: number,
  query: string,
): Promise<{ ws: WebSocket; messages: string[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/engine.io/?${query}`);
  const messages: string[] = [];
  ws.on("message", (data: Buffer) => messages.push(data.toString()));
  await once(ws, "open");
  return { ws, messages };
}

describe("engine protocol suite regressions", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ pingInterval: 10_000, upgradeTimeout: 5000 });
  });
  after(() => server.close());

  it("closes an extra WebSocket of an upgraded session and keeps the first one", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const { sid } = await pollingHandshake(server.port);
    const [socket] = await connected;
    const query = `EIO=4&transport=websocket&sid=${sid}`;

    const first = await openWebSocket(server.port, query);
    first.ws.send("2probe");
    await until(() => first.messages.length === 1, 2000, "3probe");
    const upgraded = once(socket, "upgrade");
    first.ws.send("5");
    await upgraded;

    const extra = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?${query}`);
    const errors: Error[] = [];
    extra.on("error", (error) => errors.push(error));
    const received: string[] = [];
    extra.on("message", (data: Buffer) => received.push(data.toString()));
    await once(extra, "close", 3000);
    // Closed after the handshake, not refused with an HTTP error.
    assert.deepEqual(errors, []);
    assert.deepEqual(received, []);

    socket.send("still here");
    await until(() => first.messages.length === 2, 2000, "a message on the first WebSocket");
    assert.deepEqual(first.messages, ["3probe", "4still here"]);
    assert.equal(socket.transport.name, "websocket");
    assert.equal(socket.readyState, "open");
    first.ws.close();
  });

  it("still refuses a WebSocket for an unknown session with HTTP 400", async () => {
    const ws = new WebSocket(
      `ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket&sid=nope`,
    );
    ws.on("error", () => {
      // Expected: the handshake is refused.
    });
    const [, response] = await once<[unknown, { statusCode: number }]>(ws, "unexpected-response");
    assert.equal(response.statusCode, 400);
    ws.terminate();
  });
});
