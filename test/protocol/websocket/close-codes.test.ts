import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CloseCode,
  encodeClosePayload,
  isValidApplicationCloseCode,
  isValidWireCloseCode,
  parseClosePayload,
} from "../../../src/protocol/websocket/close-codes.js";

describe("close codes", () => {
  it("classifies wire codes per the design table", () => {
    const validCodes = [
      1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
    ];
    const invalidCodes = [
      0,
      999,
      1004,
      1005,
      1006,
      1015,
      1016,
      2000,
      2999,
      5000,
      65535,
      1000.5,
      Number.NaN,
    ];
    for (const code of validCodes) assert.equal(isValidWireCloseCode(code), true, String(code));
    for (const code of invalidCodes) assert.equal(isValidWireCloseCode(code), false, String(code));
  });

  it("classifies application codes (WHATWG close())", () => {
    for (const code of [1000, 3000, 4000, 4999])
      assert.equal(isValidApplicationCloseCode(code), true);
    for (const code of [999, 1001, 1002, 1011, 2999, 5000, 3000.5]) {
      assert.equal(isValidApplicationCloseCode(code), false, String(code));
    }
  });

  it("encodes code and reason", () => {
    assert.deepEqual(encodeClosePayload(), new Uint8Array(0));
    assert.deepEqual(encodeClosePayload(undefined, "ignored"), new Uint8Array(0));
    assert.deepEqual(encodeClosePayload(1000), Uint8Array.from([0x03, 0xe8]));
    assert.deepEqual(encodeClosePayload(4001, "é"), Uint8Array.from([0x0f, 0xa1, 0xc3, 0xa9]));
  });

  const table: Array<[string, number[], { code?: number; reason?: string; closeCode?: number }]> = [
    ["empty", [], { code: undefined, reason: "" }],
    ["one byte", [0x03], { closeCode: CloseCode.ProtocolError }],
    ["1000 no reason", [0x03, 0xe8], { code: 1000, reason: "" }],
    ["1000 with reason", [0x03, 0xe8, 0x62, 0x79, 0x65], { code: 1000, reason: "bye" }],
    ["BOM kept in reason", [0x03, 0xe8, 0xef, 0xbb, 0xbf, 0x41], { code: 1000, reason: "\ufeffA" }],
    ["1014", [0x03, 0xf6], { code: 1014, reason: "" }],
    ["4999", [0x13, 0x87], { code: 4999, reason: "" }],
    ["999", [0x03, 0xe7], { closeCode: CloseCode.ProtocolError }],
    ["1004", [0x03, 0xec], { closeCode: CloseCode.ProtocolError }],
    ["1005", [0x03, 0xed], { closeCode: CloseCode.ProtocolError }],
    ["1006", [0x03, 0xee], { closeCode: CloseCode.ProtocolError }],
    ["1015", [0x03, 0xf7], { closeCode: CloseCode.ProtocolError }],
    ["2999", [0x0b, 0xb7], { closeCode: CloseCode.ProtocolError }],
    ["5000", [0x13, 0x88], { closeCode: CloseCode.ProtocolError }],
    ["bad UTF-8 reason", [0x03, 0xe8, 0xff], { closeCode: CloseCode.InvalidPayload }],
    ["truncated UTF-8 reason", [0x03, 0xe8, 0xe2, 0x82], { closeCode: CloseCode.InvalidPayload }],
  ];
  for (const [name, bytes, expected] of table) {
    it(`parses ${name}`, () => {
      const result = parseClosePayload(Uint8Array.from(bytes));
      if (expected.closeCode !== undefined) {
        assert.equal(result.ok, false);
        if (!result.ok) {
          assert.equal(result.closeCode, expected.closeCode);
          assert.equal(typeof result.message, "string");
        }
      } else {
        assert.deepEqual(result, { ok: true, code: expected.code, reason: expected.reason });
      }
    });
  }

  it("round-trips encode and parse", () => {
    const result = parseClosePayload(encodeClosePayload(3001, "nö ✓"));
    assert.deepEqual(result, { ok: true, code: 3001, reason: "nö ✓" });
  });
});
