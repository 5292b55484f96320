/**
 * Issue 9, finding 3: TCP connections that never complete a request (silent, or trickling an
 * upgrade request: slowloris) are cut by the HTTP servers this library creates itself
 * (`new WebSocketServer({ port })`, `duplexio echo`), while upgraded connections are not
 * concerned. Short timeouts through the options keep the tests fast; one test checks the
 * defaults in real time.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { startEchoServer } from "../../src/cli/echo-server.js";
import { WebSocketServer } from "../../src/websocket/index.js";
import { closeWss, maskedFrame, RawPeer, wssPort } from "./server-helpers.js";

/** A raw TCP client recording what it receives and when the server closed the connection. */
class Watcher {
  readonly socket: Socket;
  readonly opened = Date.now();
  received = "";
  closedAfter: Promise<number>;

  constructor(port: number) {
    this.socket = connect({ host: "127.0.0.1", port });
    this.socket.on("error", () => {});
    this.socket.on("data", (chunk: Buffer) => {
      this.received += chunk.toString("latin1");
    });
    this.closedAfter = new Promise((resolve) =>
      this.socket.once("close", () => resolve(Date.now() - this.opened)),
    );
  }

  /** Writes `text` one byte every `ms` until the connection closes. */
  trickle(text: string, ms: number): void {
    let index = 0;
    const timer = setInterval(() => {
      if (this.socket.destroyed || index >= text.length) {
        clearInterval(timer);
        return;
      }
      this.socket.write(text[index++]);
    }, ms);
  }
}

/** Waits for the close of `watcher`, at most `ms`, and returns after how long it came. */
function cutWithin(watcher: Watcher, ms: number): Promise<number> {
  return Promise.race([
    watcher.closedAfter,
    new Promise<number>((_, reject) =>
      setTimeout(() => {
        watcher.socket.destroy();
        reject(new Error(`still open after ${ms} ms`));
      }, ms),
    ),
  ]);
}

const UPGRADE_HEAD =
  "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
  `X-Padding: ${"p".repeat(500)}\r\n\r\n`;

describe("timeouts of the server's own HTTP server", () => {
  it("cuts a connection that sends nothing, and one that trickles its headers, with 408", async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      headersTimeout: 300,
      requestTimeout: 1000,
    });
    const port = await wssPort(wss);
    try {
      const silent = new Watcher(port);
      const slowloris = new Watcher(port);
      slowloris.trickle(UPGRADE_HEAD, 20);
      // Node checks every headersTimeout / 5 here (60 ms), so the cut comes at 300-360 ms.
      const [silentAfter, slowAfter] = await Promise.all([
        cutWithin(silent, 3000),
        cutWithin(slowloris, 3000),
      ]);
      assert.ok(silentAfter >= 250, `silent cut after ${silentAfter} ms`);
      assert.ok(slowAfter >= 250, `slowloris cut after ${slowAfter} ms`);
      assert.match(silent.received, /^HTTP\/1\.1 408 /);
      assert.match(slowloris.received, /^HTTP\/1\.1 408 /);
    } finally {
      await closeWss(wss);
    }
  });

  it("cuts a plain request whose body trickles after requestTimeout", async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      headersTimeout: 200,
      requestTimeout: 600,
    });
    const port = await wssPort(wss);
    try {
      const slowBody = new Watcher(port);
      slowBody.socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
      slowBody.trickle("b".repeat(1000), 20);
      const after = await cutWithin(slowBody, 3000);
      assert.ok(after >= 500, `cut after ${after} ms`);
    } finally {
      await closeWss(wss);
    }
  });

  it("leaves upgraded connections alone, however long they stay quiet", async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      headersTimeout: 100,
      requestTimeout: 200,
    });
    wss.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
    const port = await wssPort(wss);
    try {
      const peer = await RawPeer.upgrade(port);
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.equal(peer.ended, false);
      peer.socket.write(maskedFrame(0x1, "still here"));
      await peer.until(() => peer.frames.length > 0, "the echo");
      assert.equal(peer.frames[0].payload.toString(), "still here");
      peer.socket.destroy();
    } finally {
      await closeWss(wss);
    }
  });

  it("by default cuts a silent connection after 5 s (plus Node's 1 s check)", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    assert.equal(wss.options.headersTimeout, 5000);
    assert.equal(wss.options.requestTimeout, 10_000);
    const port = await wssPort(wss);
    try {
      // Before: Node's defaults (60 s, checked every 30 s) left it open for up to 90 s.
      const silent = new Watcher(port);
      const after = await cutWithin(silent, 9000);
      assert.ok(after >= 4500 && after <= 7500, `cut after ${after} ms`);
      assert.match(silent.received, /^HTTP\/1\.1 408 /);
    } finally {
      await closeWss(wss);
    }
  });

  it("`duplexio echo`'s HTTP server has the same settings", async () => {
    const echo = await startEchoServer({
      host: "127.0.0.1",
      port: 0,
      deflate: false,
      maxPayload: 1024,
    });
    try {
      assert.equal(echo.http.headersTimeout, 5000);
      assert.equal(echo.http.requestTimeout, 10_000);
    } finally {
      await echo.stop();
    }
  });

  it("rejects timeouts that cannot work", () => {
    for (const options of [
      { headersTimeout: -1 },
      { requestTimeout: 1.5 },
      { headersTimeout: 5000, requestTimeout: 1000 },
    ]) {
      assert.throws(
        () => new WebSocketServer({ noServer: true, ...options }),
        TypeError,
        JSON.stringify(options),
      );
    }
    // Without requestTimeout, a longer headersTimeout raises it rather than conflicting.
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", headersTimeout: 20_000 });
    assert.equal(wss.options.requestTimeout, 20_000);
    wss.close();
  });
});
