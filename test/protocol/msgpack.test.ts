/**
 * The MessagePack codec: byte vectors written by hand from the spec for every format, interop
 * both ways with notepack.io (@socket.io/redis-adapter's codec) and @msgpack/msgpack
 * (@socket.io/redis-streams-adapter's), properties over random values and random bytes, and
 * hostile input.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";
import fc from "fast-check";
import notepack from "notepack.io";
import {
  DEFAULT_DECODE_MAX_DEPTH,
  DEFAULT_ENCODE_MAX_DEPTH,
  decodeMsgpack,
  encodeMsgpack,
  type MsgpackDecodeOptions,
  type MsgpackEncodeOptions,
} from "../../src/protocol/msgpack.js";

const SEED = 20240611;

/** "c4 03 01 02 03" -> bytes; spaces are ignored. */
function hex(text: string): Uint8Array {
  const digits = text.replaceAll(/\s+/g, "");
  assert.equal(digits.length % 2, 0, `odd hex: ${text}`);
  return Uint8Array.from({ length: digits.length / 2 }, (_, i) =>
    Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16),
  );
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function enc(value: unknown, options?: MsgpackEncodeOptions): Uint8Array {
  const result = encodeMsgpack(value, options);
  assert.ok(result.ok, `encode failed: ${!result.ok && result.reason}`);
  return result.bytes;
}

function encodeReason(value: unknown, options?: MsgpackEncodeOptions): string {
  const result = encodeMsgpack(value, options);
  assert.equal(result.ok, false, "expected the encoder to refuse");
  return result.ok ? "" : result.reason;
}

function dec(bytes: Uint8Array, options?: MsgpackDecodeOptions): unknown {
  const result = decodeMsgpack(bytes, options);
  assert.ok(
    result.ok,
    `decode of ${toHex(bytes.subarray(0, 40))} failed: ${!result.ok && result.reason}`,
  );
  return result.value;
}

function decodeReason(bytes: Uint8Array, options?: MsgpackDecodeOptions): string {
  const result = decodeMsgpack(bytes, options);
  assert.equal(result.ok, false, `expected a refusal, got ${result.ok && String(result.value)}`);
  return result.ok ? "" : result.reason;
}

function assertEncodes(value: unknown, expected: string): void {
  assert.equal(toHex(enc(value)), toHex(hex(expected)));
}

/** n bytes counting up from 0, wrapping. */
function counting(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i & 0xff);
}

/** An object with keys k0..k(n-1) mapping to their index. */
function keyed(n: number): Record<string, number> {
  const record: Record<string, number> = {};
  for (let i = 0; i < n; i++) record[`k${i}`] = i;
  return record;
}

/** The encoded entries of {@link keyed}. */
function keyedEntries(n: number): Uint8Array {
  return concat(...Array.from({ length: n }, (_, i) => concat(enc(`k${i}`), enc(i))));
}

function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/**
 * What a value becomes after a round trip, the way the codec's TSDoc says: binaries as plain
 * Uint8Arrays of their bytes, undefined map entries gone, undefined elsewhere null, -0 as 0, an
 * invalid Date null. Applied to a value another library decoded, it turns its binaries (Buffer,
 * ArrayBuffer) into Uint8Arrays too, so the two compare.
 */
function canonical(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "number") return Object.is(value, -0) ? 0 : value;
  if (typeof value !== "object" || value === null) return value;
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  }
  if (value instanceof ArrayBuffer) return new Uint8Array(value).slice();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (Array.isArray(value)) return value.map(canonical);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    Object.defineProperty(out, key, {
      value: canonical(item),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out;
}

const NUMBER_BOUNDARIES = [
  0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 32),
  -(2 ** 53 - 1),
  0.5,
  -0.5,
  1.1,
  Math.PI,
  -1e-300,
  1e300,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  Number.EPSILON,
];

// ------------------------------------------------------------------------------------------
// Arbitraries for the properties below
// ------------------------------------------------------------------------------------------

/** Any UTF-16 code unit: lone surrogates turn up, pairs now and then. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "binary", minLength: 60, maxLength: 400 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);
const key = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "0", "-1") },
);
const number = fc.oneof(
  fc.integer(),
  fc.integer({ min: -(2 ** 53 - 1), max: 2 ** 53 - 1 }),
  fc.constantFrom(...NUMBER_BOUNDARIES),
  fc.double(),
);
const binaryValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 20 }).map((b) => b.slice().buffer),
  fc.uint8Array({ minLength: 2, maxLength: 20 }).map((b) => new Uint8Array(b.buffer, 1)),
  fc.uint8Array({ maxLength: 20 }).map((b) => new DataView(b.slice().buffer)),
  fc.integer({ min: 0, max: 4 }).map((n) => new Int32Array(n).fill(-n)),
);
const date = fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true });

const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null), date);

/** Plain objects built from entries, "__proto__" as an own key included. */
function record(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    Object.defineProperty(out, k, {
      value: v,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out;
}

const { jsonish, withBinary } = fc.letrec<{ jsonish: unknown; withBinary: unknown }>((tie) => ({
  jsonish: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("jsonish"), { maxLength: 5 }),
    fc.array(fc.tuple(key, tie("jsonish")), { maxLength: 5 }).map(record),
  ),
  withBinary: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    binaryValue,
    date,
    fc.array(tie("withBinary"), { maxLength: 5 }),
    fc.array(fc.tuple(key, tie("withBinary")), { maxLength: 5 }).map(record),
    // Wide enough for the 16-bit headers; of scalars, so values stay small.
    fc.array(scalar, { minLength: 16, maxLength: 20 }),
    fc.array(fc.tuple(key, scalar), { minLength: 16, maxLength: 20 }).map(record),
  ),
}));

