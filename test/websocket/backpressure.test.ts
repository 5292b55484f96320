/**
 * Backpressure on the raw WebSocket API (issue 9): `maxBufferedAmount` with the "close" (1013,
 * or 1008) and "drop" policies, exactly when the limit applies, pongs under a ping flood, and
 * the write queue's cost while the socket does not take more (operations counted, not timed).
 * Stand-in sockets whose writes complete only when the test says so play the peer that does
 * not read.
 */
import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { describe, test } from "node:test";
import { WebSocket, WebSocketServer } from "../../src/websocket/index.js";
import type { ConnectionLimitOptions } from "../../src/websocket/limits.js";
import { resolveConnectionLimits } from "../../src/websocket/limits.js";
import { acceptWebSocket } from "../../src/websocket/websocket.js";
import { SilentClient } from "./memory-server-driver.js";
import {
  buildFrame,
  decodeFrames,
  nextEvent,
  type RawFrame,
  startRawServer,
} from "./websocket-test-helpers.js";

const KiB = 1024;

/** A socket that takes writes but completes none until `release()`: a peer that does not read. */
class StalledDuplex extends Duplex {
  readonly chunks: Buffer[] = [];
  writes = 0;
  #held: Array<() => void> = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.writes++;
    this.chunks.push(Buffer.from(chunk));
    this.#held.push(callback);
  }

  override _read(): void {}

  /** Completes every write, including those the stream hands over meanwhile. */
  async release(): Promise<void> {
    await turn(); // this turn's flush first
    while (this.#held.length > 0) {
      for (const complete of this.#held.splice(0)) complete();
      await turn();
    }
  }

  frames(): RawFrame[] {
    return decodeFrames(Buffer.concat(this.chunks));
  }
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function accept(
  duplex: Duplex,
  limits: ConnectionLimitOptions,
  maxPendingAutoPongs?: number,
): WebSocket {
  return acceptWebSocket(duplex, Buffer.alloc(0), {
    maxPayload: 0,
    protocol: "",
    extensions: "",
    deflate: null,
    closeTimeout: 60_000,
    limits: resolveConnectionLimits(limits),
    maxPendingAutoPongs,
  });
}

/** Sends `count` messages of `size` bytes ("<index>:" then filler) in this turn; returns outcomes. */
function sendMany(
  ws: WebSocket,
  count: number,
  size: number,
  from = 0,
): Array<Promise<Error | null>> {
  const outcomes: Array<Promise<Error | null>> = [];
  for (let i = from; i < from + count; i++) {
    const text = `${i}:`.padEnd(size, ".");
    outcomes.push(new Promise((resolve) => ws.send(text, (error) => resolve(error ?? null))));
  }
  return outcomes;
}

function indexOf(frame: RawFrame): number {
  return Number(frame.payload.toString().split(":")[0]);
}

describe("maxBufferedAmount, policy close", () => {
  test("the send that finds more than the limit waiting fails the connection with 1013", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, { maxBufferedAmount: 64 * KiB });
    // 10 KiB each, in one turn: the 7th finds 60 KiB waiting (not more than 64 KiB) and goes;
    // the 8th finds 70 KiB and is refused, with everything still queued.
    const outcomes = sendMany(ws, 10, 10 * KiB);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const results = await Promise.all(outcomes);
    assert.deepEqual(
      results.map((error) => (error === null ? "sent" : "failed")),
      Array(10).fill("failed"),
      "the 7 queued messages were dropped with the connection, the 8th refused, later ones too",
    );
    assert.match(results[7]!.message, /maxBufferedAmount/);
    await duplex.release();
    const frames = duplex.frames();
    assert.deepEqual(
      frames.map((frame) => frame.opcode),
      [0x8],
      "nothing queued went out: the close frame is the first thing the peer gets",
    );
    assert.equal(frames[0].payload.readUInt16BE(0), 1013);
    assert.equal(frames[0].payload.subarray(2).toString(), "send buffer full");
    assert.equal(duplex.writableEnded, true, "TCP is ended after the close frame");
    duplex.destroy();
    await nextEvent(ws, "close");
  });

  test("bytes already handed to the socket count, and what they were stays sent", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, { maxBufferedAmount: 64 * KiB });
    const errors: string[] = [];
    ws.on("error", (error) => errors.push(error.message));
    const first = sendMany(ws, 5, 10 * KiB);
    await turn(); // written to the socket (held there): bufferedAmount still counts them
    assert.ok(ws.bufferedAmount >= 50 * KiB);
    // The 7th finds 60 KiB (and 6 frame headers) waiting: not more than 64 KiB.
    const second = sendMany(ws, 2, 10 * KiB, 5);
    assert.equal(ws.readyState, WebSocket.OPEN);
    const third = sendMany(ws, 1, 10 * KiB, 7);
    assert.equal(ws.readyState, WebSocket.CLOSING, "the 8th finds 70 KiB: over it");
    await duplex.release();
    assert.deepEqual(
      (await Promise.all([...first, ...second, ...third])).map((e) => (e ? "failed" : "sent")),
      [...Array(5).fill("sent"), ...Array(3).fill("failed")],
    );
    const frames = duplex.frames();
    assert.deepEqual(
      frames.map((frame) => (frame.opcode === 0x8 ? "close" : indexOf(frame))),
      [0, 1, 2, 3, 4, "close"],
    );
    duplex.destroy();
    await nextEvent(ws, "close");
    assert.deepEqual(errors.length, 1, "one error event, with the reason");
    assert.match(errors[0], /does not read fast enough/);
  });

  test("1008 can be chosen instead of 1013", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, { maxBufferedAmount: 16 * KiB, backpressureCloseCode: 1008 });
    sendMany(ws, 3, 10 * KiB);
    await duplex.release();
    const close = duplex.frames().find((frame) => frame.opcode === 0x8);
    assert.equal(close?.payload.readUInt16BE(0), 1008);
    duplex.destroy();
    await nextEvent(ws, "close");
  });

  test("one message larger than the limit goes through when nothing waits", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, { maxBufferedAmount: 64 * KiB });
    const big = Buffer.alloc(1024 * KiB, 7);
    const sent = new Promise((resolve) => ws.send(big, resolve));
    assert.equal(ws.readyState, WebSocket.OPEN);
    await duplex.release();
    assert.equal(await sent, null);
    assert.equal(duplex.frames()[0].payload.length, big.length);
    ws.terminate();
  });

  test("maxBufferedAmount 0 means no limit", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, { maxBufferedAmount: 0 });
    sendMany(ws, 200, 10 * KiB);
    await turn();
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.ok(ws.bufferedAmount >= 2000 * KiB);
    ws.terminate();
  });
});

