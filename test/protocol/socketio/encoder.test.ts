import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  extract,
  MAX_DEPTH,
  mayHoldBinary,
} from "../../../src/protocol/socketio/attachment-extraction.js";
import {
  type EncodedSocketPacket,
  encode,
  type OutgoingSocketPacket,
  SocketPacketType,
} from "../../../src/protocol/socketio/index.js";

const S = SocketPacketType;

function parts(packet: OutgoingSocketPacket): EncodedSocketPacket {
  const result = encode(packet);
  assert.ok(result.ok, `encode failed: ${!result.ok && result.reason}`);
  return result.parts;
}

function reason(packet: OutgoingSocketPacket): string {
  const result = encode(packet);
  assert.equal(result.ok, false, `expected an error, got ${JSON.stringify(result)}`);
  return result.ok ? "" : result.reason;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe("socket.io encoder: binary values", () => {
  it("extracts every kind of binary, as views on the caller's memory", () => {
    const memory = new ArrayBuffer(16);
    new Uint8Array(memory).set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const buffer = Buffer.from([9, 9]);
    const int16 = new Int16Array(memory, 4, 2); // bytes 4..7
    const view = new DataView(memory, 10, 3); // bytes 10..12
    const result = parts({ type: S.Event, nsp: "/", data: ["bin", memory, buffer, int16, view] });
    assert.equal(
      result[0],
      `54-["bin",${[0, 1, 2, 3].map((n) => `{"_placeholder":true,"num":${n}}`).join(",")}]`,
    );
    const [, fromMemory, fromBuffer, fromInt16, fromView] = result as Uint8Array[];
    assert.equal(fromMemory.buffer, memory);
    assert.equal(fromMemory.byteLength, 16);
    assert.equal(fromBuffer, buffer);
    assert.equal(fromInt16.buffer, memory);
    assert.deepEqual([...fromInt16], [4, 5, 6, 7]);
    assert.equal(fromView.buffer, memory);
    assert.deepEqual([...fromView], [10, 11, 12]);
  });

  it("numbers placeholders in JSON order, inside objects and arrays", () => {
    const a = new Uint8Array([1]);
    const b = new Uint8Array([2]);
    const c = new Uint8Array([3]);
    const result = parts({
      type: S.Ack,
      nsp: "/chat",
      id: 7,
      data: [{ z: a, list: [1, b, { deep: c }], text: "t" }],
    });
    assert.equal(
      result[0],
      '63-/chat,7[{"z":{"_placeholder":true,"num":0},"list":[1,{"_placeholder":true,"num":1},{"deep":{"_placeholder":true,"num":2}}],"text":"t"}]',
    );
    assert.deepEqual(result.slice(1), [a, b, c]);
  });

  it("never mutates the caller's data (frozen input works, and is unchanged)", () => {
    const data = deepFreeze(["ev", { a: new Uint8Array([1]), b: [new Uint8Array([2]), "x"] }, 3]);
    const snapshot = JSON.stringify(data);
    const first = parts({ type: S.Event, nsp: "/", data });
    const second = parts({ type: S.Event, nsp: "/", data });
    assert.deepEqual(first, second, "encoding twice gives the same result");
    assert.equal(JSON.stringify(data), snapshot);
    assert.ok(data[1] !== null && typeof data[1] === "object");
  });

  it("copies only the containers on the way to a binary value", () => {
    const untouched = { big: [1, 2, 3] };
    const binary = new Uint8Array([1]);
    const data = ["ev", untouched, { inner: binary }];
    const attachments: Uint8Array[] = [];
    const stripped = extract(data, "", attachments, 0) as unknown[];
    assert.notEqual(stripped, data);
    assert.equal(stripped[1], untouched, "a branch without binary is shared, not copied");
    assert.deepEqual(stripped[2], { inner: { _placeholder: true, num: 0 } });
    assert.deepEqual(attachments, [binary]);
  });

  it("does not walk-and-copy data without binary: the fast path keeps the caller's objects", () => {
    const data = ["ev", { a: [1, "two", null, true], when: new Date(0) }];
    assert.equal(mayHoldBinary(data, 0), false);
    const attachments: Uint8Array[] = [];
    assert.equal(extract(data, "", attachments, 0), data);
    assert.equal(attachments.length, 0);
  });

  it("writes EVENT/ACK when a binary type is asked for but there is no binary", () => {
    assert.equal(parts({ type: S.BinaryEvent, nsp: "/", data: ["a"] })[0], '2["a"]');
    assert.equal(parts({ type: S.BinaryAck, nsp: "/", data: [], id: 1 })[0], "31[]");
  });

  it("does not extract binary outside event and ack data (the format has no attachments there)", () => {
    const result = parts({ type: S.Connect, nsp: "/", data: { token: new Uint8Array([1]) } });
    assert.deepEqual(result, ['0{"token":{"0":1}}']);
  });
});

describe("socket.io encoder: JSON semantics", () => {
  it("serializes like JSON.stringify: toJSON, Date, undefined, functions", () => {
    const when = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 6));
    const data = ["ev", when, { skip: undefined, fn: () => 1, keep: 1 }, [undefined, () => 1]];
    assert.equal(parts({ type: S.Event, nsp: "/", data })[0], `2${JSON.stringify(data)}`);
    assert.equal(
      parts({ type: S.Event, nsp: "/", data })[0],
      '2["ev","2020-01-02T03:04:05.006Z",{"keep":1},[null,null]]',
    );
  });

  it("applies toJSON once, with the key, and extracts binary from its result", () => {
    const keys: string[] = [];
    const binary = new Uint8Array([4]);
    const custom = {
      toJSON(key: string) {
        keys.push(key);
        return { payload: binary, key };
      },
    };
    const result = parts({ type: S.Event, nsp: "/", data: ["ev", { field: custom }] });
    assert.equal(
      result[0],
      '51-["ev",{"field":{"payload":{"_placeholder":true,"num":0},"key":"field"}}]',
    );
    assert.deepEqual(result.slice(1), [binary]);
    assert.deepEqual(keys, ["field"]);
  });

  it("applies toJSON without binary in its result exactly like JSON.stringify", () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON() {
        return `${this.cents / 100} EUR`;
      }
    }
    const data = ["price", new Money(1250), [new Money(5)]];
    assert.equal(parts({ type: S.Event, nsp: "/", data })[0], `2${JSON.stringify(data)}`);
  });

  it("keeps a __proto__ key an ordinary key when copying", () => {
    const holder = JSON.parse('{"__proto__":{"x":1},"b":null}') as Record<string, unknown>;
    holder.b = new Uint8Array([1]);
    const result = parts({ type: S.Event, nsp: "/", data: ["ev", holder] });
    assert.equal(result[0], '51-["ev",{"__proto__":{"x":1},"b":{"_placeholder":true,"num":0}}]');
  });
});

