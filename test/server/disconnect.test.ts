/**
 * Disconnection on both sides, with the reason each side reports; malformed input closing the
 * connection with "parse error"; connectTimeout; protocol misuse.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Manager } from "socket.io-client";
import type { ServerOptions, Socket } from "../../src/index.js";
import { delay, waitUntil } from "../helpers/timing.js";
import { startServer, type TestServer, TRANSPORTS, waitFor } from "./helpers.js";
import { RawClient } from "./raw-client.js";

describe("disconnect reasons", () => {
  let server: TestServer | undefined;
  const raws: RawClient[] = [];
  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.close();
    await server?.close();
    server = undefined;
  });

  async function setUp(options: ServerOptions = {}): Promise<TestServer> {
    server = await startServer(options);
    return server;
  }

  async function raw(port: number): Promise<RawClient> {
    const client = await RawClient.open(port);
    raws.push(client);
    return client;
  }

  for (const transport of TRANSPORTS) {
    it(`server disconnect(true) over ${transport.name}: the client gets the last event, then "io server disconnect"`, async () => {
      const server = await setUp();
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = await server.connect("/", transport.options);
      const [socket] = await connection;
      const seen: string[] = [];
      client.on("bye", (n: number) => seen.push(`bye:${n}`));
      const gone = new Promise<void>((resolve) => {
        client.on("disconnect", (reason) => {
          seen.push(reason);
          resolve();
        });
      });
      socket.emit("bye", 1);
      socket.disconnect(true);
      await gone;
      await delay(30);
      assert.deepEqual(seen, ["bye:1", "io server disconnect"]);
    });
  }

  it("client disconnect: disconnecting (rooms still joined), then disconnect", async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await server.connect();
    const [socket] = await connection;
    await socket.join("room");
    const order: string[] = [];
    socket.on("disconnecting", (reason) => {
      order.push(`disconnecting:${reason}:${[...socket.rooms].includes("room")}`);
    });
    const done = waitFor(socket, "disconnect");
    socket.on("disconnect", (reason) => {
      order.push(`disconnect:${reason}:${socket.rooms.size}:${socket.connected}`);
    });
    const clientSide = waitFor(client, "disconnect");
    client.disconnect();
    await done;
    assert.deepEqual(order, [
      "disconnecting:client namespace disconnect:true",
      "disconnect:client namespace disconnect:0:false",
    ]);
    assert.equal((await clientSide)[0], "io client disconnect");
    assert.equal(server.io.sockets.sockets.size, 0);
    assert.equal(server.io.sockets.adapter.rooms.size, 0);
  });

  it("server namespace disconnect; disconnect(true) closes the whole connection", async () => {
    const server = await setUp();
    const manager = new Manager(server.url, { reconnection: false, transports: ["websocket"] });
    const sockets = new Map<string, Socket>();
    server.io.on("connection", (s) => sockets.set("/", s));
    server.io.of("/b").on("connection", (s) => sockets.set("/b", s));
    const a = manager.socket("/");
    const b = manager.socket("/b");
    await Promise.all([waitFor(a, "connect"), waitFor(b, "connect")]);

    const aGone = waitFor(sockets.get("/")!, "disconnect");
    const aClient = waitFor(a, "disconnect");
    sockets.get("/")!.disconnect();
    assert.equal((await aGone)[0], "server namespace disconnect");
    assert.equal((await aClient)[0], "io server disconnect");
    assert.equal(b.connected, true);
    // The socket can no longer join rooms or reach its client.
    await sockets.get("/")!.join("late");
    assert.equal(server.io.sockets.adapter.rooms.has("late"), false);
    const lateEvents: unknown[] = [];
    a.onAny((...args: unknown[]) => lateEvents.push(args));
    await assert.rejects(sockets.get("/")!.timeout(20).emitWithAck("late"), {
      message: "operation has timed out",
    });
    assert.deepEqual(lateEvents, []);

    const c = manager.socket("/");
    c.connect();
    await waitFor(c, "connect");
    const bGone = waitFor(sockets.get("/b")!, "disconnect");
    const cGone = waitFor(sockets.get("/")!, "disconnect");
    const bClient = waitFor(b, "disconnect");
    const cClient = waitFor(c, "disconnect");
    const managerClosed = waitFor(manager, "close");
    sockets.get("/b")!.disconnect(true);
    assert.deepEqual(
      [(await bGone)[0], (await cGone)[0]],
      ["server namespace disconnect", "server namespace disconnect"],
    );
    assert.deepEqual(
      [(await bClient)[0], (await cClient)[0]],
      ["io server disconnect", "io server disconnect"],
    );
    await managerClosed;
    await waitUntil(() => server.io.engine.clientsCount === 0, 5000, "the connection's end");
  });

  it("transport close, from either side", async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await server.connect("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const serverSide = waitFor(socket, "disconnect");
    const clientSide = waitFor(client, "disconnect");
    client.io.engine.close();
    assert.equal((await serverSide)[0], "transport close");
    // socket.io-client names its own engine.close() so.
    assert.equal((await clientSide)[0], "forced close");
  });

  it('"forced close" when the Engine.IO connection is closed on the server', async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await server.connect("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const serverSide = waitFor(socket, "disconnect");
    const clientSide = waitFor(client, "disconnect");
    socket.conn.close();
    assert.equal((await serverSide)[0], "forced close");
    assert.equal((await clientSide)[0], "transport close");
  });

  it('"server shutting down" on io.close(); the client sees the transport close (and reconnects)', async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await server.connect("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const serverSide = waitFor(socket, "disconnect");
    const clientSide = waitFor(client, "disconnect");
    await server.io.close();
    assert.equal((await serverSide)[0], "server shutting down");
    assert.equal((await clientSide)[0], "transport close");
  });

  it('io.close({ reconnect: false }): the client is told, "io server disconnect"', async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await server.connect("/", { transports: ["websocket"] });
    const [socket] = await connection;
    const serverSide = waitFor(socket, "disconnect");
    const clientSide = waitFor(client, "disconnect");
    await server.io.close({ reconnect: false });
    assert.equal((await serverSide)[0], "server shutting down");
    assert.equal((await clientSide)[0], "io server disconnect");
  });

  it('"transport error" when the WebSocket breaks its protocol', async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await raw(server.port);
    await client.connect();
    const [socket] = await connection;
    const gone = waitFor(socket, "disconnect");
    // A masked frame with the reserved opcode 3: a WebSocket protocol violation.
    const tcp = (client.ws as unknown as { _socket: import("node:net").Socket })._socket;
    tcp.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
    assert.equal((await gone)[0], "transport error");
  });

  it('"ping timeout" when the client stops answering pings', async () => {
    const server = await setUp({ pingInterval: 50, pingTimeout: 50 });
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await raw(server.port);
    client.autoPong = false;
    assert.match(await client.connect(), /^40\{"sid":"[\w-]{20}"\}$/);
    const [socket] = await connection;
    const [reason] = await waitFor(socket, "disconnect", 5000);
    assert.equal(reason, "ping timeout");
  });

  it('"parse error" for malformed Socket.IO packets, closing the connection', async () => {
    const server = await setUp();
    for (const malformed of [
      "42[invalid json",
      "4Z",
      '42["connect"]',
      '42{"not":"an array"}',
      "44/x,bad",
      "42/nsp",
      '451-/["ev",{}]',
    ]) {
      const connection = waitFor<[Socket]>(server.io, "connection");
      const client = await raw(server.port);
      await client.connect();
      const [socket] = await connection;
      const gone = waitFor(socket, "disconnect");
      client.send(malformed);
      assert.equal((await gone)[0], "parse error", malformed);
      await client.waitClosed();
    }
    // Text where an attachment was due.
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await raw(server.port);
    await client.connect();
    const [socket] = await connection;
    const gone = waitFor(socket, "disconnect");
    client.send('451-["ev",{"_placeholder":true,"num":0}]');
    client.send('42["ev"]');
    assert.equal((await gone)[0], "parse error");
    await client.waitClosed();
  });

  it("refuses data nested deeper than 500 levels, and echoes what it accepts", async () => {
    const server = await setUp();
    server.io.on("connection", (socket) => {
      socket.on("echo", (...args: unknown[]) => {
        const ack = args.pop() as (...reply: unknown[]) => void;
        ack({ wrapped: args });
      });
    });
    const nested = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;
    const client = await raw(server.port);
    await client.connect();
    // 499 levels inside the event array: 500 in all, accepted, and sent back wrapped.
    client.send(`421["echo",${nested(499)}]`);
    assert.equal(await client.next(), `431[{"wrapped":[${nested(499)}]}]`);
    const deep = await raw(server.port);
    await deep.connect();
    deep.send(`421["echo",${nested(500)}]`);
    await deep.waitClosed();
    // The binary form too.
    const binary = await raw(server.port);
    await binary.connect();
    binary.send(`451-1["echo",${nested(600).replace("1", '{"_placeholder":true,"num":0}')}]`);
    binary.send(Buffer.from([1]));
    await binary.waitClosed();
  });

  it("closes a connection that joins no namespace within connectTimeout", async () => {
    const server = await setUp({ connectTimeout: 100 });
    const client = await raw(server.port);
    const started = Date.now();
    await client.waitClosed(5000);
    assert.ok(Date.now() - started >= 50);
    assert.equal(server.io.engine.clientsCount, 0);

    // A connection that joined in time stays.
    const joined = await raw(server.port);
    await joined.connect();
    await delay(200);
    assert.equal(joined.ws.readyState, joined.ws.OPEN);
    assert.equal(server.io.engine.clientsCount, 1);
  });

  it("answers an unknown namespace with CONNECT_ERROR and keeps the connection", async () => {
    const server = await setUp();
    const client = await raw(server.port);
    assert.equal(await client.connect("/nope"), '44/nope,{"message":"Invalid namespace"}');
    assert.match(await client.connect("/"), /^40\{"sid":/);
  });

  it("ignores packets for namespaces the client is not in", async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await raw(server.port);
    await client.connect();
    const [socket] = await connection;
    client.send('42/elsewhere,["ev"]');
    client.send("41/elsewhere,");
    const got = waitFor(socket, "ev");
    client.send('42["ev",1]');
    assert.deepEqual(await got, [1]);
    assert.equal(socket.connected, true);
  });

  it('"forced server close" for a second CONNECT to a connected namespace', async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await raw(server.port);
    await client.connect();
    const [socket] = await connection;
    const gone = waitFor(socket, "disconnect");
    client.send("40");
    assert.equal((await gone)[0], "forced server close");
    await client.waitClosed();
  });

  it("routes acknowledgements and events with ids from a raw client", async () => {
    const server = await setUp();
    const connection = waitFor<[Socket]>(server.io, "connection");
    const client = await raw(server.port);
    await client.connect();
    const [socket] = await connection;
    socket.on("sum", (a: number, b: number, ack: (v: number) => void) => ack(a + b));
    client.send('4212["sum",2,3]');
    assert.equal(await client.next(), "4312[5]");
    socket.emit("q", (answer: unknown) => socket.emit("got", answer));
    assert.equal(await client.next(), '420["q"]');
    client.send('430["yes"]');
    assert.equal(await client.next(), '42["got","yes"]');
    // An acknowledgement nobody waits for is ignored.
    client.send('4399["late"]');
    client.send('42["ping"]');
    await waitFor(socket, "ping");
  });
});
