/**
 * The HTTP servers duplexio creates itself (`new Server(port)`, the engine's `listen(port)`) close
 * connections that never complete a request: silent ones, slowloris ones trickling their headers
 * (an upgrade request included); but not a long-polling GET waiting for data, nor an upgraded
 * WebSocket. A server the application passes in keeps its own settings.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket as TcpSocket } from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import WebSocket from "ws";
import { listen as engineListen } from "../../src/engine/index.js";
import { Server, type ServerOptions } from "../../src/index.js";
import { withTimeout } from "../helpers/timing.js";

/** `http.Server.listen(port)` binds every interface; tests bind 127.0.0.1 only. */
function bindLoopbackOnly(): () => void {
  const original = HttpServer.prototype.listen;
  HttpServer.prototype.listen = function (this: HttpServer, ...args: unknown[]) {
    if (typeof args[0] === "number" && args.length === 1) args.push("127.0.0.1");
    return (original as (...a: unknown[]) => HttpServer).apply(this, args);
  } as typeof original;
  return () => {
    HttpServer.prototype.listen = original;
  };
}

let restoreListen: () => void;
before(() => {
  restoreListen = bindLoopbackOnly();
});
after(() => restoreListen());

const servers: Server[] = [];
const sockets: TcpSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((io) => io.close({ timeout: 500 })));
});

/** `new Server(0, options)`, once listening: the server and its port. */
async function ownServer(options: ServerOptions = {}): Promise<{ io: Server; port: number }> {
  const io = new Server(0, options);
  servers.push(io);
  const http = io.httpServer as HttpServer;
  if (!http.listening) await once(http, "listening");
  return { io, port: (http.address() as AddressInfo).port };
}

interface Cut {
  /** Milliseconds from the connection to its close by the server. */
  afterMs: number;
  /** What the server wrote (Node's 408 answer). */
  received: string;
}

/**
 * Opens a raw TCP connection that writes `text` one byte every `stepMs` (nothing at all when
 * empty); resolves when the server closes it, rejects after `limitMs`.
 */
function trickle(port: number, text: string, stepMs: number, limitMs: number): Promise<Cut> {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => {});
  const start = performance.now();
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
  });
  let i = 0;
  const timer =
    text.length === 0
      ? undefined
      : setInterval(() => {
          if (!socket.destroyed) socket.write(text[i++ % text.length]);
        }, stepMs);
  return withTimeout(
    new Promise<Cut>((resolve) => {
      socket.once("close", () => {
        clearInterval(timer);
        resolve({ afterMs: performance.now() - start, received });
      });
    }),
    limitMs,
    `the server closing a connection trickling ${JSON.stringify(text.slice(0, 30))}`,
  ).finally(() => clearInterval(timer));
}

const HEADER = `GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ${"p".repeat(200)}`;
const UPGRADE =
  "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" +
  `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nX-Padding: ${"p".repeat(200)}`;

describe("new Server(port): its own HTTP server's timeouts", () => {
  const SHORT = { headersTimeout: 500, requestTimeout: 1000 };

  it("closes a connection that sends nothing, and one trickling its headers or an upgrade request", async () => {
    const { port } = await ownServer({ httpServerTimeouts: SHORT });
    const [silent, headers, upgrade] = await Promise.all([
      trickle(port, "", 0, 5000),
      trickle(port, HEADER, 50, 5000),
      trickle(port, UPGRADE, 50, 5000),
    ]);
    for (const [what, cut] of Object.entries({ silent, headers, upgrade })) {
      assert.ok(cut.afterMs < 2000, `${what}: cut after ${cut.afterMs} ms`);
      assert.match(cut.received, /^(HTTP\/1\.1 408 |$)/, what);
    }
  });

  it("closes a request whose body trickles past requestTimeout", async () => {
    const { port } = await ownServer({ httpServerTimeouts: SHORT });
    const handshake = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    const sid = (JSON.parse((await handshake.text()).slice(1)) as { sid: string }).sid;
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    socket.on("error", () => {});
    socket.write(
      `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
        "Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n4",
    );
    const start = performance.now();
    const timer = setInterval(() => !socket.destroyed && socket.write("x"), 50);
    await withTimeout(
      new Promise((resolve) => socket.once("close", resolve)),
      5000,
      "the trickled body being cut",
    ).finally(() => clearInterval(timer));
    const ms = performance.now() - start;
    assert.ok(ms < 2500, `cut after ${ms} ms`);
  });

  it("leaves a long-polling GET waiting for data longer than the timeouts, and an idle WebSocket", async () => {
    const { port } = await ownServer({
      httpServerTimeouts: SHORT,
      pingInterval: 2000,
      pingTimeout: 5000,
    });
    const handshake = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    const sid = (JSON.parse((await handshake.text()).slice(1)) as { sid: string }).sid;
    const started = performance.now();
    // Pending until the server's first ping, 2 s later: twice requestTimeout.
    const poll = await fetch(
      `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling&sid=${sid}`,
    );
    assert.equal(poll.status, 200);
    assert.equal(await poll.text(), "2");
    assert.ok(performance.now() - started > 1500);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    ws.on("error", () => {});
    const messages: string[] = [];
    ws.on("message", (data) => messages.push(String(data)));
    await once(ws, "open");
    // Nothing sent for longer than both timeouts; the server's ping still comes, on the same socket.
    await withTimeout(
      new Promise<void>((resolve) => ws.on("message", (data) => String(data) === "2" && resolve())),
      5000,
      "the ping",
    );
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.terminate();
  });

  it("defaults: headers within 5 s, a request within 30 s, keep-alive 5 s; a silent connection goes in about 5 s", async () => {
    const { io, port } = await ownServer();
    const http = io.httpServer as HttpServer;
    assert.equal(http.headersTimeout, 5000);
    assert.equal(http.requestTimeout, 30_000);
    assert.equal(http.keepAliveTimeout, 5000);
    const cut = await trickle(port, "", 0, 10_000);
    assert.ok(cut.afterMs > 4500 && cut.afterMs < 7000, `cut after ${cut.afterMs} ms`);
  });

  it("the engine's listen(port) gets them too; invalid values are refused", async () => {
    const engine = engineListen(0, { httpServerTimeouts: { headersTimeout: 700 } });
    const http = engine.httpServer as HttpServer;
    try {
      if (!http.listening) await once(http, "listening");
      assert.equal(http.headersTimeout, 700);
      assert.equal(http.requestTimeout, 30_000);
    } finally {
      engine.close();
      http.close();
    }
    for (const bad of [
      { headersTimeout: -1 },
      { requestTimeout: 1.5 },
      { headersTimeout: 9000, requestTimeout: 8000 },
    ]) {
      assert.throws(
        () => new Server(0, { httpServerTimeouts: bad }),
        TypeError,
        JSON.stringify(bad),
      );
    }
  });

  it("an HTTP server the application passes keeps its own settings", async () => {
    const http = createServer();
    const io = new Server(http, {
      httpServerTimeouts: { headersTimeout: 100, requestTimeout: 200 },
    });
    assert.equal(http.headersTimeout, createServer().headersTimeout);
    await io.close({ timeout: 0 });
  });
});
