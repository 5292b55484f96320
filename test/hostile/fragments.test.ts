/**
 * Issue 9, finding 2: messages cut into a huge number of fragments. With the defaults, a message
 * of 100,000 one-byte fragments is refused with 1008 and a reason (plain and compressed), while
 * Autobahn's largest fragmentation case (4 MiB in 65,536 fragments of 64 bytes) is echoed intact;
 * and fragments cost the server the bytes they carry, not an object each (RSS measured in a
 * child process).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deflateRawSync } from "node:zlib";
import { type RunningEchoServer, startEchoServer } from "../helpers/echo-server.js";
import { encodeFrame, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";
import { startMemoryServer } from "../websocket/memory-server-driver.js";
import { expectStillEchoes } from "./expect.js";

const MiB = 1024 * 1024;

/** `payload` as one message of frames of `size` bytes (the first with `opcode` and `rsv`). */
function fragmented(payload: Buffer, size: number, opcode: number, rsv = 0): Buffer {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += size) {
    frames.push(
      encodeFrame({
        opcode: offset === 0 ? opcode : Op.Continuation,
        payload: payload.subarray(offset, offset + size),
        fin: offset + size >= payload.length,
        rsv: offset === 0 ? rsv : 0,
        mask: Buffer.of(1, 2, 3, 4),
      }),
    );
  }
  return Buffer.concat(frames);
}

describe("fragment floods against the server (default limits)", () => {
  let plain: RunningEchoServer;
  let deflate: RunningEchoServer;
  before(async () => {
    plain = await startEchoServer();
    deflate = await startEchoServer({ perMessageDeflate: true });
  });
  after(async () => {
    await plain.close();
    await deflate.close();
  });

  it("100,000 one-byte fragments: 1008 with a reason, before the message is read", async () => {
    const client = await RawClient.connect(plain.port);
    try {
      await client.write(fragmented(Buffer.alloc(100_000, 0x61), 1, Op.Text));
      const outcome = await client.waitForClose(10_000);
      assert.equal(outcome.code, 1008);
      assert.equal(outcome.reason.toString(), "too many fragments in one message");
      assert.deepEqual(
        client.frames.filter((frame) => frame.opcode !== Op.Close),
        [],
      );
    } finally {
      client.destroy();
    }
    await expectStillEchoes(plain.port);
  });

  it("100,000 one-byte compressed fragments: 1008 too", async () => {
    const client = await RawClient.connect(deflate.port, {
      headers: { "sec-websocket-extensions": "permessage-deflate" },
    });
    try {
      // Stored (uncompressed) DEFLATE blocks of 100 kB: the compressed payload is ~100 kB.
      const compressed = deflateRawSync(Buffer.alloc(100_000, 0x62), { level: 0 });
      await client.write(fragmented(compressed, 1, Op.Binary, 4));
      const outcome = await client.waitForClose(10_000);
      assert.equal(outcome.code, 1008);
      assert.equal(outcome.reason.toString(), "too many fragments in one message");
    } finally {
      client.destroy();
    }
    await expectStillEchoes(deflate.port);
  });

  it("a protocol error in the middle of a compressed message is answered, not held behind it", async () => {
    const client = await RawClient.connect(deflate.port, {
      headers: { "sec-websocket-extensions": "permessage-deflate" },
    });
    try {
      const compressed = deflateRawSync(Buffer.alloc(1000, 0x63));
      await client.sendFrame({
        opcode: Op.Binary,
        payload: compressed.subarray(0, 5),
        fin: false,
        rsv: 4,
      });
      await client.sendFrame({
        opcode: Op.Continuation,
        payload: compressed.subarray(5, 10),
        fin: false,
      });
      // Then, instead of the next continuation, one with RSV2 set.
      await client.sendFrame({ opcode: Op.Continuation, payload: "x", fin: false, rsv: 2 });
      const outcome = await client.waitForClose(5000);
      assert.equal(outcome.code, 1002);
    } finally {
      client.destroy();
    }
  });

  it("pings between the fragments of a compressed message are answered before it ends", async () => {
    const client = await RawClient.connect(deflate.port, {
      headers: { "sec-websocket-extensions": "permessage-deflate" },
    });
    try {
      const compressed = deflateRawSync(Buffer.from("hello, fragments"));
      await client.sendFrame({
        opcode: Op.Text,
        payload: compressed.subarray(0, 4),
        fin: false,
        rsv: 4,
      });
      // More pings than the receiver's queue holds before it pauses the socket (16): a pause
      // there would wait for a message that cannot end before the pings are read.
      for (let i = 0; i < 20; i++) await client.sendFrame({ opcode: Op.Ping, payload: `p${i}` });
      await client.waitFor(
        () => client.frames.filter((frame) => frame.opcode === Op.Pong).length === 20,
        5000,
        "20 pongs",
      );
      await client.sendFrame({ opcode: Op.Continuation, payload: compressed.subarray(4) });
      const echo = await client.nextFrameOf(Op.Text, 5000);
      assert.equal(echo.payload.length > 0, true);
    } finally {
      client.destroy();
    }
  });

  it("a peer that leaves in the middle of a compressed message is closed at once", async () => {
    const closed = new Promise<number>((resolve) => {
      deflate.wss.once("connection", (socket) => socket.once("close", (code) => resolve(code)));
    });
    const client = await RawClient.connect(deflate.port, {
      headers: { "sec-websocket-extensions": "permessage-deflate" },
    });
    const compressed = deflateRawSync(Buffer.alloc(1000, 0x64));
    await client.sendFrame({
      opcode: Op.Binary,
      payload: compressed.subarray(0, 10),
      fin: false,
      rsv: 4,
    });
    client.destroy();
    // Before: the server waited for the message's last frame forever, so `close` never came.
    const code = await Promise.race([
      closed,
      new Promise<string>((resolve) => setTimeout(() => resolve("no close event"), 3000)),
    ]);
    assert.equal(code, 1006);
  });

  it("Autobahn 9.3.1's message, 4 MiB in 65,536 fragments of 64 bytes, is echoed intact", async () => {
    const client = await RawClient.connect(plain.port);
    try {
      const text = Buffer.alloc(4 * MiB, "BAsd7&jh23");
      await client.write(fragmented(text, 64, Op.Text));
      const echo = await client.nextFrameOf(Op.Text, 20_000);
      assert.equal(echo.payload.length, text.length);
      assert.ok(echo.payload.equals(text));
    } finally {
      client.destroy();
    }
  });
});

