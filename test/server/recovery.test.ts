/**
 * Connection state recovery with the official client: a client whose transport dies comes back
 * with its id, rooms and data, and gets the packets it missed in order; and the bounds of what
 * the session-aware adapter keeps.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import {
  type AdapterNamespace,
  type ConnectionStateRecoveryOptions,
  SessionAwareAdapter,
  type Socket,
} from "../../src/index.js";
import { SocketPacketType } from "../../src/protocol/socketio/index.js";
import { PACKET_ENCODER } from "../../src/server/packet-encoding.js";
import { delay, waitUntil } from "../helpers/timing.js";
import {
  type ClientOptions,
  type ClientSocket,
  startServer,
  type TestServer,
  TRANSPORTS,
  waitFor,
} from "./helpers.js";

const RECONNECTING: ClientOptions = {
  transports: ["websocket"],
  reconnection: true,
  reconnectionDelay: 20,
  reconnectionDelayMax: 50,
  randomizationFactor: 0,
};

/** Kills the client's transport and waits until the server has seen the socket go. */
async function dropTransport(client: ClientSocket, socket: Socket): Promise<string> {
  const serverSide = waitFor<[string]>(socket, "disconnect");
  const clientSide = waitFor<[string]>(client, "disconnect");
  client.io.engine.close();
  const [[reason]] = await Promise.all([serverSide, clientSide]);
  return reason;
}

/** Strips the recovery offset (a string appended as last argument) from recorded events. */
function withoutOffsets(events: unknown[][]): unknown[][] {
  return events.map((args) => {
    assert.equal(typeof args[args.length - 1], "string", "an offset is appended");
    return args.slice(0, -1);
  });
}

