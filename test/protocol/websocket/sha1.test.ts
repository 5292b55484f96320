import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha1 } from "../../../src/protocol/websocket/sha1.js";

const enc = new TextEncoder();
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("sha1", () => {
  // FIPS 180 / RFC 3174 test vectors.
  const vectors: Array<[string, string]> = [
    ["", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["abc", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    ],
    ["The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"],
  ];
  for (const [input, digest] of vectors) {
    it(`hashes ${JSON.stringify(input.slice(0, 20))}`, () => {
      assert.equal(hex(sha1(enc.encode(input))), digest);
    });
  }

  it("hashes one million 'a'", () => {
    assert.equal(
      hex(sha1(new Uint8Array(1_000_000).fill(0x61))),
      "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
    );
  });

  it("hashes across the padding boundaries (55, 56, 63, 64, 65 bytes)", () => {
    // Reference digests computed independently (sha1sum) for "a" repeated n times.
    const expected: Record<number, string> = {
      55: "c1c8bbdc22796e28c0e15163d20899b65621d65a",
      56: "c2db330f6083854c99d4b5bfb6e8f29f201be699",
      63: "03f09f5b158a7a8cdad920bddc29b81c18a551f5",
      64: "0098ba824b5c16427bd7a1122a5a442a25ec644d",
      65: "11655326c708d70319be2610e8a57d9a5b959d3b",
    };
    for (const [n, digest] of Object.entries(expected)) {
      assert.equal(hex(sha1(new Uint8Array(Number(n)).fill(0x61))), digest, `n=${n}`);
    }
  });
});
