/**
 * Graceful shutdown: `io.close()` closes the Engine.IO sessions (clients reconnect, as with
 * socket.io) or, with `reconnect: false`, first tells every client, for each of its namespaces,
 * with a DISCONNECT (the official client sees "io server disconnect" and stays disconnected); then
 * the HTTP server closes; it settles within its timeout even when a client never answers. The
 * Engine.IO server's own `close()` sends each session the close packet.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterEach, describe, it } from "node:test";
import { attach as attachEngine, type EngineServer } from "../../src/engine/index.js";
import type { Socket } from "../../src/index.js";
import { httpRequest } from "../helpers/http-request.js";
import { withTimeout } from "../helpers/timing.js";
import { type ClientSocket, startServer, type TestServer, waitFor } from "./helpers.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A raw polling session (Engine.IO handshake, Socket.IO CONNECT to "/"): its sid. */
async function rawPollingClient(port: number, path = "/socket.io/"): Promise<string> {
  const handshake = await httpRequest(port, `${path}?EIO=4&transport=polling`);
  const sid = (JSON.parse(handshake.body.slice(1)) as { sid: string }).sid;
  if (path === "/socket.io/") {
    await httpRequest(port, `${path}?EIO=4&transport=polling&sid=${sid}`, "POST", "40");
    // The CONNECT's answer: the session is now fully open, and no poll is pending.
    assert.match(
      (await httpRequest(port, `${path}?EIO=4&transport=polling&sid=${sid}`)).body,
      /^40/,
    );
  }
  return sid;
}

for (const transport of ["websocket", "polling"] as const) {
  describe(`io.close({ reconnect: false }) with the official client over ${transport}`, () => {
    it('every namespace of every client hears "io server disconnect"; the server side "server shutting down"', async () => {
      server = await startServer();
      const { io } = server;
      const serverReasons: string[] = [];
      for (const name of ["/", "/admin"]) {
        io.of(name).on("connection", (socket: Socket) => {
          socket.on("disconnect", (reason) => serverReasons.push(`${name} ${reason}`));
        });
      }
      const options = { transports: [transport] };
      const clients: ClientSocket[] = [];
      // Two clients, each in two namespaces over one connection (the client multiplexes them).
      for (let i = 0; i < 2; i++) {
        const main = await server.connect("/", options);
        // Connects by itself (autoConnect), over main's connection.
        const admin = main.io.socket("/admin");
        await waitFor(admin, "connect");
        clients.push(main, admin);
      }
      const heard = clients.map((client) => waitFor<[string]>(client, "disconnect"));
      const started = performance.now();
      await io.close({ reconnect: false });
      const ms = performance.now() - started;
      for (const [reason] of await Promise.all(heard)) assert.equal(reason, "io server disconnect");
      assert.ok(ms < 2000, `close() took ${ms} ms`);
      assert.deepEqual(serverReasons.sort(), [
        "/ server shutting down",
        "/ server shutting down",
        "/admin server shutting down",
        "/admin server shutting down",
      ]);
      assert.equal(io.engine.clientsCount, 0);
      assert.equal(server.http.listening, false);
      for (const client of clients) assert.equal(client.active, false, "no reconnection");
    });
  });
}

describe("io.close() bounded", () => {
  it("settles at its timeout when clients never answer, and calls back (close(options, fn))", async () => {
    server = await startServer();
    const { io, port } = server;
    // A polling session that never polls again (so never takes its close packet), and a
    // connection holding a half-sent request (so the HTTP server cannot close by itself).
    await rawPollingClient(port);
    const stuck = connect(port, "127.0.0.1");
    stuck.on("error", () => {});
    stuck.resume();
    stuck.write("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    let calledBack = false;
    await io.close({ timeout: 500 }, () => {
      calledBack = true;
    });
    const ms = performance.now() - started;
    assert.ok(ms >= 450 && ms < 1500, `close() took ${ms} ms`);
    assert.ok(calledBack);
    assert.equal(io.engine.clientsCount, 0);
    await withTimeout(
      new Promise((resolve) => (stuck.destroyed ? resolve(null) : stuck.once("close", resolve))),
      2000,
      "the half-sent request being cut",
    );
  });

  it("close(fn), socket.io's form: fn gets the HTTP server's error when it was not listening", async () => {
    server = await startServer();
    await server.io.close({ timeout: 500 });
    const error = await new Promise<Error | undefined>((resolve) => {
      void server?.io.close((err) => resolve(err));
    });
    assert.ok(error instanceof Error);
  });

  it("new handshakes are refused (HTTP 503) while closing", async () => {
    server = await startServer();
    const { io, port } = server;
    await rawPollingClient(port);
    const closing = io.close({ timeout: 1000 });
    const refused = await httpRequest(port, "/socket.io/?EIO=4&transport=polling");
    assert.equal(refused.status, 503);
    assert.deepEqual(JSON.parse(refused.body), { code: 3, message: "Server shutting down" });
    await closing;
  });

  it("by default, as socket.io: no DISCONNECT, the clients see the transport close and reconnect", async () => {
    server = await startServer();
    const client = await server.connect("/", {
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 10_000,
    });
    const heard = waitFor<[string]>(client, "disconnect");
    const started = performance.now();
    await server.io.close();
    assert.ok(performance.now() - started < 2000);
    assert.equal((await heard)[0], "transport close");
    assert.equal(client.active, true, "the client will reconnect");
    client.io.reconnection(false);
    client.disconnect();
  });
});

describe("EngineServer.close()", () => {
  async function engineServer(): Promise<{ engine: EngineServer; port: number; done(): void }> {
    const http = createServer();
    const engine = attachEngine(http, { pingInterval: 10_000 });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    return {
      engine,
      port: (http.address() as AddressInfo).port,
      done: () => {
        http.closeAllConnections();
        http.close();
      },
    };
  }

  it("sends each session the close packet, also one with no poll pending, and calls back once they are gone", async () => {
    const { engine, port, done } = await engineServer();
    try {
      const sid = await rawPollingClient(port, "/engine.io/");
      const path = `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
      const reasons: string[] = [];
      engine.clients.get(sid)?.on("close", (reason) => reasons.push(reason));
      let calledBack = false;
      engine.close(() => {
        calledBack = true;
      });
      // The client's next poll takes the close packet.
      const poll = await httpRequest(port, path);
      assert.equal(poll.body.split("\x1e").at(-1), "1", poll.body);
      await withTimeout(
        (async () => {
          while (!calledBack) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
        2000,
        "the close callback",
      );
      assert.deepEqual(reasons, ["forced close"]);
      assert.equal(engine.clientsCount, 0);
      // Afterwards the engine takes new sessions again, as engine.io's does.
      assert.equal((await httpRequest(port, "/engine.io/?EIO=4&transport=polling")).status, 200);
    } finally {
      engine.close({ timeout: 0 });
      done();
    }
  });

  it("cuts the sessions still open at its timeout", async () => {
    const { engine, port, done } = await engineServer();
    try {
      await rawPollingClient(port, "/engine.io/");
      const started = performance.now();
      await new Promise<void>((resolve) => engine.close({ timeout: 300 }, resolve));
      const ms = performance.now() - started;
      assert.ok(ms >= 250 && ms < 1500, `${ms} ms`);
      assert.equal(engine.clientsCount, 0);
    } finally {
      done();
    }
  });
});
