/**
 * The ways to create and attach a server (socket.io v4's): `new Server(http, opts)`,
 * `new Server(port)`, `new Server(opts)` + `attach`/`listen`, the top-level `listen`/`attach`
 * (also through `require`), options passed through to Engine.IO, `close(fn)`.
 */
import assert from "node:assert/strict";
import { createServer, Server as HttpServer, request } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { type Socket as ClientSocket, io as connectClient } from "socket.io-client";
import type * as duplexio from "../../src/index.js";
import { attach, listen, Server } from "../../src/index.js";
import { withTimeout } from "../helpers/timing.js";
import { waitFor } from "./helpers.js";

/** `http.Server.listen(port)` binds every interface; tests bind 127.0.0.1 only. */
function bindLoopbackOnly(): () => void {
  const original = HttpServer.prototype.listen;
  HttpServer.prototype.listen = function (this: HttpServer, ...args: unknown[]) {
    if (typeof args[0] === "number" && args.length === 1) args.push("127.0.0.1");
    return (original as (...a: unknown[]) => HttpServer).apply(this, args);
  } as typeof original;
  return () => {
    HttpServer.prototype.listen = original;
  };
}

function listenLoopback(http: HttpServer): Promise<number> {
  return new Promise((resolve) => {
    http.listen(0, "127.0.0.1", () => resolve((http.address() as AddressInfo).port));
  });
}

async function connects(url: string, path?: string): Promise<ClientSocket> {
  const client = connectClient(url, {
    forceNew: true,
    reconnection: false,
    transports: ["websocket"],
    ...(path === undefined ? {} : { path }),
  });
  opened.push(client);
  await waitFor(client, "connect");
  return client;
}

function get(url: string): Promise<number> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = request(url, { headers: { connection: "close" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    }),
    5000,
    `GET ${url}`,
  );
}

const opened: ClientSocket[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const client of opened.splice(0)) client.disconnect();
  for (const io of servers.splice(0)) {
    await io.close();
    (io.httpServer as HttpServer | undefined)?.closeAllConnections?.();
  }
});

describe("creating and attaching", () => {
  let restore: () => void;
  before(() => {
    restore = bindLoopbackOnly();
  });
  after(() => restore());

  it("new Server(port) creates an HTTP server listening on that port", async () => {
    const io = new Server(0);
    servers.push(io);
    const http = io.httpServer!;
    if (!http.listening) await waitFor(http, "listening");
    const port = (http.address() as AddressInfo).port;
    await connects(`http://127.0.0.1:${port}`);
    // Other requests get 404 from the created server.
    assert.equal(await get(`http://127.0.0.1:${port}/elsewhere`), 404);
  });

  it("new Server(httpServer, opts) with a custom path", async () => {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const io = new Server(http, { path: "/custom/" });
    servers.push(io);
    const port = await listenLoopback(http);
    assert.equal(io.path(), "/custom/");
    await connects(`http://127.0.0.1:${port}`, "/custom/");
    assert.equal(await get(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`), 404);
  });

  it("new Server(opts) then attach() or listen()", async () => {
    for (const method of ["attach", "listen"] as const) {
      const http = createServer();
      const io = new Server({ pingInterval: 12_345, connectTimeout: 1000 });
      servers.push(io);
      assert.equal(io.connectTimeout(), 1000);
      io[method](http);
      const port = await listenLoopback(http);
      assert.equal(io.httpServer, http);
      assert.equal(io.engine.opts.pingInterval, 12_345);
      await connects(`http://127.0.0.1:${port}`);
    }
  });

  it("gives io.engine before attaching, and uses it once attached", async () => {
    const io = new Server({ pingTimeout: 4321 });
    servers.push(io);
    const engine = io.engine;
    const connections: unknown[] = [];
    engine.on("connection", (conn) => connections.push(conn));
    const http = createServer();
    io.attach(http);
    assert.equal(io.engine, engine);
    const port = await listenLoopback(http);
    await connects(`http://127.0.0.1:${port}`);
    assert.equal(connections.length, 1);
    assert.equal(engine.opts.pingTimeout, 4321);
  });

  it("exports listen() and attach() at the top level, also through require()", async () => {
    for (const create of [listen, attach]) {
      const http = createServer();
      const io = create(http, { connectTimeout: 2000 });
      servers.push(io);
      assert.ok(io instanceof Server);
      const port = await listenLoopback(http);
      await connects(`http://127.0.0.1:${port}`);
    }
    const required = createRequire(import.meta.url)("../../src/index.ts") as typeof duplexio;
    assert.equal(typeof required.listen, "function");
    assert.equal(typeof required.attach, "function");
    assert.equal(typeof required.Server, "function");
    const http = createServer();
    const io = required.listen(http);
    servers.push(io as unknown as Server);
    const port = await listenLoopback(http);
    await connects(`http://127.0.0.1:${port}`);
  });

  it("refuses an Express-style handler in place of a server", () => {
    const io = new Server();
    servers.push(io);
    const handler = () => undefined;
    assert.throws(() => io.attach(handler as unknown as HttpServer), /request handler function/);
  });

  it("serves the client bundle under the path until serveClient(false)", async () => {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const io = new Server(http);
    servers.push(io);
    const port = await listenLoopback(http);
    assert.equal(io.serveClient(), true);
    for (const name of ["duplexio.min.js", "socket.io.min.js", "socket.io.js"]) {
      assert.equal(await get(`http://127.0.0.1:${port}/socket.io/${name}`), 200, name);
    }
    // Other routes of the user's server are untouched.
    assert.equal(await get(`http://127.0.0.1:${port}/elsewhere`), 404);
    assert.equal(io.serveClient(false), io);
    assert.equal(io.serveClient(), false);
    assert.notEqual(await get(`http://127.0.0.1:${port}/socket.io/socket.io.js`), 200);
  });

  it("close(fn) disconnects the sockets and closes the HTTP server", async () => {
    const http = createServer();
    const io = new Server(http);
    const port = await listenLoopback(http);
    await connects(`http://127.0.0.1:${port}`);
    const closed = new Promise<Error | undefined>((resolve) => {
      void io.close((err) => resolve(err));
    });
    http.closeAllConnections();
    assert.equal(await withTimeout(closed, 5000, "io.close"), undefined);
    assert.equal(http.listening, false);
  });
});
