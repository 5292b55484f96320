/**
 * Fuzzing the Engine.IO codecs (src/protocol/engine) and base64 (src/protocol/base64.ts): v4
 * text packets, binary frames, `\x1e` polling payloads, the open packet's JSON, v3 packets and
 * both v3 payload framings (`<length>:<packet>` text, the XHR2 binary framing), on random and
 * mutated input. Nothing throws; results match reference readings written here from the protocol
 * documents, and whatever is accepted is also accepted, identically, by the reference
 * implementation (engine.io-parser for v4, engine.io's parser-v3); output is bounded by input;
 * decoding time is linear.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import * as reference from "engine.io-parser";
import fc from "fast-check";
import { decodeBase64, encodeBase64 } from "../../src/protocol/base64.js";
import {
  decodePacket,
  decodePacketV3,
  decodePayload,
  decodePayloadV3,
  decodeTextPacket,
  type EnginePacket,
  encodeOpenPacket,
  encodePacketAsText,
  encodePayload,
  encodePayloadV3,
  encodeTextPacketV3,
  parseHandshake,
} from "../../src/protocol/engine/index.js";
import { assertFast, fuzz, mutateString, mutationArb } from "./config.js";

/** engine.io's own revision 3 parser (not exported by the package, loaded by path). */
interface ParserV3 {
  decodePayload(
    data: string,
    callback: (
      packet: { type: string; data?: string | Buffer },
      index: number,
      total: number,
    ) => unknown,
  ): void;
}
const require = createRequire(import.meta.url);
const referenceV3 = require(
  join(dirname(require.resolve("engine.io")), "parser-v3", "index.js"),
) as ParserV3;

const TYPE_NAMES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];

// ---- reference readings ----------------------------------------------------------------------

const B64 = /^[A-Za-z0-9+/]*$/;
const B64_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;

/** Base64 (RFC 4648 4) with optional padding, correct when present. */
function refBase64(text: string): Uint8Array | null {
  if (B64.test(text)) return text.length % 4 === 1 ? null : Buffer.from(text, "base64");
  return B64_PADDED.test(text) ? Buffer.from(text, "base64") : null;
}

/** A v4 text packet: a type digit 0-6 and data, or "b" and base64. */
function refTextPacket(text: string): EnginePacket | null {
  if (text.startsWith("b")) {
    const data = refBase64(text.slice(1));
    return data === null ? null : { type: 4, data: Uint8Array.from(data) };
  }
  if (!/^[0-6]/.test(text)) return null;
  return {
    type: Number(text[0]),
    data: text.length > 1 ? text.slice(1) : undefined,
  } as EnginePacket;
}

/** A v3 text packet: as v4, except binary is "b" + type digit + base64 and only for messages. */
function refTextPacketV3(text: string): EnginePacket | null {
  if (!text.startsWith("b")) return refTextPacket(text);
  if (text[1] !== "4") return null;
  const data = refBase64(text.slice(2));
  return data === null ? null : { type: 4, data: Uint8Array.from(data) };
}

/** v3 text framing: `<decimal length in UTF-16 units>:<packet>` repeated; "0:" carries nothing. */
function refPayloadV3Text(payload: string): EnginePacket[] | null {
  if (payload.length === 0) return null;
  const packets: EnginePacket[] = [];
  let rest = payload;
  while (rest.length > 0) {
    const match = /^(\d{1,16}):/.exec(rest);
    if (match === null) return null;
    const length = Number(match[1]);
    rest = rest.slice(match[0].length);
    if (length > rest.length) return null;
    if (length > 0) {
      const packet = refTextPacketV3(rest.slice(0, length));
      if (packet === null) return null;
      packets.push(packet);
    }
    rest = rest.slice(length);
  }
  return packets;
}

