/**
 * Events and acknowledgements both ways, timeouts, emitWithAck, catch-all listeners, reserved
 * names, data that cannot be encoded, and binary values nested both ways.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { Socket as ServerSocket } from "../../../src/index.js";
import { startServer, type TestServer, TRANSPORTS, waitFor } from "./helpers.js";

describe("client events and acknowledgements", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** A server, a connected client and its server-side socket. */
  async function pair(options = {}) {
    server = await startServer({}, options);
    const serverSocket = new Promise<ServerSocket>((resolve) =>
      server!.io.on("connection", resolve),
    );
    const client = await server.connect();
    return { client, serverSocket: await serverSocket };
  }

  for (const transport of TRANSPORTS) {
    it(`carries events with several arguments both ways, in order (${transport.name})`, async () => {
      const { client, serverSocket } = await pair(transport.options);
      const received: unknown[][] = [];
      serverSocket.on("note", (...args: unknown[]) => received.push(args));
      const done = waitFor(serverSocket, "done");
      for (let i = 0; i < 20; i++) client.emit("note", i, { nested: [i, "x"] }, null, "é😀");
      client.send("via send");
      client.emit("done");
      await done;
      assert.equal(received.length, 20);
      assert.deepEqual(received[7], [7, { nested: [7, "x"] }, null, "é😀"]);

      const messages = waitFor<[string]>(serverSocket, "message");
      client.send("hello");
      assert.deepEqual(await messages, ["hello"]);

      const fromServer = waitFor(client, "greeting");
      serverSocket.emit("greeting", "hi", 2, [true]);
      assert.deepEqual(await fromServer, ["hi", 2, [true]]);
    });

    it(`acknowledges both ways (${transport.name})`, async () => {
      const { client, serverSocket } = await pair(transport.options);
      serverSocket.on("double", (n: number, ack: (result: number, extra: string) => void) =>
        ack(n * 2, "ok"),
      );
      const answer = await new Promise<unknown[]>((resolve) =>
        client.emit("double", 21, (...args: unknown[]) => resolve(args)),
      );
      assert.deepEqual(answer, [42, "ok"]);

      client.on("question", (text: string, ack: (reply: string) => void) => {
        ack(`answer to ${text}`);
        ack("a second call is ignored");
      });
      const reply = await serverSocket.timeout(2000).emitWithAck("question", "life");
      assert.equal(reply, "answer to life");
    });
  }

  it("times out acknowledgements: timeout(), emitWithAck, ackTimeout", async () => {
    const { client, serverSocket } = await pair();
    serverSocket.on("silent", () => {});
    serverSocket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));

    const [err] = await new Promise<unknown[]>((resolve) =>
      client.timeout(50).emit("silent", (...args: unknown[]) => resolve(args)),
    );
    assert.ok(err instanceof Error);
    assert.equal(err.message, "operation has timed out");

    const ok = await new Promise<unknown[]>((resolve) =>
      client.timeout(2000).emit("echo", "v", (...args: unknown[]) => resolve(args)),
    );
    assert.deepEqual(ok, [null, "v"], "an answer in time comes after a null error");

    assert.equal(await client.emitWithAck("echo", 5), 5);
    assert.equal(await client.timeout(2000).emitWithAck("echo", "t"), "t");
    await assert.rejects(client.timeout(50).emitWithAck("silent"), /operation has timed out/);

    const withDefault = await startServer({}, { ackTimeout: 50 });
    try {
      withDefault.io.on("connection", (s) => s.on("silent", () => {}));
      const other = await withDefault.connect();
      const [defaultErr] = await new Promise<unknown[]>((resolve) =>
        other.emit("silent", (...args: unknown[]) => resolve(args)),
      );
      assert.ok(defaultErr instanceof Error, "ackTimeout applies without timeout()");
    } finally {
      await withDefault.close();
    }
  });

  it("rejects pending emitWithAck calls when the socket disconnects", async () => {
    const { client, serverSocket } = await pair();
    serverSocket.on("never", () => serverSocket.disconnect());
    await assert.rejects(client.emitWithAck("never"), /socket has been disconnected/);
  });

  it("calls catch-all listeners for incoming and outgoing events", async () => {
    const { client, serverSocket } = await pair();
    const seen: string[] = [];
    const first = (event: string, ...args: unknown[]) => seen.push(`first:${event}:${args}`);
    const second = (event: string) => seen.push(`second:${event}`);
    client.onAny(second);
    client.prependAny(first);
    assert.deepEqual(client.listenersAny(), [first, second]);
    client.on("ev", () => seen.push("listener"));
    const received = waitFor(client, "ev");
    serverSocket.emit("ev", 1, 2);
    await received;
    assert.deepEqual(seen, ["first:ev:1,2", "second:ev", "listener"]);
    client.offAny(first);
    assert.deepEqual(client.listenersAny(), [second]);
    client.offAny();
    assert.deepEqual(client.listenersAny(), []);

    const outgoing: unknown[][] = [];
    const out = (...args: unknown[]) => outgoing.push(args);
    client.onAnyOutgoing(out);
    client.prependAnyOutgoing(() => outgoing.push(["prepended"]));
    assert.equal(client.listenersAnyOutgoing().length, 2);
    client.emit("out", "a", () => {});
    assert.deepEqual(outgoing, [["prepended"], ["out", "a"]], "the callback is not passed on");
    client.offAnyOutgoing();
    client.emit("out", "b");
    assert.equal(outgoing.length, 2);
  });

  it("refuses reserved event names and data that cannot be encoded, and keeps working", async () => {
    const { client, serverSocket } = await pair();
    for (const name of ["connect", "connect_error", "disconnect", "disconnecting"]) {
      assert.throws(() => client.emit(name), /reserved event name/);
    }
    await assert.rejects(client.emitWithAck("disconnect"), /reserved event name/);
    assert.throws(() => client.emit("big", 10n), TypeError);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(() => client.emit("loop", circular), TypeError);
    await assert.rejects(client.emitWithAck("big", 1n), TypeError);
    const after = waitFor(serverSocket, "after");
    client.emit("after", "fine");
    assert.deepEqual(await after, ["fine"]);
  });

  for (const transport of TRANSPORTS) {
    it(`carries nested binary both ways, Blobs included, in order (${transport.name})`, async () => {
      const { client, serverSocket } = await pair(transport.options);
      const received: unknown[][] = [];
      serverSocket.onAny((event: string, ...args: unknown[]) => received.push([event, ...args]));
      const done = waitFor(serverSocket, "done");
      const bytes = new Uint8Array([1, 2, 3]);
      client.emit("blob", { file: new Blob([new Uint8Array([9, 8])]), list: [new Blob(["hi"])] });
      client.emit("views", {
        buffer: bytes.buffer,
        u8: bytes,
        f32: new Float32Array([1.5]),
        view: new DataView(new Uint8Array([7, 7, 7, 7]).buffer, 1, 2),
        nodeBuffer: Buffer.from("node"),
        deep: [[{ inner: new Uint16Array([258]) }]],
      });
      client.emit("done");
      await done;
      assert.deepEqual(
        received.map(([event]) => event),
        ["blob", "views", "done"],
        "a packet waiting for its Blobs holds back the ones after it",
      );
      const blobArgs = received[0]![1] as { file: Buffer; list: Buffer[] };
      assert.deepEqual([...blobArgs.file], [9, 8]);
      assert.equal(blobArgs.list[0]!.toString(), "hi");
      const views = received[1]![1] as Record<string, Buffer | Buffer[][]>;
      assert.deepEqual([...(views.buffer as Buffer)], [1, 2, 3]);
      assert.deepEqual([...(views.u8 as Buffer)], [1, 2, 3]);
      assert.deepEqual(
        [...(views.f32 as Buffer)],
        [...new Uint8Array(new Float32Array([1.5]).buffer)],
      );
      assert.deepEqual([...(views.view as Buffer)], [7, 7]);
      assert.equal((views.nodeBuffer as Buffer).toString(), "node");

      const fromServer = waitFor<[{ data: unknown; list: unknown[] }, unknown]>(client, "bin");
      serverSocket.emit("bin", { data: Buffer.from([4, 5]), list: [1, Buffer.from("x")] }, "tail");
      const [payload, tail] = await fromServer;
      assert.ok(Buffer.isBuffer(payload.data), "Node gets Buffers, as with socket.io-client");
      assert.deepEqual([...(payload.data as Buffer)], [4, 5]);
      assert.equal(payload.list[0], 1);
      assert.equal((payload.list[1] as Buffer).toString(), "x");
      assert.equal(tail, "tail");

      // Binary in acknowledgements, both ways.
      serverSocket.on("bin-ack", (ack: (b: Buffer) => void) => ack(Buffer.from([6])));
      const [ackData] = (await new Promise<unknown[]>((resolve) =>
        client.emit("bin-ack", (...args: unknown[]) => resolve(args)),
      )) as [Buffer];
      assert.deepEqual([...ackData], [6]);
      client.on("give-bin", (ack: (b: Uint8Array) => void) => ack(new Uint8Array([8, 9])));
      const reply = (await serverSocket.timeout(2000).emitWithAck("give-bin")) as Buffer;
      assert.deepEqual([...reply], [8, 9]);
    });
  }
});
