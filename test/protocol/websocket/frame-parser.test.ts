import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { encodeClosePayload } from "../../../src/protocol/websocket/close-codes.js";
import { Opcode } from "../../../src/protocol/websocket/constants.js";
import {
  FrameParser,
  type FrameParserOptions,
} from "../../../src/protocol/websocket/frame-parser.js";
import { encodeFrame } from "../../../src/protocol/websocket/frame-serializer.js";
import {
  bytes,
  clientOptions,
  concat,
  type ParserEvent,
  parseChunks,
  recordingParser,
  serverOptions,
  splitAt,
} from "./parser-helpers.js";

const enc = new TextEncoder();
const HELLO = Array.from(enc.encode("Hello"));
const KEY = bytes(0x37, 0xfa, 0x21, 0x3d);

/** A client-to-server frame (masked with a fixed key unless told otherwise). */
function masked(
  opcode: number,
  payload: Uint8Array | number[],
  options: { fin?: boolean; rsv1?: boolean } = {},
) {
  return encodeFrame(opcode, Uint8Array.from(payload), { ...options, maskKey: KEY });
}

describe("frame parser: RFC 6455 section 5.7 examples", () => {
  const examples: Array<[string, FrameParserOptions, number[], ParserEvent[]]> = [
    [
      "single-frame unmasked text",
      clientOptions,
      [0x81, 0x05, ...HELLO],
      [["message", false, HELLO]],
    ],
    [
      "single-frame masked text",
      serverOptions,
      [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
      [["message", false, HELLO]],
    ],
    [
      "fragmented unmasked text",
      clientOptions,
      [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
      [["message", false, HELLO]],
    ],
    ["unmasked ping", clientOptions, [0x89, 0x05, ...HELLO], [["ping", HELLO]]],
    [
      "masked pong",
      serverOptions,
      [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
      [["pong", HELLO]],
    ],
  ];
  for (const [name, options, frame, expected] of examples) {
    it(name, () => {
      assert.deepEqual(parseChunks(options, [Uint8Array.from(frame)]), expected);
    });
  }

  it("256-byte and 64 KiB unmasked binary messages", () => {
    const p256 = Array.from({ length: 256 }, (_, i) => i);
    const f256 = bytes(0x82, 0x7e, 0x01, 0x00, ...p256);
    assert.deepEqual(parseChunks(clientOptions, [f256]), [["message", true, p256]]);
    const p64k = new Uint8Array(65536).map((_, i) => (i * 7) & 0xff);
    const f64k = concat([bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0), p64k]);
    const events = parseChunks(clientOptions, [f64k]);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0], ["message", true, Array.from(p64k)]);
  });

  it("accepts non-minimal length encodings (RFC 5.2 binds only senders)", () => {
    assert.deepEqual(parseChunks(clientOptions, [bytes(0x82, 0x7e, 0x00, 0x02, 1, 2)]), [
      ["message", true, [1, 2]],
    ]);
    assert.deepEqual(parseChunks(clientOptions, [bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 1, 9)]), [
      ["message", true, [9]],
    ]);
    assert.deepEqual(parseChunks(clientOptions, [bytes(0x89, 0x7e, 0x00, 0x01, 7)]), [
      ["ping", [7]],
    ]);
  });
});

