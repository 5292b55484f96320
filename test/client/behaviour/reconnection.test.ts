/**
 * Buffering and reconnection against each server: emits made while disconnected are buffered and
 * flushed in order (acks included) once connected again; the client reconnects by itself after the
 * server closes its connection, with the manager's reconnect events; a client-side disconnect
 * stays disconnected; reconnection gives up after reconnectionAttempts.
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import {
  type ClientOptions,
  collect,
  connectPair,
  describeAgainstEachServer,
  nextConnection,
  type ServerSocket,
  startServer,
  type TestServer,
  waitFor,
} from "./harness.js";

const RECONNECTING: ClientOptions = {
  reconnection: true,
  reconnectionDelay: 20,
  reconnectionDelayMax: 50,
  randomizationFactor: 0,
};

type Ack = (...args: unknown[]) => void;

describeAgainstEachServer("client: buffering and reconnection", (kind) => {
  let server: TestServer;
  afterEach(() => server.close());

  for (const transports of [["polling"], ["websocket"]] as ("polling" | "websocket")[][]) {
    it(`emits made while disconnected are flushed in order after reconnecting (${transports[0]})`, async () => {
      server = await startServer(kind);
      const { client, socket } = await connectPair(server, "/", { ...RECONNECTING, transports });
      const COUNT = 50;
      const acks: Promise<unknown>[] = [];
      const reconnected = nextConnection(server);
      client.once("disconnect", () => {
        // Still inside the disconnect: nothing can be written, everything is buffered.
        for (let n = 1; n <= COUNT; n++) {
          if (n % 10 === 0) acks.push(client.emitWithAck("seq", n));
          else client.emit("seq", n);
        }
        assert.equal(client.sendBuffer.length, COUNT);
      });
      socket.conn.close();
      const next = await reconnected;
      const received: number[] = [];
      next.on("seq", (n: number, ack?: Ack) => {
        received.push(n);
        ack?.(`ack ${n}`);
      });
      assert.deepEqual(
        await Promise.all(acks),
        [10, 20, 30, 40, 50].map((n) => `ack ${n}`),
      );
      assert.deepEqual(
        received,
        Array.from({ length: COUNT }, (_, i) => i + 1),
      );
      assert.equal(client.sendBuffer.length, 0);
    });
  }

  it("reconnects by itself after the server closes the connection, with the manager's events", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server, "/", RECONNECTING);
    const attempts = collect<[number]>(client.io, "reconnect_attempt");
    const reconnects = collect<[number]>(client.io, "reconnect");
    const firstId = client.id;
    const reason = waitFor<[string]>(client, "disconnect");
    const reconnected = nextConnection(server);
    socket.conn.close();
    assert.equal((await reason)[0], "transport close");
    assert.equal(client.active, true, "a transport close is retried");
    const next: ServerSocket = await reconnected;
    await waitFor(client, "connect");
    assert.equal(client.connected, true);
    assert.equal(client.id, next.id);
    assert.notEqual(client.id, firstId, "no recovery configured: a new session");
    assert.deepEqual(attempts, [[1]]);
    assert.deepEqual(reconnects, [[1]]);
    next.on("hi", (ack: Ack) => ack("hello"));
    assert.equal(await client.emitWithAck("hi"), "hello");
  });

  it("a client-side disconnect stays disconnected and buffers nothing; connect() starts again", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server, "/", RECONNECTING);
    const serverSide = waitFor<[string]>(socket, "disconnect");
    const reason = waitFor<[string]>(client, "disconnect");
    client.disconnect();
    assert.equal((await reason)[0], "io client disconnect");
    assert.equal((await serverSide)[0], "client namespace disconnect");
    assert.equal(client.active, false);
    const again = nextConnection(server);
    client.connect();
    await waitFor(client, "connect");
    assert.equal((await again).id, client.id);
  });

  it("gives up after reconnectionAttempts with reconnect_failed", async () => {
    server = await startServer(kind);
    const { client } = await connectPair(server, "/", {
      ...RECONNECTING,
      reconnectionAttempts: 2,
    });
    const errors = collect(client.io, "reconnect_error");
    const failed = waitFor(client.io, "reconnect_failed", 10000);
    // The whole server goes away: every attempt is refused.
    await new Promise<void>((resolve) => {
      server.io.close(() => resolve());
      server.http.closeAllConnections();
    });
    await failed;
    assert.equal(errors.length, 2);
    assert.equal(client.connected, false);
  });
});