describe("socket.io encoder: errors are values", () => {
  it("refuses BigInt, at the top or nested, with or without binary", () => {
    assert.match(reason({ type: S.Event, nsp: "/", data: ["ev", 1n] }), /serialized/);
    assert.match(reason({ type: S.Event, nsp: "/", data: ["ev", { n: [2n] }] }), /serialized/);
    assert.match(
      reason({ type: S.Event, nsp: "/", data: ["ev", new Uint8Array(1), 3n] }),
      /serialized/,
    );
    assert.match(reason({ type: S.Connect, nsp: "/", data: { n: 1n } }), /serialized/);
  });

  it("refuses circular data, with or without binary", () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    assert.match(reason({ type: S.Event, nsp: "/", data: ["ev", loop] }), /circular/);
    const binaryLoop: Record<string, unknown> = { bin: new Uint8Array(1) };
    binaryLoop.self = binaryLoop;
    assert.match(reason({ type: S.Event, nsp: "/", data: ["ev", binaryLoop] }), /circular/);
    const connectLoop: Record<string, unknown> = {};
    connectLoop.self = connectLoop;
    assert.match(reason({ type: S.Connect, nsp: "/", data: connectLoop }), /circular/);
  });

  it(`refuses event data nested deeper than ${MAX_DEPTH} levels, accepts less`, () => {
    assert.equal(
      encode({ type: S.Event, nsp: "/", data: ["ev", nested(MAX_DEPTH - 2, 1)] }).ok,
      true,
    );
    assert.match(
      reason({ type: S.Event, nsp: "/", data: ["ev", nested(MAX_DEPTH + 5, 1)] }),
      /deeper/,
    );
  });

  it("turns throwing toJSON methods, getters and proxies into errors", () => {
    const throwingToJSON = {
      toJSON() {
        throw new Error("nope");
      },
    };
    assert.match(reason({ type: S.Event, nsp: "/", data: ["ev", throwingToJSON] }), /nope/);
    const getter = Object.defineProperty({}, "x", {
      enumerable: true,
      get() {
        throw new Error("getter");
      },
    });
    assert.match(reason({ type: S.Event, nsp: "/", data: ["ev", getter] }), /getter/);
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("proxy");
        },
      },
    );
    assert.match(reason({ type: S.Event, nsp: "/", data: ["ev", proxy] }), /proxy/);
    const weird = {
      toJSON() {
        throw {
          toString() {
            throw new Error("unprintable");
          },
        };
      },
    };
    assert.match(reason({ type: S.Event, nsp: "/", data: ["ev", weird] }), /cannot be described/);
  });

  it("refuses what the decoder would refuse", () => {
    const bad: [OutgoingSocketPacket, RegExp][] = [
      [{ type: S.Event, nsp: "admin", data: ["a"] }, /namespace/],
      [{ type: S.Event, nsp: "", data: ["a"] }, /namespace/],
      [{ type: S.Event, nsp: "/a,b", data: ["a"] }, /namespace/],
      [{ type: S.Event, nsp: 1 as unknown as string, data: ["a"] }, /namespace/],
      [{ type: S.Event, nsp: "/", data: ["a"], id: -1 }, /id/],
      [{ type: S.Event, nsp: "/", data: ["a"], id: 1.5 }, /id/],
      [{ type: S.Event, nsp: "/", data: ["a"], id: Number.NaN }, /id/],
      [{ type: S.Event, nsp: "/", data: ["a"], id: 2 ** 53 }, /id/],
      [{ type: S.Event, nsp: "/", data: ["a"], id: "1" as unknown as number }, /id/],
      [{ type: S.Ack, nsp: "/", data: [] }, /id/],
      [{ type: S.Connect, nsp: "/", id: 1 }, /id/],
      [{ type: S.Disconnect, nsp: "/", id: 1 }, /id/],
      [{ type: S.ConnectError, nsp: "/", data: "x", id: 1 }, /id/],
      [{ type: S.Event, nsp: "/" }, /event data/],
      [{ type: S.Event, nsp: "/", data: [] }, /event data/],
      [{ type: S.Event, nsp: "/", data: "ev" }, /event data/],
      [{ type: S.Event, nsp: "/", data: [null] }, /event name/],
      [{ type: S.Event, nsp: "/", data: ["disconnect"] }, /reserved/],
      [{ type: S.Ack, nsp: "/", data: "x", id: 1 }, /ack data/],
      [{ type: S.Connect, nsp: "/", data: [] }, /connect data/],
      [{ type: S.Connect, nsp: "/", data: null }, /connect data/],
      [{ type: S.Disconnect, nsp: "/", data: {} }, /disconnect/],
      [{ type: S.ConnectError, nsp: "/" }, /connect_error/],
      [{ type: S.ConnectError, nsp: "/", data: 5 }, /connect_error/],
      [{ type: 7 as SocketPacketType, nsp: "/" }, /unknown packet type/],
    ];
    for (const [packet, expected] of bad)
      assert.match(reason(packet), expected, JSON.stringify(packet));
  });

  it("accepts a number as event name and any ack id up to MAX_SAFE_INTEGER", () => {
    assert.deepEqual(parts({ type: S.Event, nsp: "/", data: [1, "a"] }), ['2[1,"a"]']);
    assert.deepEqual(parts({ type: S.Ack, nsp: "/", data: [], id: Number.MAX_SAFE_INTEGER }), [
      `3${Number.MAX_SAFE_INTEGER}[]`,
    ]);
  });
});
