/**
 * The write path (WriteQueue through the WebSocket API) over stand-in sockets: one flush tick for
 * every connection with frames waiting, headers written into the batch buffer, large payloads
 * kept out of the copy, masking without touching the caller's bytes, drain and callback
 * semantics when a batch carries no callbacks, and order behind a compression job.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { Duplex } from "node:stream";
import { describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { constants, inflateRawSync } from "node:zlib";
import { PerMessageDeflate } from "../../src/websocket/permessage-deflate.js";
import { acceptWebSocket, prepareMessage, type WebSocket } from "../../src/websocket/websocket.js";
import { CountingDuplex, decodeFrames, nextEvent } from "./websocket-test-helpers.js";

function accept(duplex: Duplex, deflate: PerMessageDeflate | null = null): WebSocket {
  return acceptWebSocket(duplex, Buffer.alloc(0), {
    maxPayload: 1024 * 1024,
    protocol: "",
    extensions: "",
    deflate,
  });
}

/** Resolves after the ticks already queued (the write queue's flush tick among them). */
function afterQueuedTicks(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A socket whose writes complete only when the test says so. */
class HeldDuplex extends Duplex {
  readonly held: (() => void)[] = [];
  readonly chunks: Buffer[] = [];

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.chunks.push(chunk);
    this.held.push(() => callback());
  }

  override _read(): void {}

  release(): void {
    for (const complete of this.held.splice(0)) complete();
  }
}

describe("one flush tick for all connections", () => {
  test("sends to many sockets in one turn are all written in the same tick, one write each", async () => {
    const duplexes = Array.from({ length: 50 }, () => new CountingDuplex());
    const sockets = duplexes.map((duplex) => accept(duplex));
    sockets.forEach((ws, i) => {
      ws.send(`first ${i}`);
      ws.send(`second ${i}`);
    });
    assert.ok(
      duplexes.every((duplex) => duplex.calls.length === 0),
      "nothing written synchronously",
    );
    await afterQueuedTicks();
    duplexes.forEach((duplex, i) => {
      assert.equal(duplex.calls.length, 1, `socket ${i}: one write`);
      const frames = decodeFrames(duplex.written());
      assert.deepEqual(
        frames.map((frame) => frame.payload.toString()),
        [`first ${i}`, `second ${i}`],
      );
    });
    // The next turn's sends are flushed again (the shared flush list was reset).
    sockets[7].send("later");
    sockets[3].sendPrepared(prepareMessage("prepared"));
    await afterQueuedTicks();
    assert.equal(duplexes[7].calls.length, 2);
    assert.equal(duplexes[3].calls.length, 2);
    assert.equal(
      decodeFrames(Buffer.concat(duplexes[3].calls[1]))[0].payload.toString(),
      "prepared",
    );
    for (const ws of sockets) ws.terminate();
  });

  test("a socket that throws from its write does not hold back the other connections", () => {
    // In a child process: the error is rethrown as uncaught, as it would be from its own tick.
    const script = fileURLToPath(new URL("./write-queue-throwing-socket.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout.trim()), {
      uncaught: "write exploded",
      healthyFrames: ["to the healthy socket"],
    });
  });
});

describe("batch layout", () => {
  test("a large payload is written as the caller's buffer; its header joins the frames before it", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const big = Buffer.alloc(200_000, 7);
    const other = Buffer.alloc(100_000, 8);
    ws.send("small before");
    ws.send(big);
    ws.send("small between");
    ws.send(other);
    ws.send("small after");
    await settle();
    assert.equal(duplex.calls.length, 1);
    const chunks = duplex.calls[0];
    assert.equal(chunks.length, 5, "run+header, big, run+header, other, run");
    assert.equal(chunks[1], big);
    assert.equal(chunks[3], other);
    // "small before" frame (14 bytes) and the 10-byte header of the 200 kB frame.
    assert.equal(chunks[0].length, 14 + 10);
    const frames = decodeFrames(duplex.written());
    assert.deepEqual(
      frames.map((frame) => frame.payload.length),
      [12, 200_000, 13, 100_000, 11],
    );
    assert.ok(frames[1].payload.equals(big));
    ws.terminate();
  });

  test("a large prepared frame goes as the shared bytes between copied runs", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const large = prepareMessage(Buffer.alloc(70_000, 3));
    ws.send("a");
    ws.sendPrepared(large);
    ws.sendPrepared(prepareMessage("b"));
    await settle();
    const chunks = duplex.calls[0];
    assert.equal(chunks.length, 3);
    assert.equal(chunks[1].buffer, large.frame.buffer);
    const frames = decodeFrames(duplex.written());
    assert.deepEqual(
      frames.map((frame) => [frame.opcode, frame.payload.length]),
      [
        [0x1, 1],
        [0x2, 70_000],
        [0x1, 1],
      ],
    );
    ws.terminate();
  });

  test("masked frames of every size decode to the payloads; the caller's buffers are untouched", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    const sizes = [0, 1, 31, 32, 125, 126, 1000, 20_000, 70_000];
    const payloads = sizes.map((size) => Buffer.alloc(size, size & 0xff));
    const copies = payloads.map((payload) => Buffer.from(payload));
    for (const payload of payloads) ws.send(payload, { mask: true });
    const text = "x".repeat(30_000);
    ws.send(text, { mask: true });
    await settle();
    assert.equal(duplex.calls.length, 1);
    const frames = decodeFrames(duplex.written());
    assert.equal(frames.length, sizes.length + 1);
    frames.slice(0, sizes.length).forEach((frame, i) => {
      assert.ok(frame.masked, `frame ${i} is masked`);
      assert.ok(frame.payload.equals(copies[i]), `frame ${i} payload`);
      assert.ok(payloads[i].equals(copies[i]), `caller's buffer ${i} is unchanged`);
    });
    assert.equal(frames[sizes.length].payload.toString(), text);
    ws.terminate();
  });

  test("one small frame per turn: exactly the frame's bytes, one write per turn", async () => {
    const duplex = new CountingDuplex();
    const ws = accept(duplex);
    for (let turn = 0; turn < 3; turn++) {
      ws.send(Buffer.from([turn, 1, 2]), { binary: true });
      await settle();
    }
    assert.equal(duplex.calls.length, 3);
    duplex.calls.forEach((chunks, turn) => {
      assert.equal(chunks.length, 1);
      assert.deepEqual([...chunks[0]], [0x82, 0x03, turn, 1, 2]);
    });
    ws.terminate();
  });
});

