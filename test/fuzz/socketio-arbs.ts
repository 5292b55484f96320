/**
 * Generators of Socket.IO packets for the fuzz suites: JSON-ish data (with brackets, quotes,
 * "__proto__" and "_placeholder" keys), binary values of every kind, namespaces, ids, valid
 * outgoing packets of every type, their encodings (text sometimes mutated, then attachments),
 * and sequences of decoder inputs.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encode,
  isReservedEventName,
  type OutgoingSocketPacket,
  SocketPacketType,
} from "../../src/protocol/socketio/index.js";
import { mutateString, mutationArb } from "./config.js";

const S = SocketPacketType;

export const socketCharArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "9", "-", "/", ","),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom("[", "]", "{", "}", '"', ":", "a", "e", "1", "null", "true"),
  },
  { weight: 1, arbitrary: fc.constantFrom("_placeholder", "num", " ", "\\", "\u00e9", "\ud83d") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);

export const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: "small" },
    fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom("[", "]]", '"', "\\", "{[", "_placeholder"),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    ),
    fc.array(tie("json"), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(
        fc.string({ maxLength: 4 }),
        fc.constantFrom("__proto__", "_placeholder", "num", "constructor"),
      ),
      tie("json"),
      { maxKeys: 3, noNullPrototype: true },
    ),
  ),
}));

export const binaryArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ maxLength: 8 }).map((b) => b.slice().buffer),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => new DataView(b.slice().buffer, 1)),
);

export const { withBinary } = fc.letrec<{ withBinary: unknown }>((tie) => ({
  withBinary: fc.oneof(
    { depthSize: "small" },
    fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null)),
    binaryArb,
    fc.array(tie("withBinary"), { maxLength: 3 }),
    fc.dictionary(
      // An object shaped like a placeholder is read as one in a binary packet (format limit).
      fc
        .oneof(fc.string({ maxLength: 4 }), fc.constantFrom("__proto__", "num", "constructor"))
        .filter((k) => k !== "_placeholder"),
      tie("withBinary"),
      { maxKeys: 3, noNullPrototype: true },
    ),
  ),
}));

export const nspArb = fc.oneof(
  fc.constant("/"),
  fc.string({ unit: "binary", maxLength: 8 }).map((s) => `/${s.replaceAll(",", "")}`),
  fc.constantFrom("/admin", "/1", "/12[", "/{}", "/ "),
);
export const idArb = fc.option(
  fc.oneof(fc.nat({ max: 100 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.nat()),
  {
    nil: undefined,
  },
);
export const eventNameArb = fc.oneof(
  fc.string({ maxLength: 8 }).filter((n) => !isReservedEventName(n)),
  fc.nat(),
);

/** Valid outgoing packets of every type (events and acks may hold binary). */
export const packetArb: fc.Arbitrary<OutgoingSocketPacket> = fc.oneof(
  fc.record({
    type: fc.constant(S.Connect),
    nsp: nspArb,
    data: fc.option(
      fc.dictionary(fc.string({ maxLength: 4 }), json, { maxKeys: 3, noNullPrototype: true }),
      {
        nil: undefined,
      },
    ),
  }),
  fc.record({ type: fc.constant(S.Disconnect), nsp: nspArb }),
  fc.record({
    type: fc.constant(S.Event),
    nsp: nspArb,
    data: fc
      .tuple(eventNameArb, fc.array(withBinary, { maxLength: 3 }))
      .map(([n, args]) => [n, ...args]),
    id: idArb,
  }),
  fc.record({
    type: fc.constant(S.Ack),
    nsp: nspArb,
    data: fc.array(withBinary, { maxLength: 3 }),
    id: fc.nat(),
  }),
  fc.record({
    type: fc.constant(S.ConnectError),
    nsp: nspArb,
    data: fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.dictionary(fc.string({ maxLength: 4 }), json, { maxKeys: 3, noNullPrototype: true }),
    ),
  }),
);

/** Encoded packets a client may send (no CONNECT_ERROR), text then attachments, unmutated. */
export const encodedClientArb: fc.Arbitrary<Array<string | Uint8Array>> = packetArb
  .filter((packet) => packet.type !== S.ConnectError)
  .map((packet) => {
    const encoded = encode(packet);
    assert.ok(encoded.ok, encoded.ok ? "" : encoded.reason);
    return encoded.parts;
  });

/** Encoded packets (text then attachments), with the text sometimes mutated. */
export const encodedArb: fc.Arbitrary<Array<string | Uint8Array>> = fc
  .tuple(
    packetArb,
    fc.oneof(fc.constant([]), fc.array(mutationArb, { minLength: 1, maxLength: 3 })),
  )
  .map(([packet, mutations]) => {
    const encoded = encode(packet);
    assert.ok(encoded.ok, encoded.ok ? "" : encoded.reason);
    const [text, ...parts] = encoded.parts;
    return [mutateString(text, mutations), ...parts];
  });

/** Sequences of decoder inputs: random texts, encoded packets, stray binary parts. */
export const inputsArb: fc.Arbitrary<Array<string | Uint8Array>> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: socketCharArb, maxLength: 30 }).map((s) => [s]) },
      { weight: 4, arbitrary: encodedArb },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4 }).map((b) => [b]) },
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((groups) => groups.flat());
