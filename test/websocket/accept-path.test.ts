/**
 * The accept path of `new WebSocketServer({ port })` (src/websocket/accept-path.ts): request
 * heads read before Node's HTTP server, upgrades answered directly, everything else handed to
 * Node with the bytes already read; the same for the servers the Engine.IO and Socket.IO layers
 * create (`new Server(port)`). Real sockets; the peers are raw TCP, ws's client and
 * socket.io-client.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { type Server as HttpServer, IncomingMessage } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { describe, it } from "node:test";
import { io as ioc } from "socket.io-client";
import { WebSocket as WsClient } from "ws";
import { Server } from "../../src/index.js";
import { WebSocketServer } from "../../src/websocket/index.js";
import {
  acceptFor,
  closeWss,
  delay,
  rawExchange,
  roundTrip,
  upgradeRequest,
  withTimeout,
  wssPort,
} from "./server-helpers.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Writes `parts` one after the other (a pause between them) and collects the answer text. */
function exchangeInParts(port: number, parts: (string | Buffer)[], ms = 3000): Promise<string> {
  const socket = connect({ host: "127.0.0.1", port });
  let received = "";
  return withTimeout(
    new Promise<string>((resolve) => {
      socket.on("error", () => {});
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString("latin1");
      });
      socket.on("close", () => resolve(received));
      socket.on("connect", async () => {
        for (const part of parts) {
          socket.write(part);
          await delay(20);
        }
        // The server closes refused and upgraded-then-closed connections; plain answers stay
        // open (keep-alive), so stop listening once they are in.
        await delay(200);
        socket.destroy();
      });
    }),
    ms,
    "exchange",
  );
}

