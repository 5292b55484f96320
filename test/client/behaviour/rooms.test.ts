/**
 * What the client receives of the server's broadcasts (rooms, broadcast from a socket, several
 * rooms at once, binary), and volatile emits both ways: dropped by the client while it cannot
 * write, delivered when it can.
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import {
  bytesOf,
  type ClientSocket,
  collect,
  connectPair,
  describeAgainstEachServer,
  type ServerSocket,
  startServer,
  type TestServer,
  waitFor,
} from "./harness.js";

interface Peer {
  client: ClientSocket;
  socket: ServerSocket;
  got: unknown[][];
}

describeAgainstEachServer("client: rooms and volatile", (kind) => {
  let server: TestServer;
  afterEach(() => server.close());

  /** Connects `n` clients recording their "msg" events. */
  async function peers(n: number): Promise<Peer[]> {
    const all: Peer[] = [];
    for (let i = 0; i < n; i++) {
      const { client, socket } = await connectPair(server);
      all.push({ client, socket, got: collect(client, "msg") });
    }
    return all;
  }

  /** A marker to every peer: events broadcast before it have arrived once it has. */
  async function settle(all: Peer[]): Promise<void> {
    const done = all.map((p) => waitFor(p.client, "settled"));
    server.io.emit("settled");
    await Promise.all(done);
  }

  it("room broadcasts reach the room's members once, broadcast skips the sender", async () => {
    server = await startServer(kind);
    const [a, b, c] = (await peers(3)) as [Peer, Peer, Peer];
    a.socket.join(["red", "blue"]);
    b.socket.join("red");
    c.socket.join("blue");

    server.io.to("red").emit("msg", "red");
    server.io.to("red").to("blue").emit("msg", "red or blue");
    server.io.except("blue").emit("msg", "not blue");
    a.socket.broadcast.emit("msg", "from a");
    a.socket.to("blue").emit("msg", "a to blue");
    await settle([a, b, c]);

    assert.deepEqual(a.got, [["red"], ["red or blue"]]);
    assert.deepEqual(b.got, [["red"], ["red or blue"], ["not blue"], ["from a"]]);
    assert.deepEqual(c.got, [["red or blue"], ["from a"], ["a to blue"]]);
  });

  it("a client's event relayed to a room by the server, binary included", async () => {
    server = await startServer(kind);
    const [a, b, c] = (await peers(3)) as [Peer, Peer, Peer];
    for (const p of [a, b, c]) {
      p.socket.on("join", (room: string) => p.socket.join(room));
      p.socket.on("say", (room: string, text: string, data: Uint8Array) =>
        p.socket.to(room).emit("msg", text, data),
      );
    }
    for (const p of [a, b]) {
      p.socket.on("joined?", (ack: () => void) => ack());
    }
    a.client.emit("join", "chat");
    b.client.emit("join", "chat");
    // Join and the ack are handled in order: once acked, the join has happened.
    await Promise.all([a.client.emitWithAck("joined?"), b.client.emitWithAck("joined?")]);

    const atB = waitFor<unknown[]>(b.client, "msg");
    a.client.emit("say", "chat", "hello", new Uint8Array([1, 2]));
    const [text, data] = await atB;
    assert.equal(text, "hello");
    assert.deepEqual(bytesOf(data), [1, 2]);
    await settle([a, b, c]);
    assert.equal(a.got.length, 0, "the sender is excluded");
    assert.equal(c.got.length, 0, "not in the room");
  });

  it("a volatile emit is dropped while the client cannot write; a normal one is buffered", async () => {
    server = await startServer(kind);
    const client = server.client("/", { autoConnect: false });
    client.volatile.emit("v", "dropped");
    client.emit("n", "buffered");
    const received = collect(server.io, "connection");
    const order: unknown[][] = [];
    server.io.on("connection", (socket) => {
      socket.onAny((event: string, ...args: unknown[]) => {
        if (event !== "fence") order.push([event, ...args]);
      });
      socket.on("fence", (ack: () => void) => ack());
    });
    client.connect();
    await waitFor(client, "connect");
    await client.emitWithAck("fence");
    assert.equal(received.length, 1);
    assert.deepEqual(order, [["n", "buffered"]]);
  });

  it("volatile emits are delivered both ways on a writable connection", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server, "/", { transports: ["websocket"] });
    const atServer = waitFor<unknown[]>(socket, "v");
    client.volatile.emit("v", 1);
    assert.deepEqual(await atServer, [1]);
    const atClient = waitFor<unknown[]>(client, "v");
    socket.volatile.emit("v", 2);
    assert.deepEqual(await atClient, [2]);
    const broadcast = waitFor<unknown[]>(client, "vb");
    server.io.volatile.emit("vb", 3);
    assert.deepEqual(await broadcast, [3]);
  });
});