/** v3 binary framing: marker 0/1, length digits as bytes 0-9, 255, then the packet. */
function refPayloadV3Binary(payload: Uint8Array): EnginePacket[] | null {
  if (payload.length === 0) return null;
  const packets: EnginePacket[] = [];
  let i = 0;
  while (i < payload.length) {
    const marker = payload[i++];
    if (marker > 1) return null;
    const digits: number[] = [];
    while (i < payload.length && payload[i] !== 255) digits.push(payload[i++]);
    if (i === payload.length || digits.length === 0 || digits.length > 16) return null;
    if (digits.some((d) => d > 9)) return null;
    i++; // 255
    const length = Number(digits.join(""));
    if (length > payload.length - i) return null;
    const content = payload.subarray(i, i + length);
    i += length;
    if (marker === 1) {
      if (content.length === 0 || content[0] !== 4) return null;
      packets.push({ type: 4, data: Uint8Array.from(content.subarray(1)) });
    } else {
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(content);
      } catch {
        return null;
      }
      const packet = refTextPacketV3(text);
      if (packet === null) return null;
      packets.push(packet);
    }
  }
  return packets;
}

/** Packets with binary data as plain Uint8Arrays, for deepEqual across Buffer/Uint8Array. */
function plain(packets: EnginePacket[]): EnginePacket[] {
  return packets.map(
    (p) =>
      ({
        type: p.type,
        data: p.data instanceof Uint8Array ? Uint8Array.from(p.data) : p.data,
      }) as EnginePacket,
  );
}

/** The reference implementation's v4 packet as ours, or null for its error packet. */
function fromReference(packet: { type: string; data?: unknown }): EnginePacket | null {
  if (packet.type === "error") return null;
  const type = TYPE_NAMES.indexOf(packet.type);
  const data = packet.data;
  return {
    type,
    data: Buffer.isBuffer(data) ? Uint8Array.from(data) : (data as string | undefined),
  } as EnginePacket;
}

// ---- generators --------------------------------------------------------------------------------

const packetArb: fc.Arbitrary<EnginePacket> = fc.oneof(
  fc.record({
    type: fc.integer({ min: 0, max: 6 }),
    data: fc.option(fc.string({ unit: "binary", minLength: 1, maxLength: 30 }), { nil: undefined }),
  }) as fc.Arbitrary<EnginePacket>,
  fc.record({ type: fc.constant(4 as const), data: fc.uint8Array({ maxLength: 30 }) }),
);

/** Strings shaped like Engine.IO text: type characters, base64, separators, JSON bits. */
const engineCharArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "9", "b", ":", "\x1e"),
  },
  { weight: 3, arbitrary: fc.constantFrom("A", "Q", "z", "+", "/", "=", "-", "_", " ") },
  { weight: 2, arbitrary: fc.constantFrom("[", "]", "{", "}", '"', ",", "x") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
const engineTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: engineCharArb, maxLength: 40 }),
  fc
    .tuple(
      fc.array(packetArb, { minLength: 1, maxLength: 4 }),
      fc.array(mutationArb, { maxLength: 3 }),
    )
    .map(([packets, m]) => mutateString(encodePayload(packets), m)),
  fc
    .tuple(fc.array(packetArb, { maxLength: 4 }), fc.array(mutationArb, { maxLength: 3 }))
    .map(([packets, m]) => mutateString(encodePayloadV3(packets, false) as string, m)),
);

// ---- properties ------------------------------------------------------------------------------

describe("fuzz: base64", () => {
  it("decodeBase64 is the reference reading of any text, from any offset", () => {
    const base64Arb = fc.oneof(
      fc.string({ unit: engineCharArb, maxLength: 40 }),
      fc
        .tuple(fc.uint8Array({ maxLength: 40 }), fc.array(mutationArb, { maxLength: 2 }))
        .map(([b, m]) => mutateString(Buffer.from(b).toString("base64"), m)),
    );
    fuzz(
      "base64",
      fc.property(base64Arb, fc.nat({ max: 4 }), (text, start) => {
        const offset = Math.min(start, text.length);
        const expected = refBase64(text.slice(offset));
        const actual = decodeBase64(text, offset);
        assert.deepEqual(
          actual === null ? null : Buffer.from(actual),
          expected === null ? null : Buffer.from(expected),
        );
        if (actual !== null) assert.ok(actual.length <= ((text.length - offset) * 3) / 4);
        if (actual !== null) assert.deepEqual(decodeBase64(encodeBase64(actual)), actual);
      }),
      5000,
    );
  });
});