describe("msgpack encode: the spec's formats, byte for byte", () => {
  it("nil and bool", () => {
    assertEncodes(null, "c0");
    assertEncodes(undefined, "c0");
    assertEncodes(false, "c2");
    assertEncodes(true, "c3");
  });

  it("integers in the smallest form, at every boundary", () => {
    const vectors: [number, string][] = [
      [0, "00"],
      [1, "01"],
      [127, "7f"],
      [128, "cc 80"],
      [255, "cc ff"],
      [256, "cd 01 00"],
      [65535, "cd ff ff"],
      [65536, "ce 00 01 00 00"],
      [2 ** 31 - 1, "ce 7f ff ff ff"],
      [2 ** 31, "ce 80 00 00 00"],
      [2 ** 32 - 1, "ce ff ff ff ff"],
      [2 ** 32, "cf 00 00 00 01 00 00 00 00"],
      [2 ** 53 - 1, "cf 00 1f ff ff ff ff ff ff"],
      [-1, "ff"],
      [-32, "e0"],
      [-33, "d0 df"],
      [-128, "d0 80"],
      [-129, "d1 ff 7f"],
      [-32768, "d1 80 00"],
      [-32769, "d2 ff ff 7f ff"],
      [-(2 ** 31), "d2 80 00 00 00"],
      [-(2 ** 31) - 1, "d3 ff ff ff ff 7f ff ff ff"],
      [-(2 ** 32), "d3 ff ff ff ff 00 00 00 00"],
      [-(2 ** 53 - 1), "d3 ff e0 00 00 00 00 00 01"],
    ];
    for (const [value, bytes] of vectors) assertEncodes(value, bytes);
  });

  it("float 64 for fractions, non-finite numbers and integers beyond 2^53; -0 as 0", () => {
    assertEncodes(1.5, "cb 3f f8 00 00 00 00 00 00");
    assertEncodes(-0.1, "cb bf b9 99 99 99 99 99 9a");
    assertEncodes(Number.NaN, "cb 7f f8 00 00 00 00 00 00");
    assertEncodes(Number.POSITIVE_INFINITY, "cb 7f f0 00 00 00 00 00 00");
    assertEncodes(Number.NEGATIVE_INFINITY, "cb ff f0 00 00 00 00 00 00");
    assertEncodes(2 ** 53, "cb 43 40 00 00 00 00 00 00");
    assertEncodes(-(2 ** 53), "cb c3 40 00 00 00 00 00 00");
    assertEncodes(2 ** 64, "cb 43 f0 00 00 00 00 00 00");
    assertEncodes(-0, "00");
  });

  it("str: fixstr, str 8/16/32, at their boundaries", () => {
    assertEncodes("", "a0");
    assertEncodes("a", "a1 61");
    assert.equal(toHex(enc("x".repeat(31))), toHex(concat([0xbf], new Uint8Array(31).fill(0x78))));
    assert.equal(
      toHex(enc("x".repeat(32))),
      toHex(concat([0xd9, 32], new Uint8Array(32).fill(0x78))),
    );
    for (const [n, header] of [
      [255, [0xd9, 0xff]],
      [256, [0xda, 0x01, 0x00]],
      [65535, [0xda, 0xff, 0xff]],
      [65536, [0xdb, 0x00, 0x01, 0x00, 0x00]],
    ] as const) {
      const bytes = enc("y".repeat(n));
      assert.equal(bytes.length, header.length + n, `length of a ${n}-char string`);
      assert.deepEqual([...bytes.subarray(0, header.length)], header);
      assert.ok(bytes.subarray(header.length).every((b) => b === 0x79));
    }
  });

  it("str: UTF-8, lone surrogates as U+FFFD (TextEncoder's bytes)", () => {
    assertEncodes("é", "a2 c3 a9");
    assertEncodes("€", "a3 e2 82 ac");
    assertEncodes("😀", "a4 f0 9f 98 80");
    assertEncodes("\ud800", "a3 ef bf bd");
    assertEncodes("\udc00x", "a4 ef bf bd 78");
    assertEncodes("a\ud83dz", "a5 61 ef bf bd 7a");
    assertEncodes("\ud83d\ud83d\ude00", "a7 ef bf bd f0 9f 98 80");
    // A long string (encodeInto's path) with lone surrogates.
    const long = `${"\udfff".repeat(40)}${"q".repeat(40)}`;
    assert.equal(toHex(enc(long)), toHex(concat([0xd9, 160], new TextEncoder().encode(long))));
  });

  it("str: the header is the real UTF-8 length's when non-ASCII text outgrows the guess", () => {
    const te = new TextEncoder();
    // [string, expected header]: short (JS loop) and long (encodeInto) paths, header growing.
    const cases: [string, number[]][] = [
      ["é".repeat(15), [0xa0 | 30]],
      ["é".repeat(16), [0xd9, 32]],
      ["€".repeat(30), [0xd9, 90]],
      ["é".repeat(100), [0xd9, 200]],
      ["é".repeat(200), [0xda, 0x01, 0x90]],
      ["€".repeat(22000), [0xdb, 0x00, 0x01, 0x01, 0xd0]],
      [`${"x".repeat(300)}😀`, [0xda, 0x01, 0x30]],
    ];
    for (const [text, header] of cases) {
      assert.equal(toHex(enc(text)), toHex(concat(header, te.encode(text))), text.slice(0, 10));
    }
  });

  it("bin: every kind of binary, as its bytes", () => {
    assertEncodes(new Uint8Array(0), "c4 00");
    assertEncodes(new Uint8Array([1, 2, 3]), "c4 03 01 02 03");
    assertEncodes(Buffer.from([0xff, 0x00]), "c4 02 ff 00");
    assertEncodes(new Uint8Array([9, 8, 7]).buffer, "c4 03 09 08 07");
    const memory = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer;
    assertEncodes(new Uint8Array(memory, 2, 3), "c4 03 02 03 04");
    assertEncodes(new DataView(memory, 5, 2), "c4 02 05 06");
    assertEncodes(new Uint16Array(memory, 2, 2), "c4 04 02 03 04 05");
    assertEncodes(new Float64Array([1.5]), "c4 08 00 00 00 00 00 00 f8 3f"); // little-endian memory
    const shared = new SharedArrayBuffer(2);
    new Uint8Array(shared).set([4, 2]);
    assertEncodes(shared, "c4 02 04 02");
    for (const [n, header] of [
      [255, [0xc4, 0xff]],
      [256, [0xc5, 0x01, 0x00]],
      [65535, [0xc5, 0xff, 0xff]],
      [65536, [0xc6, 0x00, 0x01, 0x00, 0x00]],
    ] as const) {
      assert.equal(toHex(enc(counting(n))), toHex(concat(header, counting(n))), `${n} bytes`);
    }
  });

  it("array: fixarray, array 16/32", () => {
    assertEncodes([], "90");
    assertEncodes([1, [2]], "92 01 91 02");
    assert.equal(toHex(enc(Array(15).fill(0))), toHex(concat([0x9f], new Uint8Array(15))));
    assert.equal(toHex(enc(Array(16).fill(0))), toHex(concat([0xdc, 0, 16], new Uint8Array(16))));
    const big = enc(Array(65536).fill(1));
    assert.deepEqual([...big.subarray(0, 5)], [0xdd, 0x00, 0x01, 0x00, 0x00]);
    assert.equal(big.length, 5 + 65536);
  });

  it("array: undefined, functions and symbols become nil (JSON's null); holes too", () => {
    assertEncodes([undefined, () => 1, Symbol("s"), null], "94 c0 c0 c0 c0");
    const holey: number[] = new Array(2);
    holey[1] = 1;
    assertEncodes(holey, "92 c0 01");
  });

  it("map: fixmap, map 16/32", () => {
    assertEncodes({}, "80");
    assertEncodes({ a: 1 }, "81 a1 61 01");
    assertEncodes({ a: { b: [] } }, "81 a1 61 81 a1 62 90");
    assert.equal(toHex(enc(keyed(15))), toHex(concat([0x8f], keyedEntries(15))));
    assert.equal(toHex(enc(keyed(16))), toHex(concat([0xde, 0, 16], keyedEntries(16))));
    assert.equal(toHex(enc(keyed(300))), toHex(concat([0xde, 0x01, 0x2c], keyedEntries(300))));
    const big = enc(keyed(65536));
    assert.deepEqual([...big.subarray(0, 5)], [0xdf, 0x00, 0x01, 0x00, 0x00]);
    assert.equal(toHex(big.subarray(5)), toHex(keyedEntries(65536)));
  });

  it("map: own enumerable string keys only, in JSON.stringify's order", () => {
    assertEncodes({ b: 1, 2: 2, a: 3, 1: 4 }, "84 a1 31 04 a1 32 02 a1 62 01 a1 61 03");
    const inherited = Object.create({ inheritedKey: 1 }) as Record<string, unknown>;
    inherited.own = 2;
    Object.defineProperty(inherited, "hidden", { value: 3, enumerable: false });
    (inherited as Record<symbol, unknown>)[Symbol("s")] = 4;
    assertEncodes(inherited, "81 a3 6f 77 6e 02");
    assertEncodes(Object.assign(Object.create(null), { n: null }), "81 a1 6e c0");
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      get norm(): number {
        return 0;
      }
    }
    assertEncodes(new Point(1, 2), "82 a1 78 01 a1 79 02");
    assertEncodes(new Map([["a", 1]]), "80");
    assertEncodes(new Set([1]), "80");
    // An own "__proto__" key (JSON.parse makes one) is an ordinary key.
    assertEncodes(JSON.parse('{"__proto__":1}'), "81 a9 5f 5f 70 72 6f 74 6f 5f 5f 01");
  });

  it("map: entries holding undefined, a function or a symbol are left out, as JSON does", () => {
    assertEncodes({ a: undefined, b: 1, c: () => 2, d: Symbol("d") }, "81 a1 62 01");
    // 17 keys, one left out: the 16 kept need a map 16 header.
    const seventeen: Record<string, unknown> = { ...keyed(16), skip: undefined };
    assert.equal(toHex(enc(seventeen)), toHex(concat([0xde, 0, 16], keyedEntries(16))));
    // 16 keys, one left out: a fixmap of 15.
    const sixteen: Record<string, unknown> = { ...keyed(15), skip: () => 0 };
    assert.equal(toHex(enc(sixteen)), toHex(concat([0x8f], keyedEntries(15))));
  });

  it("map: reads each value once (a getter runs once)", () => {
    let calls = 0;
    const record = {
      get value() {
        calls++;
        return calls;
      },
    };
    assertEncodes(record, "81 a5 76 61 6c 75 65 01");
    assert.equal(calls, 1);
  });

  it("Date: timestamp 32, 64 and 96, as the spec and notepack.io choose them", () => {
    assertEncodes(new Date(0), "d6 ff 00 00 00 00");
    assertEncodes(new Date(1000), "d6 ff 00 00 00 01");
    assertEncodes(new Date((2 ** 32 - 1) * 1000), "d6 ff ff ff ff ff");
    // 1 ms = 1,000,000 ns = 0x0f4240; shifted left 2 bits above 34 bits of seconds.
    assertEncodes(new Date(1), "d7 ff 00 3d 09 00 00 00 00 00");
    assertEncodes(new Date(2 ** 32 * 1000), "d7 ff 00 00 00 01 00 00 00 00");
    // 999,000,000 ns = 0x3b8b87c0; shifted left 2 bits, plus the top 2 bits of the seconds.
    assertEncodes(new Date((2 ** 34 - 1) * 1000 + 999), "d7 ff ee 2e 1f 03 ff ff ff ff");
    assertEncodes(new Date(2 ** 34 * 1000), "c7 0c ff 00 00 00 00 00 00 00 04 00 00 00 00");
    // -1 ms: second -1 plus 999,000,000 ns (0x3b8b87c0).
    assertEncodes(new Date(-1), "c7 0c ff 3b 8b 87 c0 ff ff ff ff ff ff ff ff");
    assertEncodes(new Date(-1000), "c7 0c ff 00 00 00 00 ff ff ff ff ff ff ff ff");
    assertEncodes(new Date(Number.NaN), "c0");
    assertEncodes([new Date(0)], "91 d6 ff 00 00 00 00");
  });

  it("toJSON: applied once, with JSON.stringify's key; boxed primitives unwrapped", () => {
    assertEncodes({ toJSON: () => "x" }, "a1 78");
    assertEncodes([{ toJSON: (key: string) => key }], "91 a1 30");
    assertEncodes({ ab: { toJSON: (key: string) => key } }, "81 a2 61 62 a2 61 62");
    assertEncodes({ toJSON: () => new Uint8Array([1]) }, "c4 01 01");
    assertEncodes({ toJSON: () => new Date(0) }, "d6 ff 00 00 00 00");
    // A toJSON returning its own object: not applied again (JSON.stringify gives "{}").
    const selfish = {
      toJSON() {
        return this;
      },
    };
    assertEncodes(selfish, "80");
    assertEncodes(new String("ab"), "a2 61 62");
    assertEncodes(new Number(300), "cd 01 2c");
    assertEncodes(new Boolean(false), "c2");
    assertEncodes({ toJSON: () => undefined }, "c0");
  });

  it("BigInt: refused, unless it has a toJSON method", () => {
    assert.match(encodeReason(BigInt(1)), /BigInt/);
    assert.match(encodeReason({ a: [BigInt(1)] }), /BigInt/);
    assert.match(encodeReason(Object(BigInt(1))), /BigInt/);
    const proto = BigInt.prototype as unknown as { toJSON?: () => string };
    proto.toJSON = function (this: bigint) {
      return this.toString();
    };
    try {
      assertEncodes({ n: BigInt(12) }, "81 a1 6e a2 31 32");
    } finally {
      delete proto.toJSON;
    }
  });

  it("refuses a function or a symbol as the whole value", () => {
    assert.match(
      encodeReason(() => 1),
      /function/,
    );
    assert.match(encodeReason(Symbol("s")), /symbol/);
  });

  it("refuses circular data and data nested deeper than maxDepth, without a stack overflow", () => {
    assert.equal(DEFAULT_ENCODE_MAX_DEPTH, 1000);
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    assert.match(encodeReason(circular), /deeper than 1000 levels or circular/);
    const loop: unknown[] = [];
    loop.push({ loop });
    assert.match(encodeReason(loop), /circular/);
    assert.ok(encodeMsgpack(nested(1000)).ok);
    assert.match(encodeReason(nested(1001)), /deeper than 1000/);
    assert.match(encodeReason(nested(100_000)), /deeper than 1000/);
    assert.ok(encodeMsgpack(nested(2), { maxDepth: 2 }).ok);
    assert.match(encodeReason({ a: [[]] }, { maxDepth: 2 }), /deeper than 2/);
    assert.ok(encodeMsgpack("scalar", { maxDepth: 0 }).ok);
    assert.ok(encodeMsgpack(new Uint8Array(3), { maxDepth: 0 }).ok);
    assert.match(encodeReason([], { maxDepth: 0 }), /deeper than 0/);
    // A limit beyond what the stack allows is still an error value.
    const result = encodeMsgpack(nested(1_000_000), { maxDepth: 10_000_000 });
    assert.equal(result.ok, false);
  });

  it("throws RangeError for an invalid maxDepth (a programming error)", () => {
    for (const maxDepth of [-1, 1.5, Number.NaN]) {
      assert.throws(() => encodeMsgpack(1, { maxDepth }), RangeError);
      assert.throws(() => decodeMsgpack(hex("01"), { maxDepth }), RangeError);
    }
  });

  it("turns a throwing getter, toJSON or proxy into an error value", () => {
    const getter = {
      get boom(): never {
        throw new Error("getter failed");
      },
    };
    assert.match(encodeReason(getter), /getter failed/);
    const toJSON = () => {
      throw new Error("toJSON failed");
    };
    assert.match(encodeReason([{ toJSON }]), /toJSON failed/);
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("trap failed");
        },
      },
    );
    assert.match(encodeReason({ proxy }), /trap failed/);
    const throwsString = () => {
      throw "plain"; // not an Error
    };
    assert.match(encodeReason({ toJSON: throwsString }), /plain/);
    // The encoder works normally afterwards.
    assertEncodes([1], "91 01");
  });

  it("results never overlap: each is its own region of the pool", () => {
    const first = enc({ a: "first" });
    const firstCopy = first.slice();
    const others = Array.from({ length: 2000 }, (_, i) => enc([i, "x".repeat(i % 300)]));
    assert.deepEqual(first, firstCopy);
    others.forEach((bytes, i) => {
      assert.deepEqual(dec(bytes), [i, "x".repeat(i % 300)]);
    });
    // Wrapping as a Buffer without a copy, as Node callers do.
    const bytes = enc("hi");
    assert.deepEqual(
      [...Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)],
      [0xa2, 0x68, 0x69],
    );
    // A huge result gets its own buffer and does not keep growing the pool.
    const huge = enc(new Uint8Array(200_000));
    assert.equal(huge.length, 200_005);
    assert.deepEqual(dec(enc({ after: true })), { after: true });
  });

  it("an encode called from inside another (by toJSON) does not disturb the outer one", () => {
    let inner: Uint8Array | undefined;
    const value = {
      before: "x".repeat(100),
      middle: {
        toJSON() {
          inner = enc({ inner: [1, 2, 3] });
          return "m";
        },
      },
      after: [4, 5],
    };
    const outer = enc(value);
    assert.deepEqual(dec(outer), { before: "x".repeat(100), middle: "m", after: [4, 5] });
    assert.ok(inner);
    assert.deepEqual(dec(inner), { inner: [1, 2, 3] });
  });
});

