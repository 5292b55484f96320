/**
 * Fuzzing the Socket.IO packet decoder (src/protocol/socketio/decoder.ts): random packet texts,
 * mutated valid packets, binary attachments announced versus sent (a million announced must be
 * refused at once, before anything is buffered), deep nesting against `maxDepth`, huge ids,
 * arbitrary namespaces. Nothing throws; every packet that comes out follows the protocol's rules;
 * whatever is accepted is accepted, and read identically, by the reference parser
 * (socket.io-parser); and encode -> decode gives generated packets back.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Decoder as ReferenceDecoder } from "socket.io-parser";
import {
  DEFAULT_MAX_ATTACHMENTS,
  Decoder,
  encode,
  isReservedEventName,
  type SocketPacket,
  SocketPacketType,
} from "../../src/protocol/socketio/index.js";
import { assertFast, fuzz } from "./config.js";
import { inputsArb, json, nspArb, packetArb } from "./socketio-arbs.js";

const S = SocketPacketType;
const isPlainObject = (v: unknown) => Object.prototype.toString.call(v) === "[object Object]";

/** Asserts the documented shape of a decoded packet. */
function assertWellFormed(packet: SocketPacket): void {
  assert.ok(packet.nsp.startsWith("/") && !packet.nsp.includes(","), `namespace ${packet.nsp}`);
  const { id } = packet;
  if (id !== undefined) assert.ok(Number.isSafeInteger(id) && id >= 0, `id ${id}`);
  switch (packet.type) {
    case S.Connect:
      assert.equal(id, undefined);
      assert.ok(packet.data === undefined || isPlainObject(packet.data));
      break;
    case S.Disconnect:
      assert.equal(id, undefined);
      assert.equal(packet.data, undefined);
      break;
    case S.Event:
      assert.ok(Array.isArray(packet.data) && packet.data.length > 0);
      assert.ok(["string", "number"].includes(typeof packet.data[0]));
      assert.ok(!isReservedEventName(packet.data[0]));
      break;
    case S.Ack:
      assert.ok(id !== undefined && Array.isArray(packet.data));
      break;
    case S.ConnectError:
      assert.equal(id, undefined);
      assert.ok(typeof packet.data === "string" || isPlainObject(packet.data));
      break;
    default:
      assert.fail(`decoded type ${(packet as { type: number }).type}`);
  }
}

