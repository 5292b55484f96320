/**
 * The client role against a raw server that writes hand-built frames: messages, masking,
 * fragmentation, ping/pong, every close path, protocol errors, binaryType, pause/resume, Blob
 * send order, bufferedAmount/drain, maxPayload and in-order delivery around inflation.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { constants, deflateRawSync } from "node:zlib";
import { WebSocket } from "../../src/websocket/websocket.js";
import {
  buildFrame,
  closePayload,
  collectMessages,
  delay,
  nextEvent,
  type RawConnection,
  type RawServer,
  startRawServer,
} from "./websocket-test-helpers.js";

let server: RawServer;
before(async () => {
  server = await startRawServer((request) => {
    const headers: string[] = [];
    // The tests ask for permessage-deflate by path.
    if (request.url?.startsWith("/deflate"))
      headers.push("Sec-WebSocket-Extensions: permessage-deflate");
    return { headers };
  });
});
after(() => server.close());

async function connected(
  path = "/",
  options: ConstructorParameters<typeof WebSocket>[2] = { perMessageDeflate: false },
): Promise<{ ws: WebSocket; connection: RawConnection }> {
  const ws = new WebSocket(`${server.url}${path}`, [], options);
  const connection = server.nextConnection();
  await nextEvent(ws, "open");
  return { ws, connection: await connection };
}

/**
 * Compresses one message as a permessage-deflate sender does: raw deflate ending with a sync
 * flush, its 00 00 ff ff tail removed (RFC 7692 section 7.2.1). A fresh context per message is
 * valid whatever the receiver's context takeover, since it refers to no earlier data.
 */
function deflated(data: Buffer): Buffer {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  assert.deepEqual([...out.subarray(-4)], [0, 0, 0xff, 0xff]);
  return out.subarray(0, -4);
}

