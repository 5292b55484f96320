/**
 * The byte-level packet parser against the text parser: whatever it accepts, it gives exactly the
 * packet the Decoder gives for the decoded text; whatever it leaves (null), the Decoder still
 * parses or refuses as before. And the string-end search (WebAssembly SIMD for long texts)
 * against a byte-by-byte reference.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Decoder, SocketPacketType } from "../../../src/protocol/socketio/index.js";
import {
  MIN_REMEMBERED_LENGTH,
  safeStringUtf8Length,
} from "../../../src/protocol/socketio/json-safe-strings.js";
import {
  findStringEnd,
  loadText,
  MAX_LOADED_LENGTH,
  MIN_LOADED_LENGTH,
} from "../../../src/protocol/socketio/json-string-end.js";
import { parsePacketBytes } from "../../../src/protocol/socketio/packet-bytes-parser.js";

const S = SocketPacketType;

function decode(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8", start, end);
}

function parseBytes(text: string, prefix = "") {
  const bytes = Buffer.from(prefix + text);
  return parsePacketBytes(bytes, Buffer.byteLength(prefix), decode);
}

/** Checks the byte parser against the Decoder on `text`; returns whether it took the fast path. */
function agrees(text: string): boolean {
  const fast = parseBytes(text, "4");
  // The WebSocket layer hands over valid UTF-8 only: the reference is the text it decodes to.
  const reference = new Decoder({ maxDepth: 500 }).add(Buffer.from(text).toString());
  if (fast === null) return false;
  assert.ok(reference.ok, `the byte parser took ${JSON.stringify(text)}, the Decoder refuses it`);
  assert.deepEqual(fast, reference.packet, `for ${JSON.stringify(text)}`);
  return true;
}