describe("maxBufferedAmount, policy drop", () => {
  test("messages over the limit are dropped and reported; the connection stays open", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, { maxBufferedAmount: 64 * KiB, backpressure: "drop" });
    const outcomes = sendMany(ws, 10, 10 * KiB);
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(ws.dropped, 3, "the 8th, 9th and 10th");
    await duplex.release();
    const results = await Promise.all(outcomes);
    assert.deepEqual(
      results.map((error) => (error === null ? "sent" : error.message.slice(0, 15))),
      [...Array(7).fill("sent"), ...Array(3).fill("Message dropped")],
    );
    // Once the peer read, sending works again.
    const later = sendMany(ws, 1, 10, 10);
    await turn();
    await duplex.release();
    assert.equal(await later[0], null);
    assert.deepEqual(duplex.frames().map(indexOf), [0, 1, 2, 3, 4, 5, 6, 10]);
    assert.equal(ws.dropped, 3);
    ws.terminate();
  });

  test("a fragmented message is never cut: started ones finish, refused ones are dropped whole", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, { maxBufferedAmount: 32 * KiB, backpressure: "drop" });
    const chunk = Buffer.alloc(10 * KiB, 0x61);
    const failed: boolean[] = [];
    const send = (fin: boolean): void => {
      const index = failed.length;
      failed.push(false);
      ws.send(chunk, { fin }, (error) => {
        failed[index] = Boolean(error);
      });
    };
    // Message A starts below the limit; its later fragments go over it but are still sent.
    send(false);
    send(false);
    send(false);
    send(false);
    send(true);
    // Message B's first fragment finds 50 KiB waiting: B is dropped, all its fragments.
    send(false);
    send(false);
    send(true);
    assert.equal(ws.dropped, 3, "each fragment of B counts");
    await duplex.release();
    await turn();
    assert.deepEqual(failed, [false, false, false, false, false, true, true, true]);
    const frames = duplex.frames();
    assert.deepEqual(
      frames.map((frame) => [frame.opcode, frame.fin]),
      [
        [0x2, false],
        [0x0, false],
        [0x0, false],
        [0x0, false],
        [0x0, true],
      ],
    );
    // After B, messages are sent again.
    ws.send("C");
    await turn();
    await duplex.release();
    const last = duplex.frames().at(-1)!;
    assert.deepEqual([last.opcode, last.payload.toString()], [0x1, "C"]);
    ws.terminate();
  });
});

