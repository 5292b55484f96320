/**
 * Fuzzing the incremental UTF-8 validator (src/protocol/websocket/utf8.ts) against Node's own
 * decoders: `buffer.isUtf8` (simdutf) and `TextDecoder` with `fatal: true`, in one piece and in
 * streaming mode. Random bytes, valid text bent by mutations, long ASCII runs at every alignment
 * (the word-at-a-time scan) and pieces long enough for the whole-buffer fast path, fed in random
 * splits: after every piece `feed` must say whether the bytes so far can still start valid UTF-8,
 * and `finish` whether they are valid.
 */
import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isValidUtf8, Utf8Validator } from "../../src/protocol/websocket/utf8.js";
import { cutsArb, fuzz, mutateBytes, mutationArb, split } from "./config.js";
import { isUtf8Prefix } from "./websocket-model.js";

const enc = new TextEncoder();

/** Bytes biased toward UTF-8's interesting values: lead bytes, continuations, boundaries. */
const byteArb = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.integer({ min: 0x80, max: 0xbf }),
  fc.constantFrom(0x00, 0x7f, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff),
);

/** Text-like input: valid UTF-8 of any code point, mutated, with random bytes mixed in. */
const textArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.array(byteArb, { maxLength: 300 }).map((a) => Uint8Array.from(a)),
  fc
    .tuple(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.oneof(fc.constant([]), fc.array(mutationArb, { minLength: 1, maxLength: 3 })),
    )
    .map(([s, m]) => mutateBytes(enc.encode(s), m)),
  // Lone surrogates: TextEncoder writes U+FFFD, so build their (invalid) 3-byte forms by hand.
  fc
    .array(
      fc.oneof(
        fc.string({ maxLength: 8 }).map((s) => Array.from(enc.encode(s))),
        fc.constantFrom([0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf]),
      ),
      { maxLength: 8 },
    )
    .map((parts) => Uint8Array.from(parts.flat())),
);

/** `bytes` placed at `offset` inside a larger buffer, so views start at any alignment. */
function atOffset(bytes: Uint8Array, offset: number): Uint8Array {
  const backing = new Uint8Array(bytes.length + offset + 3).fill(0xff);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}

/** What TextDecoder (fatal) says about the whole input, and at which piece streaming first threw. */
function textDecoderVerdict(pieces: Uint8Array[]): { valid: boolean; failedAt: number } {
  const streaming = new TextDecoder("utf-8", { fatal: true });
  let failedAt = -1;
  for (let i = 0; i < pieces.length && failedAt < 0; i++) {
    try {
      streaming.decode(pieces[i], { stream: true });
    } catch {
      failedAt = i;
    }
  }
  let valid = failedAt < 0;
  if (valid) {
    try {
      streaming.decode();
    } catch {
      valid = false;
    }
  }
  return { valid, failedAt };
}

/** Feeds `pieces` and checks each answer against the prefix reference; returns the final state. */
function checkPieces(validator: Utf8Validator, pieces: Uint8Array[]): void {
  let seen = new Uint8Array(0);
  let firstFalse = -1;
  for (let i = 0; i < pieces.length; i++) {
    const next = new Uint8Array(seen.length + pieces[i].length);
    next.set(seen);
    next.set(pieces[i], seen.length);
    seen = next;
    const ok = validator.feed(pieces[i]);
    assert.equal(ok, isUtf8Prefix(seen), `piece ${i}: feed() after ${seen.length} bytes`);
    if (!ok && firstFalse < 0) firstFalse = i;
  }
  const valid = isUtf8(seen);
  assert.equal(validator.finish(), valid, "finish()");
  assert.equal(isValidUtf8(seen), valid, "isValidUtf8");
  const decoder = textDecoderVerdict(pieces);
  assert.equal(decoder.valid, valid, "TextDecoder fatal agrees");
  assert.equal(decoder.failedAt, firstFalse, "TextDecoder streaming fails at the same piece");
}

describe("fuzz: UTF-8 validator", () => {
  it("random and mutated text, random splits: feed/finish match isUtf8 and TextDecoder", () => {
    fuzz(
      "random splits",
      fc.property(textArb, cutsArb, fc.boolean(), (bytes, cuts, whole) => {
        checkPieces(new Utf8Validator(whole ? isUtf8 : undefined), split(bytes, cuts));
      }),
      4000,
    );
  });

  it("long ASCII runs and long pieces at every alignment (word scan, whole-buffer path)", () => {
    const longArb = fc
      .array(
        fc.oneof(
          fc.integer({ min: 1, max: 400 }).map((n) => new Uint8Array(n).fill(0x61)),
          textArb,
        ),
        { minLength: 1, maxLength: 5 },
      )
      .map((parts) => Uint8Array.from(Buffer.concat(parts)));
    fuzz(
      "long pieces, any alignment",
      fc.property(
        longArb,
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.nat({ max: 7 }),
        fc.boolean(),
        (bytes, cuts, offset, whole) => {
          const pieces = split(bytes, cuts).map((p) => atOffset(p, offset));
          checkPieces(new Utf8Validator(whole ? isUtf8 : undefined), pieces);
        },
      ),
      1500,
    );
  });

  it("feed(bytes, start, end) equals feeding the clamped subarray; reset forgets everything", () => {
    fuzz(
      "bounds and reset",
      fc.property(
        textArb,
        fc.integer({ min: -5, max: 320 }),
        fc.integer({ min: -5, max: 320 }),
        textArb,
        (bytes, start, end, after) => {
          const a = new Utf8Validator();
          const b = new Utf8Validator();
          const lo = Math.max(start, 0);
          const hi = Math.min(end, bytes.length);
          assert.equal(a.feed(bytes, start, end), b.feed(bytes.subarray(lo, Math.max(lo, hi))));
          assert.equal(a.finish(), b.finish());
          a.reset();
          assert.equal(a.feed(after) && a.finish(), isUtf8(after));
        },
      ),
      2000,
    );
  });
});
