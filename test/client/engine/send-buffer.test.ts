/**
 * The send buffer: order, callbacks, the size bound, and batches that fit maxPayload exactly
 * (checked against the real payload encoder's UTF-8 size).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SendBuffer } from "../../../src/client/engine/send-buffer.js";
import {
  type EnginePacket,
  EnginePacketType,
  encodePayload,
} from "../../../src/protocol/engine/index.js";

const encoder = new TextEncoder();

function message(data: string | Uint8Array): EnginePacket {
  return { type: EnginePacketType.Message, data };
}

const packetArbitrary: fc.Arbitrary<EnginePacket> = fc.oneof(
  fc
    .string({ unit: "grapheme", maxLength: 40 })
    .map((text) => message(text.replaceAll("\x1e", ""))),
  fc.string({ unit: "binary", maxLength: 40 }).map((text) => message(text.replaceAll("\x1e", ""))),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => message(bytes)),
  fc.constant<EnginePacket>({ type: EnginePacketType.Pong }),
);

describe("SendBuffer", () => {
  it("take(maxPayload): the longest prefix whose payload fits, at least one packet, order kept", () => {
    fc.assert(
      fc.property(
        fc.array(packetArbitrary, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 400 }),
        (packets, maxPayload) => {
          const buffer = new SendBuffer(Number.POSITIVE_INFINITY);
          for (const packet of packets) assert.ok(buffer.push(packet));
          const taken: EnginePacket[] = [];
          while (buffer.length > 0) {
            const batch = buffer.take(maxPayload).packets;
            assert.ok(batch.length >= 1);
            const bytes = encoder.encode(encodePayload(batch)).length;
            if (batch.length > 1) assert.ok(bytes <= maxPayload, `${bytes} > ${maxPayload}`);
            if (buffer.length > 0) {
              // Greedy: adding the next packet would not have fitted.
              const withNext = [...batch, packets[taken.length + batch.length]];
              assert.ok(encoder.encode(encodePayload(withNext)).length > maxPayload);
            }
            taken.push(...batch);
          }
          assert.deepEqual(taken, packets);
          assert.equal(buffer.amount, 0);
        },
      ),
    );
  });

  it("callbacks stay aligned with their packets across partial takes", () => {
    const buffer = new SendBuffer(1000);
    const called: string[] = [];
    buffer.push(message("aaaa"));
    buffer.push(message("bbbb"), () => called.push("b"));
    buffer.push(message("cccc"));
    buffer.push(message("dddd"), () => called.push("d"));
    const first = buffer.take(12); // "4aaaa\x1e4bbbb" is 11 bytes; a third would be 17
    assert.deepEqual(
      first.packets.map((p) => p.data),
      ["aaaa", "bbbb"],
    );
    assert.equal(first.callbacks?.length, 2);
    for (const callback of first.callbacks ?? []) callback?.();
    assert.deepEqual(called, ["b"]);
    const rest = buffer.take();
    assert.deepEqual(
      rest.packets.map((p) => p.data),
      ["cccc", "dddd"],
    );
    for (const callback of rest.callbacks ?? []) callback?.();
    assert.deepEqual(called, ["b", "d"]);
    buffer.push(message("e"));
    assert.equal(buffer.take().callbacks, null, "no callback array when none was given");
  });

  it("the bound: code units for text, bytes for binary, one type character each", () => {
    const buffer = new SendBuffer(10);
    assert.ok(buffer.push(message("é😀"))); // 1 + 3 code units
    assert.equal(buffer.amount, 4);
    assert.ok(buffer.push(message(new Uint8Array(5)))); // 1 + 5
    assert.equal(buffer.amount, 10);
    assert.equal(buffer.push({ type: EnginePacketType.Pong }), false);
    assert.equal(buffer.length, 2);
    buffer.take(1);
    assert.equal(buffer.amount, 6);
    buffer.clear();
    assert.equal(buffer.amount, 0);
    assert.ok(buffer.push(message("x".repeat(50))), "an empty buffer takes one oversized packet");
  });
});
