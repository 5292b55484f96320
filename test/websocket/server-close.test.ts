import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, it } from "node:test";
import { WebSocketServer } from "../../src/websocket/index.js";
import { SilentClient } from "./memory-server-driver.js";
import {
  closed,
  closeHttp,
  closeWss,
  delay,
  eventually,
  listen,
  maskedFrame,
  openClient,
  RawPeer,
  rawExchange,
  refusal,
  upgradeRequest,
  withTimeout,
  wssPort,
} from "./server-helpers.js";

describe("WebSocketServer close()", () => {
  it("closes cooperating clients cleanly with 1001, then emits close and calls back", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    const clients = await Promise.all([1, 2, 3].map(() => openClient(`ws://127.0.0.1:${port}/`)));
    const outcomes = clients.map(
      (client) =>
        new Promise<{ code: number; wasClean: boolean }>((resolve) => {
          client.addEventListener("close", (event) =>
            resolve({ code: event.code, wasClean: event.wasClean }),
          );
        }),
    );
    let closeEvents = 0;
    wss.on("close", () => {
      closeEvents++;
    });
    let calledBack = false;
    await withTimeout(
      new Promise<void>((resolve) =>
        wss.close((error) => {
          assert.equal(error, undefined);
          calledBack = true;
          resolve();
        }),
      ),
      5000,
      "close callback",
    );
    assert.equal(calledBack, true);
    assert.equal(closeEvents, 1);
    assert.equal(wss.clients.size, 0);
    for (const outcome of await Promise.all(outcomes)) {
      assert.deepEqual(outcome, { code: 1001, wasClean: true });
    }
  });

  it("terminates a client that never answers the close frame after closeTimeout", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", closeTimeout: 150 });
    const port = await wssPort(wss);
    const silent = await RawPeer.upgrade(port);
    const polite = await openClient(`ws://127.0.0.1:${port}/`);
    const politeClosed = closed(polite);
    const started = Date.now();
    await closeWss(wss);
    // The silent peer got the close frame (1001) but the server did not wait for its answer
    // forever: it dropped the connection once closeTimeout had passed.
    await silent.until(() => silent.ended, "the silent peer is dropped");
    assert.ok(Date.now() - started >= 140, "not before closeTimeout");
    const closeFrame = silent.frames.find((frame) => frame.opcode === 0x8);
    assert.ok(closeFrame, "a close frame was sent");
    assert.equal(closeFrame.payload.readUInt16BE(0), 1001);
    assert.equal((await politeClosed).code, 1001);
  });

  it("a second close() while closing gets its callback too; after closing it gets an error", async () => {
    const wss = new WebSocketServer({ noServer: true });
    const first = new Promise<void>((resolve) => wss.close(() => resolve()));
    const second = new Promise<void>((resolve) => wss.close(() => resolve()));
    await withTimeout(Promise.all([first, second]), 5000, "both callbacks");
    const error = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
    assert.ok(error instanceof Error);
    assert.match(error.message, /not running/);
  });

  it("refuses upgrades with 503 once closing, and pending verifications too", async () => {
    const http = createServer();
    let verifying = 0;
    const wss = new WebSocketServer({
      server: http,
      verifyClient: (_info, done) => {
        verifying++;
        // Never decides before close(): the server must not wait for it.
        setTimeout(() => done(true), 10_000).unref();
      },
    });
    const late = new WebSocketServer({ noServer: true });
    try {
      const port = await listen(http);
      const pending = rawExchange(port, upgradeRequest(port));
      await eventually(() => verifying > 0, "verifyClient called");
      await closeWss(wss);
      assert.equal((await pending).status, 503);

      http.on("upgrade", (request, socket, head) => {
        late.handleUpgrade(request, socket, head, () => assert.fail("must not connect"));
      });
      await closeWss(late);
      assert.equal((await refusal(`ws://127.0.0.1:${port}/`)).status, 503);
    } finally {
      await closeHttp(http);
    }
  });

  it("does not wait for a half-sent handshake (slow client) on its own HTTP server", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    const slow = await RawPeer.connect(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web");
    await delay(20);
    await closeWss(wss);
    await slow.until(() => slow.ended, "the slow client is dropped");
  });

  it("does not close an application's HTTP server", async () => {
    const http = createServer((_request, response) => response.end("still here"));
    const wss = new WebSocketServer({ server: http });
    try {
      const port = await listen(http);
      const client = await openClient(`ws://127.0.0.1:${port}/`);
      const done = closed(client);
      await closeWss(wss);
      assert.equal((await done).code, 1001);
      assert.equal(http.listening, true);
      const answer = await rawExchange(
        port,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.body, "still here");
    } finally {
      await closeHttp(http);
    }
  });

  it("close() with a client that reads nothing: its 1001 waits behind data, so it is terminated at closeTimeout", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", closeTimeout: 300 });
    const port = await wssPort(wss);
    const stalled = new SilentClient(port);
    await stalled.upgraded;
    const [server] = [...wss.clients];
    // More than the socket buffers of the loopback take: the rest waits in the server.
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 100; i++) server.send(chunk);
    const started = Date.now();
    await withTimeout(closeWss(wss), 5000, "close() calls back");
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 3000, `called back after ${took} ms`);
    assert.equal(wss.clients.size, 0);
    stalled.destroy();
  });

  it("a connection the server fails waits the server's closeTimeout for the peer's close, not 30 s", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", closeTimeout: 200 });
    const port = await wssPort(wss);
    const peer = new SilentClient(port);
    try {
      await peer.upgraded;
      const [server] = [...wss.clients];
      const serverClosed = new Promise<number>((resolve) => server.once("close", resolve));
      // An unmasked frame: the server sends 1002 and ends its side; the peer, which reads
      // nothing (so it does not even see that end), never answers.
      const started = Date.now();
      peer.socket.write(Buffer.from([0x81, 0x01, 0x61]));
      assert.equal(await withTimeout(serverClosed, 5000, "close event"), 1006);
      const took = Date.now() - started;
      assert.ok(took >= 150, `closed after ${took} ms`);
      const seen = await peer.skim(5000);
      assert.equal(seen.close?.code, 1002);
    } finally {
      peer.destroy();
      await closeWss(wss);
    }
  });

  it("a client closing on its own during shutdown is not a problem", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const port = await wssPort(wss);
    const peer = await RawPeer.upgrade(port);
    let closeEvents = 0;
    wss.on("close", () => {
      closeEvents++;
    });
    const closing = closeWss(wss);
    // The peer answers the server's close with its own close and hangs up.
    await peer.until(() => peer.frames.some((f) => f.opcode === 0x8), "close frame");
    peer.socket.end(maskedFrame(0x8, Buffer.from([0x03, 0xe9])));
    await closing;
    await peer.until(() => peer.ended, "connection end");
    await delay(20);
    assert.equal(closeEvents, 1);
  });
});
