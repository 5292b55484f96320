/**
 * The `ws` package's client against the WebSocketServer under test in each way it can be set up:
 * `{ port }`, `{ server, path }` (two servers sharing one HTTP server), `verifyClient` refusing
 * with a status and headers, and `close()` sending 1001 to connected clients.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import * as reference from "ws";
import { WebSocketServer } from "../helpers/subject.js";
import { nextEvent, withTimeout } from "../helpers/timing.js";

/** Connects a ws client and reports the first message, or the status of a refused handshake. */
async function tryConnect(
  url: string,
): Promise<{ message?: string; status?: number; headers?: IncomingMessage["headers"] }> {
  const client = new reference.WebSocket(url);
  client.on("error", () => {});
  try {
    return await withTimeout(
      new Promise((resolve) => {
        client.once("message", (data) => resolve({ message: data.toString() }));
        client.once("unexpected-response", (_request, response) =>
          resolve({ status: response.statusCode, headers: response.headers }),
        );
      }),
      5000,
      `connecting to ${url}`,
    );
  } finally {
    client.terminate();
  }
}

describe("WebSocketServer setups, with the ws client", () => {
  it("{ port: 0, host }: listens by itself, echoes, and close() stops it", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await nextEvent(wss, "listening", 5000);
    const { port, address } = wss.address() as AddressInfo;
    assert.equal(address, "127.0.0.1");
    wss.on("connection", (socket) => socket.send("hello from port mode"));
    assert.deepEqual(await tryConnect(`ws://127.0.0.1:${port}/any/path`), {
      message: "hello from port mode",
    });
    await withTimeout(new Promise<void>((resolve) => wss.close(() => resolve())), 15000, "close()");
  });

  it("{ server, path }: two servers on one HTTP server, each takes only its path", async () => {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const base = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const a = new WebSocketServer({ server: http, path: "/a" });
    const b = new WebSocketServer({ server: http, path: "/b" });
    a.on("connection", (socket) => socket.send("from a"));
    b.on("connection", (socket) => socket.send("from b"));
    try {
      assert.deepEqual(await tryConnect(`${base}/a`), { message: "from a" });
      assert.deepEqual(await tryConnect(`${base}/a?query=1`), { message: "from a" });
      assert.deepEqual(await tryConnect(`${base}/b`), { message: "from b" });
      assert.equal((await tryConnect(`${base}/c`)).status, 400);
    } finally {
      a.close();
      b.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("verifyClient refusing with 401 and a header: the client gets both", async () => {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const wss = new WebSocketServer({
      server: http,
      verifyClient: (info, done) => {
        if (info.req.url === "/allowed") done(true);
        else done(false, 401, "not you", { "x-reason": "test" });
      },
    });
    wss.on("connection", (socket) => socket.send("welcome"));
    try {
      const base = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
      const refused = await tryConnect(`${base}/refused`);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers?.["x-reason"], "test");
      assert.deepEqual(await tryConnect(`${base}/allowed`), { message: "welcome" });
    } finally {
      wss.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("close() sends 1001 to connected clients and completes once they are gone", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await nextEvent(wss, "listening", 5000);
    const { port } = wss.address() as AddressInfo;
    const clients = Array.from(
      { length: 3 },
      () => new reference.WebSocket(`ws://127.0.0.1:${port}/`),
    );
    await Promise.all(clients.map((client) => nextEvent(client, "open", 5000)));
    const closes = clients.map((client) => nextEvent<[number, Buffer]>(client, "close", 15000));
    await withTimeout(new Promise<void>((resolve) => wss.close(() => resolve())), 15000, "close()");
    for (const [code] of await Promise.all(closes)) assert.equal(code, 1001);
  });
});
