/**
 * The live dashboard in real Chromium: it is pushed snapshots over duplexio's "/dashboard"
 * namespace, and its figures move when chat clients connect and talk.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { DemoServer } from "../../src/demo/server.js";
import { launchChromium, type RunningChromium } from "../helpers/chromium.js";
import {
  logIn,
  ManualClock,
  saveScreenshot,
  sendMessage,
  startTestServer,
} from "./demo-fixture.js";

async function figure(page: Page, id: string): Promise<number> {
  const text = (await page.locator(`#${id}`).textContent()) ?? "";
  return Number(text.replace(/,/g, ""));
}

/** Waits until the figure `id` is within [min, max]. */
async function waitForFigure(page: Page, id: string, min: number, max = min): Promise<void> {
  await page.waitForFunction(
    ([element, low, high]) => {
      const value = Number((document.getElementById(element)?.textContent ?? "").replace(/,/g, ""));
      return value >= low && value <= high;
    },
    [id, min, max] as const,
    { timeout: 10_000 },
  );
}

describe("demo dashboard", () => {
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

  it("shows live figures that move when chat clients connect and send", async () => {
    const dashboard = browser.page;
    await dashboard.goto(`${server.url}dashboard`);
    await dashboard.waitForFunction(
      () => document.getElementById("status")?.textContent === "live",
      undefined,
      { timeout: 10_000 },
    );
    // The dashboard is a client too: it sees itself.
    await waitForFigure(dashboard, "clients-total", 1);
    await dashboard.waitForSelector('#namespaces tr[data-namespace="/dashboard"]', {
      timeout: 10_000,
    });
    const messagesBefore = await figure(dashboard, "total-in");

    const chat = await browser.context.newPage();
    try {
      await logIn(chat, server.url, "dana");
      await waitForFigure(dashboard, "clients-total", 2);
      // The chat client's room appears under the main namespace.
      await dashboard.waitForFunction(
        () => {
          const row = document.querySelector('#namespaces tr[data-namespace="/"]');
          return (
            row?.children[1]?.textContent === "1" && row.children[2]?.textContent === "lobby (1)"
          );
        },
        undefined,
        { timeout: 10_000 },
      );
      for (let i = 0; i < 3; i++) await sendMessage(chat, `message ${i} for the figures`);
      await waitForFigure(dashboard, "total-in", messagesBefore + 3, Number.MAX_SAFE_INTEGER);
      // Connected through the page's WebSocket upgrade (or still polling): both are counted.
      const byTransport =
        (await figure(dashboard, "clients-websocket")) +
        (await figure(dashboard, "clients-polling"));
      assert.equal(byTransport, 2);
      assert.match((await dashboard.locator("#memory-rss").textContent()) ?? "", /MiB$/);
      assert.match((await dashboard.locator("#loop-mean").textContent()) ?? "", /^\d+\.\d\d ms$/);
      assert.match((await dashboard.locator("#bytes-total-in").textContent()) ?? "", /B$/);

      // The chart has been drawn: some pixels are not blank.
      const inked = await dashboard.evaluate(() => {
        const canvas = document.getElementById("chart") as HTMLCanvasElement;
        const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
        let count = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) count++;
        return count;
      });
      assert.ok(inked > 100, `chart pixels drawn: ${inked}`);
      await saveScreenshot(dashboard, "dashboard-live");
      // Upgraded to WebSocket, the page's departure is seen at once (a vanished long-polling
      // client is only noticed when its heartbeat times out).
      await chat.waitForFunction(
        () => document.getElementById("status")?.textContent === "connected · websocket",
        undefined,
        { timeout: 10_000 },
      );
    } finally {
      await chat.close();
    }
    // The chat page went away: the figure comes back down.
    await waitForFigure(dashboard, "clients-total", 1);
  });
});
