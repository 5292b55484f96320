/**
 * Chromium's page WebSockets over the page's own HTTP/2 connection (RFC 8441), against
 * `WebSocketServer` and the Socket.IO server on `http2.createSecureServer({ allowHTTP1: true })`.
 * The certificate is made for the run and trusted through `--ignore-certificate-errors-spki-list`
 * (Chromium then treats the connection as a valid TLS one); no flag is needed for WebSockets over
 * HTTP/2 itself. The server records every HTTP/2 stream with its session, so the tests see which
 * connection the WebSocket used.
 */

import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Server as SocketIoServer } from "../../src/server/index.js";
import { WebSocketServer } from "../../src/websocket/server.js";
import { makeTestPki, type TestPki } from "../client/node/tls-certs.js";
import { launchChromium, type RunningChromium } from "../helpers/chromium.js";

let pki: TestPki;
let browser: RunningChromium;

before(async () => {
  pki = makeTestPki();
  const spki = createHash("sha256")
    .update(createPublicKey(pki.rogueCert).export({ type: "spki", format: "der" }))
    .digest("base64");
  browser = await launchChromium(60_000, [`--ignore-certificate-errors-spki-list=${spki}`]);
});

after(async () => {
  await browser?.close();
  pki?.remove();
});

/** One HTTP/2 stream the server saw. */
interface StreamRecord {
  session: Http2Session;
  method: string;
  protocol: string | undefined;
  path: string;
}

/** An http2 server (HTTP/1.1 allowed) serving `pages` at their paths, recording its streams. */
async function startServer(pages: Record<string, { type: string; body: string | Buffer }>) {
  const server: Http2SecureServer = createSecureServer({
    allowHTTP1: true,
    cert: pki.rogueCert,
    key: pki.rogueKey,
  });
  const streams: StreamRecord[] = [];
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers: IncomingHttpHeaders) => {
    streams.push({
      session: stream.session!,
      method: String(headers[":method"]),
      protocol: headers[":protocol"] as string | undefined,
      path: String(headers[":path"]),
    });
  });
  server.on("request", (request, response) => {
    const page = pages[request.url];
    if (page === undefined) return;
    response.writeHead(200, { "content-type": page.type });
    response.end(page.body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    server,
    streams,
    origin: `https://localhost:${(server.address() as AddressInfo).port}`,
    async close(): Promise<void> {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const PAGE = { type: "text/html", body: "<!doctype html><title>h2</title>" };

/** In the page: opens a WebSocket to `url`, sends "hello", resolves with the echo (or why not). */
function pageEcho(url: string): string {
  return `new Promise((resolve) => {
    const ws = new WebSocket(${JSON.stringify(url)});
    ws.binaryType = "arraybuffer";
    ws.onopen = () => ws.send("hello");
    ws.onmessage = (event) => { resolve(String(event.data) + " " + ws.extensions); ws.close(); };
    ws.onerror = () => resolve("error");
    setTimeout(() => resolve("timeout"), 5000);
  })`;
}

describe("Chromium over HTTP/2 with WebSocketServer", () => {
  test("the page's WebSocket is a stream of the page's HTTP/2 connection", async () => {
    const site = await startServer({ "/": PAGE });
    const wss = new WebSocketServer({
      server: site.server,
      path: "/echo",
      perMessageDeflate: true,
    });
    const versions: string[] = [];
    wss.on("connection", (socket, request) => {
      versions.push(request.httpVersion);
      socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    try {
      const response = await browser.page.goto(`${site.origin}/`);
      assert.equal(response?.status(), 200);
      const echoed = await browser.page.evaluate(
        pageEcho(`wss://localhost:${new URL(site.origin).port}/echo`),
      );
      assert.equal(echoed, "hello permessage-deflate");
      assert.deepEqual(versions, ["2.0"]);
      const page = site.streams.find((s) => s.method === "GET" && s.path === "/");
      const websocket = site.streams.find((s) => s.method === "CONNECT");
      assert.ok(page && websocket, "a page stream and a CONNECT stream");
      assert.equal(websocket.protocol, "websocket");
      assert.equal(websocket.session, page.session, "the page's own connection");
    } finally {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await site.close();
    }
  });

  test("with http2: false the server does not advertise it, and Chromium uses HTTP/1.1", async () => {
    const site = await startServer({ "/": PAGE });
    const wss = new WebSocketServer({ server: site.server, path: "/echo", http2: false });
    const versions: string[] = [];
    wss.on("connection", (socket, request) => {
      versions.push(request.httpVersion);
      socket.on("message", (data) => socket.send(String(data)));
    });
    try {
      await browser.page.goto(`${site.origin}/`);
      const echoed = await browser.page.evaluate(
        pageEcho(`wss://localhost:${new URL(site.origin).port}/echo`),
      );
      assert.equal(echoed, "hello ");
      assert.deepEqual(versions, ["1.1"]);
      assert.equal(site.streams.filter((s) => s.method === "CONNECT").length, 0);
    } finally {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await site.close();
    }
  });
});

describe("Chromium over HTTP/2 with the Socket.IO server", () => {
  test("socket.io-client's WebSocket transport runs on the page's HTTP/2 connection", async () => {
    const bundle = readFileSync(
      new URL("../../node_modules/socket.io-client/dist/socket.io.min.js", import.meta.url),
    );
    const site = await startServer({
      "/": PAGE,
      "/client.js": { type: "text/javascript", body: bundle },
    });
    const io = new SocketIoServer(site.server as never);
    io.on("connection", (socket) => {
      socket.on("echo", (text: string, ack: (reply: string) => void) => ack(`${text} back`));
    });
    try {
      await browser.page.goto(`${site.origin}/`);
      await browser.page.addScriptTag({ url: "/client.js" });
      const reply = await browser.page.evaluate(`new Promise((resolve) => {
        const socket = io({ transports: ["websocket"] });
        socket.on("connect", () => socket.emit("echo", "hello", (answer) => {
          resolve(answer + " " + socket.io.engine.transport.name);
          socket.disconnect();
        }));
        socket.on("connect_error", (error) => resolve("connect_error " + error.message));
        setTimeout(() => resolve("timeout"), 5000);
      })`);
      assert.equal(reply, "hello back websocket");
      const page = site.streams.find((s) => s.method === "GET" && s.path === "/");
      const websocket = site.streams.find((s) => s.method === "CONNECT");
      assert.ok(page && websocket, "a page stream and a CONNECT stream");
      assert.match(websocket.path, /^\/socket\.io\/\?EIO=4&transport=websocket/);
      assert.equal(websocket.session, page.session, "the page's own connection");
    } finally {
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await site.close();
    }
  });
});
