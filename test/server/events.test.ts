/**
 * Events, acknowledgements (both ways, with timeout and emitWithAck), binary data, the socket's
 * own properties and per-event middleware, with the official socket.io-client v4.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Socket } from "../../src/index.js";
import { delay } from "../helpers/timing.js";
import { collect, startServer, type TestServer, TRANSPORTS, waitFor } from "./helpers.js";

for (const transport of TRANSPORTS) {
  describe(`events over ${transport.name}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer();
    });
    after(() => server.close());

    it("delivers events both ways with their arguments", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      const received = waitFor(client, "greeting");
      assert.equal(socket.emit("greeting", "hello", 42, { nested: [true, null] }), true);
      assert.deepEqual(await received, ["hello", 42, { nested: [true, null] }]);

      const fromClient = waitFor(socket, "reply");
      client.emit("reply", "hi", [1, 2, 3], { x: "y" });
      assert.deepEqual(await fromClient, ["hi", [1, 2, 3], { x: "y" }]);
    });

    it("delivers many events in order", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      const seen = collect<[number]>(client, "n");
      for (let i = 0; i < 200; i++) socket.emit("n", i);
      const last = waitFor(socket, "done");
      client.on("n", (i: number) => {
        if (i === 199) client.emit("done");
      });
      await last;
      assert.deepEqual(
        seen.map(([i]) => i),
        Array.from({ length: 200 }, (_, i) => i),
      );
    });

    it("acknowledges in both directions, several arguments included", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;

      socket.on("add", (a: number, b: number, ack: (sum: number, label: string) => void) => {
        ack(a + b, "sum");
      });
      const clientAck = await new Promise<unknown[]>((resolve) => {
        client.emit("add", 2, 3, (...args: unknown[]) => resolve(args));
      });
      assert.deepEqual(clientAck, [5, "sum"]);

      client.on("question", (text: string, ack: (answer: string) => void) => ack(`${text}!`));
      const serverAck = await new Promise<unknown[]>((resolve) => {
        socket.emit("question", "why", (...args: unknown[]) => resolve(args));
      });
      assert.deepEqual(serverAck, ["why!"]);
    });

    it("acknowledges only once even if the listener calls back twice", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      socket.on("twice", (ack: (n: number) => void) => {
        ack(1);
        ack(2);
      });
      const answers: unknown[] = [];
      client.emit("twice", (n: number) => answers.push(n));
      await client.emitWithAck("twice");
      await delay(20);
      assert.deepEqual(answers, [1]);
    });

    it("gives timeout(ms).emit acknowledgements an error first", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      client.on("slow", () => {
        // never answers
      });
      client.on("fast", (ack: (v: string) => void) => ack("done"));

      const timedOut = await new Promise<unknown[]>((resolve) => {
        socket.timeout(50).emit("slow", (...args: unknown[]) => resolve(args));
      });
      assert.equal(timedOut.length, 1);
      assert.ok(timedOut[0] instanceof Error);
      assert.equal(timedOut[0].message, "operation has timed out");

      const answered = await new Promise<unknown[]>((resolve) => {
        socket.timeout(2000).emit("fast", (...args: unknown[]) => resolve(args));
      });
      assert.deepEqual(answered, [null, "done"]);
    });

    it("resolves emitWithAck (and rejects it after a timeout)", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      client.on("double", (n: number, ack: (v: number) => void) => ack(n * 2));
      client.on("ignore", () => {
        // never answers
      });
      assert.equal(await socket.emitWithAck("double", 21), 42);
      assert.equal(await socket.timeout(2000).emitWithAck("double", 5), 10);
      await assert.rejects(socket.timeout(50).emitWithAck("ignore"), {
        message: "operation has timed out",
      });

      socket.on("triple", (n: number, ack: (v: number) => void) => ack(n * 3));
      assert.equal(await client.timeout(2000).emitWithAck("triple", 3), 9);
    });

    it("carries nested binary data both ways, in events and acknowledgements", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);

      const toClient = waitFor<[Record<string, unknown>, Buffer]>(client, "blob");
      socket.emit(
        "blob",
        {
          buffer: Buffer.from("héllo"),
          list: [bytes.buffer, { deep: new Uint8Array([9, 8]) }],
          empty: Buffer.alloc(0),
          text: "plain",
        },
        Buffer.from([1, 2, 3]),
      );
      const [payload, second] = await toClient;
      assert.deepEqual(Buffer.from(payload.buffer as Buffer).toString(), "héllo");
      const list = payload.list as [Buffer, { deep: Buffer }];
      assert.deepEqual([...list[0]], [...bytes]);
      assert.deepEqual([...list[1].deep], [9, 8]);
      assert.equal((payload.empty as Buffer).length, 0);
      assert.equal(payload.text, "plain");
      assert.deepEqual([...second], [1, 2, 3]);

      socket.on("upload", (data: { files: Uint8Array[]; meta: { raw: Uint8Array } }, ack) => {
        const sizes = data.files.map((f) => f.byteLength);
        (ack as (r: unknown) => void)({
          sizes,
          echo: data.meta.raw,
          reversed: [...data.files[0]!].reverse(),
        });
      });
      const reply = (await client.timeout(2000).emitWithAck("upload", {
        files: [Buffer.from([1, 2, 3, 4]), new Uint8Array(1000).fill(7).buffer],
        meta: { raw: Buffer.from("raw") },
      })) as { sizes: number[]; echo: Buffer; reversed: number[] };
      assert.deepEqual(reply.sizes, [4, 1000]);
      assert.equal(Buffer.from(reply.echo).toString(), "raw");
      assert.deepEqual(reply.reversed, [4, 3, 2, 1]);

      client.on("need-bytes", (ack: (b: Buffer) => void) => ack(Buffer.from([0xff, 0x00])));
      const fromClientAck = (await socket.emitWithAck("need-bytes")) as Uint8Array;
      assert.ok(fromClientAck instanceof Uint8Array);
      assert.deepEqual([...fromClientAck], [0xff, 0x00]);
    });

    it("sends and receives the message event (send/write)", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      const toServer = waitFor(socket, "message");
      client.send("from client", 1);
      assert.deepEqual(await toServer, ["from client", 1]);
      const toClient = waitFor(client, "message");
      socket.send("from server");
      assert.deepEqual(await toClient, ["from server"]);
      const written = waitFor(client, "message");
      socket.write("written");
      assert.deepEqual(await written, ["written"]);
    });

    it("echoes what it received, long, short, escaped and non-ASCII, and acks late too", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      socket.on("echo", (...args: unknown[]) => {
        const ack = args.pop() as (...answer: unknown[]) => void;
        socket.emit("echoed", ...args);
        ack(...args);
      });
      socket.on("later", (value: unknown, ack: (answer: unknown) => void) => {
        setTimeout(() => ack(value), 5);
      });
      const values: unknown[][] = [
        ["x".repeat(4096)],
        ["é😀".repeat(2000), 1, -2.5, true, null],
        ['a"b\\c\n\u0000'.repeat(500), "plain"],
        ["short", 0, false],
        [`${"y".repeat(3000)}\ud800`],
        ["z".repeat(70_000)],
      ];
      for (const args of values) {
        const echoed = waitFor(client, "echoed");
        const answer = await client.emitWithAck("echo", ...args);
        assert.deepEqual(answer, args[0]);
        assert.deepEqual(await echoed, JSON.parse(JSON.stringify(args)));
        assert.deepEqual(await client.emitWithAck("later", args[0]), args[0]);
      }
    });

    it("still gives listeners of the engine connection every message as text", async () => {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = server.client("/", transport.options);
      const [socket] = await connection;
      const seen: unknown[] = [];
      socket.conn.on("message", (data) => seen.push(data));
      socket.on("ping-me", (value: string, ack: (answer: string) => void) => ack(value));
      assert.equal(await client.emitWithAck("ping-me", "hello"), "hello");
      assert.ok(
        seen.some((data) => typeof data === "string" && data.includes('"ping-me","hello"')),
      );
    });
  });
}

describe("socket properties and behaviours", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it("exposes id, handshake, rooms, data, conn, nsp, client and flags", async () => {
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = server.client("/", {
      transports: ["websocket"],
      query: { room: "blue" },
      auth: { token: "abc" },
      extraHeaders: { "x-test": "yes" },
    });
    const [socket] = await connection;
    if (!client.connected) await waitFor(client, "connect");

    assert.equal(socket.id, client.id);
    assert.equal(socket.id.length, 20);
    assert.notEqual(socket.id, socket.conn.id);
    assert.equal(socket.connected, true);
    assert.equal(socket.disconnected, false);
    assert.equal(socket.recovered, false);
    assert.equal(socket.nsp, server.io.sockets);
    assert.equal(socket.nsp.name, "/");
    assert.equal(socket.client.conn, socket.conn);
    assert.equal(socket.request, socket.conn.request);
    assert.equal(socket.conn.transport.name, "websocket");
    assert.deepEqual([...socket.rooms], [socket.id]);
    assert.deepEqual(socket.data, {});

    const hs = socket.handshake;
    assert.equal(hs.headers["x-test"], "yes");
    assert.equal(hs.address, "127.0.0.1");
    assert.equal(hs.xdomain, false);
    assert.equal(hs.secure, false);
    assert.equal(typeof hs.time, "string");
    assert.ok(Math.abs(hs.issued - Date.now()) < 60_000);
    assert.ok(hs.url.startsWith("/socket.io/?"));
    assert.equal(hs.query.room, "blue");
    assert.equal(hs.query.EIO, "4");
    assert.deepEqual(hs.auth, { token: "abc" });

    await socket.join(["a", "b"]);
    await socket.join("c");
    assert.deepEqual([...socket.rooms].sort(), [socket.id, "a", "b", "c"].sort());
    await socket.leave(["a", "b"]);
    await socket.leave("c");
    assert.deepEqual([...socket.rooms], [socket.id]);
  });

  it("refuses reserved event names and data that cannot be encoded", async () => {
    const connection = waitFor<[Socket]>(server.io, "connection");
    server.client("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const emitAny = socket.emit as (ev: string, ...args: unknown[]) => boolean;
    for (const name of [
      "connect",
      "connect_error",
      "disconnect",
      "disconnecting",
      "newListener",
      "removeListener",
    ]) {
      assert.throws(() => emitAny.call(socket, name), {
        message: `"${name}" is a reserved event name`,
      });
      const broadcastAny = server.io.emit as (ev: string, ...args: unknown[]) => boolean;
      assert.throws(() => broadcastAny.call(server.io, name), /reserved event name/);
    }
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(() => socket.emit("x", circular), TypeError);
    assert.throws(() => server.io.emit("x", { n: 10n }), TypeError);
    assert.throws(() => socket.emit("x", () => 1, circular), TypeError);
    // Nothing was left behind by the refused emit with acknowledgement.
    assert.equal(socket.acks.size, 0);
  });

  it("reports an acknowledgement that cannot be encoded as an error event", async () => {
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = server.client("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    socket.on("bad-ack", (ack: (v: unknown) => void) => {
      assert.doesNotThrow(() => ack(circular));
    });
    const errors = collect<[Error]>(socket, "error");
    await assert.rejects(client.timeout(100).emitWithAck("bad-ack"), /timed out/);
    assert.equal(errors.length, 1);
    assert.ok(errors[0]![0] instanceof TypeError);
  });

  it("runs socket.use middlewares; a refusal emits error and drops the event", async () => {
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = server.client("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const seen: string[] = [];
    socket.use(([event, ...args], next) => {
      seen.push(`mw1:${event}:${args.length}`);
      if (event === "forbidden") next(new Error("unauthorized event"));
      else next();
    });
    socket.use((_event, next) => {
      setTimeout(() => next(), 5);
    });
    const allowed: unknown[] = [];
    socket.on("allowed", (v: unknown) => allowed.push(v));
    socket.on("forbidden", () => assert.fail("refused event reached its listener"));
    const errors = collect<[Error]>(socket, "error");
    client.emit("forbidden", 1);
    const delivered = waitFor(socket, "allowed");
    client.emit("allowed", 2);
    await delivered;
    assert.deepEqual(allowed, [2]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]![0].message, "unauthorized event");
    assert.deepEqual(seen, ["mw1:forbidden:1", "mw1:allowed:1"]);
  });

  it("calls catch-all listeners for incoming and outgoing events", async () => {
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = server.client("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const incoming: unknown[][] = [];
    const first = (event: string, ...args: unknown[]) => incoming.push(["first", event, ...args]);
    const second = (event: string, ...args: unknown[]) => incoming.push(["second", event, ...args]);
    socket.onAny(second);
    socket.prependAny(first);
    assert.deepEqual(socket.listenersAny(), [first, second]);
    const got = waitFor(socket, "ping");
    client.emit("ping", 1);
    await got;
    assert.deepEqual(incoming, [
      ["first", "ping", 1],
      ["second", "ping", 1],
    ]);
    socket.offAny(first);
    assert.deepEqual(socket.listenersAny(), [second]);
    socket.offAny();
    assert.deepEqual(socket.listenersAny(), []);

    const outgoing: unknown[][] = [];
    const out = (event: string, ...args: unknown[]) => outgoing.push([event, ...args]);
    socket.onAnyOutgoing(out);
    socket.prependAnyOutgoing((event: string) => outgoing.push(["pre", event]));
    const direct = waitFor(client, "direct");
    socket.emit("direct", "a");
    await direct;
    const broadcast = waitFor(client, "everyone");
    server.io.emit("everyone", "b");
    await broadcast;
    assert.deepEqual(outgoing, [
      ["pre", "direct"],
      ["direct", "a"],
      ["pre", "everyone"],
      ["everyone", "b"],
    ]);
    assert.equal(socket.listenersAnyOutgoing().length, 2);
    socket.offAnyOutgoing(out);
    assert.equal(socket.listenersAnyOutgoing().length, 1);
    socket.offAnyOutgoing();
    assert.deepEqual(socket.listenersAnyOutgoing(), []);
  });
});
