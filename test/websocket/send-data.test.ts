/**
 * What `send`, `ping`, `pong` and `prepareMessage` make of each kind of data: the frame's opcode
 * and payload bytes as a raw peer reads them (views with offsets, shared memory, Blobs, arrays
 * of chunks, values that are not data), and that a masking client leaves the caller's bytes as
 * they were.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { prepareMessage, type SendData, type WebSocket } from "../../src/websocket/websocket.js";
import {
  nextEvent,
  openClient,
  type RawConnection,
  type RawServer,
  startRawServer,
} from "./websocket-test-helpers.js";

const TEXT = 0x1;
const BINARY = 0x2;
const PING = 0x9;
const PONG = 0xa;

let server: RawServer;
before(async () => {
  server = await startRawServer();
});
after(() => server.close());

async function closed(ws: WebSocket, connection: RawConnection): Promise<void> {
  ws.terminate();
  connection.socket.destroy();
  await nextEvent(ws, "close");
}

/** The opcode and payload of the next frame the peer reads. */
async function nextFrame(connection: RawConnection): Promise<[number, number[]]> {
  const frame = await connection.reader.next();
  assert.ok(frame, "a frame");
  assert.equal(frame.masked, true, "client frames are masked");
  return [frame.opcode, [...frame.payload]];
}

/** Bytes 1..n in a buffer of its own. */
function counting(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i + 1);
}

describe("send", () => {
  test("strings are text frames of their UTF-8 bytes", async () => {
    const { ws, connection } = await openClient(server);
    ws.send("héllo");
    assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from("héllo")]]);
    ws.send("");
    assert.deepEqual(await nextFrame(connection), [TEXT, []]);
    await closed(ws, connection);
  });

  test("binary data is sent as the bytes it spans, offsets included", async () => {
    const { ws, connection } = await openClient(server);
    const backing = counting(16);
    const shared = new SharedArrayBuffer(3);
    new Uint8Array(shared).set([7, 8, 9]);
    const cases: [SendData, number[]][] = [
      [Buffer.from([1, 2, 3]), [1, 2, 3]],
      [Buffer.from(backing.buffer, 2, 3), [3, 4, 5]],
      [backing.buffer, [...backing]],
      [shared, [7, 8, 9]],
      [new Uint8Array(backing.buffer, 5, 2), [6, 7]],
      [new Uint16Array(backing.buffer, 4, 2), [5, 6, 7, 8]],
      [new Float64Array(backing.buffer, 8, 1), [9, 10, 11, 12, 13, 14, 15, 16]],
      [new DataView(backing.buffer, 3, 4), [4, 5, 6, 7]],
      [new Uint8Array(0), []],
    ];
    for (const [data, bytes] of cases) {
      ws.send(data);
      assert.deepEqual(await nextFrame(connection), [BINARY, bytes], String(data));
    }
    assert.deepEqual([...backing], [...counting(16)], "masking left the caller's bytes alone");
    await closed(ws, connection);
  });

  test("an array of chunks (binaryType 'fragments') is one binary message", async () => {
    const { ws, connection } = await openClient(server);
    const first = Buffer.from([1, 2]);
    const second = new Uint8Array([3]);
    ws.send([first, second]);
    assert.deepEqual(await nextFrame(connection), [BINARY, [1, 2, 3]]);
    ws.send([]);
    assert.deepEqual(await nextFrame(connection), [BINARY, []]);
    assert.deepEqual([...first, ...second], [1, 2, 3]);
    await closed(ws, connection);
  });

  test("a Blob is sent once read, in call order with the sends around it", async () => {
    const { ws, connection } = await openClient(server);
    ws.send("before");
    ws.send(new Blob([new Uint8Array([1, 2]), "é"]));
    ws.send(new Blob([]));
    ws.send("after");
    assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from("before")]]);
    assert.deepEqual(await nextFrame(connection), [BINARY, [1, 2, ...Buffer.from("é")]]);
    assert.deepEqual(await nextFrame(connection), [BINARY, []]);
    assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from("after")]]);
    await closed(ws, connection);
  });

  test("other values are sent as text, their string conversion (as browsers do)", async () => {
    const { ws, connection } = await openClient(server);
    for (const value of [42, true, null, { toString: () => "custom" }, {}]) {
      ws.send(value as unknown as SendData);
      assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from(String(value))]]);
    }
    await closed(ws, connection);
  });

  test("the binary option overrides the kind the data implies", async () => {
    const { ws, connection } = await openClient(server);
    ws.send("text as binary", { binary: true });
    assert.deepEqual(await nextFrame(connection), [BINARY, [...Buffer.from("text as binary")]]);
    ws.send(Buffer.from("bytes as text"), { binary: false });
    assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from("bytes as text")]]);
    ws.send(new DataView(counting(4).buffer, 1, 2), { binary: false });
    assert.deepEqual(await nextFrame(connection), [TEXT, [2, 3]]);
    await closed(ws, connection);
  });

  test("after close, bufferedAmount grows by each send's byte size", async () => {
    const { ws, connection } = await openClient(server);
    ws.close();
    const cases: [SendData, number][] = [
      ["é", 2],
      [new Uint16Array(3), 6],
      [new DataView(new ArrayBuffer(8), 2, 3), 3],
      [new ArrayBuffer(5), 5],
      [new Blob(["abcd"]), 4],
      [[new Uint8Array(2), new Uint8Array(3)], 5],
    ];
    for (const [data, size] of cases) {
      const before = ws.bufferedAmount;
      ws.send(data);
      assert.equal(ws.bufferedAmount - before, size, String(data));
    }
    connection.socket.destroy();
    await nextEvent(ws, "close");
  });
});

