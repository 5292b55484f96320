/**
 * ws's connection options, each run side by side against ws with the same scenario and the same
 * observable result: `maxPendingAutoPongs`, `skipUTF8Validation`, `allowSynchronousEvents` and
 * the `WebSocket` class option of the server; `generateMask`, `finishRequest` and the `redirect`
 * event of the client.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import {
  type ClientRequest,
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  ClientRequest as NodeClientRequest,
} from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { WebSocket as WsClient, WebSocketServer as WsServer, type WebSocket as WsSocket } from "ws";
import { WebSocketServer } from "../../src/websocket/server.js";
import { WebSocket } from "../../src/websocket/websocket.js";
import { closeWss, delay, eventually, RawPeer, withTimeout } from "./server-helpers.js";
import { buildFrame, closePayload, startRawServer } from "./websocket-test-helpers.js";

/** The observable side of a server connection, whichever library made it. */
interface ServerSide {
  port: number;
  /** Resolves with the next connection. */
  connection(): Promise<WsSocket | WebSocket>;
  close(): Promise<void>;
}

type Library = "ws" | "duplexio";

/** A server of either library with the same options (ws's names). */
async function startServer(
  library: Library,
  options: Record<string, unknown>,
): Promise<ServerSide> {
  const waiting: ((socket: WsSocket | WebSocket) => void)[] = [];
  if (library === "ws") {
    const wss = new WsServer({ host: "127.0.0.1", port: 0, ...options });
    await once(wss, "listening");
    wss.on("connection", (socket) => waiting.shift()?.(socket));
    return {
      port: (wss.address() as AddressInfo).port,
      connection: () => new Promise((resolve) => waiting.push(resolve)),
      close: () =>
        new Promise<void>((resolve) => {
          for (const client of wss.clients) client.terminate();
          wss.close(() => resolve());
        }),
    };
  }
  // No send-buffer limit: ws has none, and the scenarios fill the socket on purpose.
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxBufferedAmount: 0, ...options });
  await once(wss, "listening");
  wss.on("connection", (socket) => waiting.shift()?.(socket));
  return {
    port: (wss.address() as AddressInfo).port,
    connection: () => new Promise((resolve) => waiting.push(resolve)),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await closeWss(wss);
    },
  };
}

const LIBRARIES: Library[] = ["ws", "duplexio"];

describe("maxPendingAutoPongs (server)", () => {
  /**
   * The server fills the socket of a peer that does not read (16 MiB), then the peer sends 100
   * pings: the pongs cannot be written. Returns the pings the server saw and whether it dropped
   * the connection.
   */
  async function flood(library: Library, options: Record<string, unknown>) {
    const server = await startServer(library, options);
    const accepted = server.connection();
    const peer = await RawPeer.upgrade(server.port);
    const socket = await accepted;
    peer.socket.pause();
    let pings = 0;
    let closed = false;
    socket.on("ping", () => {
      pings++;
    });
    socket.on("close", () => {
      closed = true;
    });
    socket.send(Buffer.alloc(16 * 1024 * 1024));
    await delay(50);
    for (let i = 0; i < 100; i++) peer.send(0x9, `ping ${i}`);
    await eventually(() => closed || pings === 100, "pings or close");
    await delay(50);
    const outcome = { closed, pings };
    peer.destroy();
    await server.close();
    return outcome;
  }

  for (const library of LIBRARIES) {
    test(`${library}: the default (60) terminates a peer that pings without reading`, async () => {
      const { closed, pings } = await flood(library, {});
      assert.equal(closed, true);
      // ws still emits the pings already read in the same chunk; duplexio stops at the 61st.
      assert.ok(pings >= 61, `${pings} pings`);
    });
    test(`${library}: 0 never terminates it`, async () => {
      assert.deepEqual(await flood(library, { maxPendingAutoPongs: 0 }), {
        pings: 100,
        closed: false,
      });
    });
  }

  for (const library of LIBRARIES) {
    test(`${library}: only unwritten pongs count: a peer that reads is never cut`, async () => {
      const server = await startServer(library, { maxPendingAutoPongs: 2 });
      const accepted = server.connection();
      const peer = await RawPeer.upgrade(server.port);
      await accepted;
      for (let i = 1; i <= 50; i++) {
        peer.send(0x9, `ping ${i}`);
        await peer.until(() => peer.frames.length === i, `pong ${i}`);
      }
      assert.ok(peer.frames.every((frame) => frame.opcode === 0xa));
      assert.equal(peer.ended, false);
      peer.destroy();
      await server.close();
    });
  }
});

