import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  Decoder,
  isReservedEventName,
  RESERVED_EVENTS,
  type SocketDecodeResult,
  SocketPacketType,
} from "../../../src/protocol/socketio/index.js";

const S = SocketPacketType;
const bytes = (...values: number[]) => new Uint8Array(values);
const ph = (num: unknown) => JSON.stringify({ _placeholder: true, num });

function refused(result: SocketDecodeResult): string {
  assert.equal(result.ok, false, `expected an error, got ${JSON.stringify(result)}`);
  return result.ok ? "" : result.reason;
}

describe("socket.io decoder: malformed packets", () => {
  const table: [string, string][] = [
    ["", "empty"],
    ["7", "unknown type 7"],
    ["a", "type not a digit"],
    ["-", "type not a digit"],
    ["2", "event without data"],
    ["2[]", "event with an empty array"],
    ["2{}", "event data an object"],
    ['2"foo"', "event data a string"],
    ["2[null]", "event name null"],
    ["2[{}]", "event name an object"],
    ['2[["a"]]', "event name an array"],
    ['2["connect"]', "reserved event name"],
    ['2["connect_error"]', "reserved event name"],
    ['2["disconnect"]', "reserved event name"],
    ['2["disconnecting"]', "reserved event name"],
    ['2["newListener"]', "reserved event name"],
    ['2["removeListener"]', "reserved event name"],
    ['2["a"', "truncated JSON"],
    ['2["a"]x', "trailing garbage"],
    ['2/admin["a"]', "no comma: the namespace swallows the data"],
    ['212345678901234567["a"]', "id over 16 digits"],
    ['29007199254740993["a"]', "id above MAX_SAFE_INTEGER"],
    ["3[]", "ack without id"],
    ["31", "ack without data"],
    ["31{}", "ack data an object"],
    ['31"x"', "ack data a string"],
    ["0[]", "connect data an array"],
    ['0"x"', "connect data a string"],
    ["0null", "connect data null"],
    ["01{}", "connect with an id"],
    ["0/admin,1", "connect with an id"],
    ["1{}", "disconnect with data"],
    ["1/admin,[]", "disconnect with data"],
    ["11", "disconnect with an id"],
    ["4", "connect_error without data"],
    ["4[]", "connect_error data an array"],
    ["412", "connect_error data a number / id"],
    ['41"x"', "connect_error with an id"],
    [`5-["a",${ph(0)}]`, "no attachment count"],
    [`5x-["a",${ph(0)}]`, "attachment count not a number"],
    [`50-["a"]`, "zero attachments"],
    [`51["a",${ph(0)}]`, "attachment count without a dash"],
    ["51", "attachment count without a dash"],
    ["51-", "binary event without data"],
    [`511-["a",${ph(0)}]`, "more than 10 attachments"],
    [`599999999999999999999-["a",${ph(0)}]`, "absurd attachment count"],
    [`51-["a",${ph(1)}]`, "placeholder beyond the count"],
    [`51-["a",${ph(-1)}]`, "negative placeholder"],
    [`51-["a",${ph(0.5)}]`, "fractional placeholder"],
    [`51-["a",${ph("0")}]`, "placeholder num a string"],
    [`51-["a",${ph(null)}]`, "placeholder num null"],
    [`51-["a",{"_placeholder":true}]`, "placeholder without num"],
    [`51-[${ph(0)}]`, "placeholder as the event name"],
    [`51-["a",{"x":[${ph(3)}]}]`, "nested placeholder beyond the count"],
    [`61-[${ph(0)}]`, "binary ack without id"],
    [`61-1{"a":${ph(0)}}`, "binary ack data an object"],
  ];

  for (const [input, why] of table) {
    it(`refuses ${JSON.stringify(input)} (${why})`, () => {
      const decoder = new Decoder();
      const reason = refused(decoder.add(input));
      assert.ok(reason.length > 0);
      assert.equal(decoder.pendingAttachments, 0, "nothing left half-decoded");
    });
  }
});

