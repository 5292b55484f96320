/**
 * Fuzzing the HTTP/1.1 request head reader (src/protocol/http/request-head.ts) against a
 * reference reading of RFC 9112 written with regular expressions on the Latin-1 text (no shared
 * structure with the byte cursor): generated heads, the same heads bent byte by byte, and random
 * bytes. The reader never throws, agrees with the reference on accept/refuse and status, gives
 * the same fields, and finds the same end whatever the split of the bytes into chunks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  findRequestHeadEnd,
  parseRequestHead,
  type RequestHeadLimits,
} from "../../src/protocol/http/request-head.js";
import { fuzz } from "./config.js";
import { tokenArb } from "./http-grammar.js";

const LIMITS: RequestHeadLimits = { maxHeadBytes: 4096, maxHeaderFields: 64 };

const T = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const REQUEST_LINE = new RegExp(
  `^(?:\\r\\n){0,8}(${T}) ([\\x21-\\x7e\\x80-\\xff]+) HTTP/(\\d)\\.(\\d)\\r\\n`,
);
const FIELD = new RegExp(`^(${T}):[ \\t]*([\\t\\x20-\\x7e\\x80-\\xff]*?)[ \\t]*\\r\\n`);

type Reading =
  | { ok: true; method: string; target: string; version: string; fields: [string, string][] }
  | { ok: false; status: number };

/** The reference: the whole head (up to and with its blank line) as text. */
function refRead(head: string): Reading {
  const line = REQUEST_LINE.exec(head);
  if (!line) return { ok: false, status: 400 };
  if (line[3] !== "1") return { ok: false, status: 505 };
  let rest = head.slice(line[0].length);
  const fields: [string, string][] = [];
  while (rest !== "\r\n") {
    if (fields.length >= LIMITS.maxHeaderFields) return { ok: false, status: 431 };
    const field = FIELD.exec(rest);
    if (!field) return { ok: false, status: 400 };
    fields.push([field[1], field[2]]);
    rest = rest.slice(field[0].length);
  }
  return { ok: true, method: line[1], target: line[2], version: `${line[3]}.${line[4]}`, fields };
}

/** Where the reference says the head ends: the first CRLF CRLF after at most 8 leading CRLFs. */
function refEnd(text: string): number | "bare-lf" | null {
  const bare = /(^|[^\r])\n/.exec(text);
  const leading = /^(?:\r\n){0,8}/.exec(text)?.[0].length ?? 0;
  const blank = text.indexOf("\r\n\r\n", Math.max(0, leading - 2));
  let end = blank === -1 ? null : blank + 4;
  // The CRLF before the request line is not the end of a head.
  if (end !== null && blank < leading) {
    const next = text.indexOf("\r\n\r\n", leading);
    end = next === -1 ? null : next + 4;
  }
  if (bare && (end === null || bare.index + bare[1].length < end)) return "bare-lf";
  return end;
}

function ourRead(data: Uint8Array, chunkSizes: number[]): Reading | "bare-lf" | null {
  let scanned = 0;
  let length = 0;
  let scan = findRequestHeadEnd(data, 0, 0, LIMITS.maxHeadBytes);
  for (let k = 0; length < data.length; k++) {
    length = Math.min(data.length, length + Math.max(1, chunkSizes[k % chunkSizes.length] ?? 1));
    scan = findRequestHeadEnd(data, length, scanned, LIMITS.maxHeadBytes);
    if (scan.kind !== "incomplete") break;
    scanned = scan.resumeAt;
  }
  if (scan.kind === "incomplete") return null;
  if (scan.kind === "invalid")
    return scan.status === 400 ? "bare-lf" : { ok: false, status: scan.status };
  const parsed = parseRequestHead(data, scan.end, LIMITS);
  if (!parsed.ok) return { ok: false, status: parsed.status };
  const head = parsed.head;
  const latin1 = (s: number, e: number) => Buffer.from(data.subarray(s, e)).toString("latin1");
  const fields: [string, string][] = [];
  for (let f = 0; f < head.fields.length; f += 4) {
    fields.push([
      latin1(head.fields[f], head.fields[f + 1]),
      latin1(head.fields[f + 2], head.fields[f + 3]),
    ]);
  }
  return {
    ok: true,
    method: latin1(head.methodStart, head.methodEnd),
    target: latin1(head.targetStart, head.targetEnd),
    version: `${head.versionMajor}.${head.versionMinor}`,
    fields,
  };
}

