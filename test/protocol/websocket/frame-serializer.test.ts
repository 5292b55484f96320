import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Opcode } from "../../../src/protocol/websocket/constants.js";
import {
  encodeFrame,
  encodeFrameHeader,
  MaskKeyPool,
  maskInPlace,
  maskRange,
  maskRangeWithKey,
} from "../../../src/protocol/websocket/frame-serializer.js";
import { SIMD_MASK_MIN, simdMaskRange } from "../../../src/protocol/websocket/simd-mask.js";
import { bytes } from "./parser-helpers.js";

const HELLO = new TextEncoder().encode("Hello");
const RFC_KEY = bytes(0x37, 0xfa, 0x21, 0x3d);

function naiveMask(data: Uint8Array, key: Uint8Array, keyOffset: number): Uint8Array {
  return data.map((b, i) => b ^ key[(i + keyOffset) & 3]);
}

describe("frame serializer", () => {
  it("encodes the RFC 6455 section 5.7 examples byte-exact", () => {
    assert.deepEqual(
      encodeFrame(Opcode.Text, HELLO),
      bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f),
    );
    assert.deepEqual(
      encodeFrame(Opcode.Text, HELLO, { maskKey: RFC_KEY }),
      bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
    );
    assert.deepEqual(
      encodeFrame(Opcode.Text, HELLO.subarray(0, 3), { fin: false }),
      bytes(0x01, 0x03, 0x48, 0x65, 0x6c),
    );
    assert.deepEqual(
      encodeFrame(Opcode.Continuation, HELLO.subarray(3)),
      bytes(0x80, 0x02, 0x6c, 0x6f),
    );
    assert.deepEqual(
      encodeFrame(Opcode.Ping, HELLO),
      bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f),
    );
    assert.deepEqual(
      encodeFrame(Opcode.Pong, HELLO, { maskKey: RFC_KEY }),
      bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
    );
    const b256 = encodeFrame(Opcode.Binary, new Uint8Array(256).fill(7));
    assert.deepEqual(b256.subarray(0, 4), bytes(0x82, 0x7e, 0x01, 0x00));
    assert.equal(b256.length, 260);
    const b64k = encodeFrame(Opcode.Binary, new Uint8Array(65536).fill(9));
    assert.deepEqual(b64k.subarray(0, 10), bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0));
    assert.equal(b64k.length, 65546);
    assert.ok(b64k.subarray(10).every((b) => b === 9));
  });

  it("chooses the length encoding at the boundaries", () => {
    const cases: Array<[number, number[]]> = [
      [0, [0x82, 0x00]],
      [125, [0x82, 125]],
      [126, [0x82, 126, 0x00, 126]],
      [65535, [0x82, 126, 0xff, 0xff]],
      [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
      [2 ** 32, [0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]],
      [Number.MAX_SAFE_INTEGER, [0x82, 127, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ];
    for (const [length, header] of cases) {
      assert.deepEqual(
        encodeFrameHeader(Opcode.Binary, length, true, false, null),
        Uint8Array.from(header),
        String(length),
      );
    }
  });

  it("sets FIN, RSV1, opcode and the mask key", () => {
    assert.deepEqual(encodeFrameHeader(Opcode.Text, 3, false, true, null), bytes(0x41, 0x03));
    assert.deepEqual(
      encodeFrameHeader(Opcode.Close, 2, true, false, RFC_KEY),
      bytes(0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d),
    );
    assert.deepEqual(
      encodeFrameHeader(Opcode.Binary, 300, true, false, RFC_KEY),
      bytes(0x82, 0xfe, 0x01, 0x2c, 0x37, 0xfa, 0x21, 0x3d),
    );
  });

  it("never mutates the payload it masks", () => {
    const payload = new Uint8Array(100).fill(0x55);
    const frame = encodeFrame(Opcode.Binary, payload, { maskKey: RFC_KEY });
    assert.ok(payload.every((b) => b === 0x55));
    assert.deepEqual(frame.subarray(6), naiveMask(payload, RFC_KEY, 0));
  });

  it("masks in place like the naive XOR for any alignment, length and key offset", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 7 }),
        (data, offset, key, keyOffset) => {
          const backing = new Uint8Array(offset + data.length);
          backing.set(data, offset);
          const view = backing.subarray(offset);
          maskInPlace(view, key, keyOffset);
          assert.deepEqual(view, naiveMask(data, key, keyOffset));
          assert.ok(
            backing.subarray(0, offset).every((b) => b === 0),
            "bytes before the view untouched",
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("unmasks piece by piece with key offsets", () => {
    const data = Uint8Array.from({ length: 257 }, (_, i) => i & 0xff);
    const masked = naiveMask(data, RFC_KEY, 0);
    for (const cut of [1, 2, 3, 5, 33, 100, 200]) {
      const copy = masked.slice();
      maskRange(copy, 0, cut, RFC_KEY, 0);
      maskRange(copy, cut, copy.length, RFC_KEY, cut & 3);
      assert.deepEqual(copy, data, `cut ${cut}`);
    }
  });

  it("masks large ranges (the WebAssembly SIMD path) like the bytewise reference", () => {
    // Lengths around the SIMD threshold, its 16-byte blocks and its 64 KiB memory, at every
    // alignment and key phase; bytes outside the range stay as they were.
    assert.ok(simdMaskRange !== null, "Node >= 20 has WebAssembly SIMD");
    const key = bytes(0x12, 0xab, 0x00, 0xff);
    for (const length of [
      SIMD_MASK_MIN - 1,
      SIMD_MASK_MIN,
      SIMD_MASK_MIN + 15,
      4096,
      65_536,
      65_537,
      200_003,
    ]) {
      for (const offset of [0, 1, 3]) {
        for (const phase of [0, 1, 2, 3]) {
          const data = Uint8Array.from({ length: length + offset + 8 }, (_, i) => (i * 131) & 0xff);
          const expected = data.slice();
          expected.set(naiveMask(data.subarray(offset, offset + length), key, phase), offset);
          maskRange(data, offset, offset + length, key, phase);
          assert.ok(
            Buffer.compare(data, expected) === 0,
            `length ${length}, offset ${offset}, phase ${phase}`,
          );
        }
      }
    }
  });

  it("masks with the key as one number like with the key bytes", () => {
    const data = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
    for (const phase of [0, 1, 2, 3]) {
      const a = data.slice();
      const b = data.slice();
      maskRange(a, 5, 2999, RFC_KEY, phase);
      maskRangeWithKey(b, 5, 2999, 0x37fa213d, phase);
      assert.deepEqual(a, b);
    }
  });

  it("hands out pool keys from batched random bytes", () => {
    let calls = 0;
    let counter = 0;
    const pool = new MaskKeyPool((target) => {
      calls++;
      for (let i = 0; i < target.length; i++) target[i] = counter++ & 0xff;
    }, 16);
    const keys = Array.from({ length: 9 }, () => pool.next());
    assert.equal(calls, 3, "16-byte batches give 4 keys each");
    assert.deepEqual(keys[0], bytes(0, 1, 2, 3));
    assert.deepEqual(keys[3], bytes(12, 13, 14, 15));
    assert.deepEqual(keys[4], bytes(16, 17, 18, 19));
    assert.deepEqual(keys[0], bytes(0, 1, 2, 3), "earlier keys survive a refill");
    for (const key of keys) assert.equal(key.length, 4);
  });

  it("uses crypto.getRandomValues by default and clamps the pool size", () => {
    const pool = new MaskKeyPool(undefined, 1_000_000);
    const seen = new Set<string>();
    for (let i = 0; i < 20000; i++) seen.add(pool.next().join(","));
    assert.ok(seen.size > 19000, "keys look random");
    const tiny = new MaskKeyPool(undefined, 1);
    assert.equal(tiny.next().length, 4);
  });
});