describe("socket.io decoder: accepted edge cases", () => {
  const decodeOne = (input: string) => {
    const result = new Decoder().add(input);
    assert.ok(result.ok && result.packet !== null, `${input}: ${JSON.stringify(result)}`);
    return result.packet;
  };

  it("accepts a number as event name (the reference parser does)", () => {
    assert.deepEqual(decodeOne("2[1,2]"), { type: S.Event, nsp: "/", data: [1, 2], id: undefined });
  });

  it("accepts leading zeros in ids and the largest safe id", () => {
    assert.equal(decodeOne('2007["a"]').id, 7);
    assert.equal(decodeOne('29007199254740991["a"]').id, Number.MAX_SAFE_INTEGER);
  });

  it("accepts connect_error as a string (older servers) and connect with no data", () => {
    assert.equal(decodeOne('4"nope"').data, "nope");
    assert.equal(decodeOne("0/admin,").data, undefined);
  });

  it("leaves placeholder-like objects alone in packets that are not binary", () => {
    const packet = decodeOne(`2["a",${ph(0)}]`);
    assert.deepEqual(packet.data, ["a", { _placeholder: true, num: 0 }]);
  });

  it("reads an empty namespace-less comma as part of the data, and rejects it", () => {
    refused(new Decoder().add('2,["a"]'));
  });
});

describe("socket.io decoder: binary reassembly", () => {
  it("waits for every attachment, counting down", () => {
    const decoder = new Decoder();
    assert.deepEqual(decoder.add(`52-["a",${ph(1)},${ph(0)}]`), { ok: true, packet: null });
    assert.equal(decoder.pendingAttachments, 2);
    const first = bytes(1);
    const second = new Uint8Array([2, 2]).buffer;
    assert.deepEqual(decoder.add(first), { ok: true, packet: null });
    assert.equal(decoder.pendingAttachments, 1);
    const result = decoder.add(second);
    assert.ok(result.ok && result.packet !== null);
    assert.equal(result.packet.type, S.Event);
    const data = result.packet.data as unknown[];
    assert.deepEqual(data, ["a", bytes(2, 2), first]);
    assert.equal(data[2], first, "the part itself, not a copy");
    assert.equal(decoder.pendingAttachments, 0);
  });

  it("puts attachments back at any depth, also twice, and tolerates an unused one", () => {
    const decoder = new Decoder();
    decoder.add(`62-/x,4[{"deep":[[${ph(0)}]],"again":${ph(0)}}]`);
    decoder.add(bytes(7));
    const result = decoder.add(bytes(8));
    assert.ok(result.ok && result.packet !== null);
    assert.deepEqual(result.packet, {
      type: S.Ack,
      nsp: "/x",
      data: [{ deep: [[bytes(7)]], again: bytes(7) }],
      id: 4,
    });
  });

  it("keeps a __proto__ key an ordinary property", () => {
    const decoder = new Decoder();
    decoder.add(`51-["a",{"__proto__":${ph(0)}}]`);
    const result = decoder.add(bytes(1));
    assert.ok(result.ok && result.packet !== null);
    const holder = (result.packet.data as unknown[])[1] as object;
    assert.equal(Object.getPrototypeOf(holder), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(holder, "__proto__")?.value, bytes(1));
  });

  it("finds placeholders at the deepest nesting accepted, and refuses deeper", () => {
    assert.match(
      refused(new Decoder().add(`51-["a",${"[".repeat(100_000)}${ph(0)}${"]".repeat(100_000)}]`)),
      /nested deeper/,
    );
    const depth = 998; // + the event array + the placeholder object = 1000 levels
    const decoder = new Decoder();
    const text = `51-["a",${"[".repeat(depth)}${ph(0)}${"]".repeat(depth)}]`;
    assert.deepEqual(decoder.add(text), { ok: true, packet: null });
    const result = decoder.add(bytes(5));
    assert.ok(result.ok && result.packet !== null);
    let node: unknown = (result.packet.data as unknown[])[1];
    for (let i = 0; i < depth; i++) node = (node as unknown[])[0];
    assert.deepEqual(node, bytes(5));
  });

  it("refuses text while attachments are expected, then starts afresh", () => {
    const decoder = new Decoder();
    decoder.add(`51-["a",${ph(0)}]`);
    refused(decoder.add('2["b"]'));
    assert.equal(decoder.pendingAttachments, 0);
    assert.deepEqual(decoder.add('2["c"]'), {
      ok: true,
      packet: { type: S.Event, nsp: "/", data: ["c"], id: undefined },
    });
  });

  it("refuses binary data when no binary packet is open", () => {
    const decoder = new Decoder();
    refused(decoder.add(bytes(1)));
    decoder.add('2["a"]');
    refused(decoder.add(new ArrayBuffer(2)));
  });

  it("refuses input that is neither text nor bytes", () => {
    refused(new Decoder().add(42 as unknown as string));
    refused(new Decoder().add(new Uint16Array(2) as unknown as Uint8Array));
  });

  it("honours maxAttachments", () => {
    const decoder = new Decoder({ maxAttachments: 2 });
    assert.equal(refused(decoder.add(`53-["a",${ph(0)}]`)), "too many attachments");
    assert.equal(decoder.add(`52-["a",${ph(0)}]`).ok, true);
  });

  it("rejects a nonsensical maxAttachments option when constructed", () => {
    assert.throws(() => new Decoder({ maxAttachments: Number.NaN }), RangeError);
    assert.throws(() => new Decoder({ maxAttachments: -1 }), RangeError);
    assert.equal(
      refused(new Decoder({ maxAttachments: 0 }).add(`51-["a",${ph(0)}]`)),
      "too many attachments",
    );
  });

  it("reset() drops a half-received packet", () => {
    const decoder = new Decoder();
    decoder.add(`51-["a",${ph(0)}]`);
    decoder.reset();
    assert.equal(decoder.pendingAttachments, 0);
    refused(decoder.add(bytes(1)));
  });
});

