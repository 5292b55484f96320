/**
 * The rate row's load generator (bench/lib/connection-cycle.mjs): it completes full cycles
 * against real servers (ws, socket.io and ours), counts none that failed, reports a wrong answer,
 * and a connection the server never closes ends through its watchdog, so `stop()` always
 * settles. Its figures back the connection-rate claims, so what it counts is tested here.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { type AddressInfo, createServer, type Server as NetServer } from "node:net";
import { describe, test } from "node:test";
import { Server as SocketIoServer } from "socket.io";
import { WebSocketServer as WsServer } from "ws";
import { Server } from "../../src/server/index.js";
import { WebSocketServer } from "../../src/websocket/server.js";

interface Cycles {
  completed: number;
  stop(): Promise<void>;
}
type CyclesConstructor = new (options: {
  host: string;
  port: number;
  protocol: "websocket" | "socketio";
  concurrency: number;
  cycleTimeoutMs: number;
  onError: (message: string) => void;
}) => Cycles;

// A JavaScript module of the bench (not type-checked): imported by a computed path.
const modulePath = "../../bench/lib/connection-cycle.mjs";
const { ConnectionCycles } = (await import(modulePath)) as { ConnectionCycles: CyclesConstructor };

async function runCycles(
  port: number,
  protocol: "websocket" | "socketio",
  ms: number,
  cycleTimeoutMs = 5_000,
): Promise<{ completed: number; errors: string[] }> {
  const errors: string[] = [];
  const cycles = new ConnectionCycles({
    host: "127.0.0.1",
    port,
    protocol,
    concurrency: 2,
    cycleTimeoutMs,
    onError: (message) => errors.push(message),
  });
  await new Promise((resolve) => setTimeout(resolve, ms));
  await cycles.stop();
  return { completed: cycles.completed, errors };
}

function portOf(server: { address(): AddressInfo | string | null }): number {
  return (server.address() as AddressInfo).port;
}

/** A TCP server answering every upgrade request with `answer(key)`, never closing first. */
async function handMadeServer(answer: (key: string) => string): Promise<NetServer> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      const key = /Sec-WebSocket-Key: (\S+)/.exec(chunk.toString("latin1"))?.[1];
      if (key !== undefined) socket.write(answer(key));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

function acceptOf(key: string): string {
  return createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
}

describe("the rate row's connection loops", () => {
  test("complete cycles against ws and duplexio WebSocket servers, without errors", async () => {
    const servers = [
      ["ws", () => new WsServer({ host: "127.0.0.1", port: 0 })],
      ["duplexio", () => new WebSocketServer({ host: "127.0.0.1", port: 0 })],
    ] as const;
    for (const [name, start] of servers) {
      const server = start();
      await once(server, "listening");
      const { completed, errors } = await runCycles(portOf(server), "websocket", 300);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      assert.deepEqual(errors, [], name);
      assert.ok(completed > 10, `${name}: ${completed} cycles`);
    }
  });

  test("complete Socket.IO cycles (open packet, CONNECT and its answer) against socket.io and duplexio", async () => {
    const servers = [
      ["socket.io", (http: HttpServer) => new SocketIoServer(http, { transports: ["websocket"] })],
      ["duplexio", (http: HttpServer) => new Server(http, { transports: ["websocket"] })],
    ] as const;
    for (const [name, attach] of servers) {
      const http = createHttpServer();
      const io = attach(http);
      let connections = 0;
      io.on("connection", () => connections++);
      http.listen(0, "127.0.0.1");
      await once(http, "listening");
      const { completed, errors } = await runCycles(portOf(http), "socketio", 300);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      assert.deepEqual(errors, [], name);
      assert.ok(completed > 10, `${name}: ${completed} cycles`);
      // Every counted cycle reached the application's connection handler.
      assert.ok(connections >= completed, `${connections} connections, ${completed} cycles`);
    }
  });

  test("a wrong Sec-WebSocket-Accept or status is reported and never counted", async () => {
    const answers = [
      (key: string) =>
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x${acceptOf(key)}\r\n\r\n`,
      () => "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    ];
    const expected = [/bad Sec-WebSocket-Accept/, /unexpected response: HTTP\/1.1 400/];
    for (const [i, answer] of answers.entries()) {
      const server = await handMadeServer(answer);
      const { completed, errors } = await runCycles(portOf(server), "websocket", 200);
      server.close();
      assert.equal(completed, 0);
      assert.equal(errors.length, 2, errors.join("; "));
      for (const error of errors) assert.match(error, expected[i] as RegExp);
    }
  });

  test("a connection the server never closes fails at the cycle timeout, and stop() settles", async () => {
    const server = await handMadeServer(
      (key) =>
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`,
    );
    const started = Date.now();
    const { completed, errors } = await runCycles(portOf(server), "websocket", 100, 1_000);
    const elapsed = Date.now() - started;
    server.close();
    assert.equal(completed, 0);
    assert.deepEqual(errors, [
      "connection cycle took over 1000 ms",
      "connection cycle took over 1000 ms",
    ]);
    assert.ok(elapsed >= 1_000 && elapsed < 5_000, `stopped after ${elapsed} ms`);
  });
});
