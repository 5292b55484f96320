/**
 * The pure parts of the cluster adapters, in process (no sockets; timers mocked):
 * - NodeRegistry: nodes known by heartbeats, kept alive by any message, gone after the timeout,
 *   bounded;
 * - PendingRequests: requests end when every node answered, when a node they wait for is gone
 *   (counted missing), or at their timeout, with the answers that came; bounded; one end each;
 * - the wire formats (src/protocol/cluster): malformed messages from Redis are refused (null),
 *   never thrown on — fuzzed with fast-check (fixed seed) from random bytes, random values
 *   encoded as MessagePack (notepack.io, socket.io's codec) or JSON, and mutations of valid
 *   messages; valid messages survive a round trip.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import notepack from "notepack.io";
import { NodeRegistry } from "../../src/adapters/core/node-registry.js";
import { PendingRequests } from "../../src/adapters/core/pending-requests.js";
import {
  decodeClusterMessage,
  decodeSession,
  decodeStreamEntry,
  encodeClusterMessage,
  encodeSession,
  encodeStreamEntry,
} from "../../src/protocol/cluster/cluster-format.js";
import {
  type ClusterMessage,
  ClusterMessageType,
  type ClusterResponse,
  parseClusterMessage,
} from "../../src/protocol/cluster/messages.js";
import {
  decodePubSubBroadcast,
  decodePubSubRequest,
  decodePubSubResponse,
  encodePubSubMessage,
  encodePubSubResponse,
  PubSubChannels,
} from "../../src/protocol/cluster/redis-pubsub-format.js";

const SEED = 20240611;
const DECODING = {
  binary: (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
};

describe("NodeRegistry", () => {
  it("knows a node from its heartbeats only; other messages keep a known node alive", () => {
    const nodes = new NodeRegistry(600);
    assert.equal(nodes.seen("a", 0, false), false, "a message that is not a heartbeat: unknown");
    assert.equal(nodes.size, 0);
    assert.equal(nodes.seen("a", 10, true), true, "a heartbeat: new");
    assert.equal(nodes.seen("a", 20, true), false, "known already");
    assert.equal(nodes.has("a"), true);
    // A broadcast at 500 keeps it alive past 10 + 600.
    nodes.seen("a", 500, false);
    assert.deepEqual(nodes.expire(1000), []);
    assert.deepEqual(nodes.expire(1100), [], "exactly the timeout: still alive");
    assert.deepEqual(nodes.expire(1101), ["a"]);
    assert.equal(nodes.has("a"), false);
  });

  it("expires only the silent nodes, whatever the order they were first heard in", () => {
    const nodes = new NodeRegistry(600);
    nodes.seen("a", 0, true);
    nodes.seen("b", 100, true);
    nodes.seen("c", 150, true);
    nodes.seen("a", 200, false);
    assert.deepEqual(nodes.expire(749), ["b"]);
    assert.deepEqual([...nodes.uids()], ["c", "a"]);
    assert.deepEqual(nodes.expire(800), ["c"]);
    assert.deepEqual(nodes.expire(800), []);
    assert.deepEqual([...nodes.uids()], ["a"]);
  });

  it("is bounded, and forgets on remove and clear", () => {
    const nodes = new NodeRegistry(600, 2);
    nodes.seen("a", 0, true);
    nodes.seen("b", 0, true);
    assert.equal(nodes.seen("c", 0, true), false, "beyond the bound: ignored");
    assert.equal(nodes.size, 2);
    assert.equal(nodes.remove("a"), true);
    assert.equal(nodes.remove("a"), false);
    assert.equal(nodes.seen("c", 1, true), true);
    assert.deepEqual(nodes.clear().sort(), ["b", "c"]);
    assert.equal(nodes.size, 0);
  });
});

function answer(uid: string, requestId: string, packet: unknown = uid): ClusterResponse {
  return {
    uid,
    nsp: "/",
    type: ClusterMessageType.ServerSideEmitResponse,
    data: { requestId, packet },
  };
}

interface Done {
  answers: unknown[];
  missing: number;
}

function recorder(): {
  calls: Done[];
  done: (answers: ClusterResponse[], missing: number) => void;
} {
  const calls: Done[] = [];
  return {
    calls,
    done: (answers, missing) => calls.push({ answers: answers.map((a) => a.uid), missing }),
  };
}

describe("PendingRequests", () => {
  const kind = ClusterMessageType.ServerSideEmit;

  it("ends at once when there is nobody to wait for", () => {
    const requests = new PendingRequests();
    const { calls, done } = recorder();
    assert.equal(requests.start("r", kind, [], 0, 1000, done), true);
    assert.deepEqual(calls, [{ answers: [], missing: 0 }]);
    assert.equal(requests.size, 0);
  });

  it("ends when every node answered, once; a second answer of a node and unknown requests are ignored", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const requests = new PendingRequests();
    const { calls, done } = recorder();
    requests.start("r", kind, ["a", "b"], 0, 1000, done);
    assert.equal(requests.kindOf("r"), kind);
    requests.answer(answer("a", "r"), true);
    requests.answer(answer("a", "r"), true);
    requests.answer(answer("b", "other"), true);
    assert.deepEqual(calls, []);
    requests.answer(answer("b", "r"), true);
    assert.deepEqual(calls, [{ answers: ["a", "b"], missing: 0 }]);
    assert.equal(requests.kindOf("r"), undefined);
    t.mock.timers.tick(2000);
    assert.equal(calls.length, 1, "the timeout does not end it again");
  });

  it("ends at its timeout with the answers that came, the others missing", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const requests = new PendingRequests();
    const { calls, done } = recorder();
    requests.start("r", kind, ["a", "b", "c"], 0, 1000, done);
    requests.answer(answer("b", "r"), true);
    t.mock.timers.tick(999);
    assert.deepEqual(calls, []);
    t.mock.timers.tick(1);
    assert.deepEqual(calls, [{ answers: ["b"], missing: 2 }]);
    requests.answer(answer("a", "r"), true);
    assert.equal(calls.length, 1, "a late answer changes nothing");
  });

  it("a node gone mid-request is no longer waited for, and counts as missing", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const requests = new PendingRequests();
    const { calls, done } = recorder();
    requests.start("r", kind, ["a", "b"], 0, 1000, done);
    requests.answer(answer("a", "r"), true);
    requests.nodeGone("x");
    assert.deepEqual(calls, [], "a node it does not wait for");
    requests.nodeGone("b");
    assert.deepEqual(calls, [{ answers: ["a"], missing: 1 }]);

    // Gone before anyone answered: it still waits for the others.
    const second = recorder();
    requests.start("s", kind, ["a", "b"], 0, 1000, second.done);
    requests.nodeGone("a");
    assert.deepEqual(second.calls, []);
    requests.answer(answer("b", "s"), true);
    assert.deepEqual(second.calls, [{ answers: ["b"], missing: 1 }]);
  });

  it("counts anonymous answers (nodes without heartbeats); a node that appeared later is kept without counting", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const requests = new PendingRequests();
    const { calls, done } = recorder();
    requests.start("r", kind, ["a"], 2, 1000, done);
    requests.answer(answer("", "r"), false);
    requests.answer(answer("late", "r"), true);
    requests.answer(answer("a", "r"), true);
    assert.deepEqual(calls, [], "one anonymous answer still expected");
    requests.answer(answer("socketio", "r"), false);
    assert.deepEqual(calls, [{ answers: ["", "late", "a", "socketio"], missing: 0 }]);

    const second = recorder();
    requests.start("s", kind, [], 2, 1000, second.done);
    requests.answer(answer("", "s"), false);
    t.mock.timers.tick(1000);
    assert.deepEqual(second.calls, [{ answers: [""], missing: 1 }]);
  });

  it("is bounded: beyond the most pending requests, start() refuses without calling back", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const requests = new PendingRequests(2);
    const { calls, done } = recorder();
    assert.equal(requests.start("r1", kind, ["a"], 0, 1000, done), true);
    assert.equal(requests.start("r2", kind, ["a"], 0, 1000, done), true);
    assert.equal(requests.start("r3", kind, ["a"], 0, 1000, done), false);
    assert.equal(requests.size, 2);
    assert.deepEqual(calls, []);
    requests.finishAll();
    assert.deepEqual(calls, [
      { answers: [], missing: 1 },
      { answers: [], missing: 1 },
    ]);
    assert.equal(requests.size, 0);
    assert.equal(requests.start("r3", kind, ["a"], 0, 1000, done), true);
    requests.finish("r3");
    requests.finish("r3");
    assert.equal(calls.length, 3);
  });
});

// --- wire formats ----------------------------------------------------------------------------------

const channels = new PubSubChannels("socket.io", "/");

/** Values as they may come out of a decoder (JSON or MessagePack), nested and odd. */
const anyValue = fc.anything({
  maxDepth: 4,
  withBigInt: false,
  withTypedArray: true,
  withNullPrototype: true,
  withObjectString: true,
});

