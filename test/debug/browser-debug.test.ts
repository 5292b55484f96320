/**
 * `localStorage.debug` in the browser bundle (Chromium through playwright-core): with
 * "duplexio:client" set before the bundle loads, the page's console gets the client's lines
 * (open, the namespace connected, a reconnection attempt after the server dropped the
 * connection) at the debug level; without it, none.
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Server, type Socket } from "../../src/index.js";
import { launchChromium, type RunningChromium } from "../helpers/chromium.js";
import { nextEvent, withTimeout } from "../helpers/timing.js";

/** The page: sets localStorage.debug as its query says, then loads the served IIFE bundle. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>debug</title>
<script>
  const wanted = new URLSearchParams(location.search).get("debug");
  if (wanted) localStorage.debug = wanted; else localStorage.removeItem("debug");
</script>
<script src="/socket.io/duplexio.min.js"></script>`;

describe("localStorage.debug in the browser bundle", () => {
  let http: HttpServer;
  let io: Server;
  let browser: RunningChromium;
  let origin: string;

  before(async () => {
    http = createServer((request, response) => {
      if (request.url?.startsWith("/?")) {
        response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(PAGE);
      } else if (!request.url?.startsWith("/socket.io/")) {
        response.writeHead(404).end();
      }
    });
    io = new Server(http, { serveClient: true });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    io?.close();
  });

  /** Loads the page with `debug`, connects, drops the connection once; the console's lines. */
  async function run(debug: string): Promise<{ type: string; text: string }[]> {
    const lines: { type: string; text: string }[] = [];
    const page = browser.page;
    const listener = (message: { type(): string; text(): string }) =>
      lines.push({ type: message.type(), text: message.text() });
    page.on("console", listener);
    try {
      await page.goto(`${origin}/?debug=${encodeURIComponent(debug)}`);
      const connection = nextEvent<[Socket]>(io, "connection", 10_000);
      await page.evaluate(() => {
        const scope = globalThis as unknown as {
          io: (options: object) => { on(event: string, listener: () => void): void };
          reconnected?: Promise<void>;
        };
        const socket = scope.io({ transports: ["websocket"], reconnectionDelay: 50 });
        let connects = 0;
        scope.reconnected = new Promise((resolve) =>
          socket.on("connect", () => {
            connects++;
            if (connects === 2) resolve();
          }),
        );
      });
      const [socket] = await connection;
      socket.conn.close();
      await withTimeout(
        page.evaluate(() => (globalThis as unknown as { reconnected: Promise<void> }).reconnected),
        10_000,
        "the page to reconnect",
      );
      return lines.filter((line) => line.text.startsWith("duplexio:"));
    } finally {
      page.off("console", listener);
    }
  }

  it("prints the client's lines to the console's debug level", async () => {
    const lines = await run("duplexio:client");
    const texts = lines.map((line) => line.text);
    assert.ok(
      lines.every((line) => line.type === "debug"),
      JSON.stringify(lines),
    );
    assert.ok(
      texts.some((text) => /^duplexio:client open \+\d+ms$/.test(text)),
      texts.join("\n"),
    );
    assert.ok(texts.some((text) => /^duplexio:client \/ connected: \S+ \+\d+ms$/.test(text)));
    assert.ok(texts.some((text) => /^duplexio:client close: transport close \+\d+ms$/.test(text)));
    assert.ok(texts.some((text) => /^duplexio:client reconnect attempt 1 \+\d+ms$/.test(text)));
  });

  it("prints nothing without localStorage.debug, or when it names other namespaces", async () => {
    assert.deepEqual(await run(""), []);
    assert.deepEqual(await run("express:*,-duplexio:*"), []);
  });
});
