import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_MAX_HEAD_BYTES,
  findRequestHeadEnd,
  parseRequestHead,
  type RequestHead,
} from "../../../src/protocol/http/request-head.js";

const LIMITS = { maxHeadBytes: DEFAULT_MAX_HEAD_BYTES, maxHeaderFields: 8 };

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function text(data: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...data.subarray(start, end));
}

/** The head of `input` decoded: method, target, version and [name, value] pairs. */
function parse(input: string) {
  const data = bytes(input);
  const scan = findRequestHeadEnd(data, data.length, 0, LIMITS.maxHeadBytes);
  if (scan.kind !== "complete") return scan;
  const result = parseRequestHead(data, scan.end, LIMITS);
  if (!result.ok) return result;
  return { end: scan.end, ...decode(data, result.head) };
}

function decode(data: Uint8Array, head: RequestHead) {
  const fields: [string, string][] = [];
  for (let f = 0; f < head.fields.length; f += 4) {
    fields.push([
      text(data, head.fields[f], head.fields[f + 1]),
      text(data, head.fields[f + 2], head.fields[f + 3]),
    ]);
  }
  return {
    method: text(data, head.methodStart, head.methodEnd),
    target: text(data, head.targetStart, head.targetEnd),
    version: `${head.versionMajor}.${head.versionMinor}`,
    fields,
  };
}

describe("request head: finding its end", () => {
  it("ends after the blank line; bytes after it are not part of it", () => {
    const input = "GET /chat HTTP/1.1\r\nHost: a\r\n\r\n\x81\x85";
    const data = bytes(input);
    assert.deepEqual(findRequestHeadEnd(data, data.length, 0, 100), {
      kind: "complete",
      end: input.length - 2,
    });
  });

  it("resumes where it stopped, a CR at the end looked at again", () => {
    const input = bytes("GET / HTTP/1.1\r\n\r\n");
    let scan = findRequestHeadEnd(input, 17, 0, 100);
    assert.deepEqual(scan, { kind: "incomplete", resumeAt: 16 });
    scan = findRequestHeadEnd(input, 18, scan.kind === "incomplete" ? scan.resumeAt : 0, 100);
    assert.deepEqual(scan, { kind: "complete", end: 18 });
  });

  it("skips empty lines before the request line (at most 8)", () => {
    assert.equal((parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n") as { method: string }).method, "GET");
    const many = `${"\r\n".repeat(9)}GET / HTTP/1.1\r\n\r\n`;
    assert.deepEqual(parse(many), { ok: false, status: 400, message: "Malformed request line" });
    const only = bytes("\r\n\r\n\r\n");
    assert.equal(findRequestHeadEnd(only, only.length, 0, 100).kind, "incomplete");
  });

  it("refuses a bare LF at once", () => {
    const data = bytes("GET / HTTP/1.1\nHost");
    assert.deepEqual(findRequestHeadEnd(data, data.length, 0, 100), {
      kind: "invalid",
      status: 400,
      message: "Bare LF in the request head",
    });
  });

  it("gives 431 when the head outgrows the limit without an end", () => {
    const data = bytes(`GET / HTTP/1.1\r\nX: ${"a".repeat(100)}`);
    assert.equal(findRequestHeadEnd(data, data.length, 0, 100).kind, "invalid");
    assert.equal(findRequestHeadEnd(data, data.length, 0, 200).kind, "incomplete");
  });
});

describe("request head: parsing", () => {
  it("reads the request line and the fields, values without surrounding whitespace", () => {
    const input =
      "GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade:websocket \t\r\nX-Empty:\r\nX-Inner: a  b\r\n\r\n";
    assert.deepEqual(parse(input), {
      end: input.length,
      method: "GET",
      target: "/chat?x=1",
      version: "1.1",
      fields: [
        ["Host", "server.example.com"],
        ["Upgrade", "websocket"],
        ["X-Empty", ""],
        ["X-Inner", "a  b"],
      ],
    });
  });

  it("accepts obs-text in values and bytes from 0x80 in the target, as Node does", () => {
    const parsed = parse("GET /\xe9 HTTP/1.0\r\nX: caf\xe9\r\n\r\n") as {
      target: string;
      version: string;
      fields: unknown;
    };
    assert.equal(parsed.target, "/\xe9");
    assert.equal(parsed.version, "1.0");
    assert.deepEqual(parsed.fields, [["X", "caf\xe9"]]);
  });

  const refused: [string, string, number][] = [
    ["no method", " / HTTP/1.1\r\n\r\n", 400],
    ["method not a token", "G(T / HTTP/1.1\r\n\r\n", 400],
    ["two spaces", "GET  / HTTP/1.1\r\n\r\n", 400],
    ["control character in target", "GET /\x01 HTTP/1.1\r\n\r\n", 400],
    ["DEL in target", "GET /\x7f HTTP/1.1\r\n\r\n", 400],
    ["lower-case protocol", "GET / http/1.1\r\n\r\n", 400],
    ["version without minor", "GET / HTTP/1\r\n\r\n", 400],
    ["trailing space after version", "GET / HTTP/1.1 \r\n\r\n", 400],
    ["HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505],
    ["HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505],
    ["space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400],
    ["no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 400],
    ["empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", 400],
    ["folded line", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400],
    ["NUL in a value", "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400],
    ["CR inside a value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400],
    ["DEL in a value", "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400],
    ["too many fields", `GET / HTTP/1.1\r\n${"X: a\r\n".repeat(9)}\r\n`, 431],
  ];
  for (const [name, input, status] of refused) {
    it(`refuses: ${name} (${status})`, () => {
      const result = parse(input);
      assert.equal("status" in result ? result.status : undefined, status, JSON.stringify(result));
    });
  }

  it("accepts exactly the field limit", () => {
    const parsed = parse(`GET / HTTP/1.1\r\n${"X: a\r\n".repeat(8)}\r\n`) as { fields: unknown[] };
    assert.equal(parsed.fields.length, 8);
  });

  it("gives 431 for a complete head longer than the limit", () => {
    const data = bytes(`GET / HTTP/1.1\r\nX: ${"a".repeat(200)}\r\n\r\n`);
    const result = parseRequestHead(data, data.length, { maxHeadBytes: 100, maxHeaderFields: 8 });
    assert.deepEqual(result, {
      ok: false,
      status: 431,
      message: "Request Header Fields Too Large",
    });
  });
});