/** Objects shaped like cluster messages, with random parts. */
const messageLike = fc.record(
  {
    uid: fc.oneof(fc.string({ maxLength: 70 }), anyValue),
    nsp: fc.oneof(fc.constantFrom("/", "/chat", "", "chat"), anyValue),
    type: fc.oneof(fc.integer({ min: -1, max: 110 }), fc.constantFrom("3", "7", "x"), anyValue),
    requestId: fc.oneof(fc.string({ maxLength: 70 }), anyValue),
    data: fc.oneof(
      anyValue,
      fc.record(
        {
          packet: fc.oneof(
            anyValue,
            fc.record({ type: anyValue, data: anyValue, nsp: anyValue, id: anyValue }),
          ),
          opts: fc.oneof(
            anyValue,
            fc.record({ rooms: anyValue, except: anyValue, flags: anyValue }),
          ),
          requestId: fc.oneof(fc.string({ maxLength: 70 }), anyValue),
          rooms: anyValue,
          sockets: fc.oneof(anyValue, fc.array(anyValue)),
          clientCount: anyValue,
          pid: anyValue,
          close: anyValue,
        },
        { requiredKeys: [] },
      ),
    ),
    packet: anyValue,
    opts: anyValue,
    rooms: anyValue,
    sid: anyValue,
    room: anyValue,
    sockets: anyValue,
    clientCount: anyValue,
  },
  { requiredKeys: [] },
);

