/**
 * Differential test of the browser API: each scenario of browser-scenarios.ts runs in Chromium
 * (native WebSocket) and in Node (the WebSocket under test) against the same echo server, and the
 * two logs must match line for line. One documented difference is normalized: the default
 * binaryType is "nodebuffer" in Node (ws compatibility) where browsers say "blob".
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { launchChromium, type RunningChromium } from "../helpers/chromium.js";
import { WebSocket, WebSocketServer } from "../helpers/subject.js";
import { type Scenario, scenarios, type WebSocketConstructor } from "./browser-scenarios.js";

describe("browser API: Chromium's WebSocket and the subject's, side by side", () => {
  let http: HttpServer;
  let wss: WebSocketServer;
  let browser: RunningChromium;
  let base: string;

  before(async () => {
    wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered: Set<string>) => (offered.has("chat.v2") ? "chat.v2" : false),
      verifyClient: (info: { req: IncomingMessage }) => !info.req.url?.startsWith("/reject"),
    });
    wss.on("connection", (socket) => {
      socket.on("message", (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
    });
    http = createServer((_req, res) => res.end("page"));
    http.on("upgrade", (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    base = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    browser = await launchChromium();
    await browser.page.goto(`${base.replace("ws:", "http:")}/`, { timeout: 30000 });
  });

  after(async () => {
    await browser?.close();
    wss?.close();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  const runInBrowser = (scenario: Scenario) =>
    browser.page.evaluate(
      `(${scenario.toString()})(WebSocket, ${JSON.stringify(base)})`,
    ) as Promise<string[]>;
  const runInNode = (scenario: Scenario) =>
    scenario(WebSocket as unknown as WebSocketConstructor, base);

  for (const [name, scenario] of Object.entries(scenarios)) {
    it(`${name}: same observations`, async () => {
      const inBrowser = await runInBrowser(scenario);
      const inNode = (await runInNode(scenario)).map((line) =>
        // ws compatibility: Node's default binaryType is "nodebuffer".
        line.replace("binaryType=nodebuffer", "binaryType=blob"),
      );
      assert.deepEqual(inNode, inBrowser);
    });
  }
});
