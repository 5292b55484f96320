/**
 * Makes the README's screenshots of the demo: docs/screenshots/chat.png and dashboard.png.
 * Not a test (its name does not end in .test.ts): run it by hand after changing the pages.
 *
 *   node --import tsx test/demo/take-screenshots.ts
 *
 * It starts a demo server on a free port, has three people chat in Chromium for about twenty
 * seconds (so the dashboard's chart has a history), and saves the two pages.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { startDemoServer } from "../../src/demo/server.js";
import { launchChromium } from "../helpers/chromium.js";
import { delay } from "../helpers/timing.js";
import { joinRoom, logIn, openRoom, sendMessage } from "./demo-fixture.js";

const OUTPUT = join(process.cwd(), "docs", "screenshots");
const VIEWPORT = { width: 1280, height: 860 };

const server = await startDemoServer({
  port: 0,
  // Generous limits: the script talks faster than a person.
  messageRateLimit: { capacity: 100, refillPerSecond: 100 },
});
const browser = await launchChromium();
try {
  const ada = browser.page;
  const grace = await browser.context.newPage();
  const linus = await browser.context.newPage();
  const dashboard = await browser.context.newPage();
  for (const page of [ada, grace, linus]) await page.setViewportSize(VIEWPORT);
  await dashboard.setViewportSize({ width: 1280, height: 690 });
  await dashboard.goto(`${server.url}dashboard`);

  await logIn(ada, server.url, "ada");
  await logIn(grace, server.url, "grace");
  await logIn(linus, server.url, "linus");
  await joinRoom(ada, "compilers");
  // Background chatter by two more people in another room, for the dashboard's chart (ada's
  // lobby stays readable). It runs until the screenshots are taken.
  const bots = [await browser.context.newPage(), await browser.context.newPage()];
  await logIn(bots[0]!, server.url, "bot-1");
  await logIn(bots[1]!, server.url, "bot-2");
  for (const bot of bots) await joinRoom(bot, "load-test");
  let chattering = true;
  const chatter = (async () => {
    for (let i = 0; chattering && i < 1000; i++) {
      await bots[i % 2]!.evaluate((n) => {
        const input = document.getElementById("message") as HTMLInputElement;
        input.value = `load test message ${n}`;
        (document.getElementById("message-form") as HTMLFormElement).requestSubmit();
      }, i);
      await delay(40 + (Math.floor(i / 12) % 4) * 70);
    }
  })();
  // Awaited at the end; if the main steps fail first, their error is the one to report.
  chatter.catch(() => {});
  await openRoom(grace, "lobby");
  await openRoom(linus, "lobby");
  await openRoom(ada, "lobby");

  const say = async (page: Page, text: string) => {
    await sendMessage(page, text);
    await delay(700);
  };
  await say(grace, "Morning! Is the new build out?");
  await say(ada, "It is: the client bundle is served at /socket.io/duplexio.min.js now.");
  await say(linus, "Nice. Does <b>this</b> render as bold?");
  await say(ada, "No, it's text: the page uses textContent, never innerHTML.");
  await say(grace, "And if I close my laptop for a minute?");
  await say(ada, "Connection state recovery: you get the messages you missed.");

  // A plain WebSocket session on ada's page.
  await ada.click("#ws-connect-form button[type=submit]");
  await ada.waitForSelector("#ws-log li.log-open");
  await ada.fill("#ws-text", "hello from the browser's own WebSocket");
  await ada.click("#ws-send-form button[type=submit]");
  await ada.waitForSelector("#ws-log li.log-message");

  // The lobby as ada sees it, with grace typing.
  await ada.waitForFunction(() => Number(document.getElementById("clock")?.dataset.ticks) > 0);
  await grace.type("#message", "One more th");
  await ada.waitForFunction(() => document.getElementById("typing")?.textContent !== "");
  await ada.evaluate(() => window.scrollTo(0, 0));

  await mkdir(OUTPUT, { recursive: true });
  await ada.screenshot({ path: join(OUTPUT, "chat.png") });
  await dashboard.bringToFront();
  await dashboard.screenshot({ path: join(OUTPUT, "dashboard.png") });
  chattering = false;
  await chatter;
  console.log(`saved ${join(OUTPUT, "chat.png")} and ${join(OUTPUT, "dashboard.png")}`);
} finally {
  await browser.close();
  await server.stop();
}