describe("fragments cost the bytes they carry (child-process server)", () => {
  it("10 clients x 80,000 one-byte fragments grow the server's RSS by less than 40 MiB", async () => {
    // Each client writes 16 fragments at a time, so that the server reads thousands of small
    // chunks. Measured: +10 MiB. Before (one view per fragment, each keeping its socket chunk
    // alive until the message completed): +97 MiB.
    const server = await startMemoryServer({ MODE: "echo" });
    const clients: RawClient[] = [];
    try {
      const count = 80_000;
      const payload = Buffer.alloc(count, 0x61);
      for (let i = 0; i < 10; i++) clients.push(await RawClient.connect(server.port));
      await Promise.all(
        clients.map(async (client) => {
          client.socket.setNoDelay(true);
          const frames = fragmented(payload, 1, Op.Binary);
          const perWrite = 16 * 7; // a masked one-byte frame is 7 bytes
          for (let offset = 0; offset < frames.length; offset += perWrite) {
            await client.write(frames.subarray(offset, offset + perWrite));
          }
          const echo = await client.nextFrameOf(Op.Binary, 20_000);
          assert.equal(echo.payload.length, count);
        }),
      );
      const { rssBefore, rssPeak } = await server.request<{ rssBefore: number; rssPeak: number }>(
        10_000,
      );
      const growth = rssPeak - rssBefore;
      assert.ok(growth < 40 * MiB, `RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
    } finally {
      for (const client of clients) client.destroy();
      server.stop();
    }
  });
});
