import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { WebSocket as WsClient } from "ws";
import { WebSocketHandshakeError, WebSocketServer } from "../../src/websocket/index.js";
import {
  acceptFor,
  closeWss,
  delay,
  eventually,
  maskedFrame,
  openClient,
  RawPeer,
  rawExchange,
  roundTrip,
  upgradeRequest,
  withTimeout,
  wssPort,
} from "./server-helpers.js";

describe("WebSocketServer refuses bad handshakes and keeps serving", () => {
  let wss: WebSocketServer;
  let port: number;
  const connections: IncomingMessage[] = [];

  beforeEach(async () => {
    connections.length = 0;
    wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    wss.on("connection", (socket, request) => {
      connections.push(request);
      socket.on("message", (data) => socket.send(data));
    });
    port = await wssPort(wss);
  });

  afterEach(async () => {
    // After every refusal a well-behaved client must still get through.
    const client = await openClient(`ws://127.0.0.1:${port}/`);
    assert.equal(await roundTrip(client, "still serving"), "still serving");
    client.close();
    await closeWss(wss);
  });

  const cases: Array<{
    name: string;
    request: () => string | Buffer;
    status: number;
    body?: RegExp;
    headers?: Record<string, string>;
  }> = [
    {
      name: "no Sec-WebSocket-Key",
      request: () => upgradeRequest(port, { headers: { "sec-websocket-key": undefined } }),
      status: 400,
      body: /Sec-WebSocket-Key/,
    },
    {
      name: "a key that is not base64 of 16 bytes",
      request: () => upgradeRequest(port, { headers: { "sec-websocket-key": "c2hvcnQ=" } }),
      status: 400,
      body: /Sec-WebSocket-Key/,
    },
    {
      name: "version 8",
      request: () => upgradeRequest(port, { headers: { "sec-websocket-version": "8" } }),
      status: 426,
      headers: { "sec-websocket-version": "13" },
    },
    {
      name: "no version",
      request: () => upgradeRequest(port, { headers: { "sec-websocket-version": undefined } }),
      status: 426,
      headers: { "sec-websocket-version": "13" },
    },
    {
      name: "POST",
      request: () => upgradeRequest(port, { method: "POST" }),
      status: 405,
      headers: { allow: "GET" },
    },
    {
      name: "an Upgrade header naming another protocol",
      request: () => upgradeRequest(port, { headers: { upgrade: "h2c" } }),
      status: 400,
      body: /Upgrade/,
    },
    {
      // Without `Connection: upgrade` Node sees a plain request: the port-mode server's 426.
      name: "no Connection: upgrade",
      request: () => upgradeRequest(port, { headers: { connection: "keep-alive" } }),
      status: 426,
      body: /Upgrade Required/,
    },
    {
      name: "no Upgrade header",
      request: () => upgradeRequest(port, { headers: { upgrade: undefined } }),
      status: 426,
      body: /Upgrade Required/,
    },
    {
      name: "a malformed Sec-WebSocket-Protocol",
      request: () => upgradeRequest(port, { headers: { "sec-websocket-protocol": "a, a" } }),
      status: 400,
      body: /Sec-WebSocket-Protocol/,
    },
    {
      name: "a malformed Sec-WebSocket-Extensions",
      request: () =>
        upgradeRequest(port, { headers: { "sec-websocket-extensions": "permessage-deflate; =1" } }),
      status: 400,
      body: /Sec-WebSocket-Extensions/,
    },
    {
      // Node's HTTP parser refuses these before any upgrade logic runs.
      name: "garbage bytes",
      request: () =>
        Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x80]),
      status: 400,
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.name}: ${testCase.status}`, async () => {
      const answer = await rawExchange(port, testCase.request());
      assert.equal(answer.status, testCase.status);
      if (testCase.body) assert.match(answer.body, testCase.body);
      for (const [name, value] of Object.entries(testCase.headers ?? {})) {
        assert.equal(answer.headers[name], value, name);
      }
      assert.equal(connections.length, 0);
      assert.equal(wss.clients.size, 0);
    });
  }

  it("a socket that hangs up mid-request does not disturb the server", async () => {
    const peer = await RawPeer.connect(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr");
    peer.destroy();
    await delay(10);
  });
});

describe("WebSocketServer wsClientError", () => {
  it("hands malformed requests to a listener, which answers them", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const seen: Array<{
      error: WebSocketHandshakeError;
      socket: Duplex;
      request: IncomingMessage;
    }> = [];
    wss.on("wsClientError", (error, socket, request) => {
      seen.push({ error, socket, request });
      socket.end("HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\nContent-Length: 4\r\n\r\nmine");
    });
    try {
      const port = await wssPort(wss);
      const answer = await rawExchange(
        port,
        upgradeRequest(port, { path: "/v8", headers: { "sec-websocket-version": "8" } }),
      );
      assert.equal(answer.status, 418);
      assert.equal(answer.body, "mine");
      assert.equal(seen.length, 1);
      assert.ok(seen[0].error instanceof WebSocketHandshakeError);
      assert.equal(seen[0].error.statusCode, 426);
      assert.equal(seen[0].error.headers["Sec-WebSocket-Version"], "13");
      assert.equal(seen[0].request.url, "/v8");
    } finally {
      await closeWss(wss);
    }
  });
});

describe("WebSocketServer handshake details", () => {
  it("writes a correct 101 and reads frames that came in the same packet as the request", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const messages: string[] = [];
    wss.on("connection", (socket) => socket.on("message", (data) => messages.push(String(data))));
    try {
      const port = await wssPort(wss);
      const key = "dGhlIHNhbXBsZSBub25jZQ==";
      const request = upgradeRequest(port, { headers: { "sec-websocket-key": key } });
      const peer = await RawPeer.connect(
        port,
        Buffer.concat([Buffer.from(request), maskedFrame(0x1, "early"), maskedFrame(0x1, "bird")]),
      );
      try {
        await eventually(() => messages.length === 2, "two messages");
        await peer.until(() => peer.response !== undefined, "the 101");
        assert.deepEqual(messages, ["early", "bird"]);
        assert.equal(peer.response?.status, 101);
        assert.equal(peer.response?.headers["sec-websocket-accept"], acceptFor(key));
        assert.equal(
          peer.response?.headers["sec-websocket-accept"],
          "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        );
        assert.equal(peer.response?.headers.upgrade?.toLowerCase(), "websocket");
        assert.equal(peer.response?.headers["sec-websocket-protocol"], undefined);
        assert.equal(peer.response?.headers["sec-websocket-extensions"], undefined);
      } finally {
        peer.destroy();
      }
    } finally {
      await closeWss(wss);
    }
  });

  it("keeps frames a client sends while an asynchronous verifyClient is still deciding", async () => {
    let approve: (() => void) | undefined;
    const wss = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      verifyClient: (_info, done) => {
        approve = () => done(true);
      },
    });
    const messages: string[] = [];
    wss.on("connection", (socket) => socket.on("message", (data) => messages.push(String(data))));
    try {
      const port = await wssPort(wss);
      const peer = await RawPeer.connect(port, upgradeRequest(port));
      await eventually(() => approve !== undefined, "verifyClient called");
      // Sent before the 101: a client must not, but the bytes must not be lost or misread either.
      peer.socket.write(maskedFrame(0x1, "impatient"));
      await delay(20);
      approve?.();
      try {
        await eventually(() => messages.length === 1, "the early message");
        assert.deepEqual(messages, ["impatient"]);
      } finally {
        peer.destroy();
      }
    } finally {
      await closeWss(wss);
    }
  });

  it("lets headers listeners add response headers", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    wss.on("headers", (headers, request) => {
      assert.match(headers[0], /^HTTP\/1\.1 101 /);
      headers.push(`Set-Cookie: session=${request.url === "/s" ? "abc" : "none"}`);
    });
    try {
      const port = await wssPort(wss);
      const peer = await RawPeer.upgrade(port, "/s");
      assert.equal(peer.response?.headers["set-cookie"], "session=abc");
      peer.destroy();
    } finally {
      await closeWss(wss);
    }
  });

  it("refuses with 500 when a headers listener adds a line that would split the response", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const errors: Error[] = [];
    wss.on("error", (error) => errors.push(error));
    wss.on("headers", (headers) => {
      headers.push("X-Evil: a\r\nSet-Cookie: injected=1");
    });
    let connected = 0;
    wss.on("connection", () => {
      connected++;
    });
    try {
      const port = await wssPort(wss);
      const answer = await rawExchange(port, upgradeRequest(port));
      assert.equal(answer.status, 500);
      assert.equal(answer.headers["set-cookie"], undefined);
      assert.equal(errors.length, 1);
      assert.equal(connected, 0);
    } finally {
      await closeWss(wss);
    }
  });

  it("forgets a client that hangs up while verifyClient is pending", async () => {
    let later: ((ok: boolean) => void) | undefined;
    const wss = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      verifyClient: (_info, done) => {
        later = done;
      },
    });
    let connected = 0;
    wss.on("connection", () => {
      connected++;
    });
    try {
      const port = await wssPort(wss);
      const peer = await RawPeer.connect(port, upgradeRequest(port));
      await eventually(() => later !== undefined, "verifyClient called");
      peer.destroy();
      await delay(20);
      later?.(true);
      await delay(20);
      assert.equal(connected, 0);
      assert.equal(wss.clients.size, 0);
    } finally {
      await closeWss(wss);
    }
  });

  it("refuses a second handleUpgrade with the same socket and reports it", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const errors: Error[] = [];
    wss.on("error", (error) => errors.push(error));
    http.on("upgrade", (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, (client) => wss.emit("connection", client, request));
      wss.handleUpgrade(request, socket, head, () => assert.fail("second callback"));
    });
    try {
      await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
      const address = http.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const connection = once(wss, "connection");
      const client = await openClient(`ws://127.0.0.1:${port}/`);
      await withTimeout(connection, 5000, "connection");
      assert.equal(errors.length, 1);
      assert.match(errors[0].message, /more than once/);
      client.close();
    } finally {
      await closeWss(wss);
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    }
  });
});

