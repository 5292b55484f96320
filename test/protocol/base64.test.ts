import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeBase64, encodeBase64 } from "../../src/protocol/base64.js";

const bytes = (...values: number[]) => new Uint8Array(values);

describe("base64", () => {
  it("encodes the RFC 4648 test vectors", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, encoded] of vectors) {
      assert.equal(encodeBase64(new TextEncoder().encode(plain)), encoded);
      assert.deepEqual(decodeBase64(encoded), new TextEncoder().encode(plain));
    }
  });

  it("encodes <01 02 03 04> as AQIDBA== (the Engine.IO document's example)", () => {
    assert.equal(encodeBase64(bytes(1, 2, 3, 4)), "AQIDBA==");
    assert.deepEqual(decodeBase64("AQIDBA=="), bytes(1, 2, 3, 4));
  });

  it("matches Buffer for any bytes, both ways, short and long", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => {
        const expected = Buffer.from(data).toString("base64");
        assert.equal(encodeBase64(data), expected);
        assert.deepEqual(decodeBase64(expected), data);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes from an offset, and accepts missing padding", () => {
    assert.deepEqual(decodeBase64("bAQIDBA==", 1), bytes(1, 2, 3, 4));
    assert.deepEqual(decodeBase64("AQIDBA"), bytes(1, 2, 3, 4));
    assert.deepEqual(decodeBase64("AQID"), bytes(1, 2, 3));
    assert.deepEqual(decodeBase64("AQ"), bytes(1));
    assert.deepEqual(decodeBase64(""), bytes());
  });

  it("refuses what is not base64", () => {
    for (const bad of [
      "A",
      "AQIDB",
      "AQ=D",
      "AQ===",
      "A===",
      "====",
      "AQ\u00e9D",
      "AQ\u20acD",
      "AQ D",
      "AQ-_",
      "Zg==Zg==",
      "Zm9v\n",
      "=Zm9",
    ]) {
      assert.equal(decodeBase64(bad), null, JSON.stringify(bad));
    }
  });
});
