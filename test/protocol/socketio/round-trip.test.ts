/**
 * Property: any event or ack with JSON-ish data and binary values of any kind nested anywhere
 * comes out of encode -> Decoder equal to what went in (binary values as Uint8Array views).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  Decoder,
  encode,
  isReservedEventName,
  type OutgoingSocketPacket,
  type SocketPacket,
  SocketPacketType,
} from "../../../src/protocol/socketio/index.js";

const S = SocketPacketType;

const binary: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 16 }),
  fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ maxLength: 16 }).map((b) => b.slice().buffer),
  fc.uint8Array({ minLength: 2, maxLength: 16 }).map((b) => new Uint8Array(b.buffer, 1)),
  fc.uint8Array({ maxLength: 16 }).map((b) => new DataView(b.slice().buffer)),
  fc.integer({ min: 0, max: 4 }).map((n) => new Int32Array(n)),
);

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.boolean(),
  fc.constant(null),
);

// "_placeholder" is the one key the format cannot carry: an object shaped like a placeholder
// inside a binary packet is read as one (so does the reference parser).
const key = fc.string().filter((k) => k !== "_placeholder");

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    binary,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4, noNullPrototype: true }),
  ),
}));

const eventName = fc.oneof(
  fc.string().filter((name) => !isReservedEventName(name)),
  fc.integer({ min: 0 }),
);
const nsp = fc.oneof(
  fc.constant("/"),
  fc.string().map((s) => `/${s.replaceAll(",", "")}`),
);

const packet: fc.Arbitrary<OutgoingSocketPacket> = fc.oneof(
  fc.record({
    type: fc.constant(S.Event),
    nsp,
    data: fc
      .tuple(eventName, fc.array(value, { maxLength: 4 }))
      .map(([name, args]) => [name, ...args]),
    id: fc.option(fc.nat(), { nil: undefined }),
  }),
  fc.record({
    type: fc.constant(S.Ack),
    nsp,
    data: fc.array(value, { maxLength: 4 }),
    id: fc.nat(),
  }),
);

/** What the decoder gives back for `data`: binary values become Uint8Array views. */
function expected(data: unknown): unknown {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return data.map(expected);
  if (typeof data === "object" && data !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) {
      Object.defineProperty(out, k, {
        value: expected(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return data;
}

function roundTrip(input: OutgoingSocketPacket): SocketPacket {
  const encoded = encode(input);
  assert.ok(encoded.ok, !encoded.ok ? encoded.reason : "");
  const decoder = new Decoder({ maxAttachments: Number.POSITIVE_INFINITY });
  let last: SocketPacket | null = null;
  for (const part of encoded.parts) {
    const result = decoder.add(part);
    assert.ok(result.ok, !result.ok ? result.reason : "");
    last = result.packet;
  }
  assert.ok(last !== null, "the last part completes the packet");
  return last;
}

describe("socket.io round trips", () => {
  it("decodes what it encodes, for any data with binary nested anywhere", () => {
    fc.assert(
      fc.property(packet, (input) => {
        const output = roundTrip(input);
        assert.deepEqual(output, {
          type: input.type,
          nsp: input.nsp,
          data: expected(input.data),
          id: input.id,
        });
      }),
      { numRuns: 400 },
    );
  });

  it("writes binary packets exactly when the data holds binary", () => {
    fc.assert(
      fc.property(packet, (input) => {
        const encoded = encode(input);
        assert.ok(encoded.ok);
        const [text, ...attachments] = encoded.parts;
        const wireType = Number(text[0]);
        if (attachments.length > 0) {
          assert.equal(wireType, input.type === S.Event ? S.BinaryEvent : S.BinaryAck);
          assert.ok(text.startsWith(`${wireType}${attachments.length}-`));
        } else {
          assert.equal(wireType, input.type);
        }
      }),
      { numRuns: 200 },
    );
  });
});