describe("frame parser: zero copy", () => {
  it("emits a view of the chunk for a frame inside one chunk, unmasked in place", () => {
    const frame = masked(Opcode.Binary, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const chunk = concat([masked(Opcode.Ping, []), frame]);
    let seen: Uint8Array | null = null;
    const parser = new FrameParser(serverOptions, {
      message: (_b, payload) => {
        seen = payload;
      },
      compressedFrame: () => assert.fail(),
      ping: () => {},
      pong: () => assert.fail(),
      close: () => assert.fail(),
      error: (code, message) => assert.fail(`${code} ${message}`),
    });
    parser.push(chunk);
    assert.ok(seen);
    const payload = seen as Uint8Array;
    assert.equal(payload.buffer, chunk.buffer);
    assert.equal(payload.byteOffset, chunk.length - 10);
    assert.deepEqual(Array.from(payload), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("copies once into an exact-size buffer when a message spans chunks", () => {
    const frame = masked(Opcode.Binary, new Uint8Array(1000).fill(3));
    const { parser, events } = recordingParser(serverOptions);
    let payload: Uint8Array | null = null;
    const p = new FrameParser(serverOptions, {
      message: (_b, data) => {
        payload = data;
      },
      compressedFrame: () => {},
      ping: () => {},
      pong: () => {},
      close: () => {},
      error: () => {},
    });
    const chunks = splitAt(frame.slice(), [100, 500]);
    for (const c of chunks) p.push(c);
    assert.ok(payload);
    const data = payload as Uint8Array;
    assert.equal(data.length, 1000);
    assert.equal(data.byteOffset, 0);
    assert.equal(data.buffer.byteLength, 1000);
    assert.ok(data.every((b) => b === 3));
    parser.push(frame.slice());
    assert.equal(events.length, 1);
  });
});

/** A stream exercising every event kind, fragmentation, interleaved control frames and UTF-8 splits. */
function sampleStream(): { frames: Uint8Array; expected: ParserEvent[] } {
  const euro = Array.from(enc.encode("€uro 😀 ok")); // multi-byte sequences to split across fragments
  const big = Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff);
  const frames = concat([
    masked(Opcode.Text, HELLO),
    masked(Opcode.Text, euro.slice(0, 2), { fin: false }),
    masked(Opcode.Ping, [1, 2]),
    masked(Opcode.Continuation, euro.slice(2, 7), { fin: false }),
    masked(Opcode.Continuation, [], { fin: false }),
    masked(Opcode.Pong, []),
    masked(Opcode.Continuation, euro.slice(7)),
    masked(Opcode.Binary, big),
    masked(Opcode.Text, []),
    masked(Opcode.Binary, big.slice(0, 130), { fin: false }),
    masked(Opcode.Continuation, big.slice(130)),
    masked(Opcode.Close, encodeClosePayload(1000, "bye")),
    masked(Opcode.Text, HELLO), // ignored after close
  ]);
  const expected: ParserEvent[] = [
    ["message", false, HELLO],
    ["ping", [1, 2]],
    ["pong", []],
    ["message", false, euro],
    ["message", true, big],
    ["message", false, []],
    ["message", true, big],
    ["close", 1000, "bye"],
  ];
  return { frames, expected };
}

describe("frame parser: any split gives the same events", () => {
  const { frames, expected } = sampleStream();

  it("whole stream", () => {
    assert.deepEqual(parseChunks(serverOptions, [frames]), expected);
  });

  it("every single split point", () => {
    for (let cut = 0; cut <= frames.length; cut++) {
      assert.deepEqual(
        parseChunks(serverOptions, splitAt(frames, [cut])),
        expected,
        `cut at ${cut}`,
      );
    }
  });

  it("every pair of split points in the first 120 bytes", () => {
    for (let a = 0; a <= 120; a++) {
      for (let b = a; b <= 120; b++) {
        assert.deepEqual(
          parseChunks(serverOptions, splitAt(frames, [a, b])),
          expected,
          `cuts ${a},${b}`,
        );
      }
    }
  });

  it("one byte at a time", () => {
    const chunks = Array.from(frames, (b) => bytes(b));
    assert.deepEqual(parseChunks(serverOptions, chunks), expected);
  });

  it("random splits", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: frames.length }), { maxLength: 30 }),
        (cuts) => {
          cuts.sort((x, y) => x - y);
          assert.deepEqual(parseChunks(serverOptions, splitAt(frames, cuts)), expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("frame parser: property round trips", () => {
  const boundaryLength = fc.constantFrom(0, 1, 125, 126, 127, 65535, 65536);
  const length = fc.oneof(fc.integer({ min: 0, max: 300 }), boundaryLength);
  const message = fc.record({
    binary: fc.boolean(),
    length,
    seed: fc.integer({ min: 0, max: 255 }),
    fragments: fc.array(fc.nat(), { maxLength: 4 }),
    pings: fc.array(fc.uint8Array({ maxLength: 125 }), { maxLength: 3 }),
  });

  function textOf(length: number, seed: number): Uint8Array {
    // Valid UTF-8 of exactly `length` bytes mixing 1- to 4-byte sequences.
    const out = new Uint8Array(length);
    let i = 0;
    let s = seed;
    while (i < length) {
      const room = length - i;
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const want = 1 + (s % 4);
      if (want >= 4 && room >= 4) {
        out.set([0xf0, 0x9f, 0x98, 0x80 + (s & 0x3f)], i);
        i += 4;
      } else if (want >= 3 && room >= 3) {
        out.set([0xe2, 0x82, 0xac], i);
        i += 3;
      } else if (want >= 2 && room >= 2) {
        out.set([0xc3, 0xa9], i);
        i += 2;
      } else {
        out[i++] = 0x61 + (s % 26);
      }
    }
    return out;
  }

  for (const role of ["server", "client"] as const) {
    it(`${role} role: random messages, fragments, interleaved pings and chunking`, () => {
      fc.assert(
        fc.property(
          fc.array(message, { minLength: 1, maxLength: 4 }),
          fc.array(fc.integer({ min: 1, max: 70000 }), { minLength: 1, maxLength: 8 }),
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          (messages, chunkSizes, key) => {
            const parts: Uint8Array[] = [];
            const expected: ParserEvent[] = [];
            const maskKey = role === "server" ? key : null;
            for (const m of messages) {
              const payload = m.binary
                ? Uint8Array.from({ length: m.length }, (_, i) => (i + m.seed) & 0xff)
                : textOf(m.length, m.seed);
              const cuts = [...new Set(m.fragments.map((f) => f % (m.length + 1)))].sort(
                (a, b) => a - b,
              );
              const pieces = splitAt(payload, cuts);
              pieces.forEach((piece, index) => {
                const opcode =
                  index === 0 ? (m.binary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation;
                parts.push(
                  encodeFrame(opcode, piece, { fin: index === pieces.length - 1, maskKey }),
                );
                const ping = m.pings[index];
                if (ping && index < pieces.length - 1) {
                  parts.push(encodeFrame(Opcode.Ping, ping, { maskKey }));
                  expected.push(["ping", Array.from(ping)]);
                }
              });
              expected.push(["message", m.binary, Array.from(payload)]);
            }
            const stream = concat(parts);
            const cuts: number[] = [];
            let at = 0;
            for (let i = 0; at < stream.length; i++) {
              at += chunkSizes[i % chunkSizes.length];
              if (at < stream.length) cuts.push(at);
            }
            const options: FrameParserOptions = { role, maxPayload: 0, permessageDeflate: false };
            assert.deepEqual(parseChunks(options, splitAt(stream, cuts)), expected);
          },
        ),
        { numRuns: 150 },
      );
    });
  }
});

describe("frame parser: compressed frames", () => {
  const options: FrameParserOptions = { role: "client", maxPayload: 0, permessageDeflate: true };

  it("hands RSV1 messages on frame by frame without UTF-8 checks", () => {
    const stream = concat([
      encodeFrame(Opcode.Text, bytes(0xff, 0xfe), { rsv1: true, fin: false }),
      encodeFrame(Opcode.Ping, bytes(5)),
      encodeFrame(Opcode.Continuation, bytes(0x80), { fin: false }),
      encodeFrame(Opcode.Continuation, bytes()),
      encodeFrame(Opcode.Binary, bytes(1, 2, 3), { rsv1: true }),
      encodeFrame(Opcode.Text, bytes(0x41)),
    ]);
    const expected: ParserEvent[] = [
      ["compressedFrame", false, [0xff, 0xfe], false],
      ["ping", [5]],
      ["compressedFrame", false, [0x80], false],
      ["compressedFrame", false, [], true],
      ["compressedFrame", true, [1, 2, 3], true],
      ["message", false, [0x41]],
    ];
    for (let cut = 0; cut <= stream.length; cut++) {
      assert.deepEqual(parseChunks(options, splitAt(stream, [cut])), expected, `cut ${cut}`);
    }
  });
});

type Violation = [string, FrameParserOptions, Uint8Array, number];

describe("frame parser: violations", () => {
  const deflate: FrameParserOptions = { role: "client", maxPayload: 0, permessageDeflate: true };
  const limited = (maxPayload: number, permessageDeflate = false): FrameParserOptions => ({
    role: "client",
    maxPayload,
    permessageDeflate,
  });
  const violations: Violation[] = [
    ["RSV2 set", clientOptions, bytes(0xa1, 0x00), 1002],
    ["RSV3 set", clientOptions, bytes(0x91, 0x00), 1002],
    ["RSV2 set even with deflate", deflate, bytes(0xe1, 0x00), 1002],
    ["RSV1 without deflate", clientOptions, bytes(0xc1, 0x00), 1002],
    ["RSV1 on a continuation", deflate, concat([bytes(0x41, 0x01, 0x00), bytes(0xc0, 0x00)]), 1002],
    ["RSV1 on a control frame", deflate, bytes(0xc9, 0x00), 1002],
    ["opcode 3", clientOptions, bytes(0x83, 0x00), 1002],
    ["opcode 7", clientOptions, bytes(0x87, 0x00), 1002],
    ["opcode 0xB", clientOptions, bytes(0x8b, 0x00), 1002],
    ["opcode 0xF", clientOptions, bytes(0x8f, 0x00), 1002],
    ["fragmented ping", clientOptions, bytes(0x09, 0x00), 1002],
    ["fragmented close", clientOptions, bytes(0x08, 0x00), 1002],
    [
      "ping of 126 bytes",
      clientOptions,
      concat([bytes(0x89, 0x7e, 0x00, 0x7e), new Uint8Array(126)]),
      1002,
    ],
    [
      "close of 126 bytes (64-bit length)",
      clientOptions,
      bytes(0x88, 0x7f, 0, 0, 0, 0, 0, 0, 0, 126),
      1002,
    ],
    ["continuation with no message", clientOptions, bytes(0x80, 0x00), 1002],
    ["text inside a fragmented message", clientOptions, bytes(0x01, 0x00, 0x81, 0x00), 1002],
    ["binary inside a fragmented message", clientOptions, bytes(0x02, 0x00, 0x82, 0x00), 1002],
    [
      "64-bit length with the high bit",
      clientOptions,
      bytes(0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1),
      1002,
    ],
    [
      "64-bit length above 2^53 - 1",
      clientOptions,
      bytes(0x82, 0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 0),
      1009,
    ],
    ["unmasked frame to a server", serverOptions, bytes(0x81, 0x00), 1002],
    ["masked frame to a client", clientOptions, bytes(0x81, 0x80, 1, 2, 3, 4), 1002],
    ["single frame over maxPayload", limited(10), bytes(0x82, 0x0b), 1009],
    [
      "64-bit frame over maxPayload",
      limited(1000),
      bytes(0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0),
      1009,
    ],
    [
      "fragments summed over maxPayload",
      limited(10),
      concat([bytes(0x02, 0x06, 1, 2, 3, 4, 5, 6), bytes(0x80, 0x05)]),
      1009,
    ],
    [
      "compressed frames summed over maxPayload",
      limited(4, true),
      concat([bytes(0x42, 0x03, 1, 2, 3), bytes(0x80, 0x02)]),
      1009,
    ],
    ["invalid UTF-8 text", clientOptions, bytes(0x81, 0x02, 0x41, 0xff), 1007],
    ["surrogate in text", clientOptions, bytes(0x81, 0x03, 0xed, 0xa0, 0x80), 1007],
    ["truncated UTF-8 at message end", clientOptions, bytes(0x81, 0x02, 0x41, 0xe2), 1007],
    [
      "invalid UTF-8 across fragments",
      clientOptions,
      bytes(0x01, 0x01, 0xe2, 0x80, 0x01, 0x41),
      1007,
    ],
    ["close with a 1-byte payload", clientOptions, bytes(0x88, 0x01, 0x03), 1002],
    ["close code 1005", clientOptions, bytes(0x88, 0x02, 0x03, 0xed), 1002],
    ["close code 999", clientOptions, bytes(0x88, 0x02, 0x03, 0xe7), 1002],
    ["close code 5000", clientOptions, bytes(0x88, 0x02, 0x13, 0x88), 1002],
    ["close reason not UTF-8", clientOptions, bytes(0x88, 0x03, 0x03, 0xe8, 0xc0), 1007],
  ];

  for (const [name, options, stream, code] of violations) {
    it(`${name} -> ${code}, in any split, then input is ignored`, () => {
      const tail = encodeFrame(Opcode.Text, Uint8Array.from(HELLO), {
        maskKey: options.role === "server" ? KEY : null,
      });
      const full = concat([stream, tail]);
      const reference = parseChunks(options, [full]);
      const last = reference[reference.length - 1];
      assert.deepEqual(last.slice(0, 2), ["error", code], JSON.stringify(reference));
      assert.equal(typeof last[2], "string");
      assert.equal(reference.filter((e) => e[0] === "error").length, 1);
      assert.ok(
        reference.every((e) => e[0] !== "message"),
        "the trailing message is ignored",
      );
      for (let cut = 0; cut <= full.length; cut++) {
        assert.deepEqual(parseChunks(options, splitAt(full, [cut])), reference, `cut ${cut}`);
      }
      assert.deepEqual(
        parseChunks(
          options,
          Array.from(full, (b) => bytes(b)),
        ),
        reference,
      );
    });
  }

  it("fails invalid UTF-8 as soon as the byte arrives, mid-frame", () => {
    const payload = [...Array.from(enc.encode("valid start ")), 0xc0, ...new Array(100).fill(0x41)];
    const frame = masked(Opcode.Text, payload);
    const { parser, events } = recordingParser(serverOptions);
    const badAt = 6 + 12; // header (2) + key (4) + "valid start "
    parser.push(frame.slice(0, badAt));
    assert.equal(events.length, 0);
    parser.push(frame.slice(badAt, badAt + 1));
    assert.deepEqual(
      events.map((e) => e.slice(0, 2)),
      [["error", 1007]],
      "before the rest of the frame",
    );
    parser.push(frame.slice(badAt + 1));
    assert.equal(events.length, 1);
  });

  it("fails invalid UTF-8 as soon as the byte arrives, mid-fragment of a later frame", () => {
    const first = masked(Opcode.Text, enc.encode("abc"), { fin: false });
    const second = masked(Opcode.Continuation, [0x61, 0xf8, 0x61, 0x61], { fin: true });
    const { parser, events } = recordingParser(serverOptions);
    parser.push(concat([first, second.slice(0, 7)]));
    assert.equal(events.length, 0);
    parser.push(second.slice(7, 8));
    assert.deepEqual(
      events.map((e) => e.slice(0, 2)),
      [["error", 1007]],
    );
  });

  it("validates large text with an injected whole-buffer check, still failing early", () => {
    const options: FrameParserOptions = { ...serverOptions, isUtf8 };
    const text = enc.encode("ünïcödé ✓ ".repeat(200));
    const good = masked(Opcode.Text, text);
    for (const cut of [0, 7, 100, 1001, good.length - 1]) {
      assert.deepEqual(parseChunks(options, splitAt(good, [cut])), [
        ["message", false, Array.from(text)],
      ]);
    }
    const bad = text.slice();
    bad[1500] = 0xff;
    const frame = masked(Opcode.Text, bad);
    const { parser, events } = recordingParser(options);
    parser.push(frame.slice(0, 6 + 1000));
    assert.equal(events.length, 0);
    parser.push(frame.slice(6 + 1000, 6 + 1600));
    assert.deepEqual(
      events.map((e) => e.slice(0, 2)),
      [["error", 1007]],
      "before the rest of the frame",
    );
  });

  it("checks maxPayload on the header, before the payload arrives", () => {
    const { parser, events } = recordingParser({
      role: "server",
      maxPayload: 100,
      permessageDeflate: false,
    });
    parser.push(masked(Opcode.Binary, new Uint8Array(60), { fin: false }));
    const second = masked(Opcode.Continuation, new Uint8Array(41));
    parser.push(second.slice(0, 6)); // header and key only
    assert.deepEqual(
      events.map((e) => e.slice(0, 2)),
      [["error", 1009]],
    );
  });

  it("allows a message of exactly maxPayload bytes, and counts per message", () => {
    const options: FrameParserOptions = {
      role: "client",
      maxPayload: 10,
      permessageDeflate: false,
    };
    const stream = concat([
      encodeFrame(Opcode.Binary, new Uint8Array(4), { fin: false }),
      encodeFrame(Opcode.Continuation, new Uint8Array(6)),
      encodeFrame(Opcode.Binary, new Uint8Array(10)),
    ]);
    assert.deepEqual(
      parseChunks(options, [stream]).map((e) => e.slice(0, 2)),
      [
        ["message", true],
        ["message", true],
      ],
    );
  });

  it("does not count control frames toward maxPayload", () => {
    const options: FrameParserOptions = { role: "client", maxPayload: 3, permessageDeflate: false };
    const stream = concat([
      encodeFrame(Opcode.Binary, bytes(1, 2), { fin: false }),
      encodeFrame(Opcode.Ping, new Uint8Array(100)),
      encodeFrame(Opcode.Continuation, bytes(3)),
    ]);
    assert.deepEqual(
      parseChunks(options, [stream]).map((e) => e[0]),
      ["ping", "message"],
    );
  });

  it("reports an empty close as code undefined and stops", () => {
    const events = parseChunks(clientOptions, [bytes(0x88, 0x00, 0x81, 0x01, 0x41)]);
    assert.deepEqual(events, [["close", undefined, ""]]);
  });

  it("stop() ends parsing, also from inside a callback", () => {
    const events: string[] = [];
    const parser: FrameParser = new FrameParser(clientOptions, {
      message: () => {
        events.push("message");
        parser.stop();
      },
      compressedFrame: () => {},
      ping: () => events.push("ping"),
      pong: () => {},
      close: () => {},
      error: () => events.push("error"),
    });
    parser.push(
      concat([encodeFrame(Opcode.Text, Uint8Array.from(HELLO)), encodeFrame(Opcode.Ping, bytes())]),
    );
    parser.push(bytes(0xff, 0xff));
    assert.deepEqual(events, ["message"]);
  });

  it("stops when a callback throws, and lets the exception through", () => {
    const seen: string[] = [];
    const parser = new FrameParser(clientOptions, {
      message: () => {
        seen.push("message");
        throw new Error("from the application");
      },
      compressedFrame: () => {},
      ping: () => seen.push("ping"),
      pong: () => {},
      close: () => {},
      error: () => seen.push("error"),
    });
    assert.throws(
      () =>
        parser.push(
          concat([encodeFrame(Opcode.Text, bytes(0x41)), encodeFrame(Opcode.Ping, bytes())]),
        ),
      /from the application/,
    );
    parser.push(encodeFrame(Opcode.Ping, bytes()));
    assert.deepEqual(seen, ["message"]);
  });

  it("never throws on random input", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }),
        fc.constantFrom<FrameParserOptions>(serverOptions, clientOptions, {
          role: "client",
          maxPayload: 50,
          permessageDeflate: true,
        }),
        (chunks, options) => {
          const events = parseChunks(options, chunks);
          const terminal = events.findIndex((e) => e[0] === "error" || e[0] === "close");
          assert.ok(terminal === -1 || terminal === events.length - 1, "nothing after error/close");
        },
      ),
      { numRuns: 2000 },
    );
  });
});
