/**
 * Connection state recovery against each server: after its connection is cut, the client comes
 * back with the same id, rooms and data, receives the packets it missed in order, and says so
 * (`recovered`); past maxDisconnectionDuration it gets a new session instead.
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { waitUntil } from "../../helpers/timing.js";
import {
  type ClientOptions,
  collect,
  connectPair,
  describeAgainstEachServer,
  nextConnection,
  startServer,
  type TestServer,
  waitFor,
} from "./harness.js";

/** Slow enough that the server surely sees the disconnect (and emits) before the client is back. */
const RECONNECTING: ClientOptions = {
  transports: ["websocket"],
  reconnection: true,
  reconnectionDelay: 500,
  reconnectionDelayMax: 500,
  randomizationFactor: 0,
};

describeAgainstEachServer("client: connection state recovery", (kind) => {
  let server: TestServer;
  afterEach(() => server.close());

  for (const cut of ["server", "client"] as const) {
    it(`recovers id, rooms and data and gets the missed packets in order (${cut} cut the transport)`, async () => {
      server = await startServer(kind, {
        connectionStateRecovery: { maxDisconnectionDuration: 5000, skipMiddlewares: true },
      });
      const { client, socket } = await connectPair(server, "/", RECONNECTING);
      assert.equal(client.recovered, false);
      const firstId = client.id;
      socket.join("room");
      socket.data.name = "ada";
      const got = collect<unknown[]>(client, "msg");

      server.io.emit("msg", "before 1");
      server.io.to("room").emit("msg", "before 2", new Uint8Array([1]));
      await waitUntil(() => got.length === 2, 5000, "the first two messages");

      socket.once("disconnect", () => {
        // Sent while the client is away: kept for it by the server.
        server.io.emit("msg", "missed 1");
        server.io.to("room").emit("msg", "missed 2");
        server.io.except("room").emit("msg", "not for the room");
        server.io.to("room").emit("msg", "missed 3", { bytes: new Uint8Array([2, 3]) });
      });
      const back = nextConnection(server);
      const disconnected = waitFor<[string]>(client, "disconnect");
      if (cut === "server") socket.conn.close();
      else client.io.engine.close();
      await disconnected;
      const restored = await back;
      await waitUntil(() => client.connected, 5000, "the client to connect again");

      assert.equal(client.recovered, true);
      assert.equal(client.id, firstId);
      assert.equal(restored.id, firstId);
      assert.equal(restored.recovered, true);
      assert.ok(restored.rooms.has("room"));
      assert.equal(restored.data.name, "ada");
      // Every missed packet, in order; binary included.
      const fence = waitFor(client, "fence");
      restored.emit("fence");
      await fence;
      assert.deepEqual(
        got.map((args) => args[0]),
        ["before 1", "before 2", "missed 1", "missed 2", "missed 3"],
      );
      const last = got[4]![1] as { bytes: Uint8Array };
      assert.deepEqual([...new Uint8Array(last.bytes)], [2, 3]);
    });
  }

  it("after maxDisconnectionDuration the client gets a new session, not recovered", async () => {
    server = await startServer(kind, {
      connectionStateRecovery: { maxDisconnectionDuration: 100, skipMiddlewares: true },
    });
    const { client, socket } = await connectPair(server, "/", RECONNECTING);
    const firstId = client.id;
    socket.join("room");
    server.io.emit("msg", "before");
    await waitFor(client, "msg");
    socket.once("disconnect", () => server.io.emit("msg", "missed"));
    const got = collect<unknown[]>(client, "msg");
    const back = nextConnection(server);
    socket.conn.close();
    const next = await back;
    await waitUntil(() => client.connected, 5000, "the client to connect again");
    assert.equal(client.recovered, false);
    assert.notEqual(client.id, firstId);
    assert.equal(next.recovered, false);
    assert.equal(next.rooms.has("room"), false);
    const fence = waitFor(client, "fence");
    next.emit("fence");
    await fence;
    assert.deepEqual(got, [], "nothing replayed into a new session");
  });
});