describe("control frames under backpressure", () => {
  test("pings from a peer that does not read get one pong, the latest, not one each", async () => {
    const duplex = new StalledDuplex();
    // No maxPendingAutoPongs (ws's default, 60, would terminate this peer: see ws-options.test.ts).
    const ws = accept(duplex, { maxBufferedAmount: 64 * KiB }, 0);
    // Fill the socket past its high-water mark, so that nothing more leaves.
    sendMany(ws, 2, 20 * KiB);
    await turn();
    for (let i = 0; i < 1000; i++) {
      duplex.push(buildFrame(0x9, `ping ${i}`, { mask: true }));
    }
    await turn();
    assert.equal(ws.readyState, WebSocket.OPEN, "pongs are never refused");
    await duplex.release();
    const pongs = duplex.frames().filter((frame) => frame.opcode === 0xa);
    assert.deepEqual(
      pongs.map((frame) => frame.payload.toString()),
      ["ping 999"],
    );
    ws.terminate();
  });

  test("a peer that reads gets a pong for every ping", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, {});
    for (let i = 0; i < 10; i++) duplex.push(buildFrame(0x9, `ping ${i}`, { mask: true }));
    await turn();
    await duplex.release();
    assert.equal(duplex.frames().filter((frame) => frame.opcode === 0xa).length, 10);
    ws.terminate();
  });
});

describe("the write queue's work while the socket does not take more", () => {
  test("sends to a stalled socket are queued without writes or copies; draining costs per batch", async () => {
    const duplex = new StalledDuplex();
    const ws = accept(duplex, { maxBufferedAmount: 0 });
    // Every write() call, even those the stream only buffers.
    let writeCalls = 0;
    const write = duplex.write;
    duplex.write = function (this: StalledDuplex, ...args: Parameters<typeof write>) {
      writeCalls++;
      return write.apply(this, args);
    } as typeof write;
    // 20 KiB of text, copied into one write, puts the socket past its 16 KiB high-water mark.
    ws.send("x".repeat(20 * KiB));
    await turn();
    assert.equal(writeCalls, 1);
    const payload = Buffer.alloc(1000, 0x62);
    const allocUnsafe = Buffer.allocUnsafe;
    let copies = 0;
    Buffer.allocUnsafe = (size: number) => {
      copies++;
      return allocUnsafe(size);
    };
    const copyWithin = Array.prototype.copyWithin;
    let moved = 0;
    Array.prototype.copyWithin = function (
      this: unknown[],
      target: number,
      start: number,
      end?: number,
    ) {
      moved += (end ?? this.length) - start;
      return copyWithin.call(this, target, start, end);
    };
    const SENDS = 5000;
    try {
      for (let i = 0; i < SENDS; i++) {
        ws.send(payload);
        // A turn every 50 sends: each turn's flush finds the socket full.
        if (i % 50 === 49) await turn();
      }
      await turn();
      assert.equal(writeCalls, 1, "nothing handed to the stalled socket");
      assert.equal(copies, 0, "no copy made for a frame that waits");
      // The queued payloads, and the first frame (20 KiB and a 4-byte header) in the socket.
      assert.equal(ws.bufferedAmount, 20 * KiB + 4 + SENDS * payload.length);
      await duplex.release();
    } finally {
      Buffer.allocUnsafe = allocUnsafe;
      Array.prototype.copyWithin = copyWithin;
    }
    const frames = duplex.frames();
    assert.equal(frames.length, 1 + SENDS);
    // 5 MB of frames leave in copies of at most 64 KiB each (a batch of up to 256 KiB is
    // several of them, corked): about one write per 64 KiB, whatever the number of frames.
    const sizes = duplex.chunks.slice(1).map((chunk) => chunk.length);
    assert.ok(Math.max(...sizes) <= 64 * KiB, `a write of ${Math.max(...sizes)} bytes`);
    assert.ok(
      duplex.writes <= 2 * Math.ceil((SENDS * 1002) / (64 * KiB)) + 1,
      `${duplex.writes} writes`,
    );
    assert.ok(moved <= 2 * SENDS, `${moved} queue slots moved`);
    ws.terminate();
  });
});

