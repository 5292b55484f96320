/**
 * The pieces of `duplexio connect` that turn typed text into events and received values into
 * text: `emit` line parsing, JSON/binary formatting.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseEmitCommand } from "../../src/cli/emit-command.js";
import { formatBinary, formatJsonValues, parseHex } from "../../src/cli/format.js";

describe("emit lines", () => {
  const parsed: [string, string, unknown[]][] = [
    [" join", "join", []],
    [' join "room1"', "join", ["room1"]],
    [
      ' chat "hello world" {"to":"r","n":[1,2,{"x":"}]"}]} 42 -1.5e3 true false null',
      "chat",
      ["hello world", { to: "r", n: [1, 2, { x: "}]" }] }, 42, -1500, true, false, null],
    ],
    ['\t"two words"  "a \\" quote"  ', "two words", ['a " quote']],
    [' ev [] {} ""', "ev", [[], {}, ""]],
    [' ünïcode "😀"', "ünïcode", ["😀"]],
  ];
  for (const [line, event, args] of parsed) {
    test(`emit${line}`, () => {
      assert.deepEqual(parseEmitCommand(line), { ok: true, event, args });
    });
  }

  const refused: [string, RegExp][] = [
    ["", /^usage: emit <event>/],
    ["   ", /^usage: emit <event>/],
    [" join room1", /^argument 1 is not JSON: room1 \(strings need double quotes\)$/],
    [' join "room1', /^argument 1 is not closed: "room1$/],
    [' x {"a":1', /^argument 1 is not closed/],
    [" x [1,2]]", /^argument 1 must be followed by a space/],
    [' x {"a":1}{"b":2}', /^argument 1 must be followed by a space/],
    [' x 1 {"a":}', /^argument 2 is not JSON/],
    [' "unclosed', /closing quote is missing/],
    [' "bad \\q escape"', /not a JSON string/],
  ];
  for (const [line, message] of refused) {
    test(`emit${line} is refused with a reason`, () => {
      const result = parseEmitCommand(line);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.message, message);
    });
  }

  test("deep nesting and long input are handled without recursion limits", () => {
    const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    const result = parseEmitCommand(` x ${deep}`);
    assert.equal(result.ok, true);
    const unclosed = parseEmitCommand(` x ${"[".repeat(100000)}`);
    assert.equal(unclosed.ok, false);
  });
});

describe("formatting what arrives", () => {
  test("binary: length and hex or base64; long data is cut with a count", () => {
    assert.equal(formatBinary(Buffer.from([0, 1, 255]), "hex"), "binary (3 bytes): 0001ff");
    assert.equal(
      formatBinary(new Uint8Array([104, 105]).buffer, "base64"),
      "binary (2 bytes, base64): aGk=",
    );
    assert.equal(formatBinary(new Uint8Array(1), "hex"), "binary (1 byte): 00");
    assert.equal(formatBinary(new Uint8Array(0), "hex"), "binary (0 bytes): ");
    const long = formatBinary(new Uint8Array(5000), "hex");
    assert.match(long, /^binary \(5000 bytes\): (00){4096} \.\.\. \(904 more bytes\)$/);
    // A view on part of a larger buffer shows only its own bytes.
    const backing = Buffer.from([9, 9, 1, 2, 9]);
    assert.equal(formatBinary(backing.subarray(2, 4), "hex"), "binary (2 bytes): 0102");
  });

  test("Socket.IO values: JSON separated by spaces, binary values readable", () => {
    assert.equal(formatJsonValues([], "hex"), "");
    assert.equal(
      formatJsonValues(["a b", 1, { x: [true, null] }], "hex"),
      '"a b" 1 {"x":[true,null]}',
    );
    assert.equal(
      formatJsonValues([{ file: Buffer.from([1, 2]), raw: new Uint8Array([3]).buffer }], "hex"),
      '{"file":{"binary":"0102","bytes":2},"raw":{"binary":"03","bytes":1}}',
    );
    assert.equal(formatJsonValues([Buffer.from("hi")], "base64"), '{"binary":"aGk=","bytes":2}');
    assert.equal(formatJsonValues([undefined], "hex"), "null");
  });

  test("hex input for /binary", () => {
    assert.deepEqual(parseHex("00ff 10"), Buffer.from([0, 255, 16]));
    assert.deepEqual(parseHex(""), Buffer.alloc(0));
    assert.equal(parseHex("abc"), null);
    assert.equal(parseHex("zz"), null);
  });
});
