/**
 * MessagePack (src/protocol/msgpack.ts) is fuzzed in test/protocol/msgpack.test.ts (random bytes,
 * mutated encodings, round trips, declared lengths refused quickly). What this adds: the memory
 * bound itself. Headers declaring up to 4 GiB of string, binary, array, map or ext data, followed
 * by a few random bytes, are refused without the decoder allocating anything near the declared
 * size (measured on ArrayBuffer memory, for bins and strings, and on the heap, for arrays and
 * maps).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeMsgpack } from "../../src/protocol/msgpack.js";
import { arrayBufferBytes, fuzz } from "./config.js";

/** Headers with a 32-bit (or 16-bit) length or count field: str, bin, array, map, ext. */
const HEADERS = [0xdb, 0xc6, 0xdd, 0xdf, 0xc9, 0xda, 0xc5, 0xdc, 0xde, 0xc8];

describe("fuzz: MessagePack declared lengths", () => {
  it("huge declared lengths and counts with few bytes: refused, nothing allocated", () => {
    const inputArb = fc.record({
      header: fc.constantFrom(...HEADERS),
      declared: fc.oneof(fc.integer({ min: 1 << 20, max: 0xffffffff }), fc.constant(0xffffffff)),
      rest: fc.uint8Array({ maxLength: 64 }),
      nesting: fc.nat({ max: 3 }),
    });
    fuzz(
      "declared lengths",
      fc.property(fc.array(inputArb, { minLength: 32, maxLength: 32 }), (inputs) => {
        const encoded = inputs.map(({ header, declared, rest, nesting }) => {
          const wide =
            header === 0xdb ||
            header === 0xc6 ||
            header === 0xdd ||
            header === 0xdf ||
            header === 0xc9;
          const short = Math.max(declared & 0xffff, 0x1000); // more than `rest` can hold
          const length = wide
            ? [declared >>> 24, (declared >>> 16) & 255, (declared >>> 8) & 255, declared & 255]
            : [short >>> 8, short & 255];
          // Wrapped in fixarrays so the huge value sits inside a structure.
          return Uint8Array.from([...new Array(nesting).fill(0x91), header, ...length, ...rest]);
        });
        const heapBefore = process.memoryUsage().heapUsed;
        const before = arrayBufferBytes();
        const results = encoded.map((bytes) => decodeMsgpack(bytes));
        const grown = arrayBufferBytes() - before;
        const heapGrown = process.memoryUsage().heapUsed - heapBefore;
        for (const result of results) assert.equal(result.ok, false);
        assert.ok(grown < 1 << 20, `ArrayBuffer memory grew by ${grown} bytes`);
        assert.ok(heapGrown < 64 << 20, `heap grew by ${heapGrown} bytes`);
      }),
      100,
    );
  });
});
