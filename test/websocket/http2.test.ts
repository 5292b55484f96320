/**
 * WebSockets over HTTP/2 (RFC 8441): `WebSocketServer` and the Socket.IO server on a Node
 * `http2.createSecureServer({ allowHTTP1: true })`, HTTP/1.1 upgrades on the same port,
 * permessage-deflate, the handshake checks (path, verifyClient, origins, subprotocols, limits),
 * and Autobahn-style echo checks with duplexio's client over HTTP/2 (no other Node peer speaks
 * it; Chromium's side is test/browser/websocket-http2.test.ts). Certificates are made for the run.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import {
  type ClientHttp2Session,
  createServer as createCleartextServer,
  createSecureServer,
  type Http2SecureServer,
  connect as http2Connect,
  type ServerHttp2Session,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Server as SocketIoServer } from "../../src/server/index.js";
import { WebSocketServer } from "../../src/websocket/server.js";
import { WebSocket } from "../../src/websocket/websocket.js";
import { makeTestPki, type TestPki } from "../client/node/tls-certs.js";
import { withTimeout } from "./server-helpers.js";

let pki: TestPki;
let server: Http2SecureServer;
let wss: WebSocketServer;
let port = 0;
const sessions = new Set<ServerHttp2Session>();
/** httpVersion of each accepted request, in order. */
const versions: string[] = [];
/** The connection (TLS socket) each accepted request came on, in order. */
const transports: unknown[] = [];

