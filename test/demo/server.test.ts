/**
 * The demo server's HTTP side and its life cycle: the pages, /metrics in Prometheus' text format,
 * refusal of other sites' pages, and a graceful stop that tells every client.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { io } from "socket.io-client";
import type { DemoServer } from "../../src/demo/server.js";
import { WebSocket } from "../../src/websocket/index.js";
import { nextEvent, withTimeout } from "../helpers/timing.js";
import { ManualClock, startTestServer } from "./demo-fixture.js";

/** A GET (or other method) with a raw path, which fetch() would normalize. */
function rawRequest(
  url: string,
  path: string,
  method = "GET",
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function openWebSocket(url: string, options: { origin?: string } = {}): Promise<WebSocket> {
  const socket = new WebSocket(url, ["chat.v1"], options.origin ? { origin: options.origin } : {});
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once("open", () => resolve(socket));
      socket.once("error", reject);
    }),
    10_000,
    "WebSocket open",
  );
}

/** One metric's sample lines, as `labels -> value`. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
    if (match?.[1] === name) found.set(match[2] ?? "", Number(match[3]));
  }
  return found;
}

describe("demo server", () => {
  let server: DemoServer;

  before(async () => {
    server = await startTestServer(new ManualClock());
  });
  after(async () => {
    await server?.stop();
  });

  it("gives acknowledgements the server asks for a timeout (ackTimeout)", () => {
    assert.equal(server.io.of("/").ackTimeout, 10_000);
  });

  it("serves the pages, their scripts and nothing else", async () => {
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.match(await page.text(), /src="\/socket\.io\/duplexio\.min\.js"/);
    const dashboard = await fetch(`${server.url}dashboard`);
    assert.equal(dashboard.status, 200);
    assert.match(await dashboard.text(), /<title>duplexio dashboard<\/title>/);
    for (const [path, type] of [
      ["chat.js", "text/javascript; charset=utf-8"],
      ["plain-websocket.js", "text/javascript; charset=utf-8"],
      ["dashboard.js", "text/javascript; charset=utf-8"],
      ["style.css", "text/css; charset=utf-8"],
    ]) {
      const response = await fetch(`${server.url}${path}?v=1`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get("content-type"), type, path);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
    }
    for (const path of ["/../package.json", "/%2e%2e/package.json", "/README.md", "/chat.js/x"]) {
      assert.equal((await rawRequest(server.url, path)).status, 404, path);
    }
    assert.equal((await rawRequest(server.url, "/", "POST")).status, 405);
    const head = await rawRequest(server.url, "/chat.js", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
  });

  it("serves Prometheus metrics that follow the clients", async () => {
    const ws = await openWebSocket(`${server.url.replace("http", "ws")}ws`);
    const client = io(server.url, {
      forceNew: true,
      reconnection: false,
      transports: ["websocket"],
      auth: { nickname: "metrics" },
    });
    try {
      await nextEvent(client as never, "connect", 10_000);
      ws.send("counted");
      await nextEvent(ws, "message", 10_000);

      const response = await fetch(`${server.url}metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      for (const [name, type] of [
        ["duplexio_connected_clients", "gauge"],
        ["duplexio_namespace_sockets", "gauge"],
        ["duplexio_namespace_rooms", "gauge"],
        ["duplexio_messages_received_total", "counter"],
        ["duplexio_messages_sent_total", "counter"],
        ["duplexio_bytes_received_total", "counter"],
        ["duplexio_bytes_sent_total", "counter"],
        ["duplexio_process_memory_bytes", "gauge"],
        ["duplexio_event_loop_delay_seconds", "gauge"],
        ["duplexio_cluster_nodes", "gauge"],
        ["duplexio_adapter_up", "gauge"],
        ["duplexio_adapter_messages_total", "counter"],
      ]) {
        assert.ok(text.includes(`# TYPE ${name} ${type}\n`), `${name} ${type} in\n${text}`);
      }
      // One server, no Redis: a cluster of one, always "up".
      assert.equal(samples(text, "duplexio_cluster_nodes").get(""), 1);
      assert.equal(samples(text, "duplexio_adapter_up").get(""), 1);
      const clients = samples(text, "duplexio_connected_clients");
      assert.equal(clients.get('{transport="websocket"}'), 1);
      assert.equal(clients.get('{transport="plain_websocket"}'), 1);
      assert.equal(samples(text, "duplexio_namespace_sockets").get('{namespace="/"}'), 1);
      assert.equal(samples(text, "duplexio_namespace_rooms").get('{namespace="/"}'), 1);
      const received = samples(text, "duplexio_messages_received_total");
      assert.equal(received.get('{endpoint="plain_websocket"}'), 1);
      assert.equal(
        samples(text, "duplexio_messages_sent_total").get('{endpoint="plain_websocket"}'),
        1,
      );
      // The Socket.IO CONNECT packet is an engine message in.
      assert.ok((received.get('{endpoint="socket.io"}') ?? 0) >= 1);
      assert.ok((samples(text, "duplexio_bytes_received_total").get("") ?? 0) > 0);
      assert.ok((samples(text, "duplexio_process_memory_bytes").get('{kind="rss"}') ?? 0) > 1e6);
    } finally {
      client.disconnect();
      ws.terminate();
    }
  });

  it("refuses pages of other sites, on both endpoints", async () => {
    const evil = "http://evil.example";
    const handshake = await fetch(`${server.url}socket.io/?EIO=4&transport=polling`, {
      headers: { origin: evil },
    });
    assert.equal(handshake.status, 403);
    await assert.rejects(openWebSocket(`${server.url.replace("http", "ws")}ws`, { origin: evil }));
    // The same site is welcome.
    const own = await openWebSocket(`${server.url.replace("http", "ws")}ws`, {
      origin: server.url.slice(0, -1),
    });
    own.terminate();
    const sameSite = await fetch(`${server.url}socket.io/?EIO=4&transport=polling`, {
      headers: { origin: server.url.slice(0, -1) },
    });
    assert.equal(sameSite.status, 200);
  });
});

describe("demo server stop()", () => {
  it("tells every client, closes the plain WebSockets with 1001, then the HTTP server", async () => {
    const server = await startTestServer(new ManualClock());
    const chat = io(server.url, { forceNew: true, auth: { nickname: "last" } });
    const dashboard = io(`${server.url}dashboard`, { forceNew: true });
    const ws = await openWebSocket(`${server.url.replace("http", "ws")}ws`);
    await Promise.all([
      nextEvent(chat as never, "connect", 10_000),
      nextEvent(dashboard as never, "connect", 10_000),
    ]);
    const chatGone = nextEvent(chat as never, "disconnect", 10_000);
    const dashboardGone = nextEvent(dashboard as never, "disconnect", 10_000);
    const wsClosed = nextEvent<[number, Buffer]>(ws, "close", 10_000);

    await withTimeout(server.stop(), 10_000, "stop()");
    // "io server disconnect": the clients were told, so they do not try to reconnect.
    assert.deepEqual((await chatGone)[0], "io server disconnect");
    assert.deepEqual((await dashboardGone)[0], "io server disconnect");
    assert.equal(chat.active, false);
    const [code] = await wsClosed;
    assert.equal(code, 1001);
    assert.equal(server.httpServer.listening, false);
    await assert.rejects(fetch(server.url));
    // A second call is the same stop.
    await server.stop();
  });
});

describe("demo server under idle and trickling connections", () => {
  it("its HTTP server has the timeouts (headers 5 s, request 30 s, keep-alive 5 s)", async () => {
    const server = await startTestServer(new ManualClock());
    try {
      assert.equal(server.httpServer.headersTimeout, 5000);
      assert.equal(server.httpServer.requestTimeout, 30_000);
      assert.equal(server.httpServer.keepAliveTimeout, 5000);
    } finally {
      await server.stop();
    }
  });

  it("closes a connection that sends nothing and one trickling its headers", async () => {
    const server = await startTestServer(new ManualClock(), {
      httpServerTimeouts: { headersTimeout: 300, requestTimeout: 600 },
    });
    try {
      const cut = (text: string): Promise<number> => {
        const socket = connect(server.port, "127.0.0.1");
        socket.on("error", () => {});
        // Reading, so that the server's close is seen.
        socket.resume();
        const start = performance.now();
        let i = 0;
        const timer = setInterval(() => text && socket.write(text[i++ % text.length]), 50);
        return withTimeout(
          new Promise<number>((resolve) =>
            socket.once("close", () => resolve(performance.now() - start)),
          ),
          5000,
          "the connection being cut",
        ).finally(() => {
          clearInterval(timer);
          socket.destroy();
        });
      };
      const [silent, trickling] = await Promise.all([
        cut(""),
        cut(`GET /dashboard HTTP/1.1\r\nHost: x\r\nX-Padding: ${"p".repeat(100)}`),
      ]);
      assert.ok(silent < 1500, `silent: cut after ${silent} ms`);
      assert.ok(trickling < 1500, `trickling: cut after ${trickling} ms`);
    } finally {
      await server.stop();
    }
  });

  it("stop() settles within its grace period when a client never answers", async () => {
    const server = await startTestServer(new ManualClock());
    // A polling session that never polls again, and a half-sent request.
    const handshake = await fetch(`${server.url}socket.io/?EIO=4&transport=polling`, {
      headers: { origin: server.url.slice(0, -1) },
    });
    assert.equal(handshake.status, 200);
    const stuck = connect(server.port, "127.0.0.1");
    stuck.on("error", () => {});
    stuck.write("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n");
    const started = performance.now();
    await withTimeout(server.stop(), 5000, "stop()");
    const ms = performance.now() - started;
    // The fixture's grace period is 1000 ms.
    assert.ok(ms < 2000, `stop() took ${ms} ms`);
    assert.equal(server.httpServer.listening, false);
    stuck.destroy();
  });
});

describe("demo server start", () => {
  it("rejects with the listen error when the port is taken, and leaves nothing running", async () => {
    const first = await startTestServer(new ManualClock());
    const warnings: unknown[] = [];
    const onWarning = (warning: unknown) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      await assert.rejects(startTestServer(new ManualClock(), { port: first.port }), {
        code: "EADDRINUSE",
      });
      assert.deepEqual(warnings, []);
    } finally {
      process.off("warning", onWarning);
      await first.stop();
    }
  });
});
