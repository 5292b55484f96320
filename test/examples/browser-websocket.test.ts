/**
 * examples/browser-websocket run as a process and used from Chromium: the page's own WebSocket
 * offers ["chat.v2", "chat.v1"] and gets the server's preferred chat.v2 (even when offered
 * second), a page offering only chat.v1 gets chat.v1, messages reach both pages each in its own
 * format, and a page offering no supported subprotocol is refused (HTTP 400 before the
 * handshake).
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, it } from "node:test";
import type { Page } from "playwright-core";
import { launchChromium, type RunningChromium } from "../helpers/chromium.js";
import { withTimeout } from "../helpers/timing.js";
import { type ExampleProcess, startExample } from "./example-process.js";

let example: ExampleProcess;
let browser: RunningChromium;
const pages: Page[] = [];

before(async () => {
  example = await startExample("examples/browser-websocket/server.mjs");
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await example?.stop();
});

/** Opens the chat page with `query` in a new tab and waits for its status to settle. */
async function openChat(query = ""): Promise<Page> {
  const page = pages.length === 0 ? browser.page : await browser.context.newPage();
  pages.push(page);
  await page.goto(`${example.url}/${query}`, { timeout: 30000 });
  await page.waitForFunction(
    () => !document.getElementById("status")?.textContent?.startsWith("connecting"),
    null,
    { timeout: 10000 },
  );
  return page;
}

/** The texts of the page's chat log. */
function logOf(page: Page): Promise<string[]> {
  return page.$$eval("#log li", (items) => items.map((item) => item.textContent ?? ""));
}

/** Waits until the page's log has a line matching `pattern`. */
async function waitForLine(page: Page, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    (source) =>
      Array.from(document.querySelectorAll("#log li")).some((item) =>
        new RegExp(source).test(item.textContent ?? ""),
      ),
    pattern.source,
    { timeout: 10000 },
  );
}

/** Types `text` into the page's input and submits the form. */
async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.click("#send");
}

/** A raw upgrade request offering `protocols`: the status and the chosen subprotocol. */
function handshake(
  protocols: string,
): Promise<{ status: number; protocol?: string; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = request(`${example.url}/chat`, {
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Protocol": protocols,
        },
      });
      req.on("upgrade", (res, socket) => {
        socket.destroy();
        resolve({
          status: res.statusCode ?? 0,
          protocol: res.headers["sec-websocket-protocol"],
          body: "",
        });
      });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    }),
    5000,
    "the handshake",
  );
}

it("the page offering chat.v2 and chat.v1 gets chat.v2; one offering chat.v1 gets it", async () => {
  const modern = await openChat();
  assert.equal(await modern.textContent("#offered"), '["chat.v2","chat.v1"]');
  assert.equal(await modern.textContent("#protocol"), "chat.v2");
  assert.equal(await modern.textContent("#status"), "connected (chat.v2)");
  await waitForLine(modern, /^welcome user\d+ \(chat\.v2\)$/);

  const old = await openChat("?protocols=chat.v1");
  assert.equal(await old.textContent("#protocol"), "chat.v1");
  assert.equal(await old.textContent("#status"), "connected (chat.v1)");
  await waitForLine(old, /^welcome user\d+ \(chat\.v1\)$/);

  // The server's preference, not the order of the offer, decides.
  const reordered = await openChat("?protocols=chat.v1,chat.v2");
  assert.equal(await reordered.textContent("#protocol"), "chat.v2");

  await example.waitForOutput(/user\d+ connected with chat\.v1\n/, 5000);
  assert.match(example.stdout, /user\d+ connected with chat\.v2\n/);
});

it("messages reach every page, each in the format of its own subprotocol", async () => {
  const [modern, old, reordered] = pages as [Page, Page, Page];
  await say(modern, "hello from v2");
  for (const page of [modern, old, reordered]) {
    await waitForLine(page, /^user\d+: hello from v2$/);
  }
  await say(old, "hi from v1");
  for (const page of [modern, old, reordered]) {
    await waitForLine(page, /^user\d+: hi from v1$/);
  }
  // Exactly once each, after the welcome.
  const log = await logOf(modern);
  assert.equal(log.filter((line) => line.endsWith(": hello from v2")).length, 1);
  assert.equal(log.filter((line) => line.endsWith(": hi from v1")).length, 1);
  assert.match(log[0]!, /^welcome /);
  await example.waitForOutput(/user\d+ \(chat\.v1\): hi from v1\n/, 5000);
  assert.match(example.stdout, /user\d+ \(chat\.v2\): hello from v2\n/);
});

it("a page offering no supported subprotocol is refused before the handshake", async () => {
  const refused = await openChat("?protocols=chat.v3");
  assert.equal(await refused.textContent("#status"), "closed (1006)");
  assert.equal(await refused.textContent("#protocol"), "none yet");

  // What the browser got, seen from a raw client: a 400 with the reason; a supported offer
  // gets 101 with the server's choice.
  const answer = await handshake("chat.v3");
  assert.equal(answer.status, 400);
  assert.match(answer.body, /Offer one of these subprotocols: chat\.v2, chat\.v1/);
  assert.deepEqual(await handshake("chat.v1, chat.v2"), {
    status: 101,
    protocol: "chat.v2",
    body: "",
  });
});
