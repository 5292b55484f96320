/**
 * Rooms and broadcasting: to/in/except chains (immutable), socket.broadcast, volatile, compress,
 * acknowledgements collected from several clients, fetchSockets and the bulk operations,
 * serverSideEmit on a single server, adapter events, encode-once delivery, custom adapters.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { PreparedEngineMessage } from "../../src/engine/index.js";
import {
  Adapter,
  type AdapterNamespace,
  type BroadcastOptions,
  type Room,
  type Socket,
} from "../../src/index.js";
import type { OutgoingSocketPacket } from "../../src/protocol/socketio/index.js";
import { PACKET_ENCODER } from "../../src/server/packet-encoding.js";
import { delay } from "../helpers/timing.js";
import { type ClientSocket, startServer, type TestServer, waitFor } from "./helpers.js";

interface Peer {
  client: ClientSocket;
  socket: Socket;
  got: unknown[][];
}

/** Connects `n` clients recording every "msg" event they get. */
async function peers(server: TestServer, n: number): Promise<Peer[]> {
  const result: Peer[] = [];
  for (let i = 0; i < n; i++) {
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await server.connect("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const got: unknown[][] = [];
    client.on("msg", (...args: unknown[]) => got.push(args));
    result.push({ client, socket, got });
  }
  return result;
}

/** Sends a marker to every peer and waits for it: all earlier events have arrived by then. */
async function settle(server: TestServer, all: Peer[]): Promise<void> {
  const done = all.map((p) => waitFor(p.client, "settled"));
  server.io.emit("settled");
  await Promise.all(done);
}

describe("rooms and broadcasting", () => {
  let server: TestServer;
  let all: Peer[];
  beforeEach(async () => {
    server = await startServer();
    all = await peers(server, 4);
  });
  afterEach(() => server.close());

  it("reaches everyone, rooms, several rooms once, and skips excepted rooms", async () => {
    const [a, b, c, d] = all as [Peer, Peer, Peer, Peer];
    await a.socket.join(["red", "blue"]);
    await b.socket.join("red");
    await c.socket.join("blue");

    server.io.emit("msg", "everyone");
    server.io.to("red").emit("msg", "red");
    server.io.to(["red", "blue"]).emit("msg", "red-or-blue");
    server.io.in("red").to("blue").emit("msg", "chained");
    server.io.except("red").emit("msg", "not-red");
    server.io.to("blue").except(a.socket.id).emit("msg", "blue-but-a");
    server.io.to(d.socket.id).emit("msg", "private");
    await settle(server, all);

    assert.deepEqual(a.got, [["everyone"], ["red"], ["red-or-blue"], ["chained"]]);
    assert.deepEqual(b.got, [["everyone"], ["red"], ["red-or-blue"], ["chained"]]);
    assert.deepEqual(c.got, [
      ["everyone"],
      ["red-or-blue"],
      ["chained"],
      ["not-red"],
      ["blue-but-a"],
    ]);
    assert.deepEqual(d.got, [["everyone"], ["not-red"], ["private"]]);
  });

  it("broadcasts from a socket to everyone but itself", async () => {
    const [a, b, c] = all as [Peer, Peer, Peer, Peer];
    await a.socket.join("room");
    await b.socket.join("room");
    a.socket.broadcast.emit("msg", "broadcast");
    a.socket.to("room").emit("msg", "room");
    a.socket.except("room").emit("msg", "outside-room");
    a.socket.in("room").emit("msg", "in-room");
    await settle(server, all);
    assert.deepEqual(a.got, []);
    assert.deepEqual(b.got, [["broadcast"], ["room"], ["in-room"]]);
    assert.deepEqual(c.got, [["broadcast"], ["outside-room"]]);
  });

  it("keeps operators immutable and reusable", async () => {
    const [a, b, c] = all as [Peer, Peer, Peer, Peer];
    await a.socket.join("x");
    await b.socket.join("y");
    const toX = server.io.to("x");
    const toXY = toX.to("y");
    const toXYButB = toXY.except(b.socket.id);
    const volatileX = toX.volatile;
    toX.emit("msg", 1);
    toXY.emit("msg", 2);
    toXYButB.emit("msg", 3);
    toX.emit("msg", 4);
    volatileX.emit("msg", 5);
    await settle(server, all);
    assert.deepEqual(a.got, [[1], [2], [3], [4], [5]]);
    assert.deepEqual(b.got, [[2]]);
    assert.deepEqual(c.got, []);
  });

  it("drops volatile packets for clients whose transport is not writable", async () => {
    const [a, b] = all as [Peer, Peer, Peer, Peer];
    const transport = a.socket.conn.transport;
    Object.defineProperty(transport, "writable", { configurable: true, get: () => false });
    try {
      server.io.volatile.emit("msg", "volatile-broadcast");
      a.socket.volatile.emit("msg", "volatile-direct");
      b.socket.volatile.emit("msg", "volatile-direct");
    } finally {
      delete (transport as unknown as Record<string, unknown>).writable;
    }
    server.io.emit("msg", "reliable");
    await settle(server, all);
    assert.deepEqual(a.got, [["reliable"]]);
    assert.deepEqual(b.got, [["volatile-broadcast"], ["volatile-direct"], ["reliable"]]);
  });

  it("encodes a broadcast once and writes the same prepared message to every client", async () => {
    const writes: { id: string; message: PreparedEngineMessage; compress?: boolean }[] = [];
    const sends: string[] = [];
    for (const peer of all) {
      const conn = peer.socket.conn;
      const sendPrepared = conn.sendPrepared.bind(conn);
      conn.sendPrepared = (message, options, callback) => {
        writes.push({
          id: peer.socket.id,
          message,
          compress: typeof options === "object" ? options.compress : undefined,
        });
        return sendPrepared(message, options, callback);
      };
      const send = conn.send.bind(conn);
      conn.send = (data, options, callback) => {
        sends.push(peer.socket.id);
        return send(data, options, callback);
      };
    }
    server.io.emit("msg", { bin: Buffer.from([1, 2, 3]) });
    server.io.compress(false).emit("msg", "small");
    await settle(server, all);
    // Binary broadcast: a text part and one attachment, the same two instances for all 4.
    const binary = writes.slice(0, 8);
    assert.equal(new Set(binary.map((w) => w.message)).size, 2);
    assert.equal(new Set(binary.map((w) => w.id)).size, 4);
    const uncompressed = writes.slice(8, 12);
    assert.equal(new Set(uncompressed.map((w) => w.message)).size, 1);
    assert.deepEqual(
      uncompressed.map((w) => w.compress),
      [false, false, false, false],
    );
    assert.equal(sends.length, 0);
    for (const peer of all) {
      assert.deepEqual([...(peer.got[0]![0] as { bin: Buffer }).bin], [1, 2, 3]);
    }
  });

  it("collects acknowledgements from several clients, with a timeout", async () => {
    const [a, b, c, d] = all as [Peer, Peer, Peer, Peer];
    for (const peer of [a, b, c]) {
      peer.client.on("who", (ack: (id: string) => void) => ack(peer.client.id!));
    }
    d.client.on("who", () => {
      // d never answers
    });
    await a.socket.join("answering");
    await b.socket.join("answering");
    await c.socket.join("answering");

    const ok = await new Promise<unknown[]>((resolve) => {
      server.io
        .to("answering")
        .timeout(2000)
        .emit("who", (...args: unknown[]) => resolve(args));
    });
    assert.equal(ok[0], null);
    assert.deepEqual((ok[1] as string[]).sort(), [a.client.id, b.client.id, c.client.id].sort());

    const partial = await new Promise<unknown[]>((resolve) => {
      server.io.timeout(100).emit("who", (...args: unknown[]) => resolve(args));
    });
    assert.ok(partial[0] instanceof Error);
    assert.equal(partial[0].message, "operation has timed out");
    assert.equal((partial[1] as string[]).length, 3);
    // The handler of the client that never answered was dropped at the timeout.
    assert.equal(d.socket.acks.size, 0);

    const responses = await server.io.to("answering").timeout(2000).emitWithAck("who");
    assert.equal((responses as string[]).length, 3);
    await assert.rejects(server.io.timeout(100).emitWithAck("who"), (err: Error) => {
      assert.equal(err.message, "operation has timed out");
      assert.equal(((err as Error & { responses: unknown[] }).responses ?? []).length, 3);
      return true;
    });

    const fromSocket = await a.socket.to("answering").timeout(2000).emitWithAck("who");
    assert.deepEqual((fromSocket as string[]).sort(), [b.client.id, c.client.id].sort());

    const nobody = await server.io.to("empty-room").timeout(1000).emitWithAck("who");
    assert.deepEqual(nobody, []);
  });

  it("fetches sockets and acts on them", async () => {
    const [a, b, c] = all as [Peer, Peer, Peer, Peer];
    await a.socket.join("team");
    await b.socket.join("team");
    a.socket.data.role = "lead";

    const everyone = await server.io.fetchSockets();
    assert.deepEqual(everyone.map((s) => s.id).sort(), all.map((p) => p.socket.id).sort());
    const team = await server.io.in("team").fetchSockets();
    assert.deepEqual(team.map((s) => s.id).sort(), [a.socket.id, b.socket.id].sort());
    const lead = team.find((s) => s.id === a.socket.id)!;
    assert.deepEqual(lead.data, { role: "lead" });
    assert.ok(lead.rooms.has("team"));
    assert.equal(lead.handshake.address, "127.0.0.1");
    const notTeam = await server.io.except("team").fetchSockets();
    assert.equal(notTeam.length, 2);

    lead.emit("msg", "direct");
    lead.join("leads");
    assert.ok(a.socket.rooms.has("leads"));
    lead.leave("leads");
    assert.equal(a.socket.rooms.has("leads"), false);
    a.client.on("confirm", (ack: (v: string) => void) => ack("yes"));
    assert.equal(await lead.timeout(2000).emitWithAck("confirm"), "yes");

    server.io.in("team").socketsJoin(["t1", "t2"]);
    assert.ok(a.socket.rooms.has("t1") && b.socket.rooms.has("t2"));
    assert.equal(c.socket.rooms.has("t1"), false);
    server.io.socketsLeave("t1");
    assert.equal(a.socket.rooms.has("t1"), false);
    assert.equal(b.socket.rooms.has("t2"), true);
    assert.deepEqual(
      [...(await server.io.in("t2").allSockets())].sort(),
      [a.socket.id, b.socket.id].sort(),
    );
    await settle(server, all);
    assert.deepEqual(a.got, [["direct"]]);

    const reasons = Promise.all([waitFor(a.client, "disconnect"), waitFor(b.client, "disconnect")]);
    server.io.in("team").disconnectSockets();
    assert.deepEqual(
      (await reasons).map(([reason]) => reason),
      ["io server disconnect", "io server disconnect"],
    );
    assert.equal(server.io.sockets.sockets.size, 2);
    const closed = waitFor(c.client, "disconnect");
    server.io.in(c.socket.id).disconnectSockets(true);
    assert.equal((await closed)[0], "io server disconnect");
  });

  it("runs serverSideEmit on a single server: no peers, acknowledgement with []", async () => {
    const received: unknown[] = [];
    server.io.on("ping-peers", (...args: unknown[]) => received.push(args));
    assert.equal(server.io.serverSideEmit("ping-peers", 1), true);
    const acked = await new Promise<unknown[]>((resolve) => {
      server.io.serverSideEmit("ping-peers", (...args: unknown[]) => resolve(args));
    });
    assert.deepEqual(acked, [null, []]);
    assert.deepEqual(await server.io.serverSideEmitWithAck("ping-peers"), []);
    assert.deepEqual(received, []);
    assert.throws(() => server.io.serverSideEmit("connection"), /reserved event name/);
    // What a cluster adapter delivers from another server reaches the namespace's listeners.
    server.io.sockets._onServerSideEmit(["ping-peers", "from elsewhere"]);
    assert.deepEqual(received, [["from elsewhere"]]);
  });

  it("reports create-room, join-room, leave-room and delete-room", async () => {
    const [a, b] = all as [Peer, Peer, Peer, Peer];
    const events: unknown[][] = [];
    const adapter = server.io.sockets.adapter;
    for (const name of ["create-room", "join-room", "leave-room", "delete-room"] as const) {
      adapter.on(name, (...args: unknown[]) => events.push([name, ...args]));
    }
    await a.socket.join("r");
    await b.socket.join("r");
    await a.socket.leave("r");
    const gone = waitFor(b.socket, "disconnect");
    b.client.disconnect();
    await gone;
    assert.deepEqual(events, [
      ["create-room", "r"],
      ["join-room", "r", a.socket.id],
      ["join-room", "r", b.socket.id],
      ["leave-room", "r", a.socket.id],
      // On disconnection the socket leaves its rooms in the order it joined them.
      ["leave-room", b.socket.id, b.socket.id],
      ["delete-room", b.socket.id],
      ["leave-room", "r", b.socket.id],
      ["delete-room", "r"],
    ]);
  });
});

describe("adapter rooms and sids", () => {
  /** The adapter's two maps as plain arrays, for comparison. */
  function maps(adapter: Adapter) {
    return {
      rooms: [...adapter.rooms].map(([room, ids]) => [room, [...ids]]),
      sids: [...adapter.sids].map(([id, rooms]) => [id, [...rooms]]),
    };
  }

  it("a socket only in its own room shares one Set; every change reads as two Sets would", () => {
    const adapter = new Adapter({ name: "/", sockets: new Map() } as unknown as AdapterNamespace);
    const events: unknown[][] = [];
    for (const name of ["create-room", "join-room", "leave-room", "delete-room"] as const) {
      adapter.on(name, (...args: unknown[]) => events.push([name, ...args]));
    }
    adapter.addAll("A", new Set(["A"]));
    adapter.addAll("B", new Set(["B"]));
    assert.equal(adapter.rooms.get("A"), adapter.sids.get("A"));
    // B joins A's own room: A's rooms stay { A }.
    adapter.addAll("B", new Set(["A"]));
    assert.deepEqual(maps(adapter), {
      rooms: [
        ["A", ["A", "B"]],
        ["B", ["B"]],
      ],
      sids: [
        ["A", ["A"]],
        ["B", ["B", "A"]],
      ],
    });
    // A joins another room, then leaves its own: its own room keeps B.
    adapter.addAll("A", new Set(["r"]));
    adapter.del("A", "A");
    assert.deepEqual(maps(adapter), {
      rooms: [
        ["A", ["B"]],
        ["B", ["B"]],
        ["r", ["A"]],
      ],
      sids: [
        ["A", ["r"]],
        ["B", ["B", "A"]],
      ],
    });
    adapter.delAll("B");
    adapter.delAll("A");
    adapter.addAll("C", new Set(["C"]));
    adapter.delAll("C");
    assert.deepEqual(maps(adapter), { rooms: [], sids: [] });
    assert.deepEqual(events, [
      ["create-room", "A"],
      ["join-room", "A", "A"],
      ["create-room", "B"],
      ["join-room", "B", "B"],
      ["join-room", "A", "B"],
      ["create-room", "r"],
      ["join-room", "r", "A"],
      ["leave-room", "A", "A"],
      ["leave-room", "B", "B"],
      ["delete-room", "B"],
      ["leave-room", "A", "B"],
      ["delete-room", "A"],
      ["leave-room", "r", "A"],
      ["delete-room", "r"],
      ["create-room", "C"],
      ["join-room", "C", "C"],
      ["leave-room", "C", "C"],
      ["delete-room", "C"],
    ]);
  });
});

describe("custom adapters", () => {
  class CountingAdapter extends Adapter {
    broadcasts = 0;
    override broadcast(packet: OutgoingSocketPacket, opts: BroadcastOptions): void {
      this.broadcasts++;
      super.broadcast(packet, opts);
    }
  }

  let server: TestServer;
  before(async () => {
    server = await startServer({ adapter: CountingAdapter });
  });
  after(() => server.close());

  it("uses an adapter class, and a factory", async () => {
    const adapter = server.io.of("/").adapter;
    assert.ok(adapter instanceof CountingAdapter);
    const client = await server.connect("/");
    const got = waitFor(client, "hello");
    server.io.emit("hello");
    await got;
    assert.equal((adapter as CountingAdapter).broadcasts, 1);

    const made: string[] = [];
    server.io.adapter((nsp: AdapterNamespace) => {
      made.push(nsp.name);
      return new CountingAdapter(nsp);
    });
    assert.ok(made.includes("/"));
    assert.ok(server.io.of("/other").adapter instanceof CountingAdapter);
    assert.ok(made.includes("/other"));
  });

  it("keeps room bookkeeping consistent through many joins and leaves", async () => {
    const adapter = new Adapter({
      name: "/",
      sockets: new Map(),
      _ids: 0,
      server: {
        opts: { connectionStateRecovery: undefined, cleanupEmptyChildNamespaces: false },
        encoder: PACKET_ENCODER,
      },
      _onServerSideEmit: () => undefined,
    });
    const rooms: Room[] = ["a", "b", 3];
    for (let i = 0; i < 50; i++) adapter.addAll(`s${i}`, new Set(rooms.slice(0, (i % 3) + 1)));
    for (let i = 0; i < 50; i += 2) adapter.delAll(`s${i}`);
    for (let i = 1; i < 50; i += 2) adapter.del(`s${i}`, "a");
    assert.equal(adapter.rooms.has("a"), false);
    assert.equal(adapter.sids.size, 25);
    for (const [room, ids] of adapter.rooms) {
      for (const id of ids) assert.ok(adapter.sids.get(id)?.has(room));
    }
    await delay(0);
  });
});
