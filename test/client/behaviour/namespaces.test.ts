/**
 * Namespaces and middlewares against each server: namespaces multiplexed over one connection,
 * events kept to their namespace, auth payloads, an unknown namespace refused, middleware errors
 * reaching connect_error with their data, and a client-side disconnect of one namespace leaving
 * the others connected.
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import {
  collect,
  connectPair,
  describeAgainstEachServer,
  nextConnection,
  startServer,
  type TestServer,
  waitFor,
} from "./harness.js";

describeAgainstEachServer("client: namespaces and middlewares", (kind) => {
  let server: TestServer;
  afterEach(() => server.close());

  it("multiplexes namespaces over one Engine.IO connection, events stay in their namespace", async () => {
    server = await startServer(kind);
    server.io.of("/admin");
    const main = await server.connect("/", { transports: ["websocket"] });
    const adminConnection = nextConnection(server, "/admin");
    // Same manager: a second namespace of the same client.
    const admin = main.io.socket("/admin");
    await waitFor(admin, "connect");
    const adminSocket = await adminConnection;
    assert.equal(admin.connected, true);
    assert.equal(admin.io, main.io, "one manager");
    assert.equal(adminSocket.conn.id, main.io.engine.id, "one Engine.IO session");
    assert.notEqual(admin.id, main.id);

    const onMain = collect(main, "news");
    const onAdmin = waitFor<unknown[]>(admin, "news");
    server.io.of("/admin").emit("news", "for admins");
    assert.deepEqual(await onAdmin, ["for admins"]);
    const fence = waitFor(main, "fence");
    server.io.emit("fence");
    await fence;
    assert.deepEqual(onMain, [], "the main namespace did not get the admin event");

    // Leaving one namespace keeps the other.
    const gone = waitFor<[string]>(adminSocket, "disconnect");
    admin.disconnect();
    assert.equal((await gone)[0], "client namespace disconnect");
    assert.equal(main.connected, true);
    const still = waitFor<unknown[]>(main, "still");
    server.io.emit("still", "here");
    assert.deepEqual(await still, ["here"]);
  });

  it("io() of two namespaces of the same URL share a manager unless forceNew", async () => {
    server = await startServer(kind);
    server.io.of("/a");
    const a = server.client("/a", { forceNew: false, multiplex: true });
    await waitFor(a, "connect");
    assert.equal(a.connected, true);
    // The harness's client() forces a new manager; a shared one is the library's default.
    const second = server.client("/", { forceNew: false, multiplex: true });
    await waitFor(second, "connect");
    assert.equal(second.io, a.io);
    second.disconnect();
    a.disconnect();
  });

  it("sends the auth payload to the server's middlewares and handshake", async () => {
    server = await startServer(kind);
    const seenAuth: unknown[] = [];
    server.io.use((socket, next) => {
      seenAuth.push(socket.handshake.auth);
      next();
    });
    const { socket } = await connectPair(server, "/", { auth: { token: "abc", n: 1 } });
    assert.deepEqual(seenAuth, [{ token: "abc", n: 1 }]);
    assert.deepEqual(socket.handshake.auth, { token: "abc", n: 1 });

    // auth as a function is called for each connection attempt.
    let calls = 0;
    const viaFunction = waitFor<[{ handshake: { auth: unknown } }]>(server.io, "connection");
    server.client("/", {
      auth: (cb: (data: Record<string, unknown>) => void) => {
        calls++;
        cb({ token: `call ${calls}` });
      },
    });
    const [fromFunction] = await viaFunction;
    assert.deepEqual(fromFunction.handshake.auth, { token: "call 1" });
  });

  it("a middleware error reaches connect_error with its message and data; no connection", async () => {
    server = await startServer(kind);
    server.io.of("/guarded").use((socket, next) => {
      if (socket.handshake.auth.token === "good") return next();
      const error = new Error("not authorized") as Error & { data?: unknown };
      error.data = { code: 4001, hint: ["use", "a token"] };
      next(error);
    });
    const connections = collect(server.io.of("/guarded"), "connection");
    const refused = server.client("/guarded", { auth: { token: "bad" } });
    const [error] = await waitFor<[Error & { data?: unknown }]>(refused, "connect_error");
    assert.ok(error instanceof Error);
    assert.equal(error.message, "not authorized");
    assert.deepEqual(error.data, { code: 4001, hint: ["use", "a token"] });
    assert.equal(refused.connected, false);
    // A middleware refusal is not retried by the socket on its own.
    assert.equal(refused.active, false);

    // Retrying with other credentials on the same socket works.
    refused.auth = { token: "good" };
    refused.connect();
    await waitFor(refused, "connect");
    assert.equal(refused.connected, true);
    assert.equal(connections.length, 1);
  });

  it("an unknown namespace is refused with 'Invalid namespace'", async () => {
    server = await startServer(kind);
    const client = server.client("/nowhere");
    const [error] = await waitFor<[Error]>(client, "connect_error");
    assert.equal(error.message, "Invalid namespace");
    assert.equal(client.connected, false);
  });

  it("the server's disconnect of a socket is 'io server disconnect' and not retried", async () => {
    server = await startServer(kind);
    const { client, socket } = await connectPair(server, "/", {
      reconnection: true,
      reconnectionDelay: 10,
    });
    const reason = waitFor<[string]>(client, "disconnect");
    socket.disconnect();
    assert.equal((await reason)[0], "io server disconnect");
    assert.equal(client.connected, false);
    assert.equal(client.active, false, "the socket does not reconnect by itself");
    // The application may connect again.
    const again = nextConnection(server);
    client.connect();
    await waitFor(client, "connect");
    assert.equal((await again).id, client.id);
  });
});