describe("fuzz: Engine.IO revision 4", () => {
  it("text packets: the reference reading, identical in engine.io-parser, canonical round trip", () => {
    fuzz(
      "v4 packets",
      fc.property(engineTextArb, (text) => {
        const result = decodeTextPacket(text);
        const expected = refTextPacket(text);
        assert.equal(result.ok, expected !== null);
        assert.deepEqual(decodePacket(text), result);
        if (!result.ok || expected === null) return;
        assert.deepEqual(plain([result.packet]), [expected]);
        assert.deepEqual(fromReference(reference.decodePacket(text)), expected, "engine.io-parser");
        const again = decodeTextPacket(encodePacketAsText(result.packet));
        assert.ok(again.ok);
        assert.deepEqual(plain([again.packet]), [expected]);
        if (!text.startsWith("b")) assert.equal(encodePacketAsText(result.packet), text);
      }),
      5000,
    );
  });

  it("binary frames are messages aliasing the input, whatever the bytes", () => {
    fuzz(
      "v4 binary frames",
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, asArrayBuffer) => {
        const input = asArrayBuffer ? Uint8Array.from(bytes).buffer : bytes;
        const result = decodePacket(input);
        assert.ok(result.ok);
        assert.equal(result.packet.type, 4);
        const data = result.packet.data as Uint8Array;
        assert.deepEqual(Array.from(data), Array.from(bytes));
        if (!asArrayBuffer) assert.equal(data.buffer, bytes.buffer);
      }),
      1000,
    );
  });

  it("polling payloads: all-or-nothing reference reading, bounded, identical in engine.io-parser", () => {
    fuzz(
      "v4 payloads",
      fc.property(
        engineTextArb,
        fc.option(fc.nat({ max: 60 }), { nil: undefined }),
        (text, max) => {
          const result = decodePayload(text, max);
          if (max !== undefined && text.length > max) {
            assert.equal(result.ok, false);
            return;
          }
          const parts = text.split("\x1e").map(refTextPacket);
          const expected = parts.includes(null) ? null : (parts as EnginePacket[]);
          assert.equal(result.ok, expected !== null);
          if (!result.ok || expected === null) return;
          assert.deepEqual(plain(result.packets), expected);
          assert.ok(result.packets.length <= text.length + 1);
          const theirs = reference.decodePayload(text, "nodebuffer").map(fromReference);
          assert.deepEqual(theirs, expected, "engine.io-parser");
        },
      ),
      5000,
    );
  });

  it("polling payloads round-trip any packets without the separator in their text", () => {
    const safe = packetArb.filter((p) => typeof p.data !== "string" || !p.data.includes("\x1e"));
    fuzz(
      "v4 payload round trip",
      fc.property(fc.array(safe, { minLength: 1, maxLength: 6 }), (packets) => {
        const result = decodePayload(encodePayload(packets));
        assert.ok(result.ok);
        assert.deepEqual(plain(result.packets), plain(packets));
      }),
      2000,
    );
  });

  it("open packet JSON: never throws; what parses has the documented field types and re-encodes", () => {
    const field = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.integer(),
      fc.double(),
      fc.constantFrom(null, true, -1, 0, 25000, Number.MAX_VALUE),
      fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 2 }),
    );
    const handshakeArb = fc.oneof(
      fc
        .record(
          {
            sid: field,
            upgrades: field,
            pingInterval: field,
            pingTimeout: field,
            maxPayload: field,
            other: field,
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
      fc
        .tuple(fc.json(), fc.array(mutationArb, { maxLength: 2 }))
        .map(([j, m]) => mutateString(j, m)),
      fc.string({ unit: engineCharArb, maxLength: 30 }),
    );
    fuzz(
      "open packet",
      fc.property(handshakeArb, (text) => {
        const result = parseHandshake(text);
        if (!result.ok) return;
        const h = result.handshake;
        assert.ok(typeof h.sid === "string" && h.sid.length > 0);
        assert.ok(Array.isArray(h.upgrades) && h.upgrades.every((u) => typeof u === "string"));
        for (const n of [h.pingInterval, h.pingTimeout, h.maxPayload ?? 0]) {
          assert.ok(Number.isFinite(n) && n >= 0);
        }
        const again = parseHandshake(encodeOpenPacket(h).slice(1));
        assert.ok(again.ok);
        assert.deepEqual(again.handshake, h);
      }),
      3000,
    );
  });

  it("decoding is linear: 1 MiB payloads of separators, type digits, base64 and digits", () => {
    const bigArb = fc
      .tuple(
        fc.constantFrom("4\x1e", "\x1e", "b", "bAAAA", "4", "1:4", "9", "b4"),
        fc.constantFrom(1 << 18, 1 << 20),
      )
      .map(([unit, size]) => unit.repeat(Math.ceil(size / unit.length)));
    fuzz(
      "v4/v3 linear time",
      fc.property(bigArb, (text) => {
        assertFast(`decodePayload of ${text.length} characters`, 1000, () => decodePayload(text));
        assertFast(`decodePayloadV3 of ${text.length} characters`, 1000, () =>
          decodePayloadV3(text),
        );
        assertFast(`decodeTextPacket of ${text.length} characters`, 1000, () =>
          decodeTextPacket(text),
        );
      }),
      8,
    );
  });
});

