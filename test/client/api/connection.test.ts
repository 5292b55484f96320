/**
 * Connecting and disconnecting, the exports, `io()`'s manager cache (namespaces multiplexed over
 * one Engine.IO connection), autoConnect, and what the handshake carries (query, headers).
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import clientDefault, { connect, io, Manager, protocol, Socket } from "../../../src/client/node.js";
import type { Socket as ServerSocket } from "../../../src/index.js";
import { startServer, type TestServer, TRANSPORTS, waitFor } from "./helpers.js";

describe("client connection", () => {
  let server: TestServer | undefined;
  const extraManagers: Manager[] = [];
  afterEach(async () => {
    for (const manager of extraManagers.splice(0)) manager._close();
    await server?.close();
    server = undefined;
  });

  it("exports io as default and as connect, with protocol 5, Manager and Socket", () => {
    assert.equal(clientDefault, io);
    assert.equal(connect, io);
    assert.equal(io.connect, io);
    assert.equal(io.io, io);
    assert.equal(io.protocol, 5);
    assert.equal(protocol, 5);
    assert.equal(io.Manager, Manager);
    assert.equal(io.Socket, Socket);
  });

  for (const transport of TRANSPORTS) {
    it(`connects, gets the server's id, and disconnects both ways (${transport.name})`, async () => {
      server = await startServer({}, transport.options);
      const serverSockets: ServerSocket[] = [];
      server.io.on("connection", (s) => serverSockets.push(s));
      const client = server.client();
      assert.equal(client.connected, false);
      assert.equal(client.disconnected, true);
      assert.equal(client.active, true, "active while connecting");
      assert.equal(client.id, undefined);
      await waitFor(client, "connect");
      assert.ok(client.io instanceof Manager);
      assert.ok(client instanceof Socket);
      assert.equal(client.connected, true);
      assert.equal(client.disconnected, false);
      assert.equal(client.recovered, false);
      assert.equal(client.id, serverSockets[0]?.id);
      assert.equal(client.io.engine.transportName, transport.name);

      const serverSide = waitFor<[string]>(serverSockets[0]!, "disconnect");
      const clientSide = waitFor<[string]>(client, "disconnect");
      client.disconnect();
      assert.deepEqual((await clientSide)[0], "io client disconnect");
      assert.equal((await serverSide)[0], "client namespace disconnect");
      assert.equal(client.connected, false);
      assert.equal(client.active, false);
      assert.equal(client.id, undefined);
      assert.equal(client.io._readyState, "closed", "the last namespace closes the connection");

      // Connecting again works on the same Socket.
      client.connect();
      await waitFor(client, "connect");
      const second = serverSockets[1]!;
      const closed = waitFor<[string]>(client, "disconnect");
      second.disconnect();
      assert.equal((await closed)[0], "io server disconnect");
      assert.equal(client.active, false, "a server disconnection is not retried");
    });
  }

  it("multiplexes namespaces over one connection, and opts out with forceNew or multiplex", async () => {
    server = await startServer();
    const conns: unknown[] = [];
    server.io.of("/admin").on("connection", (s) => conns.push(s.conn));
    server.io.on("connection", (s) => conns.push(s.conn));
    const root = io(server.url, { reconnection: false });
    const admin = io(`${server.url}/admin`, { reconnection: false });
    extraManagers.push(root.io as unknown as Manager);
    assert.equal(admin.io, root.io, "one Manager for both namespaces");
    await Promise.all([waitFor(root, "connect"), waitFor(admin, "connect")]);
    assert.equal(conns.length, 2);
    assert.equal(conns[0], conns[1], "one Engine.IO connection on the server");
    assert.equal(server.io.engine.clientsCount, 1);

    const again = io(server.url, { reconnection: false });
    const forced = io(`${server.url}/admin`, { forceNew: true, reconnection: false });
    const separate = io(`${server.url}/other`, { multiplex: false, reconnection: false });
    for (const s of [again, forced, separate]) extraManagers.push(s.io as unknown as Manager);
    assert.notEqual(again.io, root.io, "the same namespace twice gets a new Manager");
    assert.notEqual(forced.io, root.io);
    assert.notEqual(separate.io, root.io);

    // Disconnecting one namespace keeps the connection for the other.
    root.disconnect();
    assert.equal(admin.io._readyState, "open");
    admin.emit("still-here");
    admin.disconnect();
    assert.equal(admin.io._readyState, "closed");
  });

  it("waits for connect() with autoConnect false, and opens with socket.open()", async () => {
    server = await startServer();
    let connections = 0;
    server.io.on("connection", () => connections++);
    const client = server.client("/", { autoConnect: false });
    assert.equal(client.active, false);
    assert.equal(client.io._readyState, "closed");
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(connections, 0);
    client.open();
    await waitFor(client, "connect");
    assert.equal(connections, 1);
  });

  it("connects through a Manager created directly", async () => {
    server = await startServer();
    server.io.of("/admin");
    const manager = new Manager(server.url, { reconnection: false });
    extraManagers.push(manager);
    const admin = manager.socket("/admin");
    assert.equal(manager.socket("/admin"), admin, "one Socket per namespace");
    await waitFor(admin, "connect");
    assert.equal(admin.nsp, "/admin");
    const managerOpen = new Manager({
      hostname: "127.0.0.1",
      port: new URL(server.url).port,
      reconnection: false,
    });
    extraManagers.push(managerOpen);
    await waitFor(managerOpen.socket("/"), "connect");
  });

  it("sends the URL's query, the query option and extra headers with the handshake", async () => {
    server = await startServer();
    const handshake = new Promise<ServerSocket["handshake"]>((resolve) =>
      server!.io.on("connection", (s) => resolve(s.handshake)),
    );
    server.client("/?fromUrl=1&shared=url", {
      query: { fromOption: 2, shared: "option" },
      extraHeaders: { "x-test": "yes" },
    });
    const { query, headers } = await handshake;
    assert.equal(query.fromUrl, "1");
    assert.equal(query.fromOption, "2");
    assert.equal(query.shared, "url", "the URL's query wins");
    assert.equal(query.EIO, "4");
    assert.equal(headers["x-test"], "yes");
  });

  it("reports an unusable URL through connect_error instead of throwing", async () => {
    const socket = io("http://", { reconnection: false, forceNew: true });
    const [err] = await waitFor<[Error]>(socket, "connect_error");
    assert.match(err.message, /URL|host/);
    assert.equal(socket.connected, false);
    socket.disconnect();
  });

  it("reports a refused connection through the manager's error and connect_error", async () => {
    server = await startServer();
    const url = server.url;
    await server.close();
    server = undefined;
    const socket = io(url, { reconnection: false, forceNew: true, transports: ["websocket"] });
    const managerError = waitFor<[Error]>(socket.io, "error");
    const [err] = await waitFor<[Error]>(socket, "connect_error");
    assert.ok(err instanceof Error);
    assert.equal((await managerError)[0], err);
    assert.equal(socket.io._readyState, "closed");
    socket.disconnect();
  });
});
