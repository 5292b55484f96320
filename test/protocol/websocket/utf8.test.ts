import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isValidUtf8, Utf8Validator } from "../../../src/protocol/websocket/utf8.js";

const fatal = new TextDecoder("utf-8", { fatal: true });
function reference(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const valid: Array<[string, number[]]> = [
  ["empty", []],
  ["ascii", [0x48, 0x65, 0x6c, 0x6c, 0x6f]],
  ["NUL and DEL", [0x00, 0x7f]],
  ["smallest 2-byte U+0080", [0xc2, 0x80]],
  ["largest 2-byte U+07FF", [0xdf, 0xbf]],
  ["smallest 3-byte U+0800", [0xe0, 0xa0, 0x80]],
  ["last before surrogates U+D7FF", [0xed, 0x9f, 0xbf]],
  ["first after surrogates U+E000", [0xee, 0x80, 0x80]],
  ["U+FFFD", [0xef, 0xbf, 0xbd]],
  ["U+FFFF", [0xef, 0xbf, 0xbf]],
  ["BOM", [0xef, 0xbb, 0xbf]],
  ["smallest 4-byte U+10000", [0xf0, 0x90, 0x80, 0x80]],
  ["largest U+10FFFF", [0xf4, 0x8f, 0xbf, 0xbf]],
  ["kosme", [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5]],
];

const invalid: Array<[string, number[]]> = [
  ["lone continuation", [0x80]],
  ["continuation after ascii", [0x41, 0xbf]],
  ["overlong 2-byte C0", [0xc0, 0x80]],
  ["overlong 2-byte C1", [0xc1, 0xbf]],
  ["overlong 3-byte", [0xe0, 0x80, 0x80]],
  ["overlong 3-byte U+07FF", [0xe0, 0x9f, 0xbf]],
  ["overlong 4-byte", [0xf0, 0x80, 0x80, 0x80]],
  ["overlong 4-byte U+FFFF", [0xf0, 0x8f, 0xbf, 0xbf]],
  ["surrogate U+D800", [0xed, 0xa0, 0x80]],
  ["surrogate U+DFFF", [0xed, 0xbf, 0xbf]],
  ["surrogate pair encoded", [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80]],
  ["above U+10FFFF via F4 90", [0xf4, 0x90, 0x80, 0x80]],
  ["F5 lead", [0xf5, 0x80, 0x80, 0x80]],
  ["FE", [0xfe]],
  ["FF", [0xff]],
  ["truncated 2-byte", [0xc2]],
  ["truncated 3-byte", [0xe1, 0x80]],
  ["truncated 4-byte", [0xf0, 0x90, 0x80]],
  ["truncated then ascii", [0xe1, 0x80, 0x41]],
  ["5-byte form", [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ["6-byte form", [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80]],
  [
    "valid then invalid",
    [
      0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65,
      0x64, 0x69, 0x74, 0x65, 0x64,
    ],
  ],
];

describe("UTF-8 validation", () => {
  for (const [name, bytes] of valid) {
    it(`accepts ${name}`, () => {
      assert.equal(isValidUtf8(Uint8Array.from(bytes)), true);
      assert.equal(reference(Uint8Array.from(bytes)), true, "table agrees with TextDecoder");
    });
  }
  for (const [name, bytes] of invalid) {
    it(`rejects ${name}`, () => {
      assert.equal(isValidUtf8(Uint8Array.from(bytes)), false);
      assert.equal(reference(Uint8Array.from(bytes)), false, "table agrees with TextDecoder");
    });
  }

  it("rejects invalid bytes placed after long ASCII runs at every alignment", () => {
    for (let offset = 0; offset < 8; offset++) {
      for (const len of [0, 15, 16, 17, 63, 64, 65, 200, 1000]) {
        const backing = new Uint8Array(offset + len + 1).fill(0x61);
        backing[offset + len] = 0xff;
        const view = backing.subarray(offset);
        assert.equal(isValidUtf8(view), false, `offset ${offset} len ${len}`);
        assert.equal(isValidUtf8(view.subarray(0, len)), true);
      }
    }
  });

  it("fails at the first offending byte when fed incrementally", () => {
    const bytes = Uint8Array.from([0x61, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0x80]);
    const v = new Utf8Validator();
    assert.equal(v.feed(bytes, 0, 5), true, "ED is a valid lead byte");
    assert.equal(v.feed(bytes, 5, 6), false, "A0 after ED is a surrogate");
    assert.equal(v.feed(Uint8Array.from([0x41])), false, "stays failed");
    assert.equal(v.finish(), false);
    v.reset();
    assert.equal(v.feed(Uint8Array.from([0xe2, 0x82])), true);
    assert.equal(v.finish(), false, "open sequence at the end");
    assert.equal(v.feed(Uint8Array.from([0xac])), true);
    assert.equal(v.finish(), true);
  });

  it("clamps out-of-range bounds", () => {
    const v = new Utf8Validator();
    assert.equal(v.feed(Uint8Array.from([0x41, 0x42]), -3, 99), true);
    assert.equal(v.finish(), true);
  });

  it("agrees with TextDecoder({fatal:true}) on random bytes, whole and in any split", () => {
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0x80, max: 0xbf }),
      fc.constantFrom(0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0x41),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 300 }), fc.nat(), (arr, cut) => {
        const bytes = Uint8Array.from(arr);
        const expected = reference(bytes);
        assert.equal(isValidUtf8(bytes), expected);
        const split = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        const v = new Utf8Validator();
        const ok = v.feed(bytes, 0, split) && v.feed(bytes, split) && v.finish();
        assert.equal(ok, expected);
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees with TextDecoder on random valid text with long ASCII runs and odd offsets", () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string({ unit: "grapheme", maxLength: 5 }), fc.constant("a".repeat(90))),
          {
            maxLength: 20,
          },
        ),
        fc.integer({ min: 0, max: 7 }),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        fc.nat(),
        (parts, offset, corrupt, where) => {
          const text = enc.encode(parts.join(""));
          const backing = new Uint8Array(offset + text.length);
          backing.set(text, offset);
          const bytes = backing.subarray(offset);
          if (corrupt !== undefined && bytes.length > 0) bytes[where % bytes.length] = corrupt;
          assert.equal(isValidUtf8(bytes), reference(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("gives the same answers with a whole-buffer validator for large pieces", () => {
    const enc = new TextEncoder();
    const piece = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 200 }).map((t) => Array.from(enc.encode(t))),
      fc.constant(new Array(300).fill(0x62)),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (parts, cutSeeds) => {
          const bytes = Uint8Array.from(parts.flat());
          const expected = reference(bytes);
          const cuts = [...new Set(cutSeeds.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const v = new Utf8Validator(isUtf8);
          let ok = true;
          let from = 0;
          for (const cut of [...cuts, bytes.length]) {
            ok = ok && v.feed(bytes, from, cut);
            from = cut;
          }
          assert.equal(ok && v.finish(), expected);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("uses the whole-buffer validator only for complete sequences", () => {
    const seen: number[][] = [];
    const v = new Utf8Validator((b) => {
      seen.push(Array.from(b.subarray(b.length - 2)));
      return isUtf8(b);
    });
    const bytes = new Uint8Array(300).fill(0x41);
    bytes.set([0xf0, 0x9f, 0x98], 297); // a 4-byte sequence cut after 3 bytes
    assert.equal(v.feed(bytes), true);
    assert.deepEqual(seen, [[0x41, 0x41]], "the open sequence stays out of the whole-buffer call");
    assert.equal(v.finish(), false);
    assert.equal(v.feed(Uint8Array.from([0x80])), true);
    assert.equal(v.finish(), true);
  });
});