describe("socket.io decoder: hostile streams", () => {
  it("refuses data nested deeper than the encoder can send back, and accepts the limit", () => {
    // The event array itself is one level: 999 more reach the encoder's limit of 1000.
    const atLimit = `2["e",${"[".repeat(999)}${"]".repeat(999)}]`;
    assert.equal(new Decoder().add(atLimit).ok, true);
    const tooDeep = `2["e",${"[".repeat(1000)}${"]".repeat(1000)}]`;
    assert.match(refused(new Decoder().add(tooDeep)), /nested deeper/);
    // A lower limit, as the server sets it.
    assert.equal(new Decoder({ maxDepth: 3 }).add('2["e",[{"a":1}]]').ok, true);
    assert.match(refused(new Decoder({ maxDepth: 3 }).add('2["e",[{"a":[]}]]')), /nested deeper/);
    assert.throws(() => new Decoder({ maxDepth: 1001 }), RangeError);
    // Brackets inside strings do not count.
    assert.equal(new Decoder().add(`2["e","${"[".repeat(5000)}"]`).ok, true);
  });

  it("never throws on any sequence of text and bytes", () => {
    const fragment = fc.oneof(
      fc.string(),
      fc.uint8Array({ maxLength: 8 }),
      fc.constantFrom(
        "5",
        "51-",
        "52-",
        "6",
        "61-1",
        "2/",
        "/admin,",
        "[",
        "]",
        "{",
        "}",
        ",",
        '"',
        "1",
        ph(0),
        ph(1),
      ),
    );
    const text = fc
      .array(fragment, { maxLength: 8 })
      .map((parts) => parts.map((p) => (typeof p === "string" ? p : String(p.length))).join(""));
    const input = fc.oneof(text, fc.uint8Array({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(input, { maxLength: 10 }), (inputs) => {
        const decoder = new Decoder();
        for (const item of inputs) {
          const result = decoder.add(item);
          assert.equal(typeof result.ok, "boolean");
          assert.ok(decoder.pendingAttachments >= 0 && decoder.pendingAttachments <= 10);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("socket.io reserved event names", () => {
  it("lists the six names socket.io reserves", () => {
    assert.deepEqual([...RESERVED_EVENTS].sort(), [
      "connect",
      "connect_error",
      "disconnect",
      "disconnecting",
      "newListener",
      "removeListener",
    ]);
    assert.equal(isReservedEventName("disconnect"), true);
    assert.equal(isReservedEventName("message"), false);
    assert.equal(isReservedEventName(1), false);
  });

  it("recognizes each reserved name, and not its neighbours in length", () => {
    for (const name of RESERVED_EVENTS) {
      assert.equal(isReservedEventName(name), true, name);
      assert.equal(isReservedEventName(`${name}x`), false, name);
      assert.equal(isReservedEventName(name.slice(1)), false, name);
    }
    assert.equal(isReservedEventName(""), false);
  });
});
