/**
 * Chromium's own WebSocket (the browser API, driven through playwright-core) against the
 * WebSocketServer under test: text, binary as ArrayBuffer and Blob, subprotocol selection, close
 * codes both ways, permessage-deflate, a 16 MiB message, and a refused handshake.
 *
 * Two servers in `noServer` mode share one HTTP server that also serves the page: /plain/* has no
 * deflate and refuses /plain/reject; /deflate/* negotiates permessage-deflate.
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { launchChromium, type RunningChromium } from "../helpers/chromium.js";
import { type WebSocket as SubjectWebSocket, WebSocketServer } from "../helpers/subject.js";
import { withTimeout } from "../helpers/timing.js";

/** What the server saw of one connection. */
interface Seen {
  path: string;
  protocol: string;
  extensions: string;
  pongs: string[];
  close?: { code: number; reason: string };
  socket: Socket;
}

describe("Chromium's WebSocket against the subject server", () => {
  let http: HttpServer;
  let plain: WebSocketServer;
  let deflate: WebSocketServer;
  let browser: RunningChromium;
  let origin: string;
  const seen: Seen[] = [];
  const closed: Array<() => void> = [];

  /** Resolves when the server saw the close of the `index`-th connection. */
  const serverClosed = (index: number) =>
    withTimeout(
      new Promise<Seen>((resolve) => {
        const check = () => (seen[index]?.close ? resolve(seen[index]) : closed.push(check));
        check();
      }),
      15000,
      "the server to see the close",
    );

  const onConnection = (socket: SubjectWebSocket, request: IncomingMessage) => {
    const record: Seen = {
      path: request.url ?? "",
      protocol: socket.protocol,
      extensions: socket.extensions,
      pongs: [],
      socket: request.socket as Socket,
    };
    seen.push(record);
    socket.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (text === "close-me") socket.close(4001, "server bye");
      else if (text === "ping-me") socket.ping("from-server");
      else socket.send(data as Buffer, { binary: isBinary });
    });
    socket.on("pong", (payload: Buffer) => {
      record.pongs.push(payload.toString());
      socket.send(`pong:${payload.toString()}`);
    });
    socket.on("close", (code: number, reason: Buffer) => {
      record.close = { code, reason: reason.toString() };
      for (const wake of closed.splice(0)) wake();
    });
  };

  before(async () => {
    const handleProtocols = (offered: Set<string>) => (offered.has("chat.v2") ? "chat.v2" : false);
    plain = new WebSocketServer({
      noServer: true,
      handleProtocols,
      maxPayload: 32 * 1024 * 1024,
      verifyClient: (info: { req: IncomingMessage }) => !info.req.url?.startsWith("/plain/reject"),
    });
    deflate = new WebSocketServer({
      noServer: true,
      handleProtocols,
      maxPayload: 32 * 1024 * 1024,
      perMessageDeflate: { threshold: 0 },
    });
    http = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><title>duplexio interop</title><p>interop</p>");
    });
    http.on("upgrade", (request: IncomingMessage, socket, head) => {
      const target = request.url?.startsWith("/deflate/") ? deflate : plain;
      target.handleUpgrade(request, socket, head, (ws) => onConnection(ws, request));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    origin = `127.0.0.1:${(http.address() as AddressInfo).port}`;
    browser = await launchChromium();
    await browser.page.goto(`http://${origin}/`, { timeout: 30000 });
  });

  after(async () => {
    await browser?.close();
    plain?.close();
    deflate?.close();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  it("text echo with the subprotocol the server picked; the server pings, the browser pongs", async () => {
    const result = await browser.page.evaluate(async (url) => {
      const ws = new WebSocket(url, ["chat.v1", "chat.v2"]);
      const messages: string[] = [];
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error("error before open"));
      });
      const next = () =>
        new Promise<string>((resolve) => {
          ws.onmessage = (event) => resolve(String(event.data));
        });
      let reply = next();
      ws.send("héllo κόσμε 𝄞");
      messages.push(await reply);
      reply = next();
      ws.send("ping-me");
      messages.push(await reply);
      const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) => {
        ws.onclose = (event) => resolve({ code: event.code, wasClean: event.wasClean });
      });
      ws.close(1000);
      return { protocol: ws.protocol, extensions: ws.extensions, messages, close: await closed };
    }, `ws://${origin}/plain/text`);
    assert.deepEqual(result, {
      protocol: "chat.v2",
      extensions: "",
      messages: ["héllo κόσμε 𝄞", "pong:from-server"],
      close: { code: 1000, wasClean: true },
    });
    const record = await serverClosed(seen.length - 1);
    assert.equal(record.protocol, "chat.v2");
    assert.deepEqual(record.pongs, ["from-server"]);
  });

  it("binary as ArrayBuffer and as Blob, sent as typed array, ArrayBuffer and Blob", async () => {
    const result = await browser.page.evaluate(async (url) => {
      const ws = new WebSocket(url);
      await new Promise((resolve) => {
        ws.onopen = resolve;
      });
      const next = () =>
        new Promise<unknown>((resolve) => {
          ws.onmessage = (event) => resolve(event.data);
        });
      const bytes = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
      const out: Array<{ kind: string; bytes: number[] }> = [];

      ws.binaryType = "arraybuffer";
      let reply = next();
      ws.send(bytes);
      let data = await reply;
      out.push({
        kind: Object.prototype.toString.call(data),
        bytes: Array.from(new Uint8Array(data as ArrayBuffer)),
      });

      reply = next();
      ws.send(bytes.buffer);
      data = await reply;
      out.push({
        kind: Object.prototype.toString.call(data),
        bytes: Array.from(new Uint8Array(data as ArrayBuffer)),
      });

      ws.binaryType = "blob";
      reply = next();
      ws.send(new Blob([bytes.subarray(0, 100), bytes.subarray(100)]));
      data = await reply;
      out.push({
        kind: Object.prototype.toString.call(data),
        bytes: Array.from(new Uint8Array(await (data as Blob).arrayBuffer())),
      });

      reply = next();
      ws.send(new Uint8Array(0));
      data = await reply;
      out.push({ kind: Object.prototype.toString.call(data), bytes: [] });
      ws.close();
      return { expected: Array.from(bytes), out, emptySize: (data as Blob).size };
    }, `ws://${origin}/plain/binary`);
    assert.deepEqual(
      result.out.map((o) => o.kind),
      ["[object ArrayBuffer]", "[object ArrayBuffer]", "[object Blob]", "[object Blob]"],
    );
    for (const o of result.out.slice(0, 3)) assert.deepEqual(o.bytes, result.expected);
    assert.equal(result.emptySize, 0);
  });

  it("the page closes with 4000 and a reason: the server sees them, the page sees a clean close", async () => {
    const result = await browser.page.evaluate(async (url) => {
      const ws = new WebSocket(url);
      await new Promise((resolve) => {
        ws.onopen = resolve;
      });
      const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
        ws.onclose = (event) =>
          resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      });
      ws.close(4000, "page bye");
      return closed;
    }, `ws://${origin}/plain/page-close`);
    assert.equal(result.code, 4000);
    assert.equal(result.wasClean, true);
    const record = await serverClosed(seen.length - 1);
    assert.deepEqual(record.close, { code: 4000, reason: "page bye" });
  });

  it("the server closes with 4001 and a reason: the page sees code, reason, wasClean", async () => {
    const result = await browser.page.evaluate(async (url) => {
      const ws = new WebSocket(url);
      await new Promise((resolve) => {
        ws.onopen = resolve;
      });
      const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
        ws.onclose = (event) =>
          resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      });
      ws.send("close-me");
      return closed;
    }, `ws://${origin}/plain/server-close`);
    assert.deepEqual(result, { code: 4001, reason: "server bye", wasClean: true });
    const record = await serverClosed(seen.length - 1);
    assert.equal(record.close?.code, 4001);
  });

  it("permessage-deflate: negotiated, large compressible messages round trip compressed", async () => {
    const before = seen.length;
    const result = await browser.page.evaluate(async (url) => {
      const ws = new WebSocket(url, ["chat.v2"]);
      await new Promise((resolve) => {
        ws.onopen = resolve;
      });
      const words = ["duplex", "socket", "frame", "deflate", "κόσμε", "echo"];
      const parts: string[] = [];
      for (let i = 0; parts.length < 200000; i++) parts.push(`${words[i % 6]}${i % 101}`);
      const text = parts.join(" ");
      const results: boolean[] = [];
      for (const size of [10, 5000, 100000, text.length]) {
        const sent = text.slice(0, size);
        const reply = new Promise<string>((resolve) => {
          ws.onmessage = (event) => resolve(String(event.data));
        });
        ws.send(sent);
        results.push((await reply) === sent);
      }
      ws.close();
      return { extensions: ws.extensions, results, length: new TextEncoder().encode(text).length };
    }, `ws://${origin}/deflate/compressed`);
    assert.match(result.extensions, /permessage-deflate/);
    assert.deepEqual(result.results, [true, true, true, true]);
    const record = await serverClosed(before);
    assert.match(record.extensions, /permessage-deflate/);
    const received = record.socket.bytesRead;
    const sent = record.socket.bytesWritten;
    const payload = result.length + 100000 + 5000 + 10;
    assert.ok(received < payload / 3, `the browser sent ${received} bytes for ${payload} of text`);
    assert.ok(sent < payload / 3, `the server sent ${sent} bytes for ${payload} of text`);
  });

  it("a 16 MiB binary message round trips intact", async () => {
    const result = await browser.page.evaluate(async (url) => {
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      await new Promise((resolve) => {
        ws.onopen = resolve;
      });
      const size = 16 * 1024 * 1024;
      const sent = new Uint8Array(size);
      for (let i = 0; i < size; i += 4) new DataView(sent.buffer).setUint32(i, i ^ 0x5a5a5a5a);
      const reply = new Promise<ArrayBuffer>((resolve) => {
        ws.onmessage = (event) => resolve(event.data as ArrayBuffer);
      });
      ws.send(sent);
      const got = new Uint8Array(await reply);
      const digest = async (bytes: Uint8Array) =>
        Array.from(
          new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
        ).join(",");
      const same = got.length === size && (await digest(got)) === (await digest(sent));
      ws.close();
      return { length: got.length, same };
    }, `ws://${origin}/plain/big`);
    assert.deepEqual(result, { length: 16 * 1024 * 1024, same: true });
  });

  it("a refused handshake: error event, then close 1006 not clean, never open", async () => {
    const result = await browser.page.evaluate(async (url) => {
      const ws = new WebSocket(url);
      const events: string[] = [];
      ws.onopen = () => events.push("open");
      ws.onerror = () => events.push("error");
      const closed = await new Promise<{ code: number; wasClean: boolean }>((resolve) => {
        ws.onclose = (event) => {
          events.push("close");
          resolve({ code: event.code, wasClean: event.wasClean });
        };
      });
      return { events, ...closed, readyState: ws.readyState };
    }, `ws://${origin}/plain/reject`);
    assert.deepEqual(result, {
      events: ["error", "close"],
      code: 1006,
      wasClean: false,
      readyState: 3,
    });
  });
});
