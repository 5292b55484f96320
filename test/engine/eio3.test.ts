/**
 * Engine.IO protocol revision 3 (Socket.IO 2.x clients), behind `allowEIO3`: length-prefixed
 * payloads, binary framing for XHR2 clients and base64 for the others, client-initiated
 * heartbeat, type-prefixed binary WebSocket frames.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { EngineSocket } from "../../src/engine/index.js";
import { decodePayloadV3 } from "../../src/protocol/engine/v3-payload.js";
import {
  httpRequest,
  once,
  poll,
  pollingHandshake,
  post,
  startServer,
  type TestServer,
  until,
} from "./helpers.js";

const V3 = "EIO=3&transport=polling";

async function session(
  server: TestServer,
  query = V3,
): Promise<{ sid: string; socket: EngineSocket; text: string }> {
  const connected = once<[EngineSocket]>(server.engine, "connection");
  const { sid, response } = await pollingHandshake(server.port, query);
  const [socket] = await connected;
  return { sid, socket, text: response.text };
}

describe("engine revision 3, allowed", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ allowEIO3: true, pingInterval: 100, pingTimeout: 100 });
  });
  after(() => server.close());

  it("answers the handshake with a length-prefixed open packet", async () => {
    const { sid, socket, text } = await session(server);
    const open = `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":100,"pingTimeout":100,"maxPayload":1000000}`;
    assert.equal(text, `${open.length}:${open}`);
    assert.equal(socket.protocol, 3);
    socket.close(true);
  });

  it("frames text packets with their length in UTF-16 code units", async () => {
    const { sid, socket } = await session(server);
    socket.send("héllo 😀");
    socket.send("x");
    const { text, headers } = await poll(server.port, sid, V3);
    assert.equal(headers["content-type"], "text/plain; charset=UTF-8");
    assert.equal(text, "9:4héllo 😀2:4x");
    socket.close(true);
  });

  it("sends binary to XHR2 clients in binary framing, and as b4+base64 with b64=1", async () => {
    const binary = await session(server);
    binary.socket.send(Buffer.from([1, 2, 3]));
    binary.socket.send("hi");
    const response = await poll(server.port, binary.sid, V3);
    assert.equal(response.headers["content-type"], "application/octet-stream");
    assert.deepEqual(
      [...response.body],
      [0x01, 0x04, 0xff, 0x04, 0x01, 0x02, 0x03, 0x00, 0x03, 0xff, 0x34, 0x68, 0x69],
    );
    binary.socket.close(true);

    const base64 = await session(server, `${V3}&b64=1`);
    base64.socket.send(Buffer.from([1, 2, 3]));
    const text = await poll(server.port, base64.sid, `${V3}&b64=1`);
    assert.equal(text.headers["content-type"], "text/plain; charset=UTF-8");
    assert.equal(text.text, "6:b4AQID");
    base64.socket.close(true);
  });

  it("decodes text-framed and binary-framed POST bodies", async () => {
    const { sid, socket } = await session(server);
    const got: (string | Buffer)[] = [];
    socket.on("message", (data) => got.push(data));
    assert.equal((await post(server.port, sid, "6:4hello10:b4AQIDBA==", V3)).text, "ok");
    const framed = new Uint8Array([
      0x01, 0x03, 0xff, 0x04, 0x09, 0x08, 0x00, 0x02, 0xff, 0x34, 0x21,
    ]);
    const response = await post(server.port, sid, framed, V3, {
      "Content-Type": "application/octet-stream",
    });
    assert.equal(response.text, "ok");
    assert.equal(got.length, 4);
    assert.equal(got[0], "hello");
    assert.deepEqual([...(got[1] as Buffer)], [1, 2, 3, 4]);
    assert.deepEqual([...(got[2] as Buffer)], [9, 8]);
    assert.equal(got[3], "!");
    socket.close(true);
  });

  it("answers client pings with pongs; the server itself never pings", async () => {
    const { sid, socket } = await session(server);
    let heartbeats = 0;
    socket.on("heartbeat", () => heartbeats++);
    await post(server.port, sid, "1:2", V3);
    assert.equal((await poll(server.port, sid, V3)).text, "1:3");
    await post(server.port, sid, "6:2probe", V3);
    assert.equal((await poll(server.port, sid, V3)).text, "6:3probe");
    assert.equal(heartbeats, 2);
    socket.close(true);
  });

  it("closes with ping timeout when the client stops pinging for pingInterval + pingTimeout", async () => {
    const { sid, socket } = await session(server);
    const closed = once<[string]>(socket, "close", 3000);
    // Pings keep it alive for a while...
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 80));
      await post(server.port, sid, "1:2", V3);
    }
    assert.equal(socket.readyState, "open");
    // ...then silence.
    assert.equal((await closed)[0], "ping timeout");
  });

  it("closes a revision 3 client that answers pings (wrong heartbeat direction)", async () => {
    const { sid, socket } = await session(server);
    const closed = once<[string, Error]>(socket, "close");
    await post(server.port, sid, "1:3", V3);
    const [reason, error] = await closed;
    assert.equal(reason, "transport error");
    assert.equal(error.message, "invalid heartbeat direction");
  });

  it("speaks revision 3 over WebSocket: type-prefixed binary frames, client pings", async () => {
    const connected = once<[EngineSocket]>(server.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=3&transport=websocket`);
    const messages: (string | number[])[] = [];
    ws.on("message", (data: Buffer, isBinary: boolean) =>
      messages.push(isBinary ? [...data] : data.toString()),
    );
    const [socket] = await connected;
    await once(ws, "open");
    assert.equal(socket.protocol, 3);
    const got = once<[Buffer]>(socket, "message");
    ws.send(Buffer.from([4, 7, 7]));
    assert.deepEqual([...(await got)[0]], [7, 7]);
    ws.send("2");
    await until(() => messages.length === 2, 2000, "pong");
    socket.send(Buffer.from([5, 6]));
    socket.send("t");
    await until(() => messages.length === 4, 2000, "messages");
    assert.ok(String(messages[0]).startsWith('0{"sid":'));
    assert.deepEqual(messages.slice(1), ["3", [4, 5, 6], "4t"]);
    ws.close();
  });

  it("upgrades a revision 3 polling session to WebSocket", async () => {
    const { sid, socket } = await session(server);
    const ws = new WebSocket(
      `ws://127.0.0.1:${server.port}/engine.io/?EIO=3&transport=websocket&sid=${sid}`,
    );
    const messages: string[] = [];
    ws.on("message", (data: Buffer) => messages.push(data.toString()));
    await once(ws, "open");
    ws.send("2probe");
    await until(() => messages.length === 1, 2000, "3probe");
    assert.deepEqual(messages, ["3probe"]);
    const upgraded = once(socket, "upgrade");
    ws.send("5");
    await upgraded;
    socket.send("after");
    await until(() => messages.length === 2, 2000, "after");
    assert.equal(messages[1], "4after");
    ws.close();
  });

  it("round-trips the server's payload through the revision 3 decoder", async () => {
    const { sid, socket } = await session(server, `${V3}&b64=1`);
    socket.send("a");
    socket.send(Buffer.from("binary"));
    const { text } = await poll(server.port, sid, `${V3}&b64=1`);
    const decoded = decodePayloadV3(text);
    assert.ok(decoded.ok);
    assert.deepEqual(
      decoded.packets.map((p) =>
        typeof p.data === "string" ? p.data : Buffer.from(p.data!).toString(),
      ),
      ["a", "binary"],
    );
    socket.close(true);
  });
});

describe("engine revision 3, not allowed (default)", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it("refuses polling and WebSocket handshakes with code 5", async () => {
    const response = await httpRequest(server.port, `/engine.io/?${V3}`);
    assert.equal(response.status, 400);
    assert.deepEqual(JSON.parse(response.text), {
      code: 5,
      message: "Unsupported protocol version",
    });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/engine.io/?EIO=3&transport=websocket`);
    ws.on("error", () => {});
    const [, refused] = await once<[unknown, { statusCode: number }]>(ws, "unexpected-response");
    assert.equal(refused.statusCode, 400);
    ws.terminate();
  });
});
