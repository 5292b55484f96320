/**
 * Shared set-up of the demo's tests: a demo server on 127.0.0.1:0 with short intervals and a
 * hand-driven rate-limit clock, pages logged in to the chat, and screenshots under
 * test-output/demo/.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type DemoServer, type DemoServerOptions, startDemoServer } from "../../src/demo/server.js";

/** Where the tests' screenshots go (gitignored). */
export const SCREENSHOT_DIRECTORY = join(process.cwd(), "test-output", "demo");

/** A clock for the rate limiters that moves only when told. */
export class ManualClock {
  ms = 0;
  readonly now = (): number => this.ms;
  /** Moves far enough ahead that every token bucket is full again. */
  refillAll(): void {
    this.ms += 3_600_000;
  }
}

/** Starts a demo server for tests: free port, fast tick and snapshots, a manual limiter clock. */
export function startTestServer(
  clock: ManualClock,
  options: DemoServerOptions = {},
): Promise<DemoServer> {
  return startDemoServer({
    host: "127.0.0.1",
    port: 0,
    tickIntervalMs: 200,
    snapshotIntervalMs: 200,
    shutdownGraceMs: 1000,
    now: clock.now,
    ...options,
  });
}

/** Saves a full-page screenshot of `page` as test-output/demo/`name`.png. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIRECTORY, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIRECTORY, `${name}.png`), fullPage: true });
}

/** Opens the chat at `url` and logs in as `nickname`; resolves once the lobby is shown. */
export async function logIn(page: Page, url: string, nickname: string): Promise<void> {
  await page.goto(url);
  await page.fill("#nickname", nickname);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#chat:not([hidden])", { timeout: 10_000 });
  await page.waitForFunction(
    (name) => document.getElementById("me")?.textContent === name,
    nickname,
    { timeout: 10_000 },
  );
}

/** Types `text` into the composer and sends it; resolves once the server acknowledged it. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const before = await page.locator(".message.mine[data-state=delivered]").count();
  await page.fill("#message", text);
  await page.click("#message-form button[type=submit]");
  await page.waitForFunction(
    (n) => document.querySelectorAll(".message.mine[data-state=delivered]").length > n,
    before,
    { timeout: 10_000 },
  );
}

/** Waits until a message with exactly `text` is in `room`'s list on `page`. */
export async function waitForMessage(page: Page, room: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([r, t]) =>
      Array.from(document.querySelectorAll(`.message-list[data-room="${r}"] .message .text`)).some(
        (e) => e.textContent === t,
      ),
    [room, text] as const,
    { timeout: 10_000 },
  );
}

/** The texts of every message on `page`, room by room. */
export function messageTexts(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(() => {
    const rooms: Record<string, string[]> = {};
    for (const list of Array.from(document.querySelectorAll<HTMLElement>(".message-list"))) {
      rooms[list.dataset.room ?? ""] = Array.from(list.querySelectorAll(".text")).map(
        (e) => e.textContent ?? "",
      );
    }
    return rooms;
  });
}

/** Joins `room` through the page's form and waits until it is the open room. */
export async function joinRoom(page: Page, room: string): Promise<void> {
  await page.fill("#join-room", room);
  await page.click("#join-form button[type=submit]");
  await page.waitForFunction(
    (r) => document.getElementById("room-title")?.textContent === `#${r}`,
    room,
    {
      timeout: 10_000,
    },
  );
}

/** Opens `room` (already joined) in the page. */
export async function openRoom(page: Page, room: string): Promise<void> {
  await page.click(`#rooms button[data-room="${room}"]`, { timeout: 10_000 });
  await page.waitForFunction(
    (r) => document.getElementById("room-title")?.textContent === `#${r}`,
    room,
    {
      timeout: 10_000,
    },
  );
}
