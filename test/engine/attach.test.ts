/**
 * Attaching to an application's HTTP server: its other routes and upgrade paths keep working;
 * listen(), custom paths, direct handleRequest/handleUpgrade, middlewares, WebSocket handshake
 * headers.
 */
import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { describe, it } from "node:test";
import WebSocket, { WebSocketServer as WsServer } from "ws";
import { EngineServer, type EngineSocket, listen } from "../../src/engine/index.js";
import {
  connectClient,
  httpRequest,
  once,
  openClient,
  pollingHandshake,
  startServer,
} from "./helpers.js";

describe("engine attach", () => {
  it("leaves the application's other routes to its own request listeners", async () => {
    const server = await startServer({}, (req, res) => {
      res.end(`app:${req.url}`);
    });
    let second = 0;
    // Listeners added later are the application's business too.
    server.http.on("request", () => second++);
    try {
      const app = await httpRequest(server.port, "/hello?x=1");
      assert.equal(app.status, 200);
      assert.equal(app.text, "app:/hello?x=1");
      const { open } = await pollingHandshake(server.port);
      assert.ok(open.sid);
      assert.equal(second, 2);
      // Without a trailing slash the default path is not ours.
      assert.equal((await httpRequest(server.port, "/engine.io")).text, "app:/engine.io");
    } finally {
      await server.close();
    }
  });

  it("leaves WebSocket upgrades on other paths to their own handlers", async () => {
    const server = await startServer();
    const chat = new WsServer({ noServer: true });
    server.http.on("upgrade", (req: IncomingMessage, socket, head) => {
      if (req.url === "/chat") {
        chat.handleUpgrade(req, socket, head, (ws) => ws.send("chat says hi"));
      }
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/chat`);
      const [data] = await once<[Buffer]>(ws, "message");
      assert.equal(data.toString(), "chat says hi");
      ws.close();
      // Engine.IO upgrades on the same server still work.
      const client = await openClient(server.port, { transports: ["websocket"] });
      assert.equal(client.transport.name, "websocket");
      client.close();
    } finally {
      chat.close();
      await server.close();
    }
  });

  it("ends upgrades nobody can answer after destroyUpgradeTimeout", async () => {
    const server = await startServer({ destroyUpgradeTimeout: 50 });
    try {
      const socket = connect(server.port, "127.0.0.1");
      socket.on("error", () => {});
      socket.write(
        "GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      await once(socket, "close", 3000);
    } finally {
      await server.close();
    }
  });

  it("serves a custom path, with or without the trailing slash", async () => {
    const server = await startServer({ path: "/realtime" });
    try {
      const client = await openClient(server.port, { path: "/realtime/" });
      client.close();
      assert.equal(
        (await httpRequest(server.port, "/engine.io/?EIO=4&transport=polling")).status,
        404,
      );
    } finally {
      await server.close();
    }
  });

  it("listen() creates a server answering 501 outside the engine path", async () => {
    const engine = await new Promise<EngineServer>((resolve) => {
      const created: EngineServer = listen(0, { pingInterval: 1000 }, () => resolve(created));
    });
    const http = engine.httpServer!;
    try {
      const port = (http.address() as AddressInfo).port;
      const other = await httpRequest(port, "/");
      assert.equal(other.status, 501);
      const client = await openClient(port);
      client.close();
    } finally {
      await new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      });
    }
  });

  it("engine.close() ends every session so that the HTTP server can close", async () => {
    const server = await startServer();
    const polling = await openClient(server.port, { transports: ["polling"] });
    const websocket = await openClient(server.port, { transports: ["websocket"] });
    const closed = Promise.all([
      once(polling as unknown as EventEmitter, "close"),
      once(websocket as unknown as EventEmitter, "close"),
    ]);
    assert.equal(server.engine.clientsCount, 2);
    server.engine.close();
    await closed;
    assert.equal(server.engine.clientsCount, 0);
    // Socket.IO's shutdown order: the HTTP server then closes without forcing connections.
    await new Promise<void>((resolve) => server.http.close(() => resolve()));
  });

  it("can be driven with handleRequest and handleUpgrade by the application's own router", async () => {
    const engine = new EngineServer();
    const http = createServer((req, res) => {
      if (req.url?.startsWith("/rt/")) engine.handleRequest(req, res);
      else res.end("app");
    });
    http.on("upgrade", (req, socket, head) => {
      if (req.url?.startsWith("/rt/")) engine.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    try {
      for (const transports of [["polling"], ["websocket"]] as const) {
        const client = connectClient(port, { path: "/rt/", transports: [...transports] });
        const [data] = await new Promise<[string]>((resolve) => {
          engine.once("connection", (socket) => socket.send(`over ${socket.transport.name}`));
          client.once("message", (d) => resolve([d as string]));
        });
        assert.equal(data, `over ${transports[0]}`);
        client.close();
      }
    } finally {
      engine.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});

describe("engine middlewares and WebSocket handshake headers", () => {
  it("runs middlewares on polling requests and refuses on their errors", async () => {
    const server = await startServer();
    server.engine.use((req, res, next) => {
      res.setHeader("X-Middleware", "ran");
      if (req.headers["x-block"]) next(new Error("blocked"));
      else next();
    });
    try {
      const { response } = await pollingHandshake(server.port);
      assert.equal(response.headers["x-middleware"], "ran");
      const refused = await httpRequest(server.port, "/engine.io/?EIO=4&transport=polling", {
        headers: { "x-block": "1" },
      });
      assert.equal(refused.status, 400);
      assert.deepEqual(JSON.parse(refused.text), { code: 3, message: "Bad request" });
    } finally {
      await server.close();
    }
  });

  it("puts middleware headers and the session cookie in the 101 answer", async () => {
    const server = await startServer({ cookie: true });
    server.engine.use((_req, res, next) => {
      res.setHeader("X-Middleware", "ran");
      next();
    });
    server.engine.on("headers", (headers) => {
      headers["X-Listener"] = "yes";
    });
    try {
      const connected = once<[EngineSocket]>(server.engine, "connection");
      const ws = new WebSocket(
        `ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`,
      );
      const [response] = await once<[IncomingMessage]>(ws, "upgrade");
      const [socket] = await connected;
      assert.equal(response.headers["x-middleware"], "ran");
      assert.equal(response.headers["x-listener"], "yes");
      assert.deepEqual(response.headers["set-cookie"], [
        `io=${socket.id}; Path=/; HttpOnly; SameSite=Lax`,
      ]);
      ws.close();
    } finally {
      await server.close();
    }
  });

  it("refuses a WebSocket handshake when a middleware ends it", async () => {
    const server = await startServer();
    server.engine.use((_req, res) => {
      res.end();
    });
    try {
      const ws = new WebSocket(
        `ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`,
      );
      ws.on("error", () => {});
      await once(ws, "close");
      assert.equal(server.engine.clientsCount, 0);
    } finally {
      await server.close();
    }
  });

  it("negotiates permessage-deflate only when enabled", async () => {
    for (const perMessageDeflate of [false, true]) {
      const server = await startServer({ perMessageDeflate });
      try {
        const ws = new WebSocket(
          `ws://127.0.0.1:${server.port}/engine.io/?EIO=4&transport=websocket`,
          {
            perMessageDeflate: true,
          },
        );
        await once(ws, "open");
        assert.equal(ws.extensions.includes("permessage-deflate"), perMessageDeflate);
        ws.close();
      } finally {
        await server.close();
      }
    }
  });

  it("compresses large WebSocket messages with permessage-deflate, end to end", async () => {
    const server = await startServer({ perMessageDeflate: true });
    server.engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
    try {
      const client = await openClient(server.port, { transports: ["websocket"] });
      const big = "compressible ".repeat(1000);
      const echoed = once<[string]>(client as unknown as EventEmitter, "message");
      client.send(big);
      assert.equal((await echoed)[0], big);
      client.close();
    } finally {
      await server.close();
    }
  });
});
