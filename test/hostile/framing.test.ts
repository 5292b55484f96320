/**
 * Hostile frames from raw sockets against the server: every protocol violation must be answered
 * with the exact close code of RFC 6455 section 7.4.1, and the server must go on serving others.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { constants, deflateRawSync } from "node:zlib";
import { type RunningEchoServer, startEchoServer } from "../helpers/echo-server.js";
import { closePayload, encodeFrame, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";
import { expectFailedWith, expectStillEchoes } from "./expect.js";

const MAX_PAYLOAD = 64 * 1024;

describe("hostile frames against the server", () => {
  let server: RunningEchoServer;
  before(async () => {
    server = await startEchoServer({ maxPayload: MAX_PAYLOAD });
  });
  after(() => server.close());
  afterEach(() => expectStillEchoes(server.port));

  const open = () => RawClient.connect(server.port);

  it("survives truncated frames followed by EOF, at every header position", async () => {
    const whole = encodeFrame({
      opcode: Op.Binary,
      payload: Buffer.alloc(70000, 1),
      mask: Buffer.of(1, 2, 3, 4),
    });
    // Cut inside the first byte pair, the 64-bit length, the mask key, and the payload.
    for (const cut of [1, 2, 5, 10, 12, 13, 100, 69999]) {
      const client = await open();
      await client.write(whole.subarray(0, cut));
      client.socket.end();
      await client.waitForEnd(5000);
      client.destroy();
    }
  });

  it("fails an unmasked client frame with 1002", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Text, payload: "hello", mask: false });
    await expectFailedWith(client, 1002);
  });

  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`fails reserved opcode 0x${opcode.toString(16)} with 1002`, async () => {
      const client = await open();
      await client.sendFrame({ opcode, payload: "x" });
      await expectFailedWith(client, 1002);
    });
  }

  for (const rsv of [4, 2, 1, 7]) {
    it(`fails RSV bits ${rsv.toString(2).padStart(3, "0")} without an extension with 1002`, async () => {
      const client = await open();
      await client.sendFrame({ opcode: Op.Text, payload: "hello", rsv });
      await expectFailedWith(client, 1002);
    });
  }

  it("fails a ping longer than 125 bytes with 1002", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Ping, payload: Buffer.alloc(126) });
    await expectFailedWith(client, 1002);
  });

  it("fails a fragmented ping with 1002", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Ping, payload: "a", fin: false });
    await expectFailedWith(client, 1002);
  });

  it("fails a close frame longer than 125 bytes with 1002", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Close, payload: closePayload(1000, "x".repeat(124)) });
    await expectFailedWith(client, 1002);
  });

  it("fails a continuation frame with no message started with 1002", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Continuation, payload: "orphan" });
    await expectFailedWith(client, 1002);
  });

  it("fails a new data frame inside an open fragmented message with 1002", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Text, payload: "first", fin: false });
    await client.sendFrame({ opcode: Op.Text, payload: "second" });
    await expectFailedWith(client, 1002);
  });

  it("fails invalid UTF-8 in a whole text message with 1007", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Text, payload: Buffer.from([0x68, 0x69, 0xc0, 0xaf]) });
    await expectFailedWith(client, 1007);
  });

  it("fails a text message ending inside a multi-byte sequence with 1007", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Text, payload: Buffer.from([0x61, 0xe2, 0x82]) });
    await expectFailedWith(client, 1007);
  });

  it("fails a surrogate code point split across fragments with 1007", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Text, payload: Buffer.from([0x61, 0xed]), fin: false });
    await client.sendFrame({ opcode: Op.Continuation, payload: Buffer.from([0xa0, 0x80]) });
    await expectFailedWith(client, 1007);
  });

  it("fails fast on invalid UTF-8 sent byte by byte, before the frame is complete", async () => {
    const client = await open();
    const payload = Buffer.concat([
      Buffer.from("valid prefix κόσμε "),
      Buffer.from([0xf4, 0x90]), // 0xf4 0x90 starts a code point above U+10FFFF
      Buffer.alloc(3000, 0x61),
    ]);
    const frame = encodeFrame({ opcode: Op.Text, payload, mask: true });
    const written = await client.writeSlowly(frame, 1);
    assert.ok(
      written < frame.length,
      `the close must arrive before the whole frame is sent (sent ${written} of ${frame.length})`,
    );
    await expectFailedWith(client, 1007);
  });

  it("fails fast on invalid UTF-8 in a fragment, before the message is finished", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Text, payload: "good start", fin: false });
    await client.sendFrame({
      opcode: Op.Continuation,
      payload: Buffer.from([0x20, 0xff, 0x20]),
      fin: false,
    });
    // No final fragment is ever sent: the server must not wait for it.
    await expectFailedWith(client, 1007);
  });

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    it(`fails a close frame with invalid code ${code} with 1002`, async () => {
      const client = await open();
      await client.sendFrame({ opcode: Op.Close, payload: closePayload(code) });
      await expectFailedWith(client, 1002);
    });
  }

  it("fails a close frame with a 1-byte payload with 1002", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Close, payload: Buffer.of(0x03) });
    await expectFailedWith(client, 1002);
  });

  it("fails a close reason that is not UTF-8 with 1007", async () => {
    const client = await open();
    await client.sendFrame({
      opcode: Op.Close,
      payload: closePayload(1000, Buffer.from([0x6f, 0x6b, 0xed, 0xa0, 0x80])),
    });
    await expectFailedWith(client, 1007);
  });

  for (const code of [1000, 1001, 1003, 1007, 1008, 1011, 1012, 1013, 1014, 3000, 4999]) {
    it(`echoes a valid close code ${code}`, async () => {
      const client = await open();
      await client.sendFrame({ opcode: Op.Close, payload: closePayload(code, "bye") });
      const outcome = await client.waitForClose();
      assert.ok(outcome.gotCloseFrame);
      assert.ok(outcome.code === code || outcome.code === 1000, `got ${outcome.code}`);
      await client.waitForEnd();
      client.destroy();
    });
  }

  it("fails a frame over maxPayload with 1009 from its 64-bit header alone", async () => {
    const client = await open();
    const header = encodeFrame({
      opcode: Op.Binary,
      declaredLength: BigInt(MAX_PAYLOAD + 1),
      lengthForm: "64",
      mask: true,
    });
    await client.write(header); // no payload byte is ever sent
    await expectFailedWith(client, 1009);
  });

  it("fails fragments summing over maxPayload with 1009 on the header that crosses it", async () => {
    const client = await open();
    await client.sendFrame({
      opcode: Op.Binary,
      payload: Buffer.alloc(MAX_PAYLOAD - 10),
      fin: false,
    });
    await client.write(
      encodeFrame({ opcode: Op.Continuation, declaredLength: 11n, lengthForm: "64", mask: true }),
    );
    await expectFailedWith(client, 1009);
  });

  it("fails a 64-bit length with the most significant bit set with 1002", async () => {
    const client = await open();
    await client.write(
      encodeFrame({
        opcode: Op.Binary,
        declaredLength: 0x8000_0000_0000_0001n,
        lengthForm: "64",
        mask: true,
      }),
    );
    await expectFailedWith(client, 1002);
  });

  it("reassembles a message sent as 50000 one-byte fragments", async () => {
    const client = await open();
    const frames = [encodeFrame({ opcode: Op.Text, payload: "<", fin: false, mask: true })];
    for (let i = 0; i < 50000; i++) {
      frames.push(encodeFrame({ opcode: Op.Continuation, payload: "-", fin: false, mask: true }));
    }
    frames.push(encodeFrame({ opcode: Op.Continuation, payload: ">", mask: true }));
    await client.write(Buffer.concat(frames));
    const echo = await client.nextFrameOf(Op.Text, 30000);
    assert.equal(echo.payload.toString(), `<${"-".repeat(50000)}>`);
    client.destroy();
  });

  it("echoes 1000 messages sent with a close in one write, all before its close reply", async () => {
    const client = await open();
    const frames = Array.from({ length: 1000 }, (_, i) =>
      encodeFrame({ opcode: Op.Text, payload: `m${i}`, mask: true }),
    );
    frames.push(encodeFrame({ opcode: Op.Close, payload: closePayload(1000), mask: true }));
    await client.write(Buffer.concat(frames));
    await client.waitForEnd(10000);
    assert.deepEqual(
      client.frames.map((f) => (f.opcode === Op.Close ? "close" : f.payload.toString())),
      [...Array.from({ length: 1000 }, (_, i) => `m${i}`), "close"],
    );
    client.destroy();
  });

  it("keeps the connection after a legal ping, and answers it before the next echo", async () => {
    const client = await open();
    await client.sendFrame({ opcode: Op.Ping, payload: "p" });
    assert.equal((await client.nextFrameOf(Op.Pong)).payload.toString(), "p");
    assert.equal(await client.echo("after ping"), "after ping");
    client.destroy();
  });
});

describe("hostile compressed frames against a deflate server", () => {
  let server: RunningEchoServer;
  before(async () => {
    server = await startEchoServer({ maxPayload: MAX_PAYLOAD, perMessageDeflate: true });
  });
  after(() => server.close());
  afterEach(() => expectStillEchoes(server.port));

  const openDeflate = async () => {
    const client = await RawClient.connect(server.port, {
      headers: { "sec-websocket-extensions": "permessage-deflate; client_max_window_bits" },
    });
    assert.match(client.response?.headers["sec-websocket-extensions"] ?? "", /permessage-deflate/);
    return client;
  };

  it("fails an inflate bomb with 1009 without inflating it all", async () => {
    const client = await openDeflate();
    const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    // About 64 KiB on the wire that inflates to 64 MiB: the server must stop at maxPayload.
    await client.sendFrame({ opcode: Op.Binary, payload: bomb, rsv: 4 });
    await expectFailedWith(client, 1009);
  });

  it("echoes a compressed message sent together with a close before the close reply", async () => {
    for (let i = 0; i < 10; i++) {
      const client = await openDeflate();
      const message = Buffer.alloc(50000 + i, `abc${i}`); // under maxPayload
      const compressed = deflateRawSync(message, { finishFlush: constants.Z_SYNC_FLUSH });
      await client.write(
        Buffer.concat([
          encodeFrame({ opcode: Op.Text, payload: compressed.subarray(0, -4), rsv: 4, mask: true }),
          encodeFrame({ opcode: Op.Close, payload: closePayload(1000), mask: true }),
        ]),
      );
      await client.waitForEnd(10000);
      assert.deepEqual(
        client.frames.map((f) => f.opcode),
        [Op.Text, Op.Close],
        `run ${i}: the echo must precede the close reply`,
      );
      client.destroy();
    }
  });

  it("fails RSV1 on a continuation frame with 1002", async () => {
    const client = await openDeflate();
    await client.sendFrame({ opcode: Op.Text, payload: "a", fin: false });
    await client.sendFrame({ opcode: Op.Continuation, payload: "b", rsv: 4 });
    await expectFailedWith(client, 1002);
  });

  it("fails RSV1 on a control frame with 1002", async () => {
    const client = await openDeflate();
    await client.sendFrame({ opcode: Op.Ping, payload: "a", rsv: 4 });
    await expectFailedWith(client, 1002);
  });

  it("fails corrupt compressed data with 1007", async () => {
    const client = await openDeflate();
    await client.sendFrame({ opcode: Op.Binary, payload: Buffer.from([0xff, 0xff, 0xff]), rsv: 4 });
    await expectFailedWith(client, 1007);
  });

  it("fails invalid UTF-8 inside a compressed text message with 1007", async () => {
    const client = await openDeflate();
    const compressed = deflateRawSync(Buffer.from([0x61, 0xc0, 0x80]));
    await client.sendFrame({ opcode: Op.Text, payload: compressed, rsv: 4 });
    await expectFailedWith(client, 1007);
  });
});
