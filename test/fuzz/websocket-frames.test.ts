/**
 * Fuzzing the incremental WebSocket frame parser (src/protocol/websocket/frame-parser.ts): random
 * bytes, and valid frame streams bent (bit flips, truncations, lying length fields up to 2^64 - 1,
 * reserved bits, unknown opcodes, control frames over 125 bytes, fragmented control frames, wrong
 * masking), each fed in random splits, with random maxPayload and maxFragments limits. For every
 * input the parser must report exactly what the independent model (websocket-model.ts) says, the
 * error close code included (1002, 1007, 1008, 1009), whatever the split;
 * it never throws; it buffers no more than it received and never sizes a buffer from a declared
 * length.
 */
import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FrameParser, type FrameParserOptions } from "../../src/protocol/websocket/frame-parser.js";
import { encodeFrame } from "../helpers/frames.js";
import { arrayBufferBytes, cutsArb, fuzz, mutateBytes, mutationArb, split } from "./config.js";
import {
  encodeStream,
  frameStreamArb,
  type ModelEvent,
  type ModelOptions,
  modelReceive,
} from "./websocket-model.js";

/** Pushes `chunks` (copies: the parser unmasks in place) and records the events, errors as codes. */
function parse(options: FrameParserOptions, chunks: Uint8Array[]): ModelEvent[] {
  const events: ModelEvent[] = [];
  const parser = new FrameParser(options, {
    message: (isBinary, payload) => events.push(["message", isBinary, Array.from(payload)]),
    compressedFrame: (isBinary, payload, fin) =>
      events.push(["compressedFrame", isBinary, Array.from(payload), fin]),
    ping: (payload) => events.push(["ping", Array.from(payload)]),
    pong: (payload) => events.push(["pong", Array.from(payload)]),
    close: (code, reason) => events.push(["close", code, reason]),
    error: (closeCode) => events.push(["error", closeCode]),
  });
  for (const chunk of chunks) parser.push(chunk.slice());
  return events;
}

const optionsArb: fc.Arbitrary<ModelOptions> = fc.record({
  role: fc.constantFrom<"server" | "client">("server", "client"),
  maxPayload: fc.constantFrom(0, 0, 1, 64, 125, 126, 1000, 65536),
  permessageDeflate: fc.boolean(),
  maxFragments: fc.constantFrom(0, 0, 0, 1, 2, 3),
});

/** The parser's options for a model's (with Node's isUtf8 as whole-buffer validator or not). */
function parserOptions(options: ModelOptions, withIsUtf8: boolean): FrameParserOptions {
  return withIsUtf8 ? { ...options, isUtf8 } : { ...options };
}

/** The events of one input, checked against the model and across two splits. */
function checkStream(
  options: ModelOptions,
  stream: Uint8Array,
  cuts: number[],
  withIsUtf8: boolean,
): void {
  const expected = modelReceive(stream, options).events;
  const whole = parse(parserOptions(options, withIsUtf8), [stream]);
  assert.deepEqual(whole, expected, "one chunk");
  const pieces = parse(parserOptions(options, withIsUtf8), split(stream, cuts));
  assert.deepEqual(pieces, expected, "split");
  const bytewise = stream.length <= 600;
  if (bytewise) {
    const single = parse(
      parserOptions(options, withIsUtf8),
      Array.from(stream, (b) => Uint8Array.of(b)),
    );
    assert.deepEqual(single, expected, "one byte per push");
  }
  for (const event of whole) {
    if (event[0] === "error") assert.ok([1002, 1007, 1008, 1009].includes(event[1]));
  }
}

