/**
 * Fragmented messages in the frame parser (issue 9): the `maxFragments` limit (1008, checked on
 * the header of the frame past it), and fragments costing the bytes they carry: no chunk stays
 * referenced per fragment until the message completes.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FrameParser } from "../../../src/protocol/websocket/frame-parser.js";
import { recordingParser, serverOptions } from "./parser-helpers.js";

/** A masked client frame (key 0: masking leaves the payload as it is). */
function frame(opcode: number, payload: Uint8Array, fin: boolean, rsv1 = false): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : 4;
  const out = new Uint8Array(header + 4 + length);
  out[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) out[1] = 0x80 | length;
  else {
    out[1] = 0x80 | 126;
    out[2] = length >> 8;
    out[3] = length & 0xff;
  }
  out.set(payload, header + 4);
  return out;
}

/** `count` frames of `size` bytes making one message; frame i carries bytes `(i + j) & 0xff`. */
function fragments(count: number, size: number, opcode = 0x2, rsv1 = false): Uint8Array[] {
  return Array.from({ length: count }, (_, i) =>
    frame(
      i === 0 ? opcode : 0x0,
      Uint8Array.from({ length: size }, (_, j) => (i + j) & 0xff),
      i === count - 1,
      rsv1 && i === 0,
    ),
  );
}

describe("maxFragments", () => {
  test("a message of exactly maxFragments frames is accepted", () => {
    const { parser, events } = recordingParser({ ...serverOptions, maxFragments: 100 });
    for (const chunk of fragments(100, 3)) parser.push(chunk);
    assert.equal(events.length, 1);
    assert.equal(events[0][0], "message");
  });

  test("the frame past it fails with 1008 as soon as its header is read", () => {
    const { parser, events } = recordingParser({ ...serverOptions, maxFragments: 100 });
    const chunks = fragments(101, 3);
    for (const chunk of chunks.slice(0, 100)) parser.push(chunk);
    assert.deepEqual(events, []);
    // Only the header of frame 101: its payload is never waited for.
    parser.push(chunks[100].subarray(0, 6));
    assert.deepEqual(events, [["error", 1008, "too many fragments in one message"]]);
  });

  test("the count is per message, and covers compressed messages too", () => {
    const { parser, events } = recordingParser({
      ...serverOptions,
      maxFragments: 10,
      permessageDeflate: true,
    });
    for (let message = 0; message < 3; message++) {
      for (const chunk of fragments(10, 1)) parser.push(chunk);
    }
    assert.equal(events.filter((event) => event[0] === "message").length, 3);
    for (const chunk of fragments(11, 1, 0x2, true)) parser.push(chunk);
    assert.deepEqual(events.at(-1), ["error", 1008, "too many fragments in one message"]);
  });

  test("0 (the parser's default) means no limit", () => {
    const { parser, events } = recordingParser(serverOptions);
    for (const chunk of fragments(100_000, 1)) parser.push(chunk);
    assert.equal(events.length, 1);
    assert.equal((events[0] as ["message", boolean, number[]])[2].length, 100_000);
  });
});

describe("fragments cost the bytes they carry", () => {
  test("no chunk of an unfinished message stays referenced, and the message is intact", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let message: Uint8Array | null = null;
    const parser = new FrameParser(serverOptions, {
      message: (_isBinary, payload) => {
        message = payload;
      },
      compressedFrame: () => {},
      ping: () => {},
      pong: () => {},
      close: () => {},
      error: (code, reason) => assert.fail(`${code} ${reason}`),
    });
    const COUNT = 20_000;
    // The chunks' memory (ArrayBuffers): a view of a chunk keeps it alive, not the chunk object.
    const refs: WeakRef<ArrayBufferLike>[] = [];
    // Each one-byte fragment in a chunk of its own, as when the peer writes them one by one.
    const frames = fragments(COUNT, 1);
    for (let i = 0; i < COUNT - 1; i++) {
      const chunk = frames[i].slice();
      refs.push(new WeakRef(chunk.buffer));
      parser.push(chunk);
    }
    frames.length = 0;
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const alive = refs.filter((ref) => ref.deref() !== undefined).length;
    // Before: one view per fragment, each keeping its chunk alive (all 19,999 of them).
    // The first few pieces are kept as views (a message in a few pieces is copied only once).
    assert.ok(alive <= 10, `${alive} of ${COUNT - 1} chunks still referenced`);
    parser.push(frame(0x0, Uint8Array.of((COUNT - 1) & 0xff), true));
    assert.ok(message !== null);
    const bytes = message as Uint8Array;
    assert.equal(bytes.length, COUNT);
    for (let i = 0; i < COUNT; i++) assert.equal(bytes[i], i & 0xff, `byte ${i}`);
  });

  test("large pieces are kept without a copy; the message still comes out whole", () => {
    const { parser, events } = recordingParser(serverOptions);
    const big = Uint8Array.from({ length: 60_000 }, (_, i) => i % 251);
    const whole = frame(0x2, big, true);
    // One frame spread over 4 chunks.
    for (let offset = 0; offset < whole.length; offset += 16_000) {
      parser.push(whole.slice(offset, offset + 16_000));
    }
    assert.equal(events.length, 1);
    assert.deepEqual((events[0] as ["message", boolean, number[]])[2], Array.from(big));
  });
});