function refWhole(text: string): Reading | "bare-lf" | null {
  const end = refEnd(text);
  if (end === null || end === "bare-lf") return end;
  return refRead(text.slice(0, end));
}

const owsArb = fc.constantFrom("", " ", "\t", "  ", " \t ");
const valueArb = fc
  .array(fc.constantFrom("a", "Z", "0", " ", "\t", "/", ";", "=", "\xe9", "\xff", ",", '"'), {
    maxLength: 12,
  })
  .map((chars) => chars.join(""));
const targetArb = fc
  .array(fc.constantFrom("/", "a", "?", "=", "&", "%", "2", "\x80", "~"), {
    minLength: 1,
    maxLength: 10,
  })
  .map((chars) => chars.join(""));
const headArb = fc
  .record({
    empties: fc.integer({ min: 0, max: 3 }),
    method: fc.oneof(fc.constantFrom("GET", "POST", "OPTIONS"), tokenArb),
    target: targetArb,
    version: fc.constantFrom("1.1", "1.0", "1.9", "2.0"),
    fields: fc.array(fc.tuple(tokenArb, owsArb, valueArb, owsArb), { maxLength: 10 }),
    tail: fc.constantFrom("", "\x81\x85abc", "GET / HTTP/1.1\r\n"),
  })
  .map(({ empties, method, target, version, fields, tail }) => {
    const lines = fields.map(([n, a, v, b]) => `${n}:${a}${v}${b}\r\n`).join("");
    return `${"\r\n".repeat(empties)}${method} ${target} HTTP/${version}\r\n${lines}\r\n${tail}`;
  });

const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const splitArb = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 });
const specialByteArb = fc.constantFrom(0x00, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0x80, 0xff, 0x41);

describe("fuzz: HTTP/1.1 request head", () => {
  it("generated heads read as the reference reads them, at any split", () => {
    fuzz(
      "generated heads",
      fc.property(headArb, splitArb, (text, splits) => {
        assert.deepEqual(ourRead(bytesOf(text), splits), refWhole(text));
      }),
      400,
    );
  });

  it("heads bent byte by byte: same verdict and status as the reference", () => {
    fuzz(
      "bent heads",
      fc.property(
        headArb,
        fc.array(fc.tuple(fc.nat(), specialByteArb, fc.constantFrom("set", "insert", "delete")), {
          minLength: 1,
          maxLength: 4,
        }),
        splitArb,
        (text, edits, splits) => {
          const chars = [...text];
          for (const [at, byte, how] of edits) {
            const i = at % (chars.length + 1);
            if (how === "set" && i < chars.length) chars[i] = String.fromCharCode(byte);
            else if (how === "insert") chars.splice(i, 0, String.fromCharCode(byte));
            else chars.splice(i, 1);
          }
          const bent = chars.join("");
          assert.deepEqual(ourRead(bytesOf(bent), splits), refWhole(bent));
        },
      ),
      600,
    );
  });

  it("random bytes never throw and every offset stays inside the head", () => {
    fuzz(
      "random bytes",
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const scan = findRequestHeadEnd(data, data.length, 0, LIMITS.maxHeadBytes);
        if (scan.kind !== "complete") return;
        const parsed = parseRequestHead(data, scan.end, LIMITS);
        if (!parsed.ok) return;
        for (const offset of parsed.head.fields) assert.ok(offset >= 0 && offset <= scan.end);
      }),
      300,
    );
  });

  it("a head trickled one byte at a time is scanned in linear time", () => {
    const data = bytesOf(`GET / HTTP/1.1\r\nX: ${"a\r".repeat(2000)}`);
    const started = performance.now();
    let scanned = 0;
    for (let length = 1; length <= data.length; length++) {
      const scan = findRequestHeadEnd(data, length, scanned, 1 << 20);
      if (scan.kind !== "incomplete") break;
      scanned = scan.resumeAt;
    }
    assert.ok(performance.now() - started < 500);
  });
});