describe("msgpack decode: the spec's formats", () => {
  it("ints, in every form, non-minimal ones included", () => {
    const vectors: [string, number][] = [
      ["00", 0],
      ["7f", 127],
      ["ff", -1],
      ["e0", -32],
      ["cc ff", 255],
      ["cc 01", 1],
      ["cd ff ff", 65535],
      ["cd 00 01", 1],
      ["ce ff ff ff ff", 2 ** 32 - 1],
      ["cf 00 1f ff ff ff ff ff ff", 2 ** 53 - 1],
      ["cf 00 00 00 00 00 00 00 05", 5],
      ["cf ff ff ff ff ff ff ff ff", 2 ** 64], // nearest double
      ["d0 80", -128],
      ["d0 7f", 127],
      ["d1 80 00", -32768],
      ["d1 00 05", 5],
      ["d2 80 00 00 00", -(2 ** 31)],
      ["d2 7f ff ff ff", 2 ** 31 - 1],
      ["d3 80 00 00 00 00 00 00 00", -(2 ** 63)],
      ["d3 ff ff ff ff ff ff ff ff", -1],
      ["d3 ff e0 00 00 00 00 00 01", -(2 ** 53 - 1)],
      ["d3 7f ff ff ff ff ff ff ff", 2 ** 63],
    ];
    for (const [bytes, value] of vectors) assert.equal(dec(hex(bytes)), value, bytes);
  });

  it("float 32 and float 64", () => {
    assert.equal(dec(hex("ca 3f c0 00 00")), 1.5);
    assert.equal(dec(hex("ca 3d cc cc cd")), Math.fround(0.1));
    assert.ok(Number.isNaN(dec(hex("ca 7f c0 00 00"))));
    assert.equal(dec(hex("ca ff 80 00 00")), Number.NEGATIVE_INFINITY);
    assert.equal(dec(hex("cb 3f f8 00 00 00 00 00 00")), 1.5);
    assert.equal(dec(hex("cb 7f f0 00 00 00 00 00 00")), Number.POSITIVE_INFINITY);
    assert.ok(Object.is(dec(hex("cb 80 00 00 00 00 00 00 00")), -0));
  });

  it("nil, bool", () => {
    assert.equal(dec(hex("c0")), null);
    assert.equal(dec(hex("c2")), false);
    assert.equal(dec(hex("c3")), true);
  });

  it("str in every form; invalid UTF-8 as U+FFFD; a byte order mark kept", () => {
    assert.equal(dec(hex("a0")), "");
    assert.equal(dec(hex("a3 61 62 63")), "abc");
    assert.equal(dec(hex("d9 03 61 62 63")), "abc");
    assert.equal(dec(hex("da 00 03 61 62 63")), "abc");
    assert.equal(dec(hex("db 00 00 00 03 61 62 63")), "abc");
    assert.equal(dec(hex("a4 f0 9f 98 80")), "😀");
    assert.equal(dec(concat([0xda, 0x01, 0x00], new Uint8Array(256).fill(0x7a))), "z".repeat(256));
    assert.equal(dec(hex("a2 ff fe")), "\ufffd\ufffd");
    assert.equal(dec(hex("a3 61 c3 62")), "a\ufffdb");
    assert.equal(dec(hex("a3 ed a0 80")), "\ufffd\ufffd\ufffd"); // an encoded surrogate
    assert.equal(dec(hex("a3 ef bb bf")), "\ufeff");
    const long = concat([0xd9, 40], new Uint8Array(40).fill(0xff));
    assert.equal(dec(long), "\ufffd".repeat(40));
  });

  it("bin in every form, as views on the input by default", () => {
    const input = hex("c4 03 01 02 03");
    const value = dec(input) as Uint8Array;
    assert.ok(value instanceof Uint8Array);
    assert.deepEqual([...value], [1, 2, 3]);
    assert.equal(value.buffer, input.buffer);
    assert.deepEqual([...(dec(hex("c5 00 02 09 08")) as Uint8Array)], [9, 8]);
    assert.deepEqual([...(dec(hex("c6 00 00 00 01 07")) as Uint8Array)], [7]);
    assert.deepEqual([...(dec(hex("c4 00")) as Uint8Array)], []);
  });

  it("bin through the binary option (Node callers make Buffers)", () => {
    const toBuffer = (bytes: Uint8Array) =>
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const value = dec(hex("92 c4 02 01 02 c7 01 00 05"), { binary: toBuffer }) as Buffer[];
    assert.ok(Buffer.isBuffer(value[0]) && Buffer.isBuffer(value[1]));
    assert.deepEqual(value, [Buffer.from([1, 2]), Buffer.from([5])]);
    const seen: Uint8Array[] = [];
    dec(hex("c4 01 09"), {
      binary: (bytes) => {
        seen.push(bytes);
        return "made";
      },
    });
    assert.deepEqual(
      seen.map((b) => [...b]),
      [[9]],
    );
    assert.equal(dec(hex("c4 00"), { binary: () => "made" }), "made");
    const reason = decodeReason(hex("91 c4 00"), {
      binary: () => {
        throw new Error("no binaries here");
      },
    });
    assert.match(reason, /no binaries here/);
  });

  it("array in every form", () => {
    assert.deepEqual(dec(hex("90")), []);
    assert.deepEqual(dec(hex("93 01 a1 61 c0")), [1, "a", null]);
    assert.deepEqual(dec(hex("dc 00 02 01 02")), [1, 2]);
    assert.deepEqual(dec(hex("dd 00 00 00 02 01 02")), [1, 2]);
    assert.deepEqual(dec(concat([0xdc, 0x01, 0x00], new Uint8Array(256))), Array(256).fill(0));
  });

  it("map in every form; number keys become strings; a later duplicate key wins", () => {
    assert.deepEqual(dec(hex("80")), {});
    assert.deepEqual(dec(hex("82 a1 61 01 a1 62 92 c3 c2")), { a: 1, b: [true, false] });
    assert.deepEqual(dec(hex("de 00 01 a1 61 01")), { a: 1 });
    assert.deepEqual(dec(hex("df 00 00 00 01 d9 01 61 01")), { a: 1 });
    assert.deepEqual(dec(hex("83 01 a1 61 ff a1 62 cb 3f f8 00 00 00 00 00 00 c0")), {
      "1": "a",
      "-1": "b",
      "1.5": null,
    });
    assert.deepEqual(dec(hex("82 a1 61 01 a1 61 02")), { a: 2 });
    const value = dec(hex("81 a1 61 01"));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
  });

  it("map keys that are neither strings nor numbers are refused", () => {
    for (const key of ["c0", "c3", "90", "80", "c4 00", "d6 ff 00 00 00 00"]) {
      assert.match(decodeReason(hex(`81 ${key} 01`)), /map key/, key);
    }
  });

  it("__proto__ keys become own properties: no prototype pollution", () => {
    const bytes = concat([0x82], enc("__proto__"), enc({ polluted: true }), enc("ok"), enc(1));
    for (let round = 0; round < 2; round++) {
      // Twice: the second time the key comes from the key cache.
      const value = dec(bytes) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(value), Object.prototype);
      assert.ok(Object.hasOwn(value, "__proto__"));
      assert.deepEqual(Object.keys(value), ["__proto__", "ok"]);
      assert.equal((value as { polluted?: unknown }).polluted, undefined);
      assert.equal(({} as { polluted?: unknown }).polluted, undefined);
      assert.equal(JSON.stringify(value), '{"__proto__":{"polluted":true},"ok":1}');
      assert.deepEqual({ ...value }.ok, 1);
    }
    // Nested, and as a long (str 8) key.
    const deep = dec(enc(JSON.parse('{"a":{"__proto__":{"x":1}}}'))) as { a: object };
    assert.equal(Object.getPrototypeOf(deep.a), Object.prototype);
    assert.equal(JSON.stringify(deep), '{"a":{"__proto__":{"x":1}}}');
  });

  it("map keys are never mixed up by the key cache", () => {
    assert.deepEqual(dec(enc({ ab: 1 })), { ab: 1 });
    assert.deepEqual(dec(enc({ ac: 1 })), { ac: 1 });
    const keys = Array.from({ length: 5000 }, (_, i) => `key${i.toString(36)}`);
    for (let round = 0; round < 2; round++) {
      const record = Object.fromEntries(keys.map((k, i) => [k, i]));
      assert.deepEqual(dec(enc(record)), record);
    }
    // Non-ASCII and 16-byte keys go through the cache too.
    const unusual = { é: 1, "0123456789abcdef": 2, "0123456789abcdeg": 3, "": 4 };
    assert.deepEqual(dec(enc(unusual)), unusual);
    assert.deepEqual(dec(enc(unusual)), unusual);
  });

  it("timestamps (ext -1) in the 32, 64 and 96-bit forms, in any ext container", () => {
    const date = (bytes: string) => (dec(hex(bytes)) as Date).getTime();
    assert.equal(date("d6 ff 00 00 00 00"), 0);
    assert.equal(date("d6 ff ff ff ff ff"), (2 ** 32 - 1) * 1000);
    assert.equal(date("d7 ff 00 3d 09 00 00 00 00 00"), 1);
    assert.equal(date("d7 ff 00 00 00 03 ff ff ff ff"), (2 ** 34 - 1) * 1000);
    assert.equal(date("c7 0c ff 3b 8b 87 c0 ff ff ff ff ff ff ff ff"), -1);
    assert.equal(date("c7 0c ff 00 00 00 00 00 00 00 00 00 00 00 05"), 5000);
    // Sub-millisecond nanoseconds are floored, also before 1970.
    assert.equal(date("d7 ff 00 5b 8d 80 00 00 00 00"), 1); // 1,500,000 ns
    assert.equal(date("c7 0c ff 00 07 a1 20 ff ff ff ff ff ff ff ff"), -1000); // -1 s + 500 us
    // The spec puts timestamp 32 in fixext 4, but the length decides.
    assert.equal(date("c7 04 ff 00 00 00 02"), 2000);
    assert.equal(date("c8 00 08 ff 00 3d 09 00 00 00 00 00"), 1);
    assert.equal(date("c9 00 00 00 0c ff 00 00 00 00 00 00 00 00 00 00 00 07"), 7000);
    // Beyond what a Date holds: an Invalid Date.
    const far = dec(hex("c7 0c ff 00 00 00 00 7f ff ff ff ff ff ff ff")) as Date;
    assert.ok(far instanceof Date && Number.isNaN(far.getTime()));
  });

  it("refuses malformed timestamps", () => {
    assert.match(decodeReason(hex("d4 ff 00")), /timestamp of 1 bytes/);
    assert.match(
      decodeReason(hex("d8 ff 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")),
      /16 bytes/,
    );
    assert.match(decodeReason(hex("c7 05 ff 00 00 00 00 00")), /5 bytes/);
    // 1,000,000,000 nanoseconds (0x3b9aca00 << 2 = 0xee6b2800).
    assert.match(decodeReason(hex("d7 ff ee 6b 28 00 00 00 00 00")), /nanoseconds/);
    assert.match(decodeReason(hex("c7 0c ff 3b 9a ca 00 00 00 00 00 00 00 00 00")), /nanoseconds/);
  });

  it("notepack.io's legacy ext type 0, as notepack.io decodes it", () => {
    const legacy: [string, (value: unknown) => void][] = [
      ["d4 00 00", (v) => assert.equal(v, undefined)],
      ["d4 00 7a", (v) => assert.equal(v, undefined)],
      ["d7 00 00 00 01 7f 6e e3 c8 60", (v) => assert.equal((v as Date).getTime(), 1646832896096)],
      ["d7 00 ff ff ff ff ff ff ff ff", (v) => assert.equal((v as Date).getTime(), -1)],
      ["c7 03 00 01 02 03", (v) => assert.deepEqual(canonical(v), new Uint8Array([1, 2, 3]))],
      ["c8 00 01 00 09", (v) => assert.deepEqual(canonical(v), new Uint8Array([9]))],
      ["c9 00 00 00 00 00", (v) => assert.deepEqual(canonical(v), new Uint8Array(0))],
    ];
    for (const [bytes, check] of legacy) {
      const ours = dec(hex(bytes));
      check(ours);
      // notepack.io reads the same value (an ArrayBuffer where we make a Uint8Array).
      check(notepack.decode(Buffer.from(hex(bytes))));
    }
    const inMap = dec(hex("82 a1 61 d4 00 00 a1 62 01")) as Record<string, unknown>;
    assert.deepEqual(Object.keys(inMap), ["a", "b"]);
    assert.equal(inMap.a, undefined);
    assert.deepEqual(dec(hex("92 d4 00 00 01")), [undefined, 1]);
  });

  it("refuses every other ext type", () => {
    for (const bytes of [
      "d4 01 00",
      "d5 05 00 00",
      "d6 00 00 00 00 00",
      "d6 7f 00 00 00 00",
      "d7 fe 00 00 00 00 00 00 00 00",
      "d8 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      "c7 01 05 00",
      "c8 00 00 80",
      "c9 00 00 00 00 01",
    ]) {
      assert.match(decodeReason(hex(bytes)), /unsupported ext type/, bytes);
    }
  });

  it("refuses 0xc1, truncated input, trailing bytes and non-Uint8Array input", () => {
    assert.match(decodeReason(hex("c1")), /0xc1/);
    assert.match(decodeReason(hex("92 01 c1")), /0xc1/);
    assert.match(decodeReason(new Uint8Array(0)), /truncated/);
    assert.match(decodeReason(hex("01 02")), /1 trailing byte/);
    assert.match(decodeReason(hex("c0 c0 c0")), /2 trailing bytes/);
    assert.match(decodeReason("c0" as unknown as Uint8Array), /not a Uint8Array/);
    // Every strict prefix of a valid encoding is truncated.
    const whole = enc({
      s: "x".repeat(300),
      b: counting(300),
      n: [2 ** 40, -(2 ** 40), 1.5, 70000, -70000, 200, -200],
      d: [new Date(1), new Date(0), new Date(-1)],
      m: keyed(20),
      a: Array(20).fill("é"),
    });
    assert.ok(decodeMsgpack(whole).ok);
    for (let end = 0; end < whole.length; end++) {
      assert.match(decodeReason(whole.subarray(0, end)), /truncated/, `prefix of ${end} bytes`);
    }
  });

  it("reads input that is a view into a larger buffer (a Buffer from a pool)", () => {
    const memory = new Uint8Array(64).fill(0xc1);
    memory.set(hex("93 cb 3f f8 00 00 00 00 00 00 ca 3f c0 00 00 a1 61"), 10);
    assert.deepEqual(dec(memory.subarray(10, 27)), [1.5, 1.5, "a"]);
  });
});