describe("over real sockets", () => {
  test("WebSocketServer passes its limits to every connection (drop)", async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      maxBufferedAmount: 64 * KiB,
      backpressure: "drop",
    });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    const address = wss.address();
    const peer = new SilentClient(typeof address === "object" && address ? address.port : 0);
    try {
      await peer.upgraded;
      const [server] = [...wss.clients];
      // Until the kernel's buffers are full and 64 KiB wait: then sends are dropped.
      for (let i = 0; i < 2000 && server.dropped === 0; i++) {
        server.send("d".repeat(10 * KiB));
        if (i % 10 === 9) await turn();
      }
      assert.ok(server.dropped > 0, "some messages were dropped");
      assert.equal(server.readyState, WebSocket.OPEN);
    } finally {
      peer.destroy();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  test("a client whose server does not read is cut with 1013 too", async () => {
    const raw = await startRawServer();
    try {
      const accepted = raw.nextConnection();
      const client = new WebSocket(raw.url, { maxBufferedAmount: 64 * KiB });
      await nextEvent(client, "open");
      const connection = await accepted;
      connection.socket.pause();
      let sends = 0;
      while (client.readyState === WebSocket.OPEN && sends < 2000) {
        client.send(Buffer.alloc(10 * KiB));
        if (++sends % 10 === 0) await turn();
      }
      assert.equal(client.readyState, WebSocket.CLOSING, `still open after ${sends} sends`);
      connection.socket.resume();
      let frame = await connection.reader.next(10_000);
      while (frame !== null && frame.opcode !== 0x8) frame = await connection.reader.next(10_000);
      assert.ok(frame?.masked, "a masked close frame");
      assert.equal(frame?.payload.readUInt16BE(0), 1013);
      client.terminate();
    } finally {
      await raw.close();
    }
  });
});

describe("options", () => {
  test("invalid values are configuration errors", () => {
    for (const options of [
      { maxBufferedAmount: -1 },
      { maxBufferedAmount: Number.NaN },
      { backpressure: "block" },
      { backpressureCloseCode: 1000 },
      { maxFragments: 1.5 },
      { maxFragments: -1 },
    ]) {
      assert.throws(
        () => new WebSocketServer({ noServer: true, ...(options as ConnectionLimitOptions) }),
        TypeError,
        JSON.stringify(options),
      );
      assert.throws(
        () => new WebSocket("ws://127.0.0.1:1", options as ConnectionLimitOptions),
        TypeError,
        JSON.stringify(options),
      );
    }
  });

  test("the defaults are filled in", () => {
    const wss = new WebSocketServer({ noServer: true });
    assert.equal(wss.options.maxBufferedAmount, 8 * 1024 * 1024);
    assert.equal(wss.options.backpressure, "close");
    assert.equal(wss.options.backpressureCloseCode, 1013);
    assert.equal(wss.options.maxFragments, 80 * 1024);
    wss.close();
  });
});