describe("WebSocketServer writes the 101 with what the connection listener sends", () => {
  it("the response and a greeting sent in the connection listener leave in one socket write", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    const writes: number[] = [];
    wss.on("connection", (ws, request) => {
      // Counted below the Writable: each call is one write (or writev) handed to the kernel.
      const socket = request.socket as Socket & {
        _write: (...args: unknown[]) => void;
        _writev: (...args: unknown[]) => void;
      };
      const write = socket._write.bind(socket);
      const writev = socket._writev.bind(socket);
      socket._write = (...args) => {
        writes.push(1);
        write(...args);
      };
      socket._writev = (chunks, ...rest) => {
        writes.push((chunks as unknown[]).length);
        writev(chunks, ...rest);
      };
      ws.send("hello");
    });
    try {
      const port = await wssPort(wss);
      const peer = await RawPeer.upgrade(port);
      await peer.until(() => peer.frames.length === 1, "greeting");
      assert.equal(peer.frames[0].payload.toString(), "hello");
      assert.deepEqual(writes, [2], "one writev: the 101 response and the frame");
      peer.destroy();
    } finally {
      await closeWss(wss);
    }
  });

  it("terminate() in the connection listener still sends the 101 before the socket goes", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    wss.on("connection", (ws) => ws.terminate());
    try {
      const port = await wssPort(wss);
      const peer = await RawPeer.connect(port, upgradeRequest(port));
      await peer.until(() => peer.ended, "socket closed");
      assert.equal(peer.response?.status, 101);
      assert.deepEqual(peer.frames, []);
    } finally {
      await closeWss(wss);
    }
  });

  it("a client closed in the connection listener gets the 101, then the close frame", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    wss.on("connection", (ws) => ws.close(4000, "bye"));
    try {
      const port = await wssPort(wss);
      const client = new WsClient(`ws://127.0.0.1:${port}/`);
      const opened = once(client, "open");
      const [code, reason] = (await withTimeout(once(client, "close"), 5000, "close")) as [
        number,
        Buffer,
      ];
      await opened;
      assert.equal(code, 4000);
      assert.equal(reason.toString(), "bye");
    } finally {
      await closeWss(wss);
    }
  });
});
