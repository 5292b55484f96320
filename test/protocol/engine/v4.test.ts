/**
 * Engine.IO protocol revision 4: every example of the protocol document (docs/engine.io-protocol/
 * v4-current.md in socketio/socket.io) and of the engine.io-parser 4.0.0 changelog, byte-exact,
 * plus malformed input and round trips.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  decodePacket,
  decodePayload,
  type EnginePacket,
  EnginePacketType,
  encodeFrame,
  encodeOpenPacket,
  encodePacket,
  encodePacketAsText,
  encodePayload,
  encodeText,
  MESSAGE_PREFIX,
  MESSAGE_PREFIX_BYTE,
  MESSAGE_PREFIX_LENGTH,
  parseHandshake,
  writeMessagePrefix,
} from "../../../src/protocol/engine/index.js";

const T = EnginePacketType;
const bytes = (...values: number[]) => new Uint8Array(values);

function decoded(data: string | Uint8Array): EnginePacket {
  const result = decodePacket(data);
  assert.ok(result.ok, `expected ${JSON.stringify(data)} to decode`);
  return result.packet;
}

describe("engine v4 packets (WebSocket frames)", () => {
  const textExamples: [EnginePacket, string][] = [
    [{ type: T.Ping, data: "probe" }, "2probe"],
    [{ type: T.Pong, data: "probe" }, "3probe"],
    [{ type: T.Upgrade }, "5"],
    [{ type: T.Ping }, "2"],
    [{ type: T.Pong }, "3"],
    [{ type: T.Close }, "1"],
    [{ type: T.Noop }, "6"],
    [{ type: T.Message, data: "hello" }, "4hello"],
    [{ type: T.Message, data: "HelloWorld" }, "4HelloWorld"],
    [{ type: T.Message, data: "€€€" }, "4€€€"],
  ];

  it("encodes and decodes the document's text packets byte-exact", () => {
    for (const [packet, wire] of textExamples) {
      assert.equal(encodePacket(packet, true), wire);
      assert.equal(encodePacket(packet, false), wire);
      assert.deepEqual(decoded(wire), { type: packet.type, data: packet.data });
    }
  });

  it("sends binary as is, without a type prefix, when binary is supported", () => {
    const data = bytes(1, 2, 3);
    const encoded = encodePacket({ type: T.Message, data }, true);
    assert.equal(encoded, data, "the caller's bytes, not a copy");
    const packet = decoded(bytes(1, 2, 3));
    assert.equal(packet.type, T.Message);
    assert.deepEqual(packet.data, bytes(1, 2, 3));
  });

  it("sends binary as b + base64 text when binary is not supported", () => {
    assert.equal(encodePacket({ type: T.Message, data: bytes(1, 2, 3, 4) }, false), "bAQIDBA==");
    assert.deepEqual(decoded("bAQIDBA=="), { type: T.Message, data: bytes(1, 2, 3, 4) });
    assert.deepEqual(decoded("b"), { type: T.Message, data: bytes() });
  });

  it("decodes an ArrayBuffer and a Buffer as a binary message; data aliases the input", () => {
    const buffer = Buffer.from([9, 8, 7]);
    const fromBuffer = decoded(buffer);
    assert.equal(fromBuffer.data, buffer);
    const arrayBuffer = new Uint8Array([5, 6]).buffer;
    const result = decodePacket(arrayBuffer);
    assert.ok(result.ok);
    assert.deepEqual(result.packet.data, bytes(5, 6));
    assert.deepEqual(decoded(bytes()), { type: T.Message, data: bytes() });
  });

  it("returns an error value for malformed text", () => {
    const malformed = [
      "",
      "7",
      "9hello",
      "x",
      "-1",
      " 4hello",
      "\x1e",
      "bA",
      "b!!!!",
      "bAQ=D",
      "b€",
    ];
    for (const input of malformed) {
      const result = decodePacket(input);
      assert.equal(result.ok, false, JSON.stringify(input));
      assert.ok(!result.ok && result.reason.length > 0);
    }
  });

  it("never throws on arbitrary text or bytes, and round-trips what it accepts", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.uint8Array()), (input) => {
        const result = decodePacket(input);
        if (result.ok && typeof input === "string" && input[0] !== "b") {
          assert.equal(encodePacket(result.packet, true), input);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("round-trips any packet, with and without binary support", () => {
    const packet = fc.oneof(
      fc.record(
        {
          type: fc.constantFrom(T.Open, T.Close, T.Ping, T.Pong, T.Message, T.Upgrade, T.Noop),
          data: fc.string({ unit: "binary", minLength: 1 }),
        },
        { noNullPrototype: true },
      ),
      fc.record({ type: fc.constant(T.Message), data: fc.uint8Array() }, { noNullPrototype: true }),
    ) as fc.Arbitrary<EnginePacket>;
    fc.assert(
      fc.property(packet, fc.boolean(), (p, supportsBinary) => {
        assert.deepEqual(decoded(encodePacket(p, supportsBinary)), p);
      }),
      { numRuns: 500 },
    );
  });

  it("encodes a packet's fields as the packet itself", () => {
    const packet = fc.oneof(
      fc.record(
        {
          type: fc.constantFrom(T.Open, T.Close, T.Ping, T.Pong, T.Message, T.Upgrade, T.Noop),
          data: fc.option(fc.string({ unit: "binary" }), { nil: undefined }),
        },
        { noNullPrototype: true },
      ),
      fc.record({ type: fc.constant(T.Message), data: fc.uint8Array() }, { noNullPrototype: true }),
    ) as fc.Arbitrary<EnginePacket>;
    fc.assert(
      fc.property(packet, fc.boolean(), (p, supportsBinary) => {
        assert.deepEqual(
          encodeFrame(p.type, p.data, supportsBinary),
          encodePacket(p, supportsBinary),
        );
        assert.equal(encodeText(p.type, p.data), encodePacketAsText(p));
      }),
      { numRuns: 300 },
    );
  });

  it("writes a text message into bytes after the prefix's room, which decode as the message", () => {
    assert.equal(MESSAGE_PREFIX, encodeText(T.Message, undefined));
    assert.deepEqual([...Buffer.from(MESSAGE_PREFIX)], [MESSAGE_PREFIX_BYTE]);
    assert.equal(MESSAGE_PREFIX_LENGTH, Buffer.byteLength(MESSAGE_PREFIX));
    const text = 'hello "€"';
    const bytes = Buffer.alloc(MESSAGE_PREFIX_LENGTH + Buffer.byteLength(text));
    bytes.write(text, MESSAGE_PREFIX_LENGTH);
    writeMessagePrefix(bytes);
    assert.equal(bytes.toString(), encodeText(T.Message, text));
    assert.deepEqual(decoded(bytes.toString()), { type: T.Message, data: text });
  });
});

describe("engine v4 payloads (HTTP long-polling)", () => {
  it("joins packets with the record separator (document example)", () => {
    const packets: EnginePacket[] = [
      { type: T.Message, data: "hello" },
      { type: T.Ping },
      { type: T.Message, data: "world" },
    ];
    assert.equal(encodePayload(packets), "4hello\x1e2\x1e4world");
    assert.deepEqual(decodePayload("4hello\x1e2\x1e4world"), {
      ok: true,
      packets: [
        { type: T.Message, data: "hello" },
        { type: T.Ping, data: undefined },
        { type: T.Message, data: "world" },
      ],
    });
  });

  it("writes binary as b + base64 (document example)", () => {
    const packets: EnginePacket[] = [
      { type: T.Message, data: "hello" },
      { type: T.Message, data: bytes(1, 2, 3, 4) },
    ];
    assert.equal(encodePayload(packets), "4hello\x1ebAQIDBA==");
    assert.deepEqual(decodePayload("4hello\x1ebAQIDBA=="), { ok: true, packets });
  });

  it("matches the engine.io-parser 4.0.0 changelog vectors", () => {
    assert.equal(
      encodePayload([
        { type: T.Message, data: "hello" },
        { type: T.Message, data: "€€€" },
      ]),
      "4hello\x1e4€€€",
    );
    assert.equal(
      encodePayload([
        { type: T.Message, data: "hello" },
        { type: T.Message, data: bytes(1, 2, 3) },
      ]),
      "4hello\x1ebAQID",
    );
  });

  it("carries Socket.IO packets (the Socket.IO document's sample session)", () => {
    assert.equal(
      encodePayload([
        { type: T.Message, data: '2["hello"]' },
        { type: T.Message, data: '2["world"]' },
      ]),
      '42["hello"]\x1e42["world"]',
    );
    assert.deepEqual(decodePayload("40"), { ok: true, packets: [{ type: T.Message, data: "0" }] });
  });

  it("encodes an empty list as an empty string, which does not decode", () => {
    assert.equal(encodePayload([]), "");
    assert.equal(decodePayload("").ok, false);
  });

  it("returns an error value for malformed payloads", () => {
    for (const input of [
      "4hello\x1e",
      "\x1e4hello",
      "4a\x1e\x1e4b",
      "4hello\x1e9",
      "4a\x1eb!!",
      "x",
    ]) {
      const result = decodePayload(input);
      assert.equal(result.ok, false, JSON.stringify(input));
    }
  });

  it("refuses a payload longer than maxPayload before parsing it", () => {
    assert.equal(decodePayload("4hello", 6).ok, true);
    const result = decodePayload("4hello!", 6);
    assert.deepEqual(result, { ok: false, reason: "payload too large" });
  });

  it("round-trips packets without the separator in their text", () => {
    const packet = fc.oneof(
      fc.record(
        {
          type: fc.constantFrom(T.Open, T.Close, T.Ping, T.Pong, T.Message, T.Upgrade, T.Noop),
          data: fc.string({ unit: "binary", minLength: 1 }).filter((s) => !s.includes("\x1e")),
        },
        { noNullPrototype: true },
      ),
      fc.record({ type: fc.constant(T.Message), data: fc.uint8Array() }, { noNullPrototype: true }),
    ) as fc.Arbitrary<EnginePacket>;
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 8 }), (packets) => {
        assert.deepEqual(decodePayload(encodePayload(packets)), { ok: true, packets });
      }),
      { numRuns: 300 },
    );
  });
});

describe("engine handshake (open packet)", () => {
  const handshake = {
    sid: "lv_VI97HAXpY6yYWAAAC",
    upgrades: ["websocket"],
    pingInterval: 25000,
    pingTimeout: 5000,
    maxPayload: 1000000,
  };
  const wire =
    '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}';

  it("writes the Socket.IO sample session's open packet byte-exact, keys in order", () => {
    assert.equal(encodeOpenPacket(handshake), wire);
    const reordered = {
      maxPayload: 1000000,
      pingTimeout: 5000,
      pingInterval: 25000,
      upgrades: ["websocket"],
      sid: "lv_VI97HAXpY6yYWAAAC",
    };
    assert.equal(encodeOpenPacket(reordered), wire);
  });

  it("parses the open packet data, including the document's pretty-printed example", () => {
    const packet = decoded(wire);
    assert.equal(packet.type, T.Open);
    assert.deepEqual(parseHandshake(packet.data as string), { ok: true, handshake });
    const pretty = `{
      "sid": "lv_VI97HAXpY6yYWAAAC",
      "upgrades": ["websocket"],
      "pingInterval": 25000,
      "pingTimeout": 20000,
      "maxPayload": 1000000
    }`;
    assert.deepEqual(parseHandshake(pretty), {
      ok: true,
      handshake: { ...handshake, pingTimeout: 20000 },
    });
  });

  it("leaves maxPayload out when absent (revision 3 servers)", () => {
    const v3 = {
      sid: "lv_VI97HAXpY6yYWAAAC",
      upgrades: ["websocket"],
      pingInterval: 25000,
      pingTimeout: 5000,
    };
    const text = encodeOpenPacket(v3);
    assert.equal(
      text,
      '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}',
    );
    assert.deepEqual(parseHandshake(text.slice(1)), { ok: true, handshake: v3 });
  });

  it("returns an error value for malformed handshakes", () => {
    const bad = [
      "",
      "not json",
      "[]",
      "null",
      '"sid"',
      '{"upgrades":[],"pingInterval":1,"pingTimeout":1}',
      '{"sid":"","upgrades":[],"pingInterval":1,"pingTimeout":1}',
      '{"sid":"a","upgrades":"websocket","pingInterval":1,"pingTimeout":1}',
      '{"sid":"a","upgrades":[1],"pingInterval":1,"pingTimeout":1}',
      '{"sid":"a","upgrades":[],"pingInterval":"1","pingTimeout":1}',
      '{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":-1}',
      '{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":null}',
    ];
    for (const input of bad) assert.equal(parseHandshake(input).ok, false, input);
  });
});