describe("connection state recovery", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function setUp(
    recovery: ConnectionStateRecoveryOptions = {},
  ): Promise<{ server: TestServer; middlewareRuns: () => number }> {
    server = await startServer({ connectionStateRecovery: recovery });
    let runs = 0;
    server.io.use((_socket, next) => {
      runs++;
      next();
    });
    return { server, middlewareRuns: () => runs };
  }

  for (const transport of TRANSPORTS) {
    it(`restores id, rooms and data and replays the missed packets in order (${transport.name})`, async () => {
      const { server, middlewareRuns } = await setUp();
      const connections: Socket[] = [];
      server.io.on("connection", (s) => connections.push(s));
      const client = await server.connect("/", { ...RECONNECTING, ...transport.options });
      assert.equal(client.recovered, false);
      const first = connections[0]!;
      const firstId = first.id;
      await first.join("room1");
      first.data.name = "ada";

      const got: unknown[][] = [];
      client.on("msg", (...args: unknown[]) => got.push(args));
      server.io.to("room1").emit("msg", 1);
      first.emit("msg", 2);
      await waitUntil(() => got.length === 2, 5000, "the first two messages");

      const reason = await dropTransport(client, first);
      assert.equal(reason, "transport close");
      server.io.to("room1").emit("msg", 3);
      server.io.emit("msg", 4, { bin: Buffer.from([4]) });
      server.io.to(firstId).emit("msg", 5);
      server.io.to("other-room").emit("msg", "not for this client");
      server.io.except("room1").emit("msg", "excluded");
      server.io.volatile.emit("msg", "volatile: not kept");

      const [[recoveredSocket]] = await Promise.all([
        waitFor<[Socket]>(server.io, "connection"),
        waitFor(client, "connect"),
      ]);
      await waitUntil(() => got.length === 5, 5000, "the missed messages");
      assert.equal(client.recovered, true);
      assert.equal(client.id, firstId);
      assert.equal(recoveredSocket.recovered, true);
      assert.equal(recoveredSocket.id, firstId);
      assert.ok(recoveredSocket.rooms.has("room1"));
      assert.ok(recoveredSocket.rooms.has(firstId));
      assert.deepEqual(recoveredSocket.data, { name: "ada" });
      assert.equal(middlewareRuns(), 1, "middlewares are skipped on recovery");

      const plain = withoutOffsets(got);
      assert.deepEqual(plain.slice(0, 3), [[1], [2], [3]]);
      assert.equal(plain[3]![0], 4);
      assert.deepEqual([...(plain[3]![1] as { bin: Buffer }).bin], [4]);
      assert.deepEqual(plain[4], [5]);

      // Still the same room membership for new broadcasts.
      const after = waitFor(client, "msg");
      server.io.to("room1").emit("msg", 6);
      assert.equal((await after)[0], 6);
    });
  }

  it("appends offsets to stored packets only, and sends the private id at connection", async () => {
    const { server } = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await server.connect("/", RECONNECTING);
    const [socket] = await connection;
    const pid = (client as unknown as { _pid?: string })._pid;
    assert.equal(typeof pid, "string");
    assert.notEqual(pid, socket.id);

    const got: unknown[][] = [];
    client.onAny((...args: unknown[]) => got.push(args));
    client.on("ask", (ack: (v: string) => void) => ack("answer"));
    server.io.emit("plain", "a");
    server.io.volatile.emit("volatile", "b");
    assert.equal(await socket.emitWithAck("ask"), "answer");
    server.io.emit("done");
    await waitUntil(() => got.some((args) => args[0] === "done"), 5000, "the last event");
    const plain = got.find((args) => args[0] === "plain")!;
    assert.equal(plain.length, 3);
    assert.equal(typeof plain[2], "string");
    assert.deepEqual(
      got.find((args) => args[0] === "volatile"),
      ["volatile", "b"],
    );
    assert.equal(got.find((args) => args[0] === "ask")!.length, 2, "event name and ack only");
  });

  it("starts afresh after maxDisconnectionDuration", async () => {
    const { server, middlewareRuns } = await setUp({ maxDisconnectionDuration: 100 });
    const connections: Socket[] = [];
    server.io.on("connection", (s) => connections.push(s));
    const client = await server.connect("/", {
      ...RECONNECTING,
      reconnectionDelay: 300,
      reconnectionDelayMax: 300,
    });
    const first = connections[0]!;
    await first.join("room1");
    first.emit("msg", "offset carrier");
    await waitFor(client, "msg");
    await dropTransport(client, first);
    await waitFor(client, "connect", 5000);
    await waitUntil(() => connections.length === 2, 5000, "the second connection");
    const second = connections[1]!;
    assert.equal(client.recovered, false);
    assert.equal(second.recovered, false);
    assert.notEqual(second.id, first.id);
    assert.equal(second.rooms.has("room1"), false);
    assert.equal(middlewareRuns(), 2);
  });

  it("does not keep the session of a client that left on purpose", async () => {
    const { server } = await setUp();
    const adapter = server.io.sockets.adapter as SessionAwareAdapter;
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await server.connect("/", RECONNECTING);
    const [socket] = await connection;
    const gone = waitFor(socket, "disconnect");
    client.disconnect();
    assert.equal((await gone)[0], "client namespace disconnect");
    assert.equal(adapter.sessionCount, 0);
  });

  it("gives a fresh session when more packets were missed than a session may replay", async () => {
    const { server } = await setUp({ maxMissedPacketsPerSession: 2 });
    const connections: Socket[] = [];
    server.io.on("connection", (s) => connections.push(s));
    const client = await server.connect("/", RECONNECTING);
    const first = connections[0]!;
    first.emit("msg", 0);
    await waitFor(client, "msg");
    await dropTransport(client, first);
    for (let i = 1; i <= 3; i++) server.io.emit("msg", i);
    await waitFor(client, "connect");
    assert.equal(client.recovered, false);
    await waitUntil(() => connections.length === 2, 5000, "the second connection");
    assert.notEqual(connections[1]!.id, first.id);
  });
});