describe("ping and pong", () => {
  test("payloads: nothing, strings, binary data with offsets, other values as strings", async () => {
    const { ws, connection } = await openClient(server);
    const backing = counting(8);
    const shared = new SharedArrayBuffer(2);
    new Uint8Array(shared).set([5, 6]);
    const cases: [SendData | number | undefined, number[]][] = [
      [undefined, []],
      ["", []],
      ["é", [...Buffer.from("é")]],
      [Buffer.from([1, 2]), [1, 2]],
      [backing.buffer, [...backing]],
      [shared, [5, 6]],
      [new Uint16Array(backing.buffer, 2, 1), [3, 4]],
      [new DataView(backing.buffer, 6, 2), [7, 8]],
      [42, [...Buffer.from("42")]],
      [0, [...Buffer.from("0")]],
      [{} as SendData, [...Buffer.from("[object Object]")]],
    ];
    for (const [data, bytes] of cases) {
      ws.ping(data);
      assert.deepEqual(await nextFrame(connection), [PING, bytes], `ping ${String(data)}`);
      ws.pong(data);
      assert.deepEqual(await nextFrame(connection), [PONG, bytes], `pong ${String(data)}`);
    }
    assert.deepEqual([...backing], [...counting(8)], "masking left the caller's bytes alone");
    await closed(ws, connection);
  });

  test("a Blob is sent as its bytes once read, in call order with the sends around it (as ws 8.18+)", async () => {
    const { ws, connection } = await openClient(server);
    ws.send("before");
    ws.ping(new Blob([Uint8Array.from([1, 2, 3])]));
    ws.send("between");
    const ponged = new Promise((resolve) => ws.pong(new Blob(["é"]), resolve));
    ws.send("after");
    assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from("before")]]);
    assert.deepEqual(await nextFrame(connection), [PING, [1, 2, 3]]);
    assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from("between")]]);
    assert.deepEqual(await nextFrame(connection), [PONG, [...Buffer.from("é")]]);
    assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from("after")]]);
    assert.equal(await ponged, null);
    assert.throws(() => ws.ping(new Blob([new Uint8Array(126)])), RangeError);
    ws.pong(new Blob([new Uint8Array(125)]));
    assert.deepEqual(await nextFrame(connection), [PONG, new Array(125).fill(0)]);
    await closed(ws, connection);
  });

  test("the callback may take the data's place; over 125 bytes is a RangeError", async () => {
    const { ws, connection } = await openClient(server);
    const done = new Promise((resolve) => ws.ping(resolve));
    assert.deepEqual(await nextFrame(connection), [PING, []]);
    assert.equal(await done, null);
    assert.throws(() => ws.pong(new Uint8Array(126)), RangeError);
    assert.throws(() => ws.ping("x".repeat(126)), RangeError);
    ws.pong(new DataView(new ArrayBuffer(200), 10, 125));
    assert.deepEqual(await nextFrame(connection), [PONG, new Array(125).fill(0)]);
    await closed(ws, connection);
  });
});

describe("prepareMessage", () => {
  test("strings are text, the rest binary, of the bytes each spans", () => {
    const backing = counting(8);
    const cases: [string | ArrayBufferLike | ArrayBufferView, boolean, number[]][] = [
      ["é", false, [...Buffer.from("é")]],
      [Buffer.from([1, 2]), true, [1, 2]],
      [backing.buffer, true, [...backing]],
      [new Uint16Array(backing.buffer, 2, 2), true, [3, 4, 5, 6]],
      [new DataView(backing.buffer, 7, 1), true, [8]],
    ];
    for (const [data, binary, bytes] of cases) {
      const message = prepareMessage(data);
      assert.equal(message.binary, binary);
      assert.deepEqual([...message.payload], bytes);
      // A server frame: FIN and the opcode, then the (short) unmasked length and the payload.
      assert.deepEqual(
        [...message.frame],
        [0x80 | (binary ? BINARY : TEXT), bytes.length, ...bytes],
      );
    }
    assert.equal(prepareMessage("x", { binary: true }).binary, true);
    assert.equal(prepareMessage(Buffer.from("x"), { binary: false }).binary, false);
  });

  test("a client sends a prepared message masked, the shared payload untouched", async () => {
    const { ws, connection } = await openClient(server);
    const message = prepareMessage(new Uint8Array([9, 8, 7]));
    ws.sendPrepared(message);
    assert.deepEqual(await nextFrame(connection), [BINARY, [9, 8, 7]]);
    ws.sendPrepared(prepareMessage("hi"));
    assert.deepEqual(await nextFrame(connection), [TEXT, [...Buffer.from("hi")]]);
    assert.deepEqual([...message.payload], [9, 8, 7]);
    await closed(ws, connection);
  });
});