describe("socket.io byte-level packet parser", () => {
  it("takes the common forms", () => {
    assert.deepEqual(parseBytes('2["echo","hello"]'), {
      type: S.Event,
      nsp: "/",
      data: ["echo", "hello"],
      id: undefined,
    });
    assert.deepEqual(parseBytes('2100["echo","hi",1,-2.5e3,true,false,null]', "4"), {
      type: S.Event,
      nsp: "/",
      data: ["echo", "hi", 1, -2500, true, false, null],
      id: 100,
    });
    assert.deepEqual(parseBytes('3/chat,7["ok","é😀"]'), {
      type: S.Ack,
      nsp: "/chat",
      data: ["ok", "é😀"],
      id: 7,
    });
    assert.deepEqual(parseBytes("37[]"), { type: S.Ack, nsp: "/", data: [], id: 7 });
    assert.ok(Object.is((parseBytes('2["n",-0]')!.data as unknown[])[1], -0));
  });

  it("leaves everything else to the text parser", () => {
    for (const text of [
      "",
      "2",
      "0",
      "0/admin,",
      '1/admin,["a"]',
      '4{"message":"no"}',
      '51-["a",{"_placeholder":true,"num":0}]',
      '2["a",{"b":1}]',
      '2["a",["b"]]',
      '2[ "a"]',
      '2["a" ]',
      '2["a\\"b"]',
      '2["a\\u0041"]',
      '2["a\tb"]',
      '2["a\nb"]',
      "2[]",
      '2["connect"]',
      '2["disconnect",1]',
      '2["newListener"]',
      "2[1.]",
      "2[01]",
      "2[-]",
      "2[1e]",
      "2[+1]",
      "2[tru]",
      "2[nul]",
      '2["a",]',
      '2["a"]]',
      '2["a"',
      '2["a"]x',
      '2["a""b"]',
      '2/admin["a"]',
      '2123456789012345678["a"]',
      "31",
      '3["a"]',
      `2/${"n".repeat(300)},["a"]`,
    ]) {
      assert.equal(parseBytes(text), null, JSON.stringify(text));
    }
  });

  it("agrees with the Decoder on generated packets", () => {
    const plainString = fc.oneof(
      fc
        .string({ unit: "grapheme-ascii", maxLength: 10 })
        .filter((t) => JSON.stringify(t) === `"${t}"`),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ maxLength: 300 }),
      fc.string({ unit: "grapheme-ascii", minLength: 100, maxLength: 700 }),
    );
    const element = fc.oneof(
      plainString,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(0, -0, 1e21, 123456789012345, 1.2345678901234568e18, 5e-324),
    );
    const packet = fc
      .tuple(
        fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom("2", "3") },
          { weight: 1, arbitrary: fc.constantFrom("0", "1", "4", "5", "6") },
        ),
        fc.constantFrom("", "", "", "/", "/chat,", "/é,", "/a"),
        fc.oneof(fc.constant(""), fc.nat().map(String), fc.constantFrom("007", "9007199254740993")),
        fc.array(element, { maxLength: 6 }),
        fc.oneof(
          { weight: 8, arbitrary: fc.constant("") },
          { weight: 1, arbitrary: fc.constantFrom(" ", "x", "]") },
        ),
      )
      .map(([type, nsp, id, data, tail]) => {
        const json = JSON.stringify(data);
        return `${type}${nsp}${id}${json}${tail}`;
      });
    let taken = 0;
    fc.assert(
      fc.property(packet, (text) => {
        if (agrees(text)) taken++;
      }),
      { seed: 20261207, numRuns: 3000 },
    );
    assert.ok(taken > 300, `only ${taken} packets took the byte path`);
  });

  it("agrees with the Decoder on raw text around string contents (escapes, controls, quotes)", () => {
    const piece = fc.oneof(
      fc.constantFrom('"', "\\", "\\n", "\\u0000", "\\ud800", "\n", "\t", "\u0000", "\u001f", " "),
      fc.constantFrom("\u007f", "é", "😀", "\ud800", "\udc00", "a", ",", "]", "["),
      fc.string({ unit: "grapheme-ascii", minLength: 0, maxLength: 200 }),
    );
    const body = fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(""));
    fc.assert(
      fc.property(body, body, (a, b) => {
        agrees(`2["echo","${a}"]`);
        agrees(`31["${a}","${b}"]`);
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it("gives the same name object for the same bytes, whatever came in between", () => {
    const first = parseBytes('2["chat","a"]')!.data[0];
    for (let n = 0; n < 200; n++) assert.equal(parseBytes(`2["n${n}",1]`)!.data[0], `n${n}`);
    assert.equal(parseBytes('2["chat","b"]')!.data[0], "chat");
    assert.equal(parseBytes('2["chat","c"]')!.data[0], parseBytes('2["chat","d"]')!.data[0]);
    assert.equal(first, "chat");
    assert.equal(parseBytes('2["chét",1]')!.data[0], "chét");
    assert.equal(parseBytes('2["chét",1]')!.data[0], "chét");
  });

  it("remembers strings with their UTF-8 length", () => {
    const long = `${"é".repeat(MIN_REMEMBERED_LENGTH)}x`;
    const packet = parseBytes(`2["echo","${long}"]`);
    assert.ok(packet !== null);
    const value = packet.data[1] as string;
    assert.equal(value, long);
    assert.equal(safeStringUtf8Length(value), Buffer.byteLength(long));
    assert.equal(safeStringUtf8Length("z".repeat(MIN_REMEMBERED_LENGTH)), -1);
  });
});

describe("json-string-end: the end of an escape-free JSON string", () => {
  /** The reference: the first byte from `from` that is `"`, `\` or below 0x20; else `end`. */
  function reference(bytes: Uint8Array, from: number, end: number): number {
    for (let i = from; i < end; i++) {
      const c = bytes[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c) return i;
    }
    return end;
  }

  it("finds the same byte as the reference, at every offset, short and long texts", () => {
    const special = fc.constantFrom(0x00, 0x01, 0x1f, 0x22, 0x5c);
    const plain = fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x22 && c !== 0x5c);
    const text = fc.tuple(
      fc.array(plain, { minLength: 0, maxLength: 3 * MIN_LOADED_LENGTH }),
      fc.array(fc.tuple(fc.nat(), special), { maxLength: 4 }),
      fc.nat({ max: 40 }),
      fc.nat({ max: 40 }),
    );
    fc.assert(
      fc.property(text, ([values, specials, before, after]) => {
        for (const [at, value] of specials)
          if (values.length > 0) values[at % values.length] = value;
        // Bytes around the text must not count: the search stays within [start, end).
        const bytes = new Uint8Array(before + values.length + after).fill(0x22);
        bytes.set(values, before);
        const start = before;
        const end = before + values.length;
        assert.ok(loadText(bytes, start, end));
        for (let from = start; from <= end; from++) {
          assert.equal(findStringEnd(bytes, from), reference(bytes, from, end));
        }
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it("searches texts up to the module's memory, and leaves longer ones", () => {
    const bytes = new Uint8Array(MAX_LOADED_LENGTH + 1).fill(0x61);
    bytes[MAX_LOADED_LENGTH - 1] = 0x22;
    assert.ok(loadText(bytes, 0, MAX_LOADED_LENGTH));
    assert.equal(findStringEnd(bytes, 0), MAX_LOADED_LENGTH - 1);
    assert.equal(loadText(bytes, 0, MAX_LOADED_LENGTH + 1), false);
  });
});