describe("SessionAwareAdapter bounds", () => {
  function namespace(recovery: ConnectionStateRecoveryOptions): AdapterNamespace {
    return {
      name: "/",
      sockets: new Map(),
      _ids: 0,
      server: {
        encoder: PACKET_ENCODER,
        opts: {
          connectionStateRecovery: {
            maxDisconnectionDuration: 60_000,
            skipMiddlewares: true,
            maxSessions: 10_000,
            maxBufferedPackets: 10_000,
            maxBufferedBytes: 16 * 1024 * 1024,
            maxMissedPacketsPerSession: 1000,
            ...recovery,
          },
          cleanupEmptyChildNamespaces: false,
        },
      },
      _onServerSideEmit: () => undefined,
    };
  }

  /** Broadcasts `data` to all and returns the offset it got. */
  function store(adapter: SessionAwareAdapter, ...data: unknown[]): string {
    const packet = { type: SocketPacketType.Event, nsp: "/", data: ["e", ...data] };
    adapter.broadcast(packet, { rooms: new Set() });
    return packet.data[packet.data.length - 1] as string;
  }

  function session(pid: string) {
    return { sid: `sid-${pid}`, pid, rooms: [`sid-${pid}`], data: { pid } };
  }

  it("caps the number of stored packets, dropping the oldest", () => {
    const adapter = new SessionAwareAdapter(namespace({ maxBufferedPackets: 3 }));
    try {
      const offsets = [store(adapter, 0), store(adapter, 1), store(adapter, 2)];
      adapter.persistSession(session("a"));
      adapter.persistSession(session("b"));
      store(adapter, 3);
      store(adapter, 4);
      assert.equal(adapter.bufferedPackets, 3);
      // After offset 0, packets 1..4 are due but 1 was dropped: no partial replay.
      assert.equal(adapter.restoreSession("a", offsets[0]!), null);
      // After offset 1, packets 2..4 are all still there.
      const restored = adapter.restoreSession("b", offsets[1]!);
      assert.deepEqual(
        restored?.missedPackets.map((data) => data.slice(0, 2)),
        [
          ["e", 2],
          ["e", 3],
          ["e", 4],
        ],
      );
      assert.deepEqual(restored?.data, { pid: "b" });
      // A session is restored once.
      assert.equal(adapter.restoreSession("b", offsets[1]!), null);
    } finally {
      adapter.close();
    }
  });

  it("caps the bytes of stored packets", () => {
    const adapter = new SessionAwareAdapter(namespace({ maxBufferedBytes: 10_000 }));
    try {
      for (let i = 0; i < 100; i++) store(adapter, "x".repeat(1000));
      assert.ok(adapter.bufferedBytes <= 10_000);
      assert.ok(adapter.bufferedPackets <= 10);
      assert.ok(adapter.bufferedPackets >= 8);
    } finally {
      adapter.close();
    }
  });

  it("caps the number of sessions, dropping the oldest", () => {
    const adapter = new SessionAwareAdapter(namespace({ maxSessions: 2 }));
    try {
      const offset = store(adapter, 0);
      adapter.persistSession(session("a"));
      adapter.persistSession(session("b"));
      adapter.persistSession(session("c"));
      assert.equal(adapter.sessionCount, 2);
      assert.equal(adapter.restoreSession("a", offset), null);
      assert.notEqual(adapter.restoreSession("c", offset), null);
    } finally {
      adapter.close();
    }
  });

  it("expires sessions and packets after maxDisconnectionDuration", async () => {
    const adapter = new SessionAwareAdapter(namespace({ maxDisconnectionDuration: 30 }));
    try {
      const offset = store(adapter, 0);
      adapter.persistSession(session("a"));
      await delay(60);
      assert.equal(adapter.restoreSession("a", offset), null);
      assert.equal(adapter.sessionCount, 0);
      assert.equal(adapter.bufferedPackets, 0);
    } finally {
      adapter.close();
    }
  });

  it("refuses offsets it did not issue and replays only what reached the session's rooms", () => {
    const adapter = new SessionAwareAdapter(namespace({}));
    try {
      const offset = store(adapter, 0);
      adapter.persistSession({ sid: "s1", pid: "p1", rooms: ["s1", "red"], data: {} });
      adapter.broadcast(
        { type: SocketPacketType.Event, nsp: "/", data: ["e", "red"] },
        { rooms: new Set(["red"]) },
      );
      adapter.broadcast(
        { type: SocketPacketType.Event, nsp: "/", data: ["e", "blue"] },
        { rooms: new Set(["blue"]) },
      );
      adapter.broadcast(
        { type: SocketPacketType.Event, nsp: "/", data: ["e", "all-but-red"] },
        { rooms: new Set(), except: new Set(["red"]) },
      );
      adapter.broadcast(
        { type: SocketPacketType.Event, nsp: "/", data: ["e", "to-s1"] },
        { rooms: new Set(["s1"]) },
      );
      assert.equal(adapter.restoreSession("p1", "forged-offset"), null);
      adapter.persistSession({ sid: "s1", pid: "p1", rooms: ["s1", "red"], data: {} });
      const restored = adapter.restoreSession("p1", offset);
      assert.deepEqual(
        restored?.missedPackets.map((data) => data[1]),
        ["red", "to-s1"],
      );
    } finally {
      adapter.close();
    }
  });
});
