/**
 * utf8Length against TextEncoder, the reference for what the client's send buffer and the
 * MessagePack encoder must count: lone surrogates as U+FFFD (3 bytes), pairs as 4 bytes, and
 * from any code-unit offset.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { utf8Length } from "../../src/protocol/utf8-length.js";

const encoder = new TextEncoder();

describe("utf8Length", () => {
  it("equals TextEncoder's length, lone surrogates included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        assert.equal(utf8Length(text), encoder.encode(text).length);
      }),
    );
    for (const text of ["", "\ud800", "a\udc00b", "\ud83d\ude00", "\ud83d", "é☃😀"]) {
      assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
    }
  });

  it("from an offset, counts the rest of the string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 100 }), fc.nat(), (text, n) => {
        const from = text.length === 0 ? 0 : n % (text.length + 1);
        assert.equal(utf8Length(text, from), encoder.encode(text.slice(from)).length);
      }),
    );
  });
});
