/**
 * src/client/browser/base64.ts (the browser bundles' base64, over atob/btoa) against
 * src/protocol/base64.ts (everywhere else): same text for any bytes, same bytes or the same
 * refusal for any text, including near-base64 text (bad padding, stray "=", whitespace, characters
 * outside the alphabet or outside Latin-1) and decoding from an offset.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as browser from "../../src/client/browser/base64.js";
import * as protocol from "../../src/protocol/base64.js";

const nearBase64 = fc
  .array(
    fc.constantFrom(
      ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
      "=",
      "=",
      " ",
      "\n",
      "\t",
      "-",
      "_",
      "\u00e9",
      "\u20ac",
    ),
    { maxLength: 40 },
  )
  .map((chars) => chars.join(""));

describe("browser base64 (atob/btoa) against the protocol's", () => {
  it("encodes any bytes to the same text (long inputs cross the chunk size)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => {
        assert.equal(browser.encodeBase64(data), protocol.encodeBase64(data));
      }),
      { numRuns: 300, seed: 10 },
    );
    const long = new Uint8Array(100_000).map((_, i) => (i * 7) & 255);
    assert.equal(browser.encodeBase64(long), protocol.encodeBase64(long));
  });

  it("decodes any text to the same bytes, or refuses it the same way", () => {
    fc.assert(
      fc.property(nearBase64, fc.nat(3), (text, start) => {
        const offset = Math.min(start, text.length);
        assert.deepEqual(
          browser.decodeBase64(text, offset),
          protocol.decodeBase64(text, offset),
          JSON.stringify([text, offset]),
        );
      }),
      { numRuns: 3000, seed: 10 },
    );
    const vectors = ["Zg", "Zg=", "Zg==", "Zm8=", "Z", "Zg===", "====", "Zg ==", "AB=C", "bZg=="];
    for (const text of vectors) {
      for (const start of [0, 1]) {
        assert.deepEqual(
          browser.decodeBase64(text, start),
          protocol.decodeBase64(text, start),
          text,
        );
      }
    }
    assert.deepEqual(browser.decodeBase64(""), protocol.decodeBase64(""));
  });
});