describe("msgpack decode: hostile input", () => {
  function quickly(bytes: Uint8Array, pattern: RegExp, options?: MsgpackDecodeOptions): void {
    const started = performance.now();
    assert.match(decodeReason(bytes, options), pattern);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  }

  it("refuses declared lengths beyond the input at once, before allocating", () => {
    quickly(hex("dd ff ff ff ff"), /truncated/);
    quickly(hex("dd ff ff ff ff 01 02 03"), /truncated/);
    quickly(hex("df ff ff ff ff"), /truncated/);
    quickly(hex("dc ff ff 01"), /truncated/);
    quickly(hex("de ff ff 01 01"), /truncated/);
    quickly(hex("db ff ff ff ff 61"), /truncated/);
    quickly(hex("c6 ff ff ff ff 00"), /truncated/);
    quickly(hex("c9 ff ff ff ff 00 00"), /truncated/);
    quickly(hex("c9 ff ff ff ff ff 00"), /truncated/);
    // Each element takes a byte at least: a map of 3 entries needs 6.
    quickly(hex("83 01 01 01 01 01"), /truncated/);
    // The same header repeated: every level refused as soon as it is read.
    quickly(new Uint8Array(100_000).fill(0xdd), /truncated/);
  });

  it("refuses nesting deeper than maxDepth (default 500), 100,000 levels included", () => {
    assert.equal(DEFAULT_DECODE_MAX_DEPTH, 500);
    const arrays = (depth: number) => concat(new Uint8Array(depth).fill(0x91), [0x01]);
    assert.deepEqual(dec(arrays(500)), nested(500));
    quickly(arrays(501), /deeper than 500/);
    quickly(arrays(100_000), /deeper than 500/);
    quickly(new Uint8Array(100_000).fill(0x91), /deeper than 500/);
    const maps = (depth: number) =>
      concat(...Array.from({ length: depth }, () => [0x81, 0xa0]), [0x01]);
    assert.ok(decodeMsgpack(maps(500)).ok);
    quickly(maps(100_000), /deeper than 500/);
    assert.ok(decodeMsgpack(arrays(3), { maxDepth: 3 }).ok);
    quickly(arrays(4), /deeper than 3/, { maxDepth: 3 });
    assert.equal(dec(hex("05"), { maxDepth: 0 }), 5);
    quickly(hex("90"), /deeper than 0/, { maxDepth: 0 });
    // A limit beyond the stack's is still an error value, not a crash.
    const result = decodeMsgpack(arrays(1_000_000), { maxDepth: 10_000_000 });
    assert.equal(result.ok, false);
  });

  it("never throws on arbitrary bytes", () => {
    const binary = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, buffers) => {
        const result = decodeMsgpack(bytes, buffers ? { binary } : undefined);
        assert.equal(typeof result.ok, "boolean");
      }),
      { seed: SEED, numRuns: 20_000 },
    );
  });

  it("never throws on mutated valid encodings, and whatever it accepts encodes again", () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom("set", "insert", "delete", "truncate"),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(jsonish, fc.array(mutation, { minLength: 1, maxLength: 4 }), (value, edits) => {
        const bytes = [...enc(value)];
        for (const { at, kind, byte } of edits) {
          const i = at % (bytes.length + 1);
          if (kind === "set" && i < bytes.length) bytes[i] = byte;
          else if (kind === "insert") bytes.splice(i, 0, byte);
          else if (kind === "delete") bytes.splice(i, 1);
          else if (kind === "truncate") bytes.length = i;
        }
        const result = decodeMsgpack(Uint8Array.from(bytes));
        assert.equal(typeof result.ok, "boolean");
        if (result.ok) assert.ok(encodeMsgpack(result.value).ok);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});

describe("msgpack properties", () => {
  it("decode(encode(x)) deep-equals x for JSON-like values with binaries and Dates", () => {
    fc.assert(
      fc.property(withBinary, (value) => {
        assert.deepStrictEqual(dec(enc(value)), canonical(value));
      }),
      { seed: SEED, numRuns: 10_000 },
    );
  });

  it("strings, lone surrogates included, come back as TextDecoder(TextEncoder(s))", () => {
    const te = new TextEncoder();
    const td = new TextDecoder();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: anyUnit, maxLength: 80 }),
          fc.string({ unit: anyUnit, maxLength: 700 }),
        ),
        (s) => {
          const bytes = enc(s);
          const utf8 = te.encode(s);
          assert.deepEqual(bytes.subarray(bytes.length - utf8.length), utf8);
          assert.equal(dec(bytes), td.decode(utf8));
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("many results in a row stay intact (the pool never hands out a region twice)", () => {
    fc.assert(
      fc.property(fc.array(withBinary, { maxLength: 40 }), (values) => {
        const encoded = values.map((v) => enc(v));
        encoded.forEach((bytes, i) => {
          assert.deepStrictEqual(dec(bytes), canonical(values[i]));
        });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------------------------------------
// Interop
// ------------------------------------------------------------------------------------------

const toBuffer = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Messages shaped like those socket.io's Redis adapters publish. */
const MESSAGES: [string, unknown][] = [
  [
    "broadcast (redis-adapter)",
    [
      "uid123",
      { type: 2, data: ["chat", { from: "abc", text: "hello world" }], nsp: "/" },
      { rooms: ["room1"], except: [], flags: {} },
    ],
  ],
  [
    "binary broadcast",
    [
      "Pn3fT1",
      {
        type: 5,
        data: ["file", Buffer.from([1, 2, 3]), { parts: [Buffer.alloc(300, 7), Buffer.alloc(0)] }],
        nsp: "/admin",
      },
      { rooms: [], except: ["sid1", "sid2"], flags: { volatile: true, compress: false } },
    ],
  ],
  [
    "broadcast with ack request",
    {
      uid: "Pn3fT1",
      requestId: "x1y2z3",
      type: 7,
      packet: { type: 2, data: ["ping", 1], nsp: "/" },
      opts: { rooms: ["a", "b"], except: [], flags: { timeout: 5000 } },
    },
  ],
  [
    "fetch-sockets response",
    {
      type: 3,
      requestId: "req-42",
      sockets: [
        {
          id: "GcOVcuVSvq0H8k9vAAAB",
          handshake: {
            headers: {
              host: "localhost:3000",
              "user-agent": "node",
              "x-forwarded-for": "10.0.0.1",
            },
            time: "Thu Jun 13 2024 10:00:00 GMT+0000 (Coordinated Universal Time)",
            address: "::ffff:127.0.0.1",
            xdomain: false,
            secure: false,
            issued: 1718272800000,
            url: "/socket.io/?EIO=4&transport=websocket",
            query: { EIO: "4", transport: "websocket" },
            auth: { token: "abc" },
          },
          rooms: ["GcOVcuVSvq0H8k9vAAAB", "lobby"],
          data: { user: { id: 42, name: "Zoë", roles: ["admin", "dev"], score: 99.5 } },
        },
      ],
    },
  ],
  [
    "unicode",
    { text: "héllo wörld ✓ 😀 日本語", emoji: "😀".repeat(100), rtl: "שלום", zwj: "👩‍👩‍👧" },
  ],
  [
    "large strings",
    { ascii: "x".repeat(70_000), accented: "é".repeat(40_000), mixed: `${"a".repeat(5000)}€` },
  ],
  ["large binary", { data: Buffer.alloc(70_000, 1), small: Buffer.from("hi") }],
  ["numbers at every boundary", NUMBER_BOUNDARIES],
  ["negated boundaries", NUMBER_BOUNDARIES.map((n) => -n)],
  [
    "dates",
    [
      new Date(0),
      new Date(1),
      new Date(1718272800123),
      new Date(-1),
      new Date(-3_155_760_000_000 + 7),
      new Date(2 ** 32 * 1000),
      new Date(2 ** 34 * 1000 + 5),
      new Date(8.64e15),
      new Date(-8.64e15),
    ],
  ],
  [
    "wide containers",
    {
      map: keyed(20),
      bigMap: keyed(70_000),
      list: Array(20).fill(true),
      long: Array(70_000).fill(null),
    },
  ],
  ["empties", [[], {}, "", null, true, false, [[[]]], { a: {} }]],
];

/** Numbers notepack.io writes wrongly (it writes integers beyond 2^53 as uint 64, 2^64 as 0). */
function notepackSafe(value: unknown): boolean {
  if (typeof value === "number") return !Number.isInteger(value) || Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.every(notepackSafe);
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value)) {
    return Object.values(value).every(notepackSafe);
  }
  return true;
}

describe("msgpack interop with notepack.io and @msgpack/msgpack", () => {
  it("writes the same bytes as both libraries for socket.io adapter messages", () => {
    for (const [name, message] of MESSAGES) {
      const ours = toHex(enc(message));
      if (notepackSafe(message)) assert.equal(ours, toHex(notepack.encode(message)), name);
      assert.equal(ours, toHex(msgpackEncode(message)), name);
    }
  });

  it("our bytes decode to the same value in both libraries", () => {
    for (const [name, message] of MESSAGES) {
      const bytes = enc(message);
      const expected = canonical(message);
      assert.deepStrictEqual(canonical(notepack.decode(toBuffer(bytes))), expected, name);
      assert.deepStrictEqual(canonical(msgpackDecode(bytes)), expected, name);
    }
  });

  it("their bytes decode to the same value here", () => {
    for (const [name, message] of MESSAGES) {
      const expected = canonical(message);
      if (notepackSafe(message)) {
        const fromNotepack = notepack.encode(message) as Buffer;
        assert.deepStrictEqual(dec(fromNotepack), expected, `${name} from notepack.io`);
        // With Buffers for binaries, as the Redis adapter's peers see them.
        assert.deepStrictEqual(
          canonical(dec(fromNotepack, { binary: toBuffer })),
          expected,
          `${name} from notepack.io, as Buffers`,
        );
      }
      const fromMsgpack = msgpackEncode(message);
      assert.deepStrictEqual(dec(fromMsgpack), expected, `${name} from @msgpack/msgpack`);
    }
  });

  it("Dates travel both ways at every timestamp size", () => {
    const times = [0, 1, 999, 1000, 1718272800123, -1, -999, -1000, -1001, 2 ** 32 * 1000 - 1];
    times.push(2 ** 32 * 1000, 2 ** 34 * 1000 - 1, 2 ** 34 * 1000, 8.64e15, -8.64e15);
    for (const time of times) {
      const d = new Date(time);
      assert.equal(
        (notepack.decode(toBuffer(enc(d))) as Date).getTime(),
        time,
        `${time} to notepack`,
      );
      assert.equal((msgpackDecode(enc(d)) as Date).getTime(), time, `${time} to @msgpack`);
      assert.equal((dec(notepack.encode(d)) as Date).getTime(), time, `${time} from notepack`);
      assert.equal((dec(msgpackEncode(d)) as Date).getTime(), time, `${time} from @msgpack`);
    }
  });

  it("undefined: nil for both; map entries left out as notepack.io leaves them out", () => {
    const value = { a: undefined, b: [undefined], c: 1 };
    assert.equal(toHex(enc(value)), toHex(notepack.encode(value)));
    assert.deepEqual(msgpackDecode(enc(value)), { b: [null], c: 1 });
    // @msgpack/msgpack writes the entry as nil; it decodes to null here.
    assert.deepEqual(dec(msgpackEncode(value)), { a: null, b: [null], c: 1 });
  });

  it("typed arrays: their bytes, as @msgpack/msgpack writes them", () => {
    const views = [
      new Int16Array([1, -1]),
      new Float32Array([1.5]),
      new DataView(counting(5).buffer, 1, 3),
    ];
    for (const view of views) {
      assert.equal(toHex(enc(view)), toHex(msgpackEncode(view)));
      assert.deepStrictEqual(canonical(notepack.decode(toBuffer(enc(view)))), canonical(view));
    }
  });

  it("random JSON-like values with binaries: the same bytes as both libraries, and back", () => {
    const comparable = withBinary.filter(
      (v) => notepackSafe(v) && !containsArrayBuffer(v) && !containsLoneSurrogate(v),
    );
    fc.assert(
      fc.property(comparable, (value) => {
        const ours = enc(value);
        assert.equal(toHex(ours), toHex(notepack.encode(value)));
        assert.equal(toHex(ours), toHex(msgpackEncode(value)));
        // Neither library decodes a "__proto__" key as a key: notepack.io sets the prototype,
        // @msgpack/msgpack throws.
        if (containsProtoKey(value)) return;
        const expected = canonical(value);
        assert.deepStrictEqual(canonical(notepack.decode(toBuffer(ours))), expected);
        assert.deepStrictEqual(canonical(msgpackDecode(ours)), expected);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });
});

/** @msgpack/msgpack writes an ArrayBuffer as an empty map, and notepack.io a typed array's elements. */
function containsArrayBuffer(value: unknown): boolean {
  if (value instanceof ArrayBuffer) return true;
  if (ArrayBuffer.isView(value)) return !(value instanceof Uint8Array);
  if (Array.isArray(value)) return value.some(containsArrayBuffer);
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    return Object.values(value).some(containsArrayBuffer);
  }
  return false;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** notepack.io writes a lone surrogate in a short string as garbage (it assumes a pair). */
function containsLoneSurrogate(value: unknown): boolean {
  if (typeof value === "string") return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(containsLoneSurrogate);
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value)) {
    return Object.entries(value).some(
      ([k, v]) => containsLoneSurrogate(k) || containsLoneSurrogate(v),
    );
  }
  return false;
}

function containsProtoKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsProtoKey);
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value)) {
    return Object.entries(value).some(([k, v]) => k === "__proto__" || containsProtoKey(v));
  }
  return false;
}
