/**
 * Test helpers: run a FrameParser over chunks and record its events as plain data.
 */
import {
  FrameParser,
  type FrameParserOptions,
} from "../../../src/protocol/websocket/frame-parser.js";

export type ParserEvent =
  | ["message", boolean, number[]]
  | ["compressedFrame", boolean, number[], boolean]
  | ["ping", number[]]
  | ["pong", number[]]
  | ["close", number | undefined, string]
  | ["error", number, string];

export const serverOptions: FrameParserOptions = {
  role: "server",
  maxPayload: 0,
  permessageDeflate: false,
};
export const clientOptions: FrameParserOptions = {
  role: "client",
  maxPayload: 0,
  permessageDeflate: false,
};

/** A parser whose events are appended to `events` (payloads copied to plain arrays). */
export function recordingParser(options: FrameParserOptions): {
  parser: FrameParser;
  events: ParserEvent[];
} {
  const events: ParserEvent[] = [];
  const parser = new FrameParser(options, {
    message: (isBinary, payload) => events.push(["message", isBinary, Array.from(payload)]),
    compressedFrame: (isBinary, payload, fin) =>
      events.push(["compressedFrame", isBinary, Array.from(payload), fin]),
    ping: (payload) => events.push(["ping", Array.from(payload)]),
    pong: (payload) => events.push(["pong", Array.from(payload)]),
    close: (code, reason) => events.push(["close", code, reason]),
    error: (closeCode, message) => events.push(["error", closeCode, message]),
  });
  return { parser, events };
}

/** Events from pushing copies of `chunks` (the parser unmasks in place, inputs stay intact). */
export function parseChunks(options: FrameParserOptions, chunks: Uint8Array[]): ParserEvent[] {
  const { parser, events } = recordingParser(options);
  for (const chunk of chunks) parser.push(chunk.slice());
  return events;
}

/** Splits `bytes` at the given sorted cut points. */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    out.push(bytes.subarray(start, cut));
    start = cut;
  }
  out.push(bytes.subarray(start));
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}
