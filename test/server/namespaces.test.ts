/**
 * Namespaces: static ones, dynamic ones (regex and function), multiplexing over one connection,
 * unknown namespaces, and namespace middlewares refusing with a message and data.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { Manager } from "socket.io-client";
import type { Namespace, Socket } from "../../src/index.js";
import { startServer, type TestServer, waitFor } from "./helpers.js";

describe("namespaces", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it("connects to a static namespace, separate from the main one", async () => {
    const admin = server.io.of("admin");
    assert.equal(admin, server.io.of("/admin"));
    assert.equal(admin.name, "/admin");
    const connection = waitFor<[Socket]>(admin, "connection");
    const client = await server.connect("/admin");
    const [socket] = await connection;
    assert.equal(socket.nsp, admin);
    assert.equal(admin.sockets.get(socket.id), socket);
    assert.equal(server.io.sockets.sockets.has(socket.id), false);

    const main = await server.connect("/");
    const got: string[] = [];
    client.on("news", (v: string) => got.push(`admin:${v}`));
    main.on("news", (v: string) => got.push(`main:${v}`));
    const adminGot = waitFor(client, "news");
    const mainGot = waitFor(main, "news");
    admin.emit("news", "a");
    server.io.emit("news", "m");
    await Promise.all([adminGot, mainGot]);
    assert.deepEqual(got.sort(), ["admin:a", "main:m"]);
  });

  it("multiplexes namespaces over one connection", async () => {
    const manager = new Manager(server.url, { reconnection: false, transports: ["websocket"] });
    const sockets: Socket[] = [];
    server.io.of("/one").on("connection", (s) => sockets.push(s));
    server.io.of("/two").on("connection", (s) => sockets.push(s));
    const one = manager.socket("/one");
    const two = manager.socket("/two");
    await Promise.all([waitFor(one, "connect"), waitFor(two, "connect")]);
    try {
      assert.equal(sockets.length, 2);
      assert.equal(sockets[0]!.conn, sockets[1]!.conn);
      assert.notEqual(sockets[0]!.id, sockets[1]!.id);
      // Leaving one namespace keeps the other connected.
      const gone = waitFor(sockets.find((s) => s.nsp.name === "/one")!, "disconnect");
      one.disconnect();
      const [reason] = await gone;
      assert.equal(reason, "client namespace disconnect");
      const echo = waitFor(two, "still");
      sockets.find((s) => s.nsp.name === "/two")!.emit("still", "here");
      assert.deepEqual(await echo, ["here"]);
    } finally {
      one.disconnect();
      two.disconnect();
    }
  });

  it('refuses an unknown namespace with connect_error "Invalid namespace"', async () => {
    const client = server.client("/nowhere");
    const [err] = await waitFor<[Error]>(client, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.equal(client.connected, false);
  });

  it("creates child namespaces for names matching a regex", async () => {
    const parent = server.io.of(/^\/dynamic-\d+$/);
    const created: string[] = [];
    server.io.on("new_namespace", (nsp: Namespace) => created.push(nsp.name));
    const seen: string[] = [];
    parent.use((socket, next) => {
      seen.push(`mw:${socket.nsp.name}`);
      next();
    });
    parent.on("connection", (socket) => seen.push(`connection:${socket.nsp.name}`));

    const client = await server.connect("/dynamic-42");
    assert.deepEqual(seen, ["mw:/dynamic-42", "connection:/dynamic-42"]);
    assert.deepEqual(created, ["/dynamic-42"]);
    const child = server.io.of("/dynamic-42");
    assert.equal(child.name, "/dynamic-42");
    assert.equal(child.sockets.size, 1);

    const fromParent = waitFor(client, "all-children");
    parent.emit("all-children", 1);
    assert.deepEqual(await fromParent, [1]);
    const fromParentRoom = waitFor(client, "to-room");
    parent.to(client.id!).emit("to-room", 2);
    assert.deepEqual(await fromParentRoom, [2]);

    // A name created through io.of() that matches the regex becomes a child too.
    const viaOf = server.io.of("/dynamic-7");
    assert.deepEqual(created, ["/dynamic-42", "/dynamic-7"]);
    assert.equal(viaOf.listeners("connection").length, 1);

    const refused = server.client("/dynamic-x");
    const [err] = await waitFor<[Error]>(refused, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.throws(() => parent.fetchSockets(), /not supported on parent namespaces/);
  });

  it("asks a function whether a dynamic namespace exists", async () => {
    const asked: unknown[] = [];
    const parent = server.io.of((name, auth, next) => {
      asked.push([name, auth]);
      setTimeout(() => next(null, name.startsWith("/fn-") && auth.allow === true), 1);
    });
    const connection = waitFor<[Socket]>(parent, "connection");
    await server.connect("/fn-a", { auth: { allow: true } });
    const [socket] = await connection;
    assert.equal(socket.nsp.name, "/fn-a");
    assert.deepEqual(socket.handshake.auth, { allow: true });

    const refused = server.client("/fn-b", { auth: { allow: false } });
    const [err] = await waitFor<[Error]>(refused, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.deepEqual(asked, [
      ["/fn-a", { allow: true }],
      ["/fn-b", { allow: false }],
    ]);
  });
});

describe("namespace middlewares", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it("runs io.use middlewares in order, before the socket is connected", async () => {
    const order: string[] = [];
    server.io.use((socket, next) => {
      order.push(`first connected=${socket.connected}`);
      socket.data.user = socket.handshake.auth.user;
      next();
    });
    server.io.use((_socket, next) => {
      order.push("second");
      setTimeout(next, 5);
    });
    const connection = waitFor<[Socket]>(server.io, "connection");
    await server.connect("/", { auth: { user: "ada" } });
    const [socket] = await connection;
    assert.deepEqual(order, ["first connected=false", "second"]);
    assert.deepEqual(socket.data, { user: "ada" });
  });

  it("refuses with CONNECT_ERROR carrying the error's message and data", async () => {
    const nsp = server.io.of("/private");
    nsp.use((socket, next) => {
      if (socket.handshake.auth.token === "good") return next();
      const err = new Error("not authorized") as Error & { data?: unknown };
      err.data = { content: "Please retry later", code: 401 };
      next(err);
    });
    const connections: Socket[] = [];
    nsp.on("connection", (s) => connections.push(s));

    const refused = server.client("/private", { auth: { token: "bad" } });
    const [err] = await waitFor<[Error & { data?: unknown }]>(refused, "connect_error");
    assert.equal(err.message, "not authorized");
    assert.deepEqual(err.data, { content: "Please retry later", code: 401 });
    assert.equal(connections.length, 0);
    assert.equal(nsp.sockets.size, 0);
    // The refused socket left no trace in the adapter.
    assert.equal(nsp.adapter.sids.size, 0);

    await server.connect("/private", { auth: { token: "good" } });
    assert.equal(connections.length, 1);
  });

  it("lets a refused client retry on the same connection", async () => {
    const nsp = server.io.of("/retry");
    let attempts = 0;
    nsp.use((_socket, next) => {
      attempts++;
      next(attempts === 1 ? new Error("first time") : undefined);
    });
    const client = server.client("/retry", { transports: ["websocket"] });
    const [err] = await waitFor<[Error]>(client, "connect_error");
    assert.equal(err.message, "first time");
    client.connect();
    await waitFor(client, "connect");
    assert.equal(attempts, 2);
  });
});

describe("cleanupEmptyChildNamespaces", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ cleanupEmptyChildNamespaces: true });
  });
  afterEach(() => undefined);
  after(() => server.close());

  it("removes a child namespace once its last socket leaves", async () => {
    const parent = server.io.of(/^\/tmp-\d+$/);
    const connection = waitFor<[Socket]>(parent, "connection");
    const client = await server.connect("/tmp-1");
    const [socket] = await connection;
    assert.ok(server.io._nsps.has("/tmp-1"));
    const gone = waitFor(socket, "disconnect");
    client.disconnect();
    await gone;
    assert.equal(server.io._nsps.has("/tmp-1"), false);
    assert.equal((parent as unknown as { children: Set<unknown> }).children.size, 0);
  });
});