/** Data with binary values turned into plain Uint8Array copies, for deepStrictEqual. */
function normalize(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(
      value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength),
    );
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, {
        value: normalize((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** A decoded packet as plain data ({type, nsp, id, data}), binaries normalized. */
function plainPacket(p: { type: number; nsp: string; id?: number; data?: unknown }) {
  return { type: p.type, nsp: p.nsp, id: p.id, data: normalize(p.data) };
}

/**
 * The reference parser's reading of a sequence: per input, its decoded packet, "pending" while
 * attachments are due, or "error" (it throws; a fresh decoder continues, as ours resets).
 */
function referenceReadings(inputs: Array<string | Uint8Array>): unknown[] {
  let decoder = new ReferenceDecoder();
  let decoded: unknown = null;
  const attach = (d: ReferenceDecoder) =>
    d.on("decoded", (packet: { type: number; nsp: string; id?: number; data?: unknown }) => {
      decoded = plainPacket(packet);
    });
  attach(decoder);
  return inputs.map((input) => {
    decoded = null;
    try {
      decoder.add(typeof input === "string" ? input : Buffer.from(input));
    } catch {
      decoder = new ReferenceDecoder();
      attach(decoder);
      return "error";
    }
    return decoded ?? "pending";
  });
}

/** The reference parser reads whitespace as id digits ("2 [...]": id 0); it is left out there. */
const WHITESPACE_AS_ID = /^\d(?:[^-]*-)?(?:\/[^,]*,)?\d*\s/;

// ---- properties ------------------------------------------------------------------------------

describe("fuzz: Socket.IO decoder", () => {
  it("never throws; packets are well-formed; accepted input reads the same in socket.io-parser", () => {
    fuzz(
      "decoder vs reference",
      fc.property(inputsArb, (inputs) => {
        const decoder = new Decoder();
        const theirs = referenceReadings(inputs);
        // After either decoder refused something the two may wait for different things.
        let diverged = false;
        inputs.forEach((input, i) => {
          const result = decoder.add(input);
          assert.ok(decoder.pendingAttachments >= 0);
          assert.ok(decoder.pendingAttachments <= DEFAULT_MAX_ATTACHMENTS);
          if (!result.ok) {
            assert.equal(typeof result.reason, "string");
            diverged = true;
            return;
          }
          if (result.packet !== null) assertWellFormed(result.packet);
          else assert.ok(decoder.pendingAttachments > 0);
          if (diverged || (typeof input === "string" && WHITESPACE_AS_ID.test(input))) return;
          // Accepted here: accepted, and read the same, by the reference parser.
          const expected = result.packet === null ? "pending" : plainPacket(result.packet);
          assert.deepEqual(theirs[i], expected, `input ${i}`);
        });
      }),
      4000,
    );
  });

  it("encode -> decode gives every generated packet back (binary in place, any namespace/id)", () => {
    fuzz(
      "round trip",
      fc.property(packetArb, fc.boolean(), (packet, asArrayBuffer) => {
        const encoded = encode(packet);
        assert.ok(encoded.ok, encoded.ok ? "" : encoded.reason);
        const decoder = new Decoder();
        const [text, ...parts] = encoded.parts;
        let result = decoder.add(text);
        for (const part of parts) {
          assert.ok(result.ok && result.packet === null);
          result = decoder.add(asArrayBuffer ? Uint8Array.from(part).buffer : part);
        }
        assert.ok(result.ok && result.packet !== null, result.ok ? "pending" : result.reason);
        const type =
          packet.type === S.BinaryEvent
            ? S.Event
            : packet.type === S.BinaryAck
              ? S.Ack
              : packet.type;
        assert.deepEqual(plainPacket(result.packet), {
          type,
          nsp: packet.nsp,
          id: packet.id,
          data: packet.data === undefined ? undefined : normalize(packet.data),
        });
      }),
      3000,
    );
  });

  it("announced attachments above maxAttachments are refused when the text arrives", () => {
    const countArb = fc.oneof(
      fc.integer({ min: 11, max: 1_000_000 }),
      fc.constantFrom(1_000_000, 999_999_999_999, Number.MAX_SAFE_INTEGER),
      fc.bigInt({ min: 10n ** 15n, max: 10n ** 40n }),
    );
    fuzz(
      "attachment counts",
      fc.property(
        countArb,
        fc.integer({ min: 0, max: 20 }),
        fc.constantFrom("5", "6"),
        fc.nat({ max: 30 }),
        (count, maxAttachments, type, sent) => {
          const decoder = new Decoder({ maxAttachments });
          const data = JSON.stringify(
            type === "5"
              ? ["upload", { _placeholder: true, num: 0 }]
              : [{ _placeholder: true, num: 0 }],
          );
          const text = `${type}${count}-${type === "6" ? "7" : ""}${data}`;
          const result = decoder.add(text);
          const announced = Number(count);
          const digits = String(count).length;
          if (announced > maxAttachments || digits > 16) {
            assert.equal(result.ok, false, text);
            assert.equal(decoder.pendingAttachments, 0);
            return;
          }
          // Within the limit: exactly `announced` parts complete the packet; never more buffered.
          assert.ok(result.ok && result.packet === null);
          for (let i = 0; i < Math.min(sent, announced); i++) {
            assert.equal(decoder.pendingAttachments, announced - i);
            const r = decoder.add(Uint8Array.of(i));
            assert.ok(r.ok);
            assert.equal(r.packet === null, i < announced - 1);
          }
        },
      ),
      2000,
    );
  });

  it("nesting: accepted exactly up to maxDepth, brackets inside strings not counted, deep input fast", () => {
    const nested = fc
      .tuple(
        fc.integer({ min: 1, max: 1200 }),
        fc.array(fc.constantFrom("[", "{"), { minLength: 1, maxLength: 4 }),
        json,
      )
      .map(([depth, kinds, leaf]) => {
        let text = JSON.stringify(leaf);
        for (let d = 0; d < depth; d++) {
          text = kinds[d % kinds.length] === "[" ? `[${text}]` : `{"k":${text}}`;
        }
        return text;
      });
    fuzz(
      "nesting",
      fc.property(nested, fc.integer({ min: 1, max: 1000 }), (inner, maxDepth) => {
        const dataText = `["e",${inner}]`;
        const depth = jsonDepth(JSON.parse(dataText));
        const result = new Decoder({ maxDepth }).add(`2${dataText}`);
        assert.equal(result.ok, depth <= maxDepth, `depth ${depth}, maxDepth ${maxDepth}`);
        if (result.ok) assert.deepEqual(result.packet?.data, JSON.parse(dataText));
        // Whatever is accepted can be sent back (the decoder's limit is the encoder's).
        if (result.ok && result.packet) {
          assert.ok(
            encode({ type: S.Ack, nsp: "/", id: 1, data: result.packet.data as unknown[] }).ok,
          );
        }
      }),
      300,
    );
    const hugeDepth = fc.integer({ min: 100_000, max: 1_000_000 });
    fuzz(
      "deep input",
      fc.property(hugeDepth, fc.constantFrom("[", '{"a":'), (depth, open) => {
        const text = `2["e",${open.repeat(depth)}`;
        const result = assertFast(`a ${depth}-deep packet`, 500, () => new Decoder().add(text));
        assert.equal(result.ok, false);
      }),
      5,
    );
  });

  it("ids: any digit run, refused above 2^53 - 1, never a float or negative", () => {
    fuzz(
      "ids",
      fc.property(
        fc.oneof(
          fc.string({ unit: fc.constantFrom("0", "1", "9"), minLength: 1, maxLength: 40 }),
          fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
        ),
        fc.constantFrom("2", "3", "0", "1", "4"),
        nspArb,
        (digits, type, nsp) => {
          const prefix = nsp === "/" ? "" : `${nsp},`;
          const body = type === "2" ? '["e"]' : type === "3" ? "[]" : type === "4" ? '"x"' : "";
          const result = new Decoder().add(`${type}${prefix}${digits}${body}`);
          const safe = digits.length <= 16 && Number(digits) <= Number.MAX_SAFE_INTEGER;
          const takesId = type === "2" || type === "3";
          assert.equal(result.ok, safe && takesId);
          if (result.ok && result.packet) assert.equal(result.packet.id, Number(digits));
        },
      ),
      2000,
    );
  });
});

/** Nesting depth of a JSON value: arrays and objects count one level each. */
function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    max = Math.max(max, d + 1);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}
