/**
 * Regressions found by running the public Socket.IO protocol compliance suite (its Engine.IO 3 /
 * Socket.IO protocol v4 flavour, as served with `allowEIO3`): clients of that generation are in the
 * main namespace without asking, get a CONNECT without payload, and pass namespace auth as a query
 * string in their CONNECT.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { withTimeout } from "../helpers/timing.js";
import { startServer, type TestServer } from "./helpers.js";

/** A raw Engine.IO 3 WebSocket connection whose text messages are read in order. */
class LegacyConnection {
  readonly ws: WebSocket;
  readonly closed: Promise<void>;
  readonly #queue: string[] = [];
  readonly #waiters: ((message: string) => void)[] = [];

  constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=3&transport=websocket`);
    this.ws.on("error", () => {
      // Seen through "close".
    });
    this.closed = new Promise((resolve) => this.ws.once("close", () => resolve()));
    this.ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const message = data.toString();
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
  }

  next(): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return withTimeout(
      new Promise((resolve) => this.#waiters.push(resolve)),
      5000,
      "waiting for a message",
    );
  }
}

describe("Socket.IO protocol v4 clients (Engine.IO 3)", () => {
  let server: TestServer;
  const connections: LegacyConnection[] = [];

  const open = async (): Promise<LegacyConnection> => {
    const connection = new LegacyConnection(server.port);
    connections.push(connection);
    const handshake = await connection.next();
    assert.match(handshake, /^0\{"sid":/);
    return connection;
  };

  before(async () => {
    server = await startServer({ allowEIO3: true, connectTimeout: 1000 });
    server.io.on("connection", (socket) => {
      socket.emit("auth", socket.handshake.auth);
      socket.on("echo", (...args: unknown[]) => socket.emit("echo-back", ...args));
    });
    server.io.of("/custom").on("connection", (socket) => {
      socket.emit("auth", socket.handshake.auth);
    });
  });

  after(async () => {
    for (const connection of connections) connection.ws.terminate();
    await server.close();
  });

  it("is connected to the main namespace without sending CONNECT", async () => {
    const connection = await open();
    assert.equal(await connection.next(), "40");
    assert.equal(await connection.next(), '42["auth",{}]');
    connection.ws.send('42["echo",1,"2"]');
    assert.equal(await connection.next(), '42["echo-back",1,"2"]');
  });

  it("stays connected past connectTimeout without a CONNECT of its own", async () => {
    const connection = await open();
    await connection.next();
    await connection.next();
    // Sending a ping every 400 ms keeps the Engine.IO 3 session alive past the 1000 ms timeout.
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      connection.ws.send("2");
      assert.equal(await connection.next(), "3");
    }
    connection.ws.send('42["echo","still here"]');
    assert.equal(await connection.next(), '42["echo-back","still here"]');
  });

  it("reads namespace auth from the query string of its CONNECT", async () => {
    const connection = await open();
    await connection.next();
    await connection.next();
    connection.ws.send("40/custom?token=abc&user=1,");
    assert.equal(await connection.next(), "40/custom,");
    assert.equal(await connection.next(), '42/custom,["auth",{"token":"abc","user":"1"}]');
  });

  it("is refused an unknown namespace", async () => {
    const connection = await open();
    await connection.next();
    await connection.next();
    connection.ws.send("40/random");
    assert.equal(await connection.next(), '44/random,{"message":"Invalid namespace"}');
  });

  it("leaves the main namespace with a DISCONNECT", async () => {
    const left = new Promise<string>((resolve) => {
      server.io.once("connection", (socket) => socket.once("disconnect", resolve));
    });
    const connection = await open();
    await connection.next();
    await connection.next();
    connection.ws.send("41");
    assert.equal(
      await withTimeout(left, 5000, "waiting for the disconnect"),
      "client namespace disconnect",
    );
  });

  it("still gets a CONNECT with the socket id over Engine.IO 4", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    const messages: string[] = [];
    const got = new Promise<void>((resolve) => {
      ws.on("message", (data) => {
        messages.push(data.toString());
        if (messages.length === 1) ws.send("40");
        if (messages.length === 2) resolve();
      });
    });
    try {
      await withTimeout(got, 5000, "waiting for CONNECT");
      assert.match(messages[1] ?? "", /^40\{"sid":"[^"]+"\}$/);
    } finally {
      ws.terminate();
    }
  });
});