describe("skipUTF8Validation (server)", () => {
  const invalid = Buffer.from([0x68, 0x69, 0xff, 0xfe]);

  async function sendInvalid(library: Library, options: Record<string, unknown>) {
    const server = await startServer(library, options);
    const accepted = server.connection();
    const peer = await RawPeer.upgrade(server.port);
    const socket = await accepted;
    // ws reports the 1007 as an error event.
    socket.on("error", () => {});
    const messages: string[] = [];
    socket.on("message", (data) => messages.push((data as Buffer).toString("hex")));
    peer.socket.write(buildFrame(0x1, invalid, { mask: true }));
    // A close frame whose reason is not UTF-8 either.
    peer.socket.write(
      buildFrame(0x8, Buffer.concat([closePayload(4000), invalid]), { mask: true }),
    );
    await peer.until(() => peer.frames.some((frame) => frame.opcode === 0x8), "close frame");
    const close = peer.frames.find((frame) => frame.opcode === 0x8)!;
    peer.destroy();
    await server.close();
    return { messages, closeCode: close.payload.readUInt16BE(0) };
  }

  for (const library of LIBRARIES) {
    test(`${library}: by default invalid UTF-8 fails the connection with 1007`, async () => {
      assert.deepEqual(await sendInvalid(library, {}), { messages: [], closeCode: 1007 });
    });
    test(`${library}: with skipUTF8Validation the bytes are delivered as they are`, async () => {
      assert.deepEqual(await sendInvalid(library, { skipUTF8Validation: true }), {
        messages: [invalid.toString("hex")],
        closeCode: 4000,
      });
    });
  }

  /** A compressed text message of invalid UTF-8 from ws's client; what the server delivered. */
  async function sendCompressedInvalid(library: Library, options: Record<string, unknown>) {
    const server = await startServer(library, { perMessageDeflate: { threshold: 0 }, ...options });
    const accepted = server.connection();
    const client = new WsClient(`ws://127.0.0.1:${server.port}/`, {
      perMessageDeflate: { threshold: 0 },
    });
    client.on("error", () => {});
    const socket = await accepted;
    socket.on("error", () => {});
    const messages: string[] = [];
    socket.on("message", (data) => messages.push((data as Buffer).toString("hex")));
    await once(client, "open");
    assert.match(client.extensions, /permessage-deflate/);
    const closed = once(client, "close");
    client.send(invalid, { binary: false, compress: true });
    // With the check skipped the message is delivered and the client closes normally after it.
    await eventually(() => messages.length > 0 || client.readyState !== WsClient.OPEN, "outcome");
    if (client.readyState === WsClient.OPEN) client.close(1000);
    const [code] = await withTimeout(closed, 5000, "close");
    await server.close();
    return { messages, closeCode: code as number };
  }

  for (const library of LIBRARIES) {
    test(`${library}: compressed messages follow the same rule`, async () => {
      assert.deepEqual(await sendCompressedInvalid(library, {}), { messages: [], closeCode: 1007 });
      assert.deepEqual(await sendCompressedInvalid(library, { skipUTF8Validation: true }), {
        messages: [invalid.toString("hex")],
        closeCode: 1000,
      });
    });
  }

  test("duplexio client: skipUTF8Validation delivers a server's invalid text", async () => {
    const raw = await startRawServer();
    const next = raw.nextConnection();
    const client = new WebSocket(raw.url, { skipUTF8Validation: true });
    const { socket } = await next;
    const message = once(client, "message");
    socket.write(buildFrame(0x1, invalid));
    const [data] = await withTimeout(message, 5000, "message");
    assert.deepEqual(data, invalid);
    client.terminate();
    await raw.close();
  });
});

