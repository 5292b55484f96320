/**
 * The chat page's "plain WebSocket" panel in real Chromium: the browser's own WebSocket against
 * the demo's /ws endpoint (duplexio/websocket) negotiates a subprotocol, echoes, and closes;
 * offering only unknown subprotocols fails the connection as browsers must.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { DemoServer } from "../../src/demo/server.js";
import { launchChromium, type RunningChromium } from "../helpers/chromium.js";
import { ManualClock, saveScreenshot, startTestServer } from "./demo-fixture.js";

/** The panel's event log, oldest first, as "kind: text". */
async function logLines(page: Page): Promise<string[]> {
  const items = await page
    .locator("#ws-log li")
    .evaluateAll((lis) =>
      lis.map(
        (li) =>
          `${li.querySelector("strong")?.textContent}: ${li.querySelector("span")?.textContent}`,
      ),
    );
  return items.reverse();
}

async function waitForLog(page: Page, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    (source) =>
      Array.from(document.querySelectorAll("#ws-log li")).some((li) =>
        new RegExp(source).test(
          `${li.querySelector("strong")?.textContent}: ${li.querySelector("span")?.textContent}`,
        ),
      ),
    pattern.source,
    { timeout: 10_000 },
  );
}

describe("demo plain WebSocket panel", () => {
  let server: DemoServer;
  let browser: RunningChromium;

  before(async () => {
    server = await startTestServer(new ManualClock());
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("negotiates a subprotocol, echoes what is sent, and closes cleanly", async () => {
    const page = browser.page;
    await page.goto(server.url);
    assert.equal(await page.inputValue("#ws-url"), `${server.url.replace("http", "ws")}ws`);
    // The server speaks chat.v1 only: of the two offered, that is the one it picks.
    await page.fill("#ws-protocols", "chat.v2, chat.v1");
    await page.click("#ws-connect-form button[type=submit]");
    await waitForLog(page, /^open: /);
    assert.equal(await page.locator("#ws-protocol").textContent(), "chat.v1");
    assert.equal(await page.locator("#ws-state").textContent(), "open");
    assert.equal(server.plainWebSocket.clients.size, 1);

    const text = `echo <b>me</b> ${Date.now()}`;
    await page.fill("#ws-text", text);
    await page.click("#ws-send-form button[type=submit]");
    await waitForLog(page, new RegExp(`^message: ${text.replace(/[<>/]/g, ".")}$`));

    await page.click("#ws-close");
    await waitForLog(page, /^close: /);
    const lines = await logLines(page);
    assert.deepEqual(
      lines.map((l) => l.split(":")[0]),
      ["info", "open", "sent", "message", "close"],
      lines.join("\n"),
    );
    assert.equal(lines[1], 'open: open · subprotocol "chat.v1" · extensions ""');
    // The code is the page's 1000, echoed by the server; RFC 6455 leaves echoing the reason
    // optional, so it is not checked.
    assert.match(
      lines[4] ?? "",
      /^close: close · code 1000 · (reason "bye from the page" · )?clean$/,
    );
    assert.equal(await page.locator("#ws-state").textContent(), "closed");
    await saveScreenshot(page, "plain-websocket-echo");
  });

  it("shows the failure when no offered subprotocol is supported", async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(server.url);
      await page.fill("#ws-protocols", "mqtt, stomp.v12");
      await page.click("#ws-connect-form button[type=submit]");
      await waitForLog(page, /^close: /);
      // The server answered without a subprotocol; a browser that offered some must fail the
      // connection: an error event, then close 1006 (abnormal), never open.
      const kinds = (await logLines(page)).map((l) => l.split(":")[0]);
      assert.deepEqual(kinds, ["info", "error", "close"]);
      assert.match((await logLines(page))[2] ?? "", /code 1006 · not clean$/);
      assert.equal(await page.locator("#ws-protocol").textContent(), "—");
      await saveScreenshot(page, "plain-websocket-refused");
    } finally {
      await page.close();
    }
  });

  it("closes with 1009 a message over the size limit, and the server goes on", async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(server.url);
      await page.click("#ws-connect-form button[type=submit]");
      await waitForLog(page, /^open: /);
      await page.fill("#ws-text", "y".repeat(64 * 1024 + 1));
      await page.click("#ws-send-form button[type=submit]");
      await waitForLog(page, /^close: close · code 1009/);
      // A new connection works.
      await page.click("#ws-connect-form button[type=submit]");
      await page.waitForFunction(
        () => document.querySelectorAll("#ws-log li.log-open").length === 2,
        undefined,
        { timeout: 10_000 },
      );
    } finally {
      await page.close();
    }
  });
});