describe("accept path of the server's own HTTP server", () => {
  it("gives the connection listener a real IncomingMessage with Node's fields", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    const seen = new Promise<IncomingMessage>((resolve) =>
      wss.once("connection", (ws, request) => {
        ws.on("message", (data) => ws.send(data));
        resolve(request);
      }),
    );
    const client = new WsClient(`ws://127.0.0.1:${port}/chat?room=1`, ["p1"], {
      headers: { "X-Twice": ["a", "b"] },
    });
    await new Promise((resolve) => client.once("open", resolve));
    const request = await seen;
    assert.ok(request instanceof IncomingMessage);
    assert.equal(request.method, "GET");
    assert.equal(request.url, "/chat?room=1");
    assert.equal(request.httpVersion, "1.1");
    assert.equal(request.httpVersionMajor, 1);
    assert.equal(request.httpVersionMinor, 1);
    assert.equal(request.headers.host, `127.0.0.1:${port}`);
    assert.equal(request.headers["sec-websocket-protocol"], "p1");
    assert.equal(request.headers["x-twice"], "a, b");
    assert.ok(request.rawHeaders.includes("X-Twice"));
    assert.equal(request.rawHeaders.length % 2, 0);
    assert.equal(typeof request.socket.remoteAddress, "string");
    assert.equal(await roundTrip(client, "hello"), "hello");
    client.close();
    await closeWss(wss);
  });

  it("upgrades a head split in many chunks, with frames right behind it", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    wss.on("connection", (ws) => ws.on("message", (data) => ws.send(`echo:${data}`)));
    const head = upgradeRequest(port, { headers: { "sec-websocket-key": KEY } });
    // A masked text frame "hi" (mask 0): sent in the same chunk as the end of the head.
    const frame = Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]);
    const parts: (string | Buffer)[] = [];
    for (let i = 0; i < head.length - 10; i += 7) parts.push(head.slice(i, i + 7));
    const rest = head.slice(parts.length * 7);
    parts.push(Buffer.concat([Buffer.from(rest, "latin1"), frame]));
    const text = await exchangeInParts(port, parts);
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.ok(text.includes(`Sec-WebSocket-Accept: ${acceptFor(KEY)}`));
    assert.ok(text.endsWith("\x81\x07echo:hi"), JSON.stringify(text));
    await closeWss(wss);
  });

  it("hands plain requests to Node: 426, keep-alive, pipelined requests answered in order", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    const plain = await rawExchange(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.upgrade, "websocket");
    assert.equal(plain.headers.connection, "keep-alive");
    const two = await exchangeInParts(port, [
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ]);
    assert.equal(two.match(/HTTP\/1\.1 426/g)?.length, 2);
    // A keep-alive connection may still upgrade on its second request (Node's upgrade event).
    const then = await exchangeInParts(port, [
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      upgradeRequest(port, { headers: { "sec-websocket-key": KEY } }),
    ]);
    assert.match(then, /426 Upgrade Required[\s\S]*101 Switching Protocols/);
    await closeWss(wss);
  });

  it("refuses malformed, oversized and unsupported heads, as Node would", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    const cases: [string, number][] = [
      ["GET / HTTP/1.1\nHost: a\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nX: a\x00\r\n\r\n", 400],
      ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
      [`GET / HTTP/1.1\r\nX: ${"a".repeat(17_000)}\r\n\r\n`, 431],
      [`GET / HTTP/1.1\r\n${"X: a\r\n".repeat(300)}\r\n`, 431],
    ];
    for (const [head, status] of cases) {
      const response = await rawExchange(port, Buffer.from(head, "latin1"));
      assert.equal(response.status, status, JSON.stringify(head.slice(0, 40)));
    }
    // An upgrade nobody takes (path option) and a malformed upgrade keep their answers.
    const bad = await rawExchange(
      port,
      upgradeRequest(port, { headers: { "sec-websocket-version": "8" } }),
    );
    assert.equal(bad.status, 426);
    assert.equal(bad.headers["sec-websocket-version"], "13");
    await closeWss(wss);

    const onPath = new WebSocketServer({ port: 0, host: "127.0.0.1", path: "/ws" });
    const pathPort = await wssPort(onPath);
    const elsewhere = await rawExchange(pathPort, upgradeRequest(pathPort, { path: "/other" }));
    assert.equal(elsewhere.status, 400);
    await closeWss(onPath);
  });

  it("closing the server destroys connections still sending their head", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("GET / HTTP/1.1\r\nHo");
    await delay(50);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await closeWss(wss);
    await withTimeout(closed, 2000, "pending connection closed");
  });

  it("a peer that leaves mid-head costs nothing afterwards, and the server keeps serving", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    for (let i = 0; i < 20; i++) {
      const socket = connect({ host: "127.0.0.1", port });
      socket.on("error", () => {});
      socket.on("connect", () => socket.end("GET / HTTP/1.1\r\nHost: a\r\n"));
    }
    await delay(100);
    const client = new WsClient(`ws://127.0.0.1:${port}`);
    wss.on("connection", (ws) => ws.on("message", (data) => ws.send(data)));
    await new Promise((resolve) => client.once("open", resolve));
    assert.equal(await roundTrip(client, "still here"), "still here");
    client.close();
    await closeWss(wss);
  });
});

describe("accept path of the Engine.IO / Socket.IO servers' own HTTP server", () => {
  it("new Server(port): websocket and polling clients, socket.request from the head, plain 404", async () => {
    const io = new Server(0);
    const http = io.httpServer as HttpServer;
    if (!http.listening) await once(http, "listening");
    const port = (http.address() as AddressInfo).port;
    io.on("connection", (socket) => {
      socket.on("echo", (data: unknown, ack: (value: unknown) => void) =>
        ack([
          data,
          socket.request.headers["x-probe"],
          socket.request.url?.startsWith("/socket.io/"),
        ]),
      );
    });
    for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
      const client = ioc(`http://127.0.0.1:${port}`, {
        transports,
        extraHeaders: { "X-Probe": "p" },
        forceNew: true,
        reconnection: false,
      });
      const answer = await withTimeout(
        client.timeout(3000).emitWithAck("echo", transports.join("+")),
        5000,
        `echo over ${transports.join("+")}`,
      );
      assert.deepEqual(answer, [transports.join("+"), "p", true]);
      client.disconnect();
    }
    const plain = await rawExchange(
      port,
      "GET /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert.equal(plain.status, 404);
    // A connection that sent nothing yet is idle: close() ends it, as Node's would (one in the
    // middle of its head is not idle, for Node either: it gets until headersTimeout).
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("connect", resolve));
    await delay(50);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await withTimeout(io.close(), 2000, "io.close()");
    await withTimeout(closed, 2000, "pending connection closed");
  });
});
