/**
 * Engine.IO protocol revision 3 (EIO=3): the examples of the protocol document
 * (docs/engine.io-protocol/v3.md in socketio/socket.io) and of the engine.io-parser 4.0.0
 * changelog, byte-exact, plus malformed input and round trips.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  decodePacketV3,
  decodePayloadV3,
  type EnginePacket,
  EnginePacketType,
  encodeFrameV3,
  encodePacketV3,
  encodePayloadV3,
  encodeTextPacketV3,
  encodeTextV3,
} from "../../../src/protocol/engine/index.js";

const T = EnginePacketType;
const bytes = (...values: number[]) => new Uint8Array(values);
const message = (data: string | Uint8Array): EnginePacket => ({ type: T.Message, data });

function packetsOf(payload: string | Uint8Array): EnginePacket[] {
  const result = decodePayloadV3(payload);
  assert.ok(result.ok, `expected ${JSON.stringify(payload)} to decode`);
  return result.packets;
}

describe("engine v3 packets (WebSocket frames)", () => {
  it("encodes text packets as in revision 4", () => {
    assert.equal(encodePacketV3({ type: T.Ping, data: "probe" }, true), "2probe");
    assert.equal(encodePacketV3({ type: T.Upgrade }, true), "5");
    assert.equal(encodePacketV3(message("hey"), false), "4hey");
  });

  it("prefixes binary with the type byte: 4|0|1|2|3|4|5 (document example)", () => {
    const wire = bytes(4, 0, 1, 2, 3, 4, 5);
    assert.deepEqual(encodePacketV3(message(bytes(0, 1, 2, 3, 4, 5)), true), wire);
    const result = decodePacketV3(wire);
    assert.deepEqual(result, { ok: true, packet: message(bytes(0, 1, 2, 3, 4, 5)) });
    // The changelog's revision 3 vector: message <01 02 03> => <04 01 02 03>.
    assert.deepEqual(encodePacketV3(message(bytes(1, 2, 3)), true), bytes(4, 1, 2, 3));
  });

  it("writes binary as b<type><base64> without binary support", () => {
    assert.equal(encodePacketV3(message(bytes(1, 2, 3, 4)), false), "b4AQIDBA==");
    assert.deepEqual(decodePacketV3("b4AQIDBA=="), {
      ok: true,
      packet: message(bytes(1, 2, 3, 4)),
    });
  });

  it("returns an error value for malformed packets", () => {
    const bad: (string | Uint8Array)[] = [
      "",
      "8",
      "b",
      "b9AQID",
      "bxAQID",
      "b2AQID", // binary ping: only messages carry binary
      "b4A",
      bytes(),
      bytes(7, 1),
      bytes(2, 1), // binary ping
      bytes(255),
    ];
    for (const input of bad) assert.equal(decodePacketV3(input).ok, false, String(input));
  });

  it("round-trips any message, with and without binary support", () => {
    const packet = fc.oneof(
      fc.string({ minLength: 1 }).map((s) => message(s)),
      fc.uint8Array().map((b) => message(b)),
    );
    fc.assert(
      fc.property(packet, fc.boolean(), (p, supportsBinary) => {
        assert.deepEqual(decodePacketV3(encodePacketV3(p, supportsBinary)), {
          ok: true,
          packet: p,
        });
      }),
      { numRuns: 300 },
    );
  });

  it("encodes a packet's fields as the packet itself", () => {
    const packet = fc.oneof(
      fc.record(
        {
          type: fc.constantFrom(T.Open, T.Close, T.Ping, T.Pong, T.Message, T.Upgrade, T.Noop),
          data: fc.option(fc.string(), { nil: undefined }),
        },
        { noNullPrototype: true },
      ),
      fc.uint8Array().map((b) => message(b)),
    ) as fc.Arbitrary<EnginePacket>;
    fc.assert(
      fc.property(packet, fc.boolean(), (p, supportsBinary) => {
        assert.deepEqual(
          encodeFrameV3(p.type, p.data, supportsBinary),
          encodePacketV3(p, supportsBinary),
        );
        assert.equal(encodeTextV3(p.type, p.data), encodeTextPacketV3(p));
      }),
      { numRuns: 300 },
    );
  });
});

describe("engine v3 payloads, text framing", () => {
  it("counts characters: the sample session's open packet is 96:0{...}", () => {
    const open =
      '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}';
    assert.equal(encodePayloadV3([{ type: T.Open, data: open.slice(1) }], true), `96:${open}`);
    assert.deepEqual(packetsOf(`96:${open}`), [{ type: T.Open, data: open.slice(1) }]);
  });

  it("encodes the sample session's messages (4:4hey, 6:4hello6:4world)", () => {
    assert.equal(encodePayloadV3([message("hey")], true), "4:4hey");
    assert.equal(encodePayloadV3([message("hello"), message("world")], false), "6:4hello6:4world");
    assert.deepEqual(packetsOf("6:4hello6:4world"), [message("hello"), message("world")]);
  });

  it("counts UTF-16 code units, not bytes: 6:4hello2:4€ (document example)", () => {
    assert.equal(encodePayloadV3([message("hello"), message("€")], true), "6:4hello2:4€");
    assert.deepEqual(packetsOf("6:4hello2:4€"), [message("hello"), message("€")]);
    // Astral characters are two code units each, as JavaScript's String length counts them.
    assert.equal(encodePayloadV3([message("😀")], true), "3:4😀");
    assert.deepEqual(packetsOf("3:4😀"), [message("😀")]);
  });

  it("base64-encodes binary without binary support: 2:4€10:b4AQIDBA== (document example)", () => {
    const packets = [message("€"), message(bytes(1, 2, 3, 4))];
    assert.equal(encodePayloadV3(packets, false), "2:4€10:b4AQIDBA==");
    assert.deepEqual(packetsOf("2:4€10:b4AQIDBA=="), packets);
  });

  it("encodes no packets as 0:, and skips zero-length records when decoding", () => {
    assert.equal(encodePayloadV3([], true), "0:");
    assert.deepEqual(packetsOf("0:"), []);
    assert.deepEqual(packetsOf("0:1:2"), [{ type: T.Ping, data: undefined }]);
  });

  it("uses text framing when binary is supported but no packet is binary", () => {
    assert.equal(encodePayloadV3([message("a"), { type: T.Noop }], true), "2:4a1:6");
  });

  it("returns an error value for malformed payloads", () => {
    const bad = [
      "",
      ":",
      "4",
      "4:",
      "6:4hello6",
      "6:4hello6:",
      "5:4hello",
      "7:4hello",
      "x:4hello",
      "-1:4",
      "1.5:4",
      " 6:4hello",
      "2:9x",
      "1:b",
      "3:b2A",
      `99999999999999999:4`,
    ];
    for (const input of bad) assert.equal(decodePayloadV3(input).ok, false, JSON.stringify(input));
  });

  it("refuses a payload longer than maxPayload", () => {
    assert.equal(decodePayloadV3("6:4hello", 8).ok, true);
    assert.deepEqual(decodePayloadV3("6:4hello", 7), { ok: false, reason: "payload too large" });
  });
});

describe("engine v3 payloads, binary framing (XHR2)", () => {
  it("matches the engine.io-parser changelog vector for [hello, <01 02 03>]", () => {
    const wire = bytes(
      0x00,
      0x06,
      0xff,
      0x34,
      0x68,
      0x65,
      0x6c,
      0x6c,
      0x6f,
      0x01,
      0x04,
      0xff,
      0x04,
      0x01,
      0x02,
      0x03,
    );
    const packets = [message("hello"), message(bytes(1, 2, 3))];
    assert.deepEqual(encodePayloadV3(packets, true), wire);
    assert.deepEqual(packetsOf(wire), packets);
  });

  it("counts UTF-8 bytes for text packets: ['€', <01 02 03 04>] (document example, see note)", () => {
    // The document shows `00 04 ff 34 e2 82 ac 01 04 ff 01 02 03 04`. Its text record is right
    // (4 bytes: "4" and the 3 bytes of "€"), but its binary record leaves out the message type
    // byte that the reference implementation writes and reads (as in the changelog vector above):
    // the real encoding of <01 02 03 04> is 01 05 ff 04 01 02 03 04.
    const wire = bytes(
      0x00,
      0x04,
      0xff,
      0x34,
      0xe2,
      0x82,
      0xac,
      0x01,
      0x05,
      0xff,
      0x04,
      0x01,
      0x02,
      0x03,
      0x04,
    );
    const packets = [message("€"), message(bytes(1, 2, 3, 4))];
    assert.deepEqual(encodePayloadV3(packets, true), wire);
    assert.deepEqual(packetsOf(wire), packets);
  });

  it("writes each length digit as its own byte (lengths of 10 and more)", () => {
    const text = "x".repeat(11); // "4" + 11 = 12 bytes
    const data = new Uint8Array(123).fill(7); // type byte + 123 = 124 bytes
    const encoded = encodePayloadV3([message(text), message(data)], true) as Uint8Array;
    assert.deepEqual(encoded.subarray(0, 4), bytes(0, 1, 2, 0xff));
    assert.deepEqual(encoded.subarray(16, 21), bytes(1, 1, 2, 4, 0xff));
    assert.equal(encoded.length, 4 + 12 + 5 + 124);
    assert.deepEqual(packetsOf(encoded), [message(text), message(data)]);
  });

  it("returns an error value for malformed binary payloads", () => {
    const bad = [
      bytes(),
      bytes(2, 1, 0xff, 0x34), // marker neither 0 nor 1
      bytes(0, 0xff, 0x34), // no length digit
      bytes(0, 1), // length never terminated
      bytes(0, 10, 0xff, 0x34), // digit byte above 9
      bytes(0, 2, 0xff, 0x34), // shorter than its length
      bytes(0, 1, 0xff, 0x39), // text packet of unknown type "9"
      bytes(0, 2, 0xff, 0x34, 0xc3), // invalid UTF-8
      bytes(1, 1, 0xff, 0x02), // binary ping
      bytes(1, 0, 0xff), // empty binary packet
      bytes(0, 1, 0xff, 0x34, 0x07), // trailing garbage
      new Uint8Array([0, ...new Array(17).fill(9), 0xff]),
    ];
    for (const input of bad) assert.equal(decodePayloadV3(input).ok, false, String(input));
  });

  it("keeps a leading byte order mark as data", () => {
    const wire = bytes(0, 4, 0xff, 0x34, 0xef, 0xbb, 0xbf);
    assert.deepEqual(packetsOf(wire), [message("\ufeff")]);
  });

  it("round-trips mixed packets in both framings", () => {
    const packet = fc.oneof(
      fc.string({ minLength: 1 }).map((s) => message(s)),
      fc.uint8Array().map((b) => message(b)),
      fc.constantFrom<EnginePacket>(
        { type: T.Ping, data: "probe" },
        { type: T.Noop, data: undefined },
      ),
    );
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 6 }), fc.boolean(), (packets, supportsBinary) => {
        const payload = encodePayloadV3(packets, supportsBinary);
        assert.deepEqual(decodePayloadV3(payload), { ok: true, packets });
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on arbitrary bytes or text", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 64 })),
        (input) => {
          decodePayloadV3(input);
        },
      ),
      { numRuns: 500 },
    );
  });
});
