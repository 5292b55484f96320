import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type ExtensionOffer,
  formatExtensions,
  parseExtensions,
} from "../../../src/protocol/websocket/extensions.js";

describe("Sec-WebSocket-Extensions parsing", () => {
  const valid: Array<[string, ExtensionOffer[]]> = [
    ["foo", [{ name: "foo", params: [] }]],
    [
      "permessage-deflate; client_max_window_bits",
      [{ name: "permessage-deflate", params: [{ name: "client_max_window_bits", value: true }] }],
    ],
    [
      "permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate",
      [
        {
          name: "permessage-deflate",
          params: [
            { name: "server_max_window_bits", value: "10" },
            { name: "client_max_window_bits", value: true },
          ],
        },
        { name: "permessage-deflate", params: [] },
      ],
    ],
    ['foo; bar="baz"', [{ name: "foo", params: [{ name: "bar", value: "baz" }] }]],
    ['foo; bar="b\\az"', [{ name: "foo", params: [{ name: "bar", value: "baz" }] }]],
    [
      "  foo ;bar = 1 ;  baz\t,\tqux  ",
      [
        {
          name: "foo",
          params: [
            { name: "bar", value: "1" },
            { name: "baz", value: true },
          ],
        },
        { name: "qux", params: [] },
      ],
    ],
    [
      "a, , b,",
      [
        { name: "a", params: [] },
        { name: "b", params: [] },
      ],
    ],
    [",a", [{ name: "a", params: [] }]],
    [
      "a; x=1; x=2",
      [
        {
          name: "a",
          params: [
            { name: "x", value: "1" },
            { name: "x", value: "2" },
          ],
        },
      ],
    ],
  ];
  for (const [header, expected] of valid) {
    it(`parses ${JSON.stringify(header)}`, () => {
      assert.deepEqual(parseExtensions(header), expected);
    });
  }

  const invalid = [
    "",
    "   ",
    ",",
    ";",
    "foo;",
    "foo; ",
    "foo;;bar",
    "foo bar",
    "foo; bar=",
    "foo; bar=;",
    "foo; =1",
    'foo; bar="unterminated',
    'foo; bar="two words"',
    'foo; bar=""',
    'foo; bar="a"b',
    "foo; bar=a=b",
    "fo@o",
    "foo; b@r",
    "foo; bar=1 2",
    "foo; bar=\u00e9",
    'foo; bar="\u0001"',
  ];
  for (const header of invalid) {
    it(`rejects ${JSON.stringify(header)}`, () => {
      assert.equal(parseExtensions(header), null);
    });
  }

  it("formats offers, quoting non-token values", () => {
    assert.equal(
      formatExtensions([
        { name: "permessage-deflate", params: [{ name: "client_max_window_bits", value: true }] },
        {
          name: "x",
          params: [
            { name: "a", value: "1" },
            { name: "b", value: 'two "words"' },
          ],
        },
      ]),
      'permessage-deflate; client_max_window_bits, x; a=1; b="two \\"words\\""',
    );
  });

  it("round-trips format and parse for token names and values", () => {
    const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,8}$/);
    const offer = fc.record({
      name: token,
      params: fc.array(
        fc.record({ name: token, value: fc.oneof(token, fc.constant(true as const)) }),
        {
          maxLength: 4,
        },
      ),
    });
    fc.assert(
      fc.property(fc.array(offer, { minLength: 1, maxLength: 4 }), (offers) => {
        // fast-check records have a null prototype; compare as plain data.
        const plain = JSON.parse(JSON.stringify(offers));
        assert.deepEqual(parseExtensions(formatExtensions(offers)), plain);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        const result = parseExtensions(text);
        assert.ok(result === null || Array.isArray(result));
      }),
      { numRuns: 1000 },
    );
  });
});