describe("allowSynchronousEvents (server)", () => {
  /** Three messages in one write; a listener queues a nextTick at each. Returns the order. */
  async function order(library: Library, options: Record<string, unknown>) {
    const server = await startServer(library, options);
    const accepted = server.connection();
    const peer = await RawPeer.upgrade(server.port);
    const socket = await accepted;
    const seen: string[] = [];
    socket.on("message", (data) => {
      const text = String(data);
      seen.push(`message ${text}`);
      process.nextTick(() => seen.push(`tick ${text}`));
    });
    socket.on("ping", () => {
      seen.push("ping");
      process.nextTick(() => seen.push("tick ping"));
    });
    peer.socket.write(
      Buffer.concat([
        buildFrame(0x1, "a", { mask: true }),
        buildFrame(0x9, "", { mask: true }),
        buildFrame(0x1, "b", { mask: true }),
      ]),
    );
    await eventually(() => seen.length === 6, "three events and their ticks");
    peer.destroy();
    await server.close();
    return seen;
  }

  for (const library of LIBRARIES) {
    test(`${library}: default (true) emits events of one read in one turn`, async () => {
      assert.deepEqual(await order(library, {}), [
        "message a",
        "ping",
        "message b",
        "tick a",
        "tick ping",
        "tick b",
      ]);
    });
    test(`${library}: false emits one per turn`, async () => {
      assert.deepEqual(await order(library, { allowSynchronousEvents: false }), [
        "message a",
        "tick a",
        "ping",
        "tick ping",
        "message b",
        "tick b",
      ]);
    });
  }
});