describe("fuzz: Engine.IO revision 3", () => {
  it("text framing: the reference reading, identical in engine.io's parser-v3", () => {
    fuzz(
      "v3 text payloads",
      fc.property(
        engineTextArb,
        fc.option(fc.nat({ max: 60 }), { nil: undefined }),
        (text, max) => {
          const result = decodePayloadV3(text, max);
          if (max !== undefined && text.length > max) {
            assert.equal(result.ok, false);
            return;
          }
          const expected = refPayloadV3Text(text);
          assert.equal(result.ok, expected !== null, JSON.stringify(text));
          if (!result.ok || expected === null) return;
          assert.deepEqual(plain(result.packets), expected);
          const theirs: Array<EnginePacket | null> = [];
          referenceV3.decodePayload(text, (packet) => {
            theirs.push(fromReference(packet));
          });
          assert.deepEqual(theirs, expected, "engine.io parser-v3");
          // Re-encoding gives the same packets back.
          const again = decodePayloadV3(encodePayloadV3(result.packets, false));
          assert.ok(again.ok);
          assert.deepEqual(plain(again.packets), expected);
        },
      ),
      5000,
    );
  });

  it("binary framing: the reference reading of random and mutated bodies; round trip", () => {
    const bodyArb = fc.oneof(
      fc.uint8Array({ maxLength: 48 }),
      fc
        .array(fc.oneof(fc.constantFrom(0, 1, 255, 4), fc.nat({ max: 9 }), fc.nat({ max: 255 })), {
          maxLength: 48,
        })
        .map((a) => Uint8Array.from(a)),
      fc
        .tuple(
          fc.array(packetArb, { minLength: 1, maxLength: 4 }),
          fc.array(mutationArb, { maxLength: 3 }),
        )
        .map(([packets, m]) => {
          const withBinary = [...packets, { type: 4, data: Uint8Array.of(1, 2) } as EnginePacket];
          const body = encodePayloadV3(withBinary, true);
          assert.ok(body instanceof Uint8Array);
          return Uint8Array.from(
            mutateString(String.fromCharCode(...body), m),
            (c) => c.charCodeAt(0) & 255,
          );
        }),
    );
    fuzz(
      "v3 binary payloads",
      fc.property(bodyArb, (body) => {
        const result = decodePayloadV3(body);
        const expected = refPayloadV3Binary(body);
        assert.equal(result.ok, expected !== null);
        if (!result.ok || expected === null) return;
        assert.deepEqual(plain(result.packets), expected);
        const again = decodePayloadV3(encodePayloadV3(result.packets, true));
        assert.ok(again.ok);
        assert.deepEqual(plain(again.packets), expected);
      }),
      4000,
    );
  });

  it("packets: text and binary frames never throw; binary only on messages", () => {
    fuzz(
      "v3 packets",
      fc.property(fc.oneof(engineTextArb, fc.uint8Array({ maxLength: 32 })), (input) => {
        const result = decodePacketV3(input);
        if (typeof input === "string") {
          const expected = refTextPacketV3(input);
          assert.equal(result.ok, expected !== null);
          if (result.ok) {
            assert.deepEqual(plain([result.packet]), [expected]);
            const text = encodeTextPacketV3(result.packet);
            const again = decodePacketV3(text);
            assert.ok(again.ok);
            assert.deepEqual(plain([again.packet]), [expected]);
          }
        } else {
          assert.equal(result.ok, input.length > 0 && input[0] === 4);
        }
      }),
      4000,
    );
  });
});