describe("callbacks and drain", () => {
  test("drain reaches a listener added after the flush, once the socket has written everything", async () => {
    const duplex = new HeldDuplex();
    const ws = accept(duplex);
    ws.send(Buffer.alloc(500));
    await settle();
    assert.equal(duplex.chunks.length, 1, "the batch went to the socket");
    assert.ok(ws.bufferedAmount >= 500, "still in the socket's buffer");
    let drains = 0;
    ws.on("drain", () => drains++);
    duplex.release();
    await settle();
    assert.equal(drains, 1);
    assert.equal(ws.bufferedAmount, 0);
    ws.terminate();
  });

  test("callbacks run after their batch is written, in send order, around batches without any", async () => {
    const duplex = new HeldDuplex();
    const ws = accept(duplex);
    const order: string[] = [];
    ws.send("a", (error) => order.push(`a ${error ?? "ok"}`));
    ws.send("b");
    await settle();
    ws.send("c");
    await settle();
    ws.send("d", (error) => order.push(`d ${error ?? "ok"}`));
    ws.send("e");
    await settle();
    assert.deepEqual(order, [], "nothing before the socket completes the writes");
    // The stream hands buffered chunks to the socket one at a time: release each in turn.
    for (let i = 0; i < 10; i++) {
      duplex.release();
      await settle();
    }
    assert.deepEqual(order, ["a ok", "d ok"]);
    ws.terminate();
  });

  test("frames still queued when the socket goes away fail their callbacks, in order", async () => {
    const duplex = new HeldDuplex();
    const ws = accept(duplex);
    const order: string[] = [];
    ws.send("written", (error) => order.push(`written ${error ? "error" : "ok"}`));
    await settle();
    duplex.release();
    await settle();
    ws.send("queued 1", (error) => order.push(`queued 1 ${error ? "error" : "ok"}`));
    ws.send("queued 2", (error) => order.push(`queued 2 ${error ? "error" : "ok"}`));
    duplex.destroy();
    await nextEvent(ws, "close");
    await settle();
    assert.deepEqual(order, ["written ok", "queued 1 error", "queued 2 error"]);
  });
});

describe("order behind a compression job", () => {
  test("frames queued after a compressed message wait for it, then later turns reuse the queue", async () => {
    const deflate = new PerMessageDeflate(
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 15,
        clientMaxWindowBits: 15,
      },
      "server",
      { threshold: 100 },
    );
    const duplex = new CountingDuplex();
    const ws = accept(duplex, deflate);
    const big = "compress me ".repeat(1000);
    const done: string[] = [];
    ws.send(big, () => done.push("big"));
    ws.send("small 1", () => done.push("small 1"));
    ws.ping("p");
    ws.send("small 2", () => done.push("small 2"));
    await afterQueuedTicks();
    assert.equal(duplex.calls.length, 0, "nothing overtakes the message being compressed");
    // The zlib job runs behind a process-wide limiter: on a loaded machine it can take a while.
    // Wait (bounded) for the last send's callback, which fires once every frame is written.
    const deadline = Date.now() + 15_000;
    while (!done.includes("small 2") && Date.now() < deadline) await delay(5);
    await settle();
    const frames = decodeFrames(duplex.written());
    assert.deepEqual(
      frames.map((frame) => [frame.opcode, frame.rsv1]),
      [
        [0x1, true],
        [0x1, false],
        [0x9, false],
        [0x1, false],
      ],
    );
    const inflated = inflateRawSync(
      Buffer.concat([frames[0].payload, Buffer.from([0x00, 0x00, 0xff, 0xff])]),
      { finishFlush: constants.Z_SYNC_FLUSH },
    );
    assert.equal(inflated.toString(), big);
    assert.deepEqual(
      frames.slice(1).map((frame) => frame.payload.toString()),
      ["small 1", "p", "small 2"],
    );
    assert.deepEqual(done, ["big", "small 1", "small 2"]);
    const before = duplex.calls.length;
    ws.send("next turn");
    await settle();
    assert.equal(duplex.calls.length, before + 1);
    assert.equal(
      decodeFrames(Buffer.concat(duplex.calls[before]))[0].payload.toString(),
      "next turn",
    );
    ws.terminate();
    await once(ws, "close");
  });
});