before(async () => {
  pki = makeTestPki();
  server = createSecureServer({ allowHTTP1: true, cert: pki.rogueCert, key: pki.rogueKey });
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  wss = new WebSocketServer({
    server,
    path: "/echo",
    perMessageDeflate: { threshold: 16 },
    maxPayload: 2 * 1024 * 1024,
    // Browsers' origins are checked; Node clients that send none are let in.
    allowedOrigins: (origin) => origin === undefined || origin === "https://allowed.example",
    handleProtocols: (protocols) => (protocols.has("echo.v2") ? "echo.v2" : false),
    verifyClient: ({ req }) => req.headers["x-refuse"] === undefined,
  });
  wss.on("connection", (socket, request: IncomingMessage) => {
    versions.push(request.httpVersion);
    transports.push(request.socket);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  for (const session of sessions) session.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  pki.remove();
});

function url(path = "/echo"): string {
  return `wss://localhost:${port}${path}`;
}

/** A client over HTTP/2 (or HTTP/1.1) trusting the run's certificate. */
function client(
  options: ConstructorParameters<typeof WebSocket>[2] = {},
  path = "/echo",
  protocols?: string[],
): WebSocket {
  return new WebSocket(url(path), protocols, { ca: pki.rogueCert, http2: true, ...options });
}

async function open(socket: WebSocket): Promise<WebSocket> {
  const failed = once(socket, "error").then(([error]) => {
    throw error;
  });
  await withTimeout(Promise.race([once(socket, "open"), failed]), 5000, "open");
  return socket;
}

async function echo(socket: WebSocket, data: string | Buffer): Promise<Buffer> {
  const reply = once(socket, "message");
  socket.send(data);
  const [message] = await withTimeout(reply, 5000, "echo");
  return message as Buffer;
}

async function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  const [code, reason] = await withTimeout(once(socket, "close"), 5000, "close");
  return { code: code as number, reason: String(reason) };
}

async function refusedWith(socket: WebSocket): Promise<string> {
  const [error] = await withTimeout(once(socket, "error"), 5000, "error");
  return (error as Error).message;
}

describe("WebSocketServer on an http2 server", () => {
  test("HTTP/2 and HTTP/1.1 clients on the same port, the same handler", async () => {
    versions.length = 0;
    const h2 = await open(client());
    const h1 = await open(client({ http2: false }));
    assert.equal((await echo(h2, "over h2")).toString(), "over h2");
    assert.equal((await echo(h1, "over h1")).toString(), "over h1");
    assert.deepEqual(versions, ["2.0", "1.1"]);
    h2.close();
    h1.close();
    assert.equal((await closed(h2)).code, 1005);
    await closed(h1);
  });

  test("permessage-deflate is negotiated over HTTP/2 as over HTTP/1.1", async () => {
    const socket = await open(client());
    assert.match(socket.extensions, /^permessage-deflate/);
    const text = "compressible ".repeat(10_000);
    assert.equal((await echo(socket, text)).toString(), text);
    socket.close();
    await closed(socket);
  });

  test("subprotocols are selected by handleProtocols", async () => {
    const socket = await open(client({}, "/echo", ["echo.v1", "echo.v2"]));
    assert.equal(socket.protocol, "echo.v2");
    socket.terminate();
  });

  test("refusals are HTTP/2 statuses: path 404, verifyClient 401, origin 403", async () => {
    assert.equal(await refusedWith(client({}, "/elsewhere")), "Unexpected server response: 404");
    assert.equal(
      await refusedWith(client({ headers: { "X-Refuse": "1" } })),
      "Unexpected server response: 401",
    );
    assert.equal(
      await refusedWith(client({ origin: "https://evil.example" })),
      "Unexpected server response: 403",
    );
    await open(client({ origin: "https://allowed.example" })).then((socket) => socket.terminate());
  });

  test("maxPayload applies: a larger message gets 1009", async () => {
    const socket = await open(client());
    socket.send(Buffer.alloc(3 * 1024 * 1024));
    assert.equal((await closed(socket)).code, 1009);
  });

  test("several WebSockets share one HTTP/2 session of the application's", async () => {
    const session: ClientHttp2Session = http2Connect(`https://localhost:${port}`, {
      ca: pki.rogueCert,
    });
    transports.length = 0;
    const sockets = await Promise.all(
      [1, 2, 3].map(() => open(new WebSocket(url(), { http2: session }))),
    );
    const replies = await Promise.all(sockets.map((socket, i) => echo(socket, `socket ${i}`)));
    assert.deepEqual(replies.map(String), ["socket 0", "socket 1", "socket 2"]);
    assert.equal(transports.length, 3);
    assert.equal(new Set(transports).size, 1, "one connection for the three");
    for (const socket of sockets) socket.close();
    await Promise.all(sockets.map(closed));
    session.close();
  });

  test("a server without SETTINGS_ENABLE_CONNECT_PROTOCOL is refused by the client", async () => {
    const plain = createSecureServer({ cert: pki.rogueCert, key: pki.rogueKey });
    plain.listen(0, "127.0.0.1");
    await once(plain, "listening");
    const socket = new WebSocket(`wss://localhost:${(plain.address() as AddressInfo).port}/`, {
      ca: pki.rogueCert,
      http2: true,
    });
    assert.match(await refusedWith(socket), /SETTINGS_ENABLE_CONNECT_PROTOCOL/);
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  });
});

describe("cleartext HTTP/2 (h2c)", () => {
  test("a ws: URL with http2: true speaks HTTP/2 with prior knowledge", async () => {
    const h2c = createCleartextServer();
    const cleartext = new WebSocketServer({ server: h2c });
    cleartext.on("connection", (socket, request: IncomingMessage) => {
      socket.send(`hello over ${request.httpVersion}`);
    });
    h2c.listen(0, "127.0.0.1");
    await once(h2c, "listening");
    const socket = new WebSocket(`ws://127.0.0.1:${(h2c.address() as AddressInfo).port}/`, {
      http2: true,
    });
    const [message] = await withTimeout(once(socket, "message"), 5000, "greeting");
    assert.equal(String(message), "hello over 2.0");
    socket.close();
    await closed(socket);
    await new Promise<void>((resolve) => cleartext.close(() => resolve()));
    await new Promise<void>((resolve) => h2c.close(() => resolve()));
  });
});

describe("Autobahn-style echo over HTTP/2", () => {
  let socket: WebSocket;
  before(async () => {
    // No compression: the frames are the sizes sent.
    socket = await open(client({ perMessageDeflate: false }));
  });
  after(() => socket.terminate());

  for (const size of [0, 125, 126, 65_535, 65_536, 1024 * 1024]) {
    test(`text and binary of ${size} bytes`, async () => {
      const text = "é".repeat(Math.floor(size / 2)) + (size % 2 ? "a" : "");
      assert.equal((await echo(socket, text)).toString(), text);
      const binary = Buffer.alloc(size, 0xa5);
      assert.deepEqual(await echo(socket, binary), binary);
    });
  }

  test("a fragmented message arrives whole", async () => {
    const reply = once(socket, "message");
    socket.send("frag", { fin: false });
    socket.send("men", { fin: false });
    socket.send("ted", { fin: true });
    const [data] = await withTimeout(reply, 5000, "fragmented echo");
    assert.equal(String(data), "fragmented");
  });

  test("ping gets its pong, with the payload", async () => {
    const pong = once(socket, "pong");
    socket.ping("are you there");
    const [payload] = await withTimeout(pong, 5000, "pong");
    assert.equal(String(payload), "are you there");
  });
});

describe("closing over HTTP/2", () => {
  for (const [code, reason] of [
    [1000, ""],
    [3000, "app code"],
    [4999, "last private code"],
  ] as const) {
    test(`close ${code} is echoed`, async () => {
      const socket = await open(client());
      socket.close(code, reason);
      assert.deepEqual(await closed(socket), { code, reason });
    });
  }

  test("invalid UTF-8 in a text message gets 1007", async () => {
    const socket = await open(client({ perMessageDeflate: false }));
    socket.send(Buffer.from([0x68, 0xc0, 0xaf]), { binary: false });
    assert.equal((await closed(socket)).code, 1007);
  });
});

describe("the Socket.IO server on an http2 server", () => {
  test("a WebSocket over HTTP/2 opens an Engine.IO session and joins the namespace", async () => {
    const h2 = createSecureServer({ allowHTTP1: true, cert: pki.rogueCert, key: pki.rogueKey });
    const io = new SocketIoServer(h2 as never);
    const joined = once(io, "connection");
    h2.listen(0, "127.0.0.1");
    await once(h2, "listening");
    const address = `wss://localhost:${(h2.address() as AddressInfo).port}`;
    const socket = new WebSocket(`${address}/socket.io/?EIO=4&transport=websocket`, {
      ca: pki.rogueCert,
      http2: true,
    });
    const packets: string[] = [];
    socket.on("message", (data) => packets.push(String(data)));
    await open(socket);
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (packets.length > 0) resolve();
          else setTimeout(check, 5);
        };
        check();
      }),
      5000,
      "open packet",
    );
    assert.match(packets[0], /^0\{"sid":/);
    socket.send("40");
    const [ioSocket] = (await withTimeout(joined, 5000, "connection")) as [
      { conn: { transport: { name: string } } },
    ];
    assert.equal(ioSocket.conn.transport.name, "websocket");
    socket.close();
    await closed(socket);
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });
});