/** What comes off the wire: random bytes, or random values encoded as socket.io nodes would. */
const wireBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  anyValue.map((value) => safeEncode(value)),
  messageLike.map((value) => safeEncode(value)),
  messageLike.map((value) => safeJson(value)),
  fc.tuple(fc.string(), messageLike, messageLike).map((value) => safeEncode(value)),
);

function safeEncode(value: unknown): Uint8Array {
  try {
    return new Uint8Array(notepack.encode(value));
  } catch {
    return new Uint8Array([0xc1]);
  }
}

function safeJson(value: unknown): Uint8Array {
  try {
    return new TextEncoder().encode(JSON.stringify(value) ?? "{");
  } catch {
    return new TextEncoder().encode("{");
  }
}

/** Refused (null) or a message whose envelope passed the checks. */
function assertAcceptable(message: ClusterMessage | null): void {
  if (message === null) return;
  assert.equal(typeof message.uid, "string");
  assert.ok(message.uid.length <= 64);
  assert.ok(message.nsp.startsWith("/"));
  assert.ok(Object.values(ClusterMessageType).includes(message.type));
}

const kindOfAny = (requestId: string) =>
  [
    ClusterMessageType.FetchSockets,
    ClusterMessageType.AllRooms,
    ClusterMessageType.SocketIds,
    undefined,
  ][requestId.length % 4];

