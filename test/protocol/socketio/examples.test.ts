/**
 * Every example of the Socket.IO protocol revision 5 document (docs/socket.io-protocol/
 * v5-current.md in socketio/socket.io), encoded and decoded byte-exact, including its sample
 * session carried over Engine.IO.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodePayload,
  EnginePacketType,
  encodePacket,
  encodePayload,
} from "../../../src/protocol/engine/index.js";
import {
  Decoder,
  type EncodedSocketPacket,
  encode,
  type OutgoingSocketPacket,
  type SocketPacket,
  SocketPacketType,
} from "../../../src/protocol/socketio/index.js";

const S = SocketPacketType;

function encoded(packet: OutgoingSocketPacket): EncodedSocketPacket {
  const result = encode(packet);
  assert.ok(result.ok, `encode failed: ${!result.ok && result.reason}`);
  return result.parts;
}

/** Feeds all parts to a fresh decoder; the last one must complete the packet. */
function decodeParts(parts: readonly (string | Uint8Array)[]): SocketPacket {
  const decoder = new Decoder();
  for (let i = 0; i < parts.length; i++) {
    const result = decoder.add(parts[i]);
    assert.ok(result.ok, `decode failed: ${!result.ok && result.reason}`);
    if (i < parts.length - 1) assert.equal(result.packet, null);
    else {
      assert.ok(result.packet !== null);
      return result.packet;
    }
  }
  throw new Error("no parts");
}

interface Example {
  name: string;
  packet: OutgoingSocketPacket;
  wire: EncodedSocketPacket;
  /** The decoded packet, when it differs from `packet` (binary types come out as Event/Ack). */
  decoded?: SocketPacket;
}

const b1234 = Buffer.from([1, 2, 3, 4]);
const b12 = Buffer.from([1, 2]);
const b34 = Buffer.from([3, 4]);

const examples: Example[] = [
  { name: "connect, main namespace", packet: { type: S.Connect, nsp: "/" }, wire: ["0"] },
  {
    name: "connect, custom namespace, server answer",
    packet: { type: S.Connect, nsp: "/admin", data: { sid: "oSO0OpakMV_3jnilAAAA" } },
    wire: ['0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}'],
  },
  {
    name: "connect with an auth payload",
    packet: { type: S.Connect, nsp: "/admin", data: { token: "123" } },
    wire: ['0/admin,{"token":"123"}'],
  },
  {
    name: "connect_error",
    packet: { type: S.ConnectError, nsp: "/", data: { message: "Not authorized" } },
    wire: ['4{"message":"Not authorized"}'],
  },
  {
    name: "event, main namespace",
    packet: { type: S.Event, nsp: "/", data: ["foo"] },
    wire: ['2["foo"]'],
  },
  {
    name: "event, custom namespace",
    packet: { type: S.Event, nsp: "/admin", data: ["bar"] },
    wire: ['2/admin,["bar"]'],
  },
  {
    name: "binary event",
    packet: { type: S.BinaryEvent, nsp: "/", data: ["baz", b1234] },
    wire: ['51-["baz",{"_placeholder":true,"num":0}]', b1234],
    decoded: { type: S.Event, nsp: "/", data: ["baz", b1234], id: undefined },
  },
  {
    name: "binary event with multiple attachments",
    packet: { type: S.BinaryEvent, nsp: "/admin", data: ["baz", b12, b34] },
    wire: [
      '52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
      b12,
      b34,
    ],
    decoded: { type: S.Event, nsp: "/admin", data: ["baz", b12, b34], id: undefined },
  },
  {
    name: "event with an ack id",
    packet: { type: S.Event, nsp: "/", data: ["foo"], id: 12 },
    wire: ['212["foo"]'],
  },
  { name: "empty ack", packet: { type: S.Ack, nsp: "/", data: [], id: 12 }, wire: ["312[]"] },
  {
    name: "ack, custom namespace",
    packet: { type: S.Ack, nsp: "/admin", data: ["bar"], id: 13 },
    wire: ['3/admin,13["bar"]'],
  },
  {
    name: "binary ack",
    packet: { type: S.BinaryAck, nsp: "/", data: ["bar", b1234], id: 15 },
    wire: ['61-15["bar",{"_placeholder":true,"num":0}]', b1234],
    decoded: { type: S.Ack, nsp: "/", data: ["bar", b1234], id: 15 },
  },
  { name: "disconnect, main namespace", packet: { type: S.Disconnect, nsp: "/" }, wire: ["1"] },
  {
    name: "disconnect, custom namespace",
    packet: { type: S.Disconnect, nsp: "/admin" },
    wire: ["1/admin,"],
  },
  // The sample session.
  {
    name: "session: namespace connection approval",
    packet: { type: S.Connect, nsp: "/", data: { sid: "wZX3oN0bSVIhsaknAAAI" } },
    wire: ['0{"sid":"wZX3oN0bSVIhsaknAAAI"}'],
  },
  {
    name: "session: server emit",
    packet: { type: S.Event, nsp: "/", data: ["hey", "Jude"] },
    wire: ['2["hey","Jude"]'],
  },
  {
    name: "session: admin connect",
    packet: { type: S.Connect, nsp: "/admin" },
    wire: ["0/admin,"],
  },
  {
    name: "session: admin granted",
    packet: { type: S.Connect, nsp: "/admin", data: { sid: "-G5j-67EZFp-q59rADQM" } },
    wire: ['0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}'],
  },
  {
    name: "session: event with ack",
    packet: { type: S.Event, nsp: "/admin", data: ["tellme"], id: 1 },
    wire: ['2/admin,1["tellme"]'],
  },
  {
    name: "session: binary ack",
    packet: { type: S.Ack, nsp: "/admin", data: [b1234], id: 1 },
    wire: ['61-/admin,1[{"_placeholder":true,"num":0}]', b1234],
    decoded: { type: S.Ack, nsp: "/admin", data: [b1234], id: 1 },
  },
];

