/**
 * Bounded write buffers: a client that stops reading is closed with "write buffer full" instead
 * of making the server's memory grow; a client that reads is not.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { EngineSocket } from "../../src/engine/index.js";
import {
  once,
  openClient,
  pollingHandshake,
  startServer,
  type TestServer,
  withTimeout,
} from "./helpers.js";

const LIMIT = 1024 * 1024;
const CHUNK = "z".repeat(64 * 1024);

describe("engine write buffer limit", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ maxWriteBufferSize: LIMIT, pingInterval: 60_000 });
  });
  after(() => server.close());

  it("closes a polling client that stops polling once its queue passes the limit", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    await pollingHandshake(server.port);
    const [socket] = await connected;
    const closed = once<[string]>(socket, "close");
    let sent = 0;
    let failed = 0;
    // Bounded: 40 chunks are 2.5 times the limit.
    while (sent < 40 && socket.readyState === "open") {
      socket.send(CHUNK, (error) => {
        if (error) failed++;
      });
      sent++;
    }
    assert.equal((await closed)[0], "write buffer full");
    assert.ok(sent <= Math.ceil(LIMIT / CHUNK.length) + 1, `closed after ${sent} chunks`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(failed, sent);
  });

  it("closes a WebSocket client that stops reading", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`);
    await once(ws, "open");
    const [socket] = await connected;
    // The client reads no more: kernel buffers fill, then the server's.
    ws.pause();
    const closed = once<[string]>(socket, "close", 20_000);
    let sent = 0;
    // Bounded at 600 chunks (38 MiB): far above what the loopback's buffers absorb.
    await new Promise<void>((resolve) => {
      const step = (): void => {
        if (socket.readyState !== "open" || sent >= 600) {
          resolve();
          return;
        }
        socket.send(CHUNK);
        sent++;
        setImmediate(step);
      };
      step();
    });
    assert.equal((await closed)[0], "write buffer full");
    assert.ok(sent < 600, `still open after ${sent} chunks`);
    ws.terminate();
  });

  it("leaves a client that keeps reading open, however much goes through", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const client = await openClient(server.port, { transports: ["websocket"] });
    const [socket] = await connected;
    const total = 160; // 10 MiB, ten times the limit
    let received = 0;
    const allReceived = new Promise<void>((resolve) =>
      client.on("message", () => {
        if (++received === total) resolve();
      }),
    );
    // A producer that respects backpressure: waits for a write every eight messages.
    for (let i = 0; i < total; i += 8) {
      const written: Promise<unknown>[] = [];
      for (let j = i; j < i + 8; j++) {
        written.push(new Promise((resolve) => socket.send(CHUNK, resolve)));
      }
      await withTimeout(Promise.all(written), 5000, "writes");
    }
    await withTimeout(allReceived, 10_000, "receiving");
    assert.equal(socket.readyState, "open");
    client.close();
  });
});
