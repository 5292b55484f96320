/**
 * `encodeUtf8`, the byte form of an echo's packet, against the text encoder: the same text in
 * UTF-8 after one free byte, or null (then the text encoder decides, errors included).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  encode,
  type OutgoingSocketPacket,
  SocketPacketType,
} from "../../src/protocol/socketio/index.js";
import { parsePacketBytes } from "../../src/protocol/socketio/packet-bytes-parser.js";
import {
  encodeUtf8,
  MAX_BUFFERED_FOR_SMALL_UTF8,
  MAX_BUFFERED_FOR_UTF8,
} from "../../src/server/packet-encoding.js";

const S = SocketPacketType;

function decode(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8", start, end);
}

/** The strings of `values` as the byte parser gives them (so they are remembered, counted). */
function received(values: unknown[]): unknown[] {
  const packet = parsePacketBytes(Buffer.from(`2${JSON.stringify(["in", ...values])}`), 0, decode);
  assert.ok(packet !== null, "the byte parser takes the generated packets");
  return packet.data.slice(1);
}

/** Checks encodeUtf8 against encode; returns whether it wrote bytes. */
function agrees(packet: OutgoingSocketPacket): boolean {
  const bytes = encodeUtf8(packet, 0);
  const text = encode(packet);
  if (bytes === null) return false;
  assert.ok(text.ok, `encodeUtf8 wrote a packet encode refuses: ${text.ok || text.reason}`);
  assert.equal(bytes.toString("utf8", 1), text.parts[0]);
  assert.equal(bytes.length, 1 + Buffer.byteLength(text.parts[0]));
  return true;
}

describe("server: packets written as UTF-8 bytes", () => {
  it("writes an echo's ack and event as the text encoder does", () => {
    const [long] = received(["a".repeat(4096)]);
    assert.ok(agrees({ type: S.Ack, nsp: "/", id: 100, data: [long] }));
    assert.ok(agrees({ type: S.Event, nsp: "/chat", data: ["tick", long, 1, null, true] }));
    const [wide] = received(["é😀".repeat(1000)]);
    assert.ok(agrees({ type: S.Ack, nsp: "/é", id: 0, data: [wide, "x\n", -0, Number.NaN] }));
  });

  it("writes small packets too (an acknowledgement of a few bytes)", () => {
    const [word, name, wide] = received(["abcdefghijklmnopqrstuvwxyz012345", "x", "é😀"]);
    assert.ok(agrees({ type: S.Ack, nsp: "/", id: 123, data: [word] }));
    assert.ok(agrees({ type: S.Ack, nsp: "/", id: 0, data: [name, 1.5, false] }));
    assert.ok(agrees({ type: S.Ack, nsp: "/", id: 9007199254740991, data: [wide, "é"] }));
    assert.ok(agrees({ type: S.Event, nsp: "/ö", data: ["echo", word, -7, null] }));
    assert.ok(agrees({ type: S.Event, nsp: "/", id: 10, data: [word] }));
  });

  it("reads each element once (an accessor cannot change what was measured)", () => {
    const [first, second] = received(["e".repeat(40), "f".repeat(80)]);
    let reads = 0;
    const data: unknown[] = [];
    Object.defineProperty(data, 0, {
      get: () => (reads++ === 0 ? first : second),
      enumerable: true,
    });
    const bytes = encodeUtf8({ type: S.Ack, nsp: "/", id: 1, data }, 0);
    assert.ok(bytes !== null);
    assert.equal(bytes.toString("utf8", 1), `31${JSON.stringify([first])}`);
    assert.equal(reads, 1);
  });

  it("writes nothing for a connection that holds too much unsent", () => {
    const [short] = received(["d".repeat(32)]);
    const [long] = received(["d".repeat(4096)]);
    const small: OutgoingSocketPacket = { type: S.Ack, nsp: "/", id: 1, data: [short] };
    const large: OutgoingSocketPacket = { type: S.Ack, nsp: "/", id: 1, data: [long] };
    assert.notEqual(encodeUtf8(small, MAX_BUFFERED_FOR_SMALL_UTF8 - 1), null);
    assert.equal(encodeUtf8(small, MAX_BUFFERED_FOR_SMALL_UTF8), null);
    assert.notEqual(encodeUtf8(large, MAX_BUFFERED_FOR_UTF8 - 1), null);
    assert.equal(encodeUtf8(large, MAX_BUFFERED_FOR_UTF8), null);
  });

  it("leaves the rest to the text encoder", () => {
    const [long] = received(["b".repeat(4096)]);
    const table: OutgoingSocketPacket[] = [
      { type: S.Ack, nsp: "/", id: 1, data: ["c"] },
      { type: S.Ack, nsp: "/", id: 1, data: ["c".repeat(4096)] },
      { type: S.Ack, nsp: "/", id: 1, data: [long, { a: 1 }] },
      { type: S.Ack, nsp: "/", id: 1, data: [long, [1]] },
      { type: S.Ack, nsp: "/", id: 1, data: [long, undefined] },
      { type: S.Ack, nsp: "/", id: 1, data: [long, Buffer.from("x")] },
      { type: S.Ack, nsp: "/", data: [long] },
      { type: S.Ack, nsp: "/", id: -1, data: [long] },
      { type: S.Ack, nsp: "no-slash", id: 1, data: [long] },
      { type: S.Event, nsp: "/", data: ["connect", long] },
      { type: S.Connect, nsp: "/", data: { long } },
      { type: S.ConnectError, nsp: "/", data: long },
    ];
    for (const packet of table) assert.equal(encodeUtf8(packet, 0), null);
    const withToJSON = Object.assign([long], { toJSON: () => "other" });
    assert.equal(encodeUtf8({ type: S.Ack, nsp: "/", id: 1, data: withToJSON }, 0), null);
  });

  it("agrees with the text encoder on generated echoes", () => {
    const plain = (text: string) => JSON.stringify(text) === `"${text}"`;
    const value = fc.oneof(
      fc.string({ unit: "grapheme", minLength: 600, maxLength: 3000 }).filter(plain),
      fc.string({ unit: "binary", maxLength: 40 }).filter(plain),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 5 }),
        fc.constantFrom("/", "/chat", "/ö"),
        fc.option(fc.nat(), { nil: undefined }),
        fc.boolean(),
        (values, nsp, id, isAck) => {
          const data = received(values);
          if (isAck) agrees({ type: S.Ack, nsp, id: id ?? 0, data });
          else agrees({ type: S.Event, nsp, id, data: ["echo", ...data] });
        },
      ),
      { seed: 99, numRuns: 300 },
    );
  });
});
