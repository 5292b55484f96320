/**
 * Malformed and hostile input: answered or closed, never a crash, and the server keeps serving.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { EngineSocket } from "../../src/engine/index.js";
import {
  httpRequest,
  once,
  pollingHandshake,
  post,
  startServer,
  type TestServer,
} from "./helpers.js";

describe("engine under hostile input", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ maxHttpBufferSize: 2000, pingInterval: 10_000 });
  });
  after(() => server.close());

  async function stillServes(): Promise<void> {
    const { open } = await pollingHandshake(server.port);
    assert.ok(open.sid);
  }

  it("answers malformed query strings and odd methods with JSON errors", async () => {
    const paths = [
      "/engine.io/?EIO=4&transport=%E0%A4%A&sid=%",
      "/engine.io/?transport=polling&transport=websocket&EIO=4&EIO=3&sid=",
      "/engine.io/?EIO=4&transport=polling&sid=__proto__",
      "/engine.io/?EIO=4&transport=polling&sid=constructor",
      "/engine.io/?EIO=4&transport=__proto__",
      "/engine.io/?&&&==&",
      "/engine.io/",
    ];
    for (const path of paths) {
      for (const method of ["GET", "POST", "PUT", "DELETE", "OPTIONS"]) {
        const response = await httpRequest(server.port, path, {
          method,
          body: method === "GET" ? undefined : "x",
        });
        assert.ok(
          response.status === 200 || response.status === 400,
          `${method} ${path}: ${response.status}`,
        );
        if (response.status === 400) assert.equal(typeof JSON.parse(response.text).code, "number");
      }
    }
    await stillServes();
  });

  it("closes sessions sending malformed payloads with parse error", async () => {
    for (const body of ["", "\x1e", "4ok\x1e", "b!!!", "bA", "7", "x", "\x1e\x1e4"]) {
      const connected = once<[EngineSocket]>(server.engine, "connection");
      const { sid } = await pollingHandshake(server.port);
      const [socket] = await connected;
      const closed = once<[string]>(socket, "close");
      const response = await post(server.port, sid, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal((await closed)[0], "parse error");
    }
    await stillServes();
  });

  it("closes WebSocket sessions sending malformed packets with parse error", async () => {
    for (const message of ["", "9", "b%%%", "x"]) {
      const connected = once<[EngineSocket]>(server.engine, "connection");
      const ws = new WebSocket(
        `ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`,
      );
      ws.on("error", () => {});
      const [socket] = await connected;
      await once(ws, "open");
      const closed = once<[string]>(socket, "close");
      ws.send(message);
      assert.equal((await closed)[0], "parse error", JSON.stringify(message));
      ws.terminate();
    }
    await stillServes();
  });

  it("closes WebSocket sessions whose message exceeds maxHttpBufferSize", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`);
    ws.on("error", () => {});
    const [socket] = await connected;
    await once(ws, "open");
    const closed = once<[string]>(socket, "close");
    ws.send(`4${"x".repeat(3000)}`);
    const [reason] = await closed;
    assert.ok(reason === "transport error" || reason === "transport close", reason);
    const [code] = await once<[number]>(ws, "close");
    assert.equal(code, 1009);
  });

  it("refuses a POST announcing a body over the limit without reading it", async () => {
    const { sid } = await pollingHandshake(server.port);
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write(
      `POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
        "Content-Type: text/plain\r\nContent-Length: 999999999\r\n\r\n4abc",
    );
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    await once(socket, "close", 3000);
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 413 /);
    assert.ok(!server.engine.clients.has(sid));
  });

  it("survives clients vanishing mid-poll and mid-POST", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const { sid } = await pollingHandshake(server.port);
    const [session] = await connected;
    const closed = once<[string]>(session, "close");
    const socket = connect(server.port, "127.0.0.1");
    socket.write(`GET /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    assert.equal((await closed)[0], "transport error");

    const second = once<[EngineSocket]>(server.engine, "connection");
    const other = await pollingHandshake(server.port);
    const [session2] = await second;
    const closed2 = once<[string]>(session2, "close");
    const half = connect(server.port, "127.0.0.1");
    half.write(
      `POST /engine.io/?EIO=4&transport=polling&sid=${other.sid} HTTP/1.1\r\nHost: x\r\n` +
        "Content-Length: 100\r\n\r\n4abc",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    half.destroy();
    assert.equal((await closed2)[0], "transport error");
    await stillServes();
  });

  it("answers garbage upgrade requests on the engine path with 400 and keeps serving", async () => {
    for (const query of [
      "EIO=4&transport=tobi",
      "EIO=9&transport=websocket",
      "transport=websocket",
    ]) {
      const socket = connect(server.port, "127.0.0.1");
      socket.on("error", () => {});
      socket.write(
        `GET /engine.io/?${query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      await once(socket, "close", 3000);
      assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 400 Bad Request/);
    }
    // A broken WebSocket handshake (no key) is refused by the WebSocket layer.
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write(
      "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    await once(socket, "close", 3000);
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 400 /);
    await stillServes();
  });
});