describe("messages", () => {
  test("text, binary and empty messages arrive; the Node event gives Buffers", async () => {
    const { ws, connection } = await connected();
    const received = collectMessages(ws, 4);
    connection.socket.write(
      Buffer.concat([
        buildFrame(0x1, "héllo"),
        buildFrame(0x2, Buffer.from([0, 255])),
        buildFrame(0x1, ""),
        buildFrame(0x2, Buffer.alloc(0)),
      ]),
    );
    const messages = await received;
    assert.equal(messages[0][1], false);
    assert.equal((messages[0][0] as Buffer).toString(), "héllo");
    assert.deepEqual([...(messages[1][0] as Buffer)], [0, 255]);
    assert.equal(messages[1][1], true);
    assert.equal((messages[2][0] as Buffer).length, 0);
    assert.equal(messages[2][1], false);
    assert.equal((messages[3][0] as Buffer).length, 0);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("client frames are masked; text/binary opcodes follow the data type and options", async () => {
    const { ws, connection } = await connected();
    ws.send("abc");
    ws.send(Buffer.from("def"));
    ws.send(new Uint16Array([1]).buffer);
    ws.send("as binary", { binary: true });
    ws.send(Buffer.from("as text"), { binary: false });
    ws.send(new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2));
    const frames = [];
    for (let i = 0; i < 6; i++) frames.push(await connection.reader.next());
    assert.ok(frames.every((frame) => frame?.masked && frame.fin));
    assert.deepEqual(
      frames.map((frame) => frame?.opcode),
      [0x1, 0x2, 0x2, 0x2, 0x1, 0x2],
    );
    assert.equal(frames[0]?.payload.toString(), "abc");
    assert.equal(frames[3]?.payload.toString(), "as binary");
    assert.deepEqual([...frames[5]!.payload], [8, 7]);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("fragmented sends: first frame carries the opcode, then continuations, FIN on the last", async () => {
    const { ws, connection } = await connected();
    ws.send("a", { fin: false });
    ws.send("b", { fin: false });
    ws.ping("between");
    ws.send("c");
    const frames = [];
    for (let i = 0; i < 4; i++) frames.push(await connection.reader.next());
    assert.deepEqual(
      frames.map((f) => [f?.opcode, f?.fin, f?.payload.toString()]),
      [
        [0x1, false, "a"],
        [0x0, false, "b"],
        [0x9, true, "between"],
        [0x0, true, "c"],
      ],
    );
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("fragmented messages from the server are reassembled", async () => {
    const { ws, connection } = await connected();
    const received = collectMessages(ws, 1);
    connection.socket.write(buildFrame(0x1, "frag", { fin: false }));
    connection.socket.write(buildFrame(0x9, "p"));
    connection.socket.write(buildFrame(0x0, "men", { fin: false }));
    connection.socket.write(buildFrame(0x0, "ted"));
    const [[data]] = await received;
    assert.equal((data as Buffer).toString(), "fragmented");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("a 16 MiB binary message both ways", async () => {
    const { ws, connection } = await connected();
    const big = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    ws.send(big);
    const frame = await connection.reader.next(30000);
    assert.equal(frame?.payload.length, big.length);
    assert.ok(frame?.payload.equals(big));
    const received = collectMessages(ws, 1, 30000);
    connection.socket.write(buildFrame(0x2, big));
    const [[data]] = await received;
    assert.ok((data as Buffer).equals(big));
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("binaryType fragments gives an array of Buffers", async () => {
    const { ws, connection } = await connected();
    ws.binaryType = "fragments";
    const received = collectMessages(ws, 1);
    connection.socket.write(buildFrame(0x2, Buffer.from([1, 2])));
    const [[data]] = await received;
    assert.ok(Array.isArray(data));
    assert.deepEqual([...Buffer.concat(data as Buffer[])], [1, 2]);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("Blob sends keep their order with the sends around them", async () => {
    const { ws, connection } = await connected();
    ws.send("first");
    ws.send(new Blob([Buffer.alloc(200_000, 1)]));
    ws.send("third");
    ws.send(new Blob(["fourth"]));
    ws.send(Buffer.from("fifth"));
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await connection.reader.next());
    assert.deepEqual(
      got.map((f) => [f?.opcode, f?.payload.length]),
      [
        [0x1, 5],
        [0x2, 200_000],
        [0x1, 5],
        [0x2, 6],
        [0x2, 5],
      ],
    );
    assert.equal(got[3]?.payload.toString(), "fourth");
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

describe("ping and pong", () => {
  test("a ping is answered with a masked pong carrying the same data; events fire", async () => {
    const { ws, connection } = await connected();
    const pinged = nextEvent<[Buffer]>(ws, "ping");
    connection.socket.write(buildFrame(0x9, "are you there"));
    const [data] = await pinged;
    assert.equal(data.toString(), "are you there");
    const pong = await connection.reader.next();
    assert.equal(pong?.opcode, 0xa);
    assert.ok(pong?.masked);
    assert.equal(pong?.payload.toString(), "are you there");
    const ponged = nextEvent<[Buffer]>(ws, "pong");
    connection.socket.write(buildFrame(0xa, "unsolicited"));
    assert.equal((await ponged)[0].toString(), "unsolicited");
    ws.ping("x", undefined, (error) => assert.equal(error, null));
    const ping = await connection.reader.next();
    assert.equal(ping?.opcode, 0x9);
    assert.throws(() => ws.ping(Buffer.alloc(126)), RangeError);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("autoPong: false leaves pings unanswered", async () => {
    const { ws, connection } = await connected("/", { perMessageDeflate: false, autoPong: false });
    const pinged = nextEvent(ws, "ping");
    connection.socket.write(buildFrame(0x9, "x"));
    await pinged;
    ws.send("after");
    const frame = await connection.reader.next();
    assert.equal(frame?.opcode, 0x1);
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

describe("closing", () => {
  test("client-initiated: close frame, CLOSING, server echoes and closes TCP: clean", async () => {
    const { ws, connection } = await connected();
    ws.close(1000, "bye");
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const frame = await connection.reader.next();
    assert.equal(frame?.opcode, 0x8);
    assert.equal(frame?.payload.readUInt16BE(0), 1000);
    assert.equal(frame?.payload.subarray(2).toString(), "bye");
    const closed = nextEvent<[number, Buffer]>(ws, "close");
    connection.socket.end(buildFrame(0x8, closePayload(1000, "ok")));
    const [code, reason] = await closed;
    assert.equal(code, 1000);
    assert.equal(reason.toString(), "ok");
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test("server-initiated: echo with the same code, wait for the server to close TCP", async () => {
    const { ws, connection } = await connected();
    let closed = false;
    ws.on("close", () => {
      closed = true;
    });
    connection.socket.write(buildFrame(0x8, closePayload(4001, "server says")));
    const echo = await connection.reader.next();
    assert.equal(echo?.opcode, 0x8);
    assert.ok(echo?.masked);
    assert.equal(echo?.payload.readUInt16BE(0), 4001);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    // The client must not consider the connection closed before the server ends TCP.
    await delay(50);
    assert.equal(closed, false);
    const events: string[] = [];
    ws.onclose = (event) => events.push(`${event.code}:${event.reason}:${event.wasClean}`);
    connection.socket.end();
    await nextEvent(ws, "close");
    assert.deepEqual(events, ["4001:server says:true"]);
  });

  test("an empty close frame is answered with an empty one and reported as 1005", async () => {
    const { ws, connection } = await connected();
    connection.socket.write(buildFrame(0x8));
    const echo = await connection.reader.next();
    assert.equal(echo?.opcode, 0x8);
    assert.equal(echo?.payload.length, 0);
    const closed = nextEvent<[number]>(ws, "close");
    connection.socket.end();
    assert.equal((await closed)[0], 1005);
  });

  test("the client gives up waiting for the server's TCP close after closeTimeout", async () => {
    const { ws, connection } = await connected("/", {
      perMessageDeflate: false,
      closeTimeout: 100,
    });
    const closed = nextEvent<[number]>(ws, "close");
    ws.close(4000);
    await connection.reader.next();
    // The server never answers: the client destroys the socket; no close frame came: 1006.
    assert.equal((await closed)[0], 1006);
    let wasClean = true;
    ws.onclose = (event) => {
      wasClean = event.wasClean;
    };
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal(wasClean, true, "onclose set after close does not fire again");
  });

  test("abnormal TCP end: 1006, wasClean false, no error event needed", async () => {
    const { ws, connection } = await connected();
    const seen: string[] = [];
    ws.onclose = (event) => seen.push(`${event.code}:${event.wasClean}`);
    connection.socket.destroy();
    await nextEvent(ws, "close");
    assert.deepEqual(seen, ["1006:false"]);
  });

  test("TCP end after a close frame was received but not answered yet still closes", async () => {
    const { ws, connection } = await connected();
    const closed = nextEvent<[number]>(ws, "close");
    connection.socket.end(buildFrame(0x8, closePayload(1001)));
    assert.equal((await closed)[0], 1001);
  });

  test("terminate: immediate, 1006", async () => {
    const { ws, connection } = await connected();
    const closed = nextEvent<[number]>(ws, "close");
    ws.terminate();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.equal((await closed)[0], 1006);
    assert.equal(await connection.reader.next(), null);
  });

  test("messages received before the close frame are delivered before close", async () => {
    const { ws, connection } = await connected();
    const order: string[] = [];
    ws.on("message", (data) => order.push(String(data)));
    ws.on("close", (code) => order.push(`close:${code}`));
    connection.socket.end(
      Buffer.concat([
        buildFrame(0x1, "one"),
        buildFrame(0x1, "two"),
        buildFrame(0x8, closePayload(1000)),
      ]),
    );
    await nextEvent(ws, "close");
    assert.deepEqual(order, ["one", "two", "close:1000"]);
  });
});

describe("protocol errors fail the connection", () => {
  const cases: [string, Buffer, number][] = [
    ["RSV2 set", buildFrame(0x1, "x", { rsv2: true }), 1002],
    ["masked server frame", buildFrame(0x1, "x", { mask: true }), 1002],
    ["unknown opcode", buildFrame(0x3, "x"), 1002],
    ["RSV1 without deflate", buildFrame(0x1, "x", { rsv1: true }), 1002],
    ["invalid UTF-8 text", buildFrame(0x1, Buffer.from([0xc3, 0x28])), 1007],
    ["continuation without a message", buildFrame(0x0, "x"), 1002],
    ["close code 1005 on the wire", buildFrame(0x8, closePayload(1005)), 1002],
  ];
  for (const [name, bytes, code] of cases) {
    test(`${name}: close ${code} sent, error then close 1006`, async () => {
      const { ws, connection } = await connected();
      const events: string[] = [];
      ws.on("error", (error) => events.push(`error:${ws.readyState}:${error.message.length > 0}`));
      ws.on("close", (closeCode) => events.push(`close:${closeCode}`));
      connection.socket.write(bytes);
      const frame = await connection.reader.next();
      assert.equal(frame?.opcode, 0x8);
      assert.equal(frame?.payload.readUInt16BE(0), code);
      // The client closes its side after failing.
      assert.equal(await connection.reader.next(), null);
      connection.socket.end();
      await nextEvent(ws, "close");
      assert.deepEqual(events, ["error:3:true", "close:1006"]);
    });
  }

  test("a message above maxPayload: 1009", async () => {
    const { ws, connection } = await connected("/", { perMessageDeflate: false, maxPayload: 10 });
    ws.on("error", () => {});
    connection.socket.write(buildFrame(0x2, Buffer.alloc(11)));
    const frame = await connection.reader.next();
    assert.equal(frame?.payload.readUInt16BE(0), 1009);
    connection.socket.end();
    await nextEvent(ws, "close");
  });

  test("no error listener: a hostile peer does not crash the process", async () => {
    const { ws, connection } = await connected();
    assert.equal(ws.listenerCount("error"), 0);
    connection.socket.write(buildFrame(0x1, "x", { rsv2: true }));
    await connection.reader.next();
    connection.socket.end();
    const [code] = await nextEvent<[number]>(ws, "close");
    assert.equal(code, 1006);
  });

  test("onerror counts as a listener and gets an ErrorEvent", async () => {
    const { ws, connection } = await connected();
    const messages: string[] = [];
    ws.onerror = (event) => messages.push(event.type, event.message);
    connection.socket.write(buildFrame(0x1, Buffer.from([0xff])));
    await connection.reader.next();
    connection.socket.end();
    await nextEvent(ws, "close");
    assert.equal(messages[0], "error");
    assert.ok(messages[1].length > 0);
  });
});

describe("permessage-deflate from a raw server", () => {
  test("compressed and uncompressed messages are delivered in arrival order", async () => {
    const { ws, connection } = await connected("/deflate", {});
    assert.equal(ws.extensions, "permessage-deflate");
    const big = Buffer.alloc(300_000, "abcdefgh");
    const received = collectMessages(ws, 4);
    connection.socket.write(
      Buffer.concat([
        buildFrame(0x1, deflated(big), { rsv1: true }),
        buildFrame(0x1, "plain"),
        buildFrame(0x2, deflated(Buffer.from([1, 2, 3])), { rsv1: true }),
        buildFrame(0x1, "last"),
      ]),
    );
    const messages = await received;
    assert.ok((messages[0][0] as Buffer).equals(big));
    assert.equal(String(messages[1][0]), "plain");
    assert.deepEqual([...(messages[2][0] as Buffer)], [1, 2, 3]);
    assert.equal(messages[2][1], true);
    assert.equal(String(messages[3][0]), "last");
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("inflated text that is not UTF-8: 1007", async () => {
    const { ws, connection } = await connected("/deflate", {});
    ws.on("error", () => {});
    connection.socket.write(buildFrame(0x1, deflated(Buffer.from([0xfe, 0xff])), { rsv1: true }));
    const frame = await connection.reader.next();
    assert.equal(frame?.payload.readUInt16BE(0), 1007);
    connection.socket.end();
    await nextEvent(ws, "close");
  });

  test("inflated size above maxPayload: 1009", async () => {
    const { ws, connection } = await connected("/deflate", { maxPayload: 1000 });
    ws.on("error", () => {});
    connection.socket.write(buildFrame(0x2, deflated(Buffer.alloc(100_000)), { rsv1: true }));
    const frame = await connection.reader.next();
    assert.equal(frame?.payload.readUInt16BE(0), 1009);
    connection.socket.end();
    await nextEvent(ws, "close");
  });

  test("sends at or above the threshold are compressed, small or compress:false ones not", async () => {
    const { ws, connection } = await connected("/deflate", {
      perMessageDeflate: { threshold: 100 },
    });
    ws.send("x".repeat(1000));
    ws.send("small");
    ws.send("y".repeat(1000), { compress: false });
    const frames = [];
    for (let i = 0; i < 3; i++) frames.push(await connection.reader.next());
    assert.deepEqual(
      frames.map((f) => f?.rsv1),
      [true, false, false],
    );
    assert.ok(frames[0]!.payload.length < 1000);
    ws.terminate();
    await nextEvent(ws, "close");
  });
});

describe("flow control", () => {
  test("pause holds messages back; resume delivers them in order", async () => {
    const { ws, connection } = await connected();
    ws.pause();
    assert.equal(ws.isPaused, true);
    let count = 0;
    ws.on("message", () => count++);
    connection.socket.write(
      Buffer.concat([buildFrame(0x1, "1"), buildFrame(0x1, "2"), buildFrame(0x1, "3")]),
    );
    await delay(50);
    assert.equal(count, 0);
    const received = collectMessages(ws, 3);
    ws.resume();
    assert.equal(ws.isPaused, false);
    const messages = await received;
    assert.deepEqual(
      messages.map(([data]) => String(data)),
      ["1", "2", "3"],
    );
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("pausing inside a message listener stops the rest of the same chunk", async () => {
    const { ws, connection } = await connected();
    const seen: string[] = [];
    ws.on("message", (data) => {
      seen.push(String(data));
      if (seen.length === 1) ws.pause();
    });
    connection.socket.write(Buffer.concat([buildFrame(0x1, "a"), buildFrame(0x1, "b")]));
    await delay(50);
    assert.deepEqual(seen, ["a"]);
    ws.resume();
    await delay(10);
    assert.deepEqual(seen, ["a", "b"]);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("bufferedAmount counts queued bytes; drain fires when everything is written", async () => {
    const { ws, connection } = await connected();
    connection.socket.pause();
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 8; i++) ws.send(chunk);
    assert.ok(ws.bufferedAmount >= 8 * chunk.length);
    const drained = nextEvent(ws, "drain", 20000);
    connection.socket.resume();
    await drained;
    assert.equal(ws.bufferedAmount, 0);
    ws.terminate();
    await nextEvent(ws, "close");
  });

  test("send callbacks run after the write, in order", async () => {
    const { ws } = await connected();
    const order: number[] = [];
    await new Promise<void>((resolve) => {
      ws.send("1", () => order.push(1));
      ws.send("2", {}, () => order.push(2));
      ws.send(Buffer.alloc(100_000), () => {
        order.push(3);
        resolve();
      });
    });
    assert.deepEqual(order, [1, 2, 3]);
    ws.terminate();
    await nextEvent(ws, "close");
  });
});