describe("the WebSocket class option (server)", () => {
  class MyWs extends WsClient {
    greet(): string {
      return `hello from ${this.constructor.name}`;
    }
  }
  class MyWebSocket extends WebSocket {
    greet(): string {
      return `hello from ${this.constructor.name}`;
    }
  }

  test("ws: connections are instances of the given class", async () => {
    const wss = new WsServer<typeof MyWs>({ host: "127.0.0.1", port: 0, WebSocket: MyWs });
    await once(wss, "listening");
    const connected = once(wss, "connection") as Promise<[MyWs]>;
    const client = new WsClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    const [socket] = await connected;
    await once(client, "open");
    assert.equal(socket.greet(), "hello from MyWs");
    assert.ok([...wss.clients].every((c) => c instanceof MyWs));
    client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  test("duplexio: connections are instances of the given class, typed so", async () => {
    const wss = new WebSocketServer<typeof MyWebSocket>({
      host: "127.0.0.1",
      port: 0,
      WebSocket: MyWebSocket,
    });
    await once(wss, "listening");
    const greetings: string[] = [];
    // The listener's parameter is a MyWebSocket (a compile error otherwise).
    wss.on("connection", (socket) => {
      greetings.push(socket.greet());
      socket.send("hi");
    });
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    const [data] = await withTimeout(once(client, "message"), 5000, "message");
    assert.equal(String(data), "hi");
    assert.deepEqual(greetings, ["hello from MyWebSocket"]);
    const clients: MyWebSocket[] = [...wss.clients];
    assert.ok(clients[0] instanceof MyWebSocket && clients[0].readyState === WebSocket.OPEN);
    client.close();
    await closeWss(wss);
  });

  test("duplexio: a class that is not WebSocket is refused at construction", () => {
    assert.throws(
      () =>
        new WebSocketServer({
          noServer: true,
          WebSocket: class {} as unknown as typeof WebSocket,
        }),
      TypeError,
    );
  });

  test("duplexio: the request class generic types handleUpgrade and connection", () => {
    class MyRequest extends (createServer().constructor as never as typeof IncomingMessage) {}
    const wss = new WebSocketServer<typeof WebSocket, typeof MyRequest>({ noServer: true });
    const check: (request: MyRequest) => boolean = (request) => wss.shouldHandle(request);
    assert.equal(typeof check, "function");
    wss.on("connection", (_socket, request: MyRequest) => request);
    wss.close();
  });
});

describe("client options", () => {
  type Client = WsClient | WebSocket;
  function client(library: Library, url: string, options: Record<string, unknown>): Client {
    return library === "ws" ? new WsClient(url, options) : new WebSocket(url, options);
  }

  for (const library of LIBRARIES) {
    test(`${library}: generateMask's key is applied (zero key: the payload is sent as it is)`, async () => {
      const raw = await startRawServer();
      for (const key of [
        [0, 0, 0, 0],
        [1, 2, 3, 4],
      ]) {
        const next = raw.nextConnection();
        const ws = client(library, raw.url, {
          perMessageDeflate: false,
          generateMask: (mask: Buffer) => mask.set(key),
        });
        const { reader } = await next;
        await once(ws, "open");
        ws.send("hello");
        const frame = await reader.next();
        assert.equal(frame?.payload.toString(), "hello", "unmasked with the key on the wire");
        const wire = Buffer.concat(reader.chunks);
        assert.deepEqual([...wire.subarray(2, 6)], key, "the key on the wire");
        const expected = Buffer.from("hello").map((byte, i) => byte ^ key[i & 3]);
        assert.deepEqual(wire.subarray(6, 11), Buffer.from(expected));
        ws.terminate();
      }
      await raw.close();
    });

    test(`${library}: finishRequest ends the request itself, with the websocket`, async () => {
      const raw = await startRawServer();
      const next = raw.nextConnection();
      let given: unknown = null;
      const ws = client(library, raw.url, {
        finishRequest: (request: ClientRequest, socket: unknown) => {
          given = socket;
          request.setHeader("X-Late", "set in finishRequest");
          request.end();
        },
      });
      const { request } = await next;
      await once(ws, "open");
      assert.equal(request.headers["x-late"], "set in finishRequest");
      assert.equal(given, ws);
      ws.terminate();
      await raw.close();
    });
  }

  /** An HTTP server that redirects every request to `target` + its path. */
  async function redirector(target: () => string): Promise<{ server: HttpServer; url: string }> {
    const server = createServer((request, response) => {
      response.writeHead(302, { Location: `${target()}${request.url}` });
      response.end();
    });
    server.on("upgrade", (request, socket) => {
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${target()}${request.url}\r\n\r\n`);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  for (const library of LIBRARIES) {
    test(`${library}: the redirect event, and who decides about credentials`, async () => {
      const raw = await startRawServer();
      // Another host for the same server: credentials are dropped unless a listener decides.
      const other = `ws://localhost:${raw.port}`;
      const hop = await redirector(() => other);
      const outcome: unknown[] = [];
      for (const listen of [false, true]) {
        const next = raw.nextConnection();
        const ws = client(library, `${hop.url}/path?q=1`, {
          followRedirects: true,
          headers: { Authorization: "Bearer secret" },
        });
        if (listen) {
          ws.on("redirect", (url: string, request: ClientRequest) => {
            outcome.push(url, request instanceof NodeClientRequest, request.headersSent);
          });
        }
        const { request } = await next;
        await once(ws, "open");
        outcome.push(ws.url, request.headers.authorization ?? null);
        ws.terminate();
      }
      assert.deepEqual(outcome, [
        `${other}/path?q=1`,
        null,
        `${other}/path?q=1`,
        true,
        false,
        `${other}/path?q=1`,
        "Bearer secret",
      ]);
      hop.server.close();
      await raw.close();
    });

    test(`${library}: more redirects than maxRedirects fail the handshake`, async () => {
      let hop: { server: HttpServer; url: string } | null = null;
      hop = await redirector(() => hop!.url);
      const ws = client(library, hop.url, { followRedirects: true, maxRedirects: 2 });
      let redirects = 0;
      ws.on("redirect", () => {
        redirects++;
      });
      const [error] = (await withTimeout(once(ws, "error"), 5000, "error")) as [Error];
      assert.equal(error.message, "Maximum redirects exceeded");
      assert.equal(redirects, 2);
      hop.server.close();
    });
  }
});
