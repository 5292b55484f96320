/**
 * writeFrameHeader / frameHeaderSize: the allocation-free header writer used by the write queue
 * must produce exactly the bytes encodeFrameHeader does, at any offset, touching nothing else.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Opcode } from "../../../src/protocol/websocket/constants.js";
import {
  encodeFrameHeader,
  frameHeaderSize,
  writeFrameHeader,
} from "../../../src/protocol/websocket/frame-serializer.js";
import { bytes } from "./parser-helpers.js";

const RFC_KEY = bytes(0x37, 0xfa, 0x21, 0x3d);

describe("writeFrameHeader", () => {
  it("writes the RFC 6455 section 5.7 headers at an offset and returns the end offset", () => {
    const target = new Uint8Array(20).fill(0xee);
    const end = writeFrameHeader(target, 3, Opcode.Text, 5, true, false, RFC_KEY);
    assert.equal(end, 9);
    assert.deepEqual(target.subarray(3, 9), bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d));
    assert.ok(
      target.subarray(0, 3).every((b) => b === 0xee),
      "bytes before are untouched",
    );
    assert.ok(
      target.subarray(9).every((b) => b === 0xee),
      "bytes after are untouched",
    );
    assert.equal(writeFrameHeader(target, 0, Opcode.Continuation, 2, true, false, null), 2);
    assert.deepEqual(target.subarray(0, 2), bytes(0x80, 0x02));
  });

  it("uses the shortest length encoding at each boundary", () => {
    const cases: Array<[number, number[]]> = [
      [0, [0x42, 0x00]],
      [125, [0x42, 125]],
      [126, [0x42, 126, 0x00, 126]],
      [65535, [0x42, 126, 0xff, 0xff]],
      [65536, [0x42, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
      [2 ** 32 + 5, [0x42, 127, 0, 0, 0, 1, 0, 0, 0, 5]],
    ];
    for (const [length, header] of cases) {
      const target = new Uint8Array(16);
      const end = writeFrameHeader(target, 1, Opcode.Binary, length, false, true, null);
      assert.equal(end, 1 + header.length, String(length));
      assert.deepEqual(target.subarray(1, end), Uint8Array.from(header), String(length));
      assert.equal(frameHeaderSize(length, false), header.length);
      assert.equal(frameHeaderSize(length, true), header.length + 4);
    }
  });

  it("matches encodeFrameHeader for any opcode, length, flags, key and offset", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 15 }),
        fc.oneof(
          fc.integer({ min: 0, max: 70_000 }),
          fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        ),
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 })),
        fc.integer({ min: 0, max: 9 }),
        (opcode, length, fin, rsv1, key, offset) => {
          const expected = encodeFrameHeader(opcode, length, fin, rsv1, key);
          assert.equal(frameHeaderSize(length, key !== null), expected.length);
          const target = new Uint8Array(offset + 14 + 3).fill(0xa5);
          const end = writeFrameHeader(target, offset, opcode, length, fin, rsv1, key);
          assert.equal(end, offset + expected.length);
          assert.deepEqual(target.subarray(offset, end), expected);
          assert.ok(target.subarray(0, offset).every((b) => b === 0xa5));
          assert.ok(target.subarray(end).every((b) => b === 0xa5));
        },
      ),
    );
  });
});
