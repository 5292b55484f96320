import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Decoder, encode, SocketPacketType } from "../../../src/protocol/socketio/index.js";
import {
  MAX_REMEMBERED_LENGTH,
  MIN_REMEMBERED_LENGTH,
  rememberSafeStrings,
  stringifyWithSafeStrings,
} from "../../../src/protocol/socketio/json-safe-strings.js";

const S = SocketPacketType;

/** Decodes an event packet, then encodes an ack carrying `pick(data)`, as an echo does. */
function echo(text: string, pick: (data: unknown[]) => unknown[]): string {
  const decoded = new Decoder().add(text);
  assert.ok(decoded.ok && decoded.packet !== null);
  const data = decoded.packet.data as unknown[];
  const encoded = encode({ type: S.Ack, nsp: "/", id: 7, data: pick(data) });
  assert.ok(encoded.ok);
  return encoded.parts[0];
}

describe("socket.io codec: strings the parser vouches for", () => {
  it("echoes long strings exactly as JSON.stringify writes them", () => {
    const long = "x".repeat(MIN_REMEMBERED_LENGTH * 4);
    const text = `21["echo",${JSON.stringify(long)},1,true,null]`;
    assert.equal(
      echo(text, (d) => d.slice(1)),
      `37${JSON.stringify([long, 1, true, null])}`,
    );
  });

  it("matches JSON.stringify for any echoed strings, escapes and surrogates included", () => {
    const anyString = fc.oneof(
      fc.string({ unit: "grapheme", minLength: 200, maxLength: 600 }),
      fc.string({ unit: "binary", minLength: 200, maxLength: 600 }),
      fc.string({ minLength: 250, maxLength: 300 }),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(anyString, fc.integer(), fc.constant(null))), (values) => {
        const text = `21${JSON.stringify(["echo", ...values])}`;
        assert.equal(
          echo(text, (d) => d.slice(1)),
          `37${JSON.stringify(values)}`,
        );
      }),
      { seed: 10, numRuns: 200 },
    );
  });

  it("leaves anything but a flat array of primitives to JSON.stringify", () => {
    const long = "y".repeat(MIN_REMEMBERED_LENGTH);
    rememberSafeStrings([long]);
    assert.equal(stringifyWithSafeStrings([long, 1]), JSON.stringify([long, 1]));
    assert.equal(stringifyWithSafeStrings([long, { a: 1 }]), undefined);
    assert.equal(stringifyWithSafeStrings([long, undefined]), undefined);
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested
    assert.equal(stringifyWithSafeStrings([long, , 1]), undefined);
    const withToJSON = Object.assign([long], { toJSON: () => "other" });
    assert.equal(stringifyWithSafeStrings(withToJSON), undefined);
    assert.equal(stringifyWithSafeStrings(["short", 1]), undefined);
  });

  it("never vouches for strings of a text holding a backslash, or for a lone surrogate", () => {
    const quoted = `${"q".repeat(MIN_REMEMBERED_LENGTH)}"\\`;
    assert.equal(
      echo(`21${JSON.stringify(["echo", quoted])}`, (d) => d.slice(1)),
      `37${JSON.stringify([quoted])}`,
    );
    const lone = `${"s".repeat(MIN_REMEMBERED_LENGTH)}\ud800`;
    assert.equal(
      echo(`21["echo","${lone}"]`, (d) => d.slice(1)),
      `37${JSON.stringify([lone])}`,
    );
    assert.equal(stringifyWithSafeStrings([lone]), undefined);
  });

  it("keeps only a few strings, none longer than the bound", () => {
    const huge = "h".repeat(MAX_REMEMBERED_LENGTH + 1);
    rememberSafeStrings([huge]);
    assert.equal(stringifyWithSafeStrings([huge]), undefined);
    const first = "a".repeat(MIN_REMEMBERED_LENGTH);
    rememberSafeStrings([first]);
    for (let i = 0; i < 8; i++) rememberSafeStrings([`${i}`.repeat(MIN_REMEMBERED_LENGTH)]);
    assert.equal(stringifyWithSafeStrings([first]), undefined);
  });
});