describe("cluster wire formats: malformed input is refused, never thrown on", () => {
  it("parseClusterMessage, on any value", () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, messageLike), (value) => {
        assertAcceptable(parseClusterMessage(value));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("decodePubSubRequest, decodePubSubBroadcast, decodePubSubResponse, decodeClusterMessage, on any bytes", () => {
    fc.assert(
      fc.property(wireBytes, (bytes) => {
        assertAcceptable(decodePubSubRequest(bytes, "/", DECODING));
        assertAcceptable(decodePubSubBroadcast(bytes, "/", DECODING));
        assertAcceptable(decodePubSubResponse(bytes, "/", DECODING, kindOfAny));
        assertAcceptable(decodeClusterMessage(bytes, DECODING));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("decodeStreamEntry and decodeSession, on any fields", () => {
    const field = fc.oneof(
      fc.string(),
      anyValue,
      messageLike.map((value) => {
        try {
          return JSON.stringify(value) ?? "";
        } catch {
          return "{";
        }
      }),
      anyValue.map((value) => Buffer.from(safeEncode(value)).toString("base64")),
      messageLike.map((value) => Buffer.from(safeEncode(value)).toString("base64")),
    );
    const fields = fc.record(
      {
        uid: fc.oneof(fc.string({ maxLength: 70 }), anyValue),
        nsp: fc.oneof(fc.constantFrom("/", "/chat", ""), anyValue),
        type: fc.oneof(fc.integer({ min: 0, max: 110 }).map(String), anyValue),
        data: field,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fields, field, (entry, text) => {
        assertAcceptable(decodeStreamEntry(entry as Record<string, unknown>, DECODING));
        if (typeof text === "string") {
          const session = decodeSession(text, DECODING);
          if (session !== null) {
            assert.equal(typeof session.sid, "string");
            assert.ok(Array.isArray(session.rooms));
          }
        }
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("valid messages survive a round trip; mutated ones are refused or still well-formed", () => {
    const messages: ClusterMessage[] = [
      { uid: "n1", nsp: "/", type: ClusterMessageType.Heartbeat },
      {
        uid: "n1",
        nsp: "/",
        type: ClusterMessageType.Broadcast,
        data: {
          packet: { type: 2, nsp: "/", data: ["ev", { a: 1 }, Buffer.from([1, 2, 3])] },
          opts: { rooms: ["r", 42], except: ["x"], flags: { volatile: true } },
        },
      },
      {
        uid: "n1",
        nsp: "/",
        type: ClusterMessageType.Broadcast,
        data: {
          packet: { type: 2, nsp: "/", data: ["ev"] },
          opts: { rooms: [], except: [], flags: {} },
          requestId: "req1",
        },
      },
      {
        uid: "n1",
        nsp: "/",
        type: ClusterMessageType.SocketsJoin,
        data: { opts: { rooms: ["a"], except: [], flags: {} }, rooms: ["b", 7] },
      },
      {
        uid: "n1",
        nsp: "/",
        type: ClusterMessageType.DisconnectSockets,
        data: { opts: { rooms: ["a"], except: [], flags: {} }, close: true },
      },
      {
        uid: "n1",
        nsp: "/",
        type: ClusterMessageType.FetchSockets,
        data: { opts: { rooms: ["a"], except: [], flags: {} }, requestId: "req2" },
      },
      {
        uid: "n1",
        nsp: "/",
        type: ClusterMessageType.ServerSideEmit,
        data: { packet: ["hello", 1, { x: [2] }], requestId: "req3" },
      },
    ];
    const responses: ClusterResponse[] = [
      {
        uid: "n2",
        nsp: "/",
        type: ClusterMessageType.FetchSocketsResponse,
        data: {
          requestId: "req2",
          sockets: [{ id: "s1", handshake: { auth: {} }, rooms: ["s1", "a"], data: { n: 1 } }],
        },
      },
      {
        uid: "n2",
        nsp: "/",
        type: ClusterMessageType.BroadcastClientCount,
        data: { requestId: "req1", clientCount: 3 },
      },
      {
        uid: "n2",
        nsp: "/",
        type: ClusterMessageType.ServerSideEmitResponse,
        data: { requestId: "req3", packet: { ok: true } },
      },
    ];
    // Buffers as JSON; empty flags left out (the classic format does not carry the flags of
    // requests, which mean nothing to the receiving node).
    const normalize = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value, (key, item) =>
          key === "flags" && Object.keys(item as object).length === 0 ? undefined : item,
        ),
      );

    // Round trips through each format.
    for (const message of [...messages, ...responses]) {
      const whole = encodeClusterMessage(message, "auto");
      assert.ok(!("error" in whole));
      assert.deepEqual(normalize(decodeClusterMessage(whole, DECODING)), normalize(message));
      const entry = encodeStreamEntry(message);
      assert.ok(!("error" in entry));
      assert.deepEqual(
        normalize(decodeStreamEntry(entry as unknown as Record<string, unknown>, DECODING)),
        normalize(message),
      );
    }
    for (const message of messages.slice(1)) {
      const publication = encodePubSubMessage(message, channels);
      assert.ok(!("error" in publication));
      const decoded =
        publication.channel === channels.request
          ? decodePubSubRequest(publication.payload, "/", DECODING)
          : decodePubSubBroadcast(publication.payload, "/", DECODING);
      assert.deepEqual(normalize(decoded), normalize(message));
    }
    for (const response of responses) {
      const publication = encodePubSubResponse(response, channels, "n1");
      assert.ok(!("error" in publication));
      const decoded = decodePubSubResponse(publication.payload, "/", DECODING, () =>
        response.type === ClusterMessageType.FetchSocketsResponse
          ? ClusterMessageType.FetchSockets
          : undefined,
      );
      assert.deepEqual(normalize(decoded), normalize(response));
    }
    const session = encodeSession({ sid: "s", pid: "p", rooms: ["a", 1], data: { x: 1 } });
    assert.equal(typeof session, "string");
    assert.deepEqual(decodeSession(session as string, DECODING), {
      sid: "s",
      pid: "p",
      rooms: ["a", 1],
      data: { x: 1 },
    });

    // Mutations of valid encodings: byte flips, cuts, insertions.
    const valid: Uint8Array[] = [];
    for (const message of [...messages, ...responses]) {
      valid.push(encodeClusterMessage(message, "msgpack") as Uint8Array);
      valid.push(encodeClusterMessage(message, "auto") as Uint8Array);
      const publication = encodePubSubMessage(message, channels);
      if (!("error" in publication)) valid.push(publication.payload);
    }
    const mutated = fc
      .tuple(
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.array(
          fc.tuple(
            fc.constantFrom("flip", "cut", "insert"),
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
          ),
          { minLength: 1, maxLength: 4 },
        ),
      )
      .map(([index, edits]) => {
        let bytes = Array.from(valid[index]!);
        for (const [edit, at, value] of edits) {
          const position = bytes.length === 0 ? 0 : at % bytes.length;
          if (edit === "flip") bytes[position] = value;
          else if (edit === "cut") bytes = bytes.slice(0, position);
          else bytes.splice(position, 0, value);
        }
        return new Uint8Array(bytes);
      });
    fc.assert(
      fc.property(mutated, (bytes) => {
        assertAcceptable(decodePubSubRequest(bytes, "/", DECODING));
        assertAcceptable(decodePubSubBroadcast(bytes, "/", DECODING));
        assertAcceptable(decodePubSubResponse(bytes, "/", DECODING, kindOfAny));
        assertAcceptable(decodeClusterMessage(bytes, DECODING));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("refuses the malformed shapes that matter: envelope, ids, rooms, counts, packets", () => {
    const opts = { rooms: [], except: [] };
    const bad: unknown[] = [
      null,
      [],
      "text",
      { uid: "", nsp: "/", type: 2 },
      { uid: "x".repeat(65), nsp: "/", type: 2 },
      { uid: 1, nsp: "/", type: 2 },
      { uid: "n", nsp: "chat", type: 2 },
      { uid: "n", nsp: "/", type: 99 },
      { uid: "n", nsp: "/", type: "nope" },
      { uid: "n", nsp: "/", type: 3 },
      { uid: "n", nsp: "/", type: 3, data: { packet: { type: 2 }, opts: { rooms: "r" } } },
      { uid: "n", nsp: "/", type: 3, data: { packet: { type: 2 }, opts: { rooms: [{}] } } },
      { uid: "n", nsp: "/", type: 3, data: { packet: { type: 2 }, opts: { rooms: [Number.NaN] } } },
      { uid: "n", nsp: "/", type: 3, data: { packet: { type: "2" }, opts } },
      { uid: "n", nsp: "/", type: 3, data: { packet: { type: 2, id: 1.5 }, opts } },
      { uid: "n", nsp: "/", type: 3, data: { packet: { type: 2 }, opts, requestId: "" } },
      {
        uid: "n",
        nsp: "/",
        type: 3,
        data: { packet: { type: 2 }, opts, requestId: "r".repeat(65) },
      },
      { uid: "n", nsp: "/", type: 4, data: { opts, rooms: "r" } },
      { uid: "n", nsp: "/", type: 7, data: { opts } },
      { uid: "n", nsp: "/", type: 8, data: { requestId: "r", sockets: [{ id: 1 }] } },
      { uid: "n", nsp: "/", type: 8, data: { requestId: "r", sockets: [{ id: "s", rooms: [] }] } },
      { uid: "n", nsp: "/", type: 9, data: { packet: [1, 2] } },
      { uid: "n", nsp: "/", type: 9, data: { packet: "ev" } },
      { uid: "n", nsp: "/", type: 11, data: { requestId: "r", clientCount: -1 } },
      { uid: "n", nsp: "/", type: 11, data: { requestId: "r", clientCount: 1.5 } },
      { uid: "n", nsp: "/", type: 11, data: { requestId: "r", clientCount: "3" } },
      { uid: "n", nsp: "/", type: 104, data: { requestId: "r", sockets: [1] } },
      { uid: "n", nsp: "/", type: 105, data: { requestId: "r" } },
    ];
    for (const value of bad) {
      assert.equal(parseClusterMessage(value), null, JSON.stringify(value));
    }
    // Other namespaces' broadcasts, and non-arrays, on the broadcast channel.
    const broadcast = (value: unknown) => new Uint8Array(notepack.encode(value));
    assert.equal(
      decodePubSubBroadcast(
        broadcast(["n", { type: 2, nsp: "/chat", data: ["e"] }, opts]),
        "/",
        DECODING,
      ),
      null,
    );
    assert.equal(decodePubSubBroadcast(broadcast({ uid: "n" }), "/", DECODING), null);
    assert.equal(decodePubSubBroadcast(broadcast(["n", { type: 2 }]), "/", DECODING), null);
    // Unknown request types, truncated JSON.
    assert.equal(decodePubSubRequest(broadcast({ type: 42, requestId: "r" }), "/", DECODING), null);
    assert.equal(decodePubSubRequest(new TextEncoder().encode('{"type":5,'), "/", DECODING), null);
    // A stream entry whose data is neither JSON nor base64 MessagePack.
    assert.equal(
      decodeStreamEntry({ uid: "n", nsp: "/", type: "3", data: "not base64!" }, DECODING),
      null,
    );
    assert.equal(decodeSession("not base64!", DECODING), null);
  });
});