describe("fuzz: WebSocket frame parser", () => {
  it("random bytes: the model's events, whatever the split; errors are 1002/1007/1008/1009", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // A plausible first byte (FIN + data/control opcode) so parsing gets past the header.
      fc
        .tuple(
          fc.constantFrom(0x81, 0x82, 0x01, 0x80, 0x88, 0x89, 0x8a, 0xc1),
          fc.uint8Array({ maxLength: 80 }),
        )
        .map(([b0, rest]) => Uint8Array.from([b0, ...rest])),
    );
    fuzz(
      "random bytes",
      fc.property(optionsArb, bytes, cutsArb, fc.boolean(), (options, stream, cuts, withIsUtf8) =>
        checkStream(options, stream, cuts, withIsUtf8),
      ),
      3000,
    );
  });

  it("valid and bent frame streams, mutated: the model's events, whatever the split", () => {
    const input = optionsArb.chain((options) =>
      fc.tuple(
        fc.constant(options),
        frameStreamArb(options.role),
        fc.oneof(fc.constant([]), fc.array(mutationArb, { minLength: 1, maxLength: 3 })),
        cutsArb,
        fc.boolean(),
      ),
    );
    fuzz(
      "frame streams, mutated",
      fc.property(input, ([options, specs, mutations, cuts, withIsUtf8]) => {
        const stream = mutateBytes(encodeStream(specs), mutations);
        checkStream(options, stream, cuts, withIsUtf8);
      }),
      4000,
    );
  });

  it("long text messages split anywhere: the model's verdict with the whole-buffer validator", () => {
    // Pieces of 256+ bytes reach the isUtf8 fast path and its cut-sequence bookkeeping.
    const text = fc
      .array(
        fc.oneof(
          fc.string({ unit: "binary", minLength: 50, maxLength: 400 }),
          fc.constant("a".repeat(300)),
          fc.constantFrom("\u00e9", "\u20ac", "\u{1f600}", "\ud800", "\udfff"),
        ),
        { minLength: 1, maxLength: 5 },
      )
      .map((parts) => new TextEncoder().encode(parts.join("")));
    fuzz(
      "long text",
      fc.property(
        text,
        fc.array(mutationArb, { maxLength: 2 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        cutsArb,
        (payload, mutations, fragmentCuts, cuts) => {
          const bent = mutateBytes(payload, mutations);
          const fragments = split(bent, fragmentCuts);
          const frames = fragments.map((fragment, i) =>
            encodeFrame({
              opcode: i === 0 ? 1 : 0,
              payload: fragment,
              fin: i === fragments.length - 1,
              mask: false,
            }),
          );
          const stream = Uint8Array.from(Buffer.concat(frames));
          const options: ModelOptions = { role: "client", maxPayload: 0, permessageDeflate: false };
          const expected = modelReceive(stream, options).events;
          assert.deepEqual(parse({ ...options, isUtf8 }, split(stream, cuts)), expected);
          assert.deepEqual(parse(options, split(stream, cuts)), expected);
        },
      ),
      400,
    );
  });

  it("declared lengths up to 2^64 - 1 with few bytes sent allocate nothing", () => {
    // No maxPayload: a parser that sized a buffer from the header would allocate 16 MiB-1 GiB
    // per frame here. Chunks are reused (client role: nothing is unmasked in place), so the only
    // new ArrayBuffer memory would be the parser's.
    const declared = fc.oneof(
      fc.bigInt({ min: 1n << 24n, max: 1n << 30n }),
      fc.bigInt({ min: 1n << 30n, max: (1n << 53n) - 1n }),
    );
    const body = new Uint8Array(512).fill(0x61);
    fuzz(
      "huge declared lengths",
      fc.property(
        fc.array(declared, { minLength: 16, maxLength: 16 }),
        fc.constantFrom(1, 2),
        (lengths, opcode) => {
          const parsers: FrameParser[] = [];
          const headers = lengths.map((length) =>
            encodeFrame({ opcode, declaredLength: length, lengthForm: "64", mask: false }),
          );
          const before = arrayBufferBytes();
          let errors = 0;
          for (const header of headers) {
            const parser = new FrameParser(
              { role: "client", maxPayload: 0, permessageDeflate: false },
              {
                message: () => assert.fail("no message can be complete"),
                compressedFrame: () => assert.fail("no compressed frame was sent"),
                ping: () => {},
                pong: () => {},
                close: () => {},
                error: () => {
                  errors++;
                },
              },
            );
            parser.push(header);
            for (let i = 0; i < 8; i++) parser.push(body);
            parsers.push(parser);
          }
          const grown = arrayBufferBytes() - before;
          assert.equal(errors, 0);
          assert.ok(grown < 4 * 1024 * 1024, `ArrayBuffer memory grew by ${grown} bytes`);
          assert.equal(parsers.length, lengths.length);
        },
      ),
      40,
    );
  });

  it("a message can never outgrow maxPayload, whatever its fragments declare", () => {
    const input = fc.record({
      maxPayload: fc.integer({ min: 1, max: 4096 }),
      fragments: fc.array(fc.integer({ min: 0, max: 2048 }), { minLength: 1, maxLength: 8 }),
      cuts: cutsArb,
    });
    fuzz(
      "maxPayload",
      fc.property(input, ({ maxPayload, fragments, cuts }) => {
        const frames = fragments.map((size, i) =>
          encodeFrame({
            opcode: i === 0 ? 2 : 0,
            payload: new Uint8Array(size).fill(i),
            fin: i === fragments.length - 1,
            mask: true,
          }),
        );
        const stream = Uint8Array.from(Buffer.concat(frames));
        const options: ModelOptions = { role: "server", maxPayload, permessageDeflate: false };
        const events = parse(options, split(stream, cuts));
        const total = fragments.reduce((a, b) => a + b, 0);
        if (total > maxPayload) assert.deepEqual(events, [["error", 1009]]);
        else assert.equal(events.length, 1);
        for (const event of events) {
          if (event[0] === "message") assert.ok(event[2].length <= maxPayload);
        }
      }),
      300,
    );
  });
});