describe("socket.io v5 document examples", () => {
  for (const example of examples) {
    it(`encodes and decodes: ${example.name}`, () => {
      const parts = encoded(example.packet);
      assert.equal(parts.length, example.wire.length);
      assert.equal(parts[0], example.wire[0]);
      for (let i = 1; i < parts.length; i++) {
        assert.equal(parts[i], example.wire[i], "attachments are the caller's buffers, not copies");
      }
      const expected = example.decoded ?? {
        type: example.packet.type,
        nsp: example.packet.nsp,
        data: example.packet.data,
        id: example.packet.id,
      };
      assert.deepEqual(decodeParts(example.wire), expected);
    });
  }

  it("decodes a namespace without the trailing comma (1/admin)", () => {
    assert.deepEqual(decodeParts(["1/admin"]), {
      type: S.Disconnect,
      nsp: "/admin",
      data: undefined,
      id: undefined,
    });
  });

  it('rides on Engine.IO messages: 42["foo"], 42["hello"]\\x1e42["world"], 461-/admin,1[...]', () => {
    const message = (data: string) => ({ type: EnginePacketType.Message, data }) as const;
    const foo = encoded({ type: S.Event, nsp: "/", data: ["foo"] });
    assert.equal(encodePacket(message(foo[0]), true), '42["foo"]');

    const hello = encoded({ type: S.Event, nsp: "/", data: ["hello"] })[0];
    const world = encoded({ type: S.Event, nsp: "/", data: ["world"] })[0];
    assert.equal(encodePayload([message(hello), message(world)]), '42["hello"]\x1e42["world"]');

    const ack = encoded({ type: S.Ack, nsp: "/admin", data: [b1234], id: 1 });
    assert.equal(
      encodePacket(message(ack[0]), true),
      '461-/admin,1[{"_placeholder":true,"num":0}]',
    );
    assert.equal(encodePacket({ type: EnginePacketType.Message, data: ack[1] }, true), b1234);

    // The client's POST body of the sample session, decoded down to Socket.IO packets.
    const body = decodePayload('42["hello"]\x1e42["world"]');
    assert.ok(body.ok);
    const decoder = new Decoder();
    const events = body.packets.map((p) => decoder.add(p.data as string));
    assert.deepEqual(events, [
      { ok: true, packet: { type: S.Event, nsp: "/", data: ["hello"], id: undefined } },
      { ok: true, packet: { type: S.Event, nsp: "/", data: ["world"], id: undefined } },
    ]);
  });
});
