/**
 * What happens to events while not connected: emits are buffered (sendBuffer, inspectable and
 * clearable) and flushed in order on connect; volatile emits are dropped; events received before
 * the namespace's CONNECT answer wait in receiveBuffer.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Manager, type ManagerOptions } from "../../../src/client/node.js";
import type { Socket as ServerSocket } from "../../../src/index.js";
import { type SocketPacket, SocketPacketType } from "../../../src/protocol/socketio/index.js";
import { delay } from "../../helpers/timing.js";
import { startServer, type TestServer, waitFor } from "./helpers.js";

/** A Manager whose incoming packets the test writes itself. */
class ScriptedManager extends Manager {
  constructor(options: ManagerOptions) {
    // Nothing listens there: the engine never opens, the Socket stays subscribed and waiting.
    super("http://127.0.0.1:9", { ...options, autoConnect: false, reconnection: false });
  }

  deliver(packet: SocketPacket): void {
    this.emitReserved("packet", packet);
  }
}

describe("client buffering", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("buffers emits while disconnected and flushes them in order on connect", async () => {
    server = await startServer();
    const received: unknown[][] = [];
    const acked: unknown[] = [];
    server.io.on("connection", (s) =>
      s.onAny((event: string, ...args: unknown[]) => {
        const ack = args[args.length - 1];
        if (typeof ack === "function") ack(`ack ${event}`);
        received.push([event, ...args.filter((a) => typeof a !== "function")]);
      }),
    );
    const client = server.client("/", { autoConnect: false });
    const outgoing: string[] = [];
    client.onAnyOutgoing((event: string) => outgoing.push(event));
    client.emit("first", 1);
    client.emit("second", { two: 2 }, (reply: unknown) => acked.push(reply));
    client.emit("third", new Uint8Array([3]));
    assert.deepEqual(
      client.sendBuffer.map((p) => [p.type, (p.data as unknown[])[0], p.id]),
      [
        [SocketPacketType.Event, "first", undefined],
        [SocketPacketType.Event, "second", 0],
        [SocketPacketType.Event, "third", undefined],
      ],
    );
    assert.deepEqual(outgoing, [], "outgoing listeners run when the packet is sent");

    client.connect();
    await waitFor(client, "connect");
    assert.equal(client.sendBuffer.length, 0);
    client.emit("fourth");
    await waitUntilLength(received, 4);
    assert.deepEqual(
      received.map(([event]) => event),
      ["first", "second", "third", "fourth"],
    );
    assert.deepEqual(outgoing, ["first", "second", "third", "fourth"]);
    await waitUntilLength(acked, 1);
    assert.deepEqual(acked, ["ack second"]);
  });

  it("sends nothing that was cleared from sendBuffer", async () => {
    server = await startServer();
    const received: string[] = [];
    server.io.on("connection", (s) => s.onAny((event: string) => received.push(event)));
    const client = server.client("/", { autoConnect: false });
    client.emit("dropped");
    client.sendBuffer = [];
    client.emit("kept");
    client.connect();
    await waitFor(client, "connect");
    client.emit("after");
    await waitUntilLength(received, 2);
    assert.deepEqual(received, ["kept", "after"]);
  });

  it("drops a buffered emit whose acknowledgement timed out", async () => {
    server = await startServer();
    const received: string[] = [];
    server.io.on("connection", (s) => s.onAny((event: string) => received.push(event)));
    const client = server.client("/", { autoConnect: false });
    const timedOut = new Promise<unknown>((resolve) =>
      client.timeout(20).emit("late", (err: unknown) => resolve(err)),
    );
    client.emit("kept");
    assert.ok((await timedOut) instanceof Error);
    assert.equal(client.sendBuffer.length, 1, "the timed-out packet left the buffer");
    client.connect();
    await waitFor(client, "connect");
    await waitUntilLength(received, 1);
    await delay(20);
    assert.deepEqual(received, ["kept"]);
  });

  it("drops volatile emits unless connected, and sends them when connected", async () => {
    server = await startServer({}, { transports: ["websocket"] });
    const received: string[] = [];
    const serverSocket = new Promise<ServerSocket>((resolve) =>
      server!.io.on("connection", (s) => {
        s.onAny((event: string) => received.push(event));
        resolve(s);
      }),
    );
    const client = server.client("/", { autoConnect: false });
    client.volatile.emit("lost-before-connect");
    assert.equal(client.sendBuffer.length, 0);
    client.connect();
    await waitFor(client, "connect");
    await serverSocket;
    client.volatile.emit("delivered");
    client.emit("marker");
    await waitUntilLength(received, 2);
    assert.deepEqual(received, ["delivered", "marker"]);
  });

  it("keeps events received before the CONNECT answer and delivers them first", () => {
    const manager = new ScriptedManager({});
    const socket = manager.socket("/");
    socket.connect();
    const order: string[] = [];
    socket.on("early", (n: number) => order.push(`early ${n}`));
    socket.on("connect", () => order.push("connect"));
    manager.deliver({ type: SocketPacketType.Event, nsp: "/", data: ["early", 1], id: undefined });
    manager.deliver({
      type: SocketPacketType.Event,
      nsp: "/other",
      data: ["early", 9],
      id: undefined,
    });
    assert.deepEqual(socket.receiveBuffer, [["early", 1]]);
    assert.deepEqual(order, []);
    manager.deliver({
      type: SocketPacketType.Connect,
      nsp: "/",
      data: { sid: "abc" },
      id: undefined,
    });
    assert.deepEqual(order, ["early 1", "connect"]);
    assert.equal(socket.id, "abc");
    assert.deepEqual(socket.receiveBuffer, []);
    manager._close();
  });
});

async function waitUntilLength(list: readonly unknown[], length: number): Promise<void> {
  for (let i = 0; i < 500 && list.length < length; i++) await delay(10);
  assert.ok(list.length >= length, `expected ${length} items, got ${list.length}`);
}
