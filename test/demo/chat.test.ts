/**
 * The chat page end to end, in real Chromium against the demo server: pages talk through
 * duplexio's own client bundle (served at /socket.io/duplexio.min.js) and server.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { DemoServer } from "../../src/demo/server.js";
import { launchChromium, type RunningChromium } from "../helpers/chromium.js";
import {
  joinRoom,
  logIn,
  ManualClock,
  messageTexts,
  openRoom,
  saveScreenshot,
  sendMessage,
  startTestServer,
  waitForMessage,
} from "./demo-fixture.js";

/** Alice's own messages in the lobby (the lists of other rooms stay in the page, hidden). */
const LOBBY_MINE = ".message-list[data-room=lobby] .message.mine";

describe("demo chat page", () => {
  const clock = new ManualClock();
  let server: DemoServer;
  let browser: RunningChromium;
  let alice: Page;
  let bob: Page;

  before(async () => {
    server = await startTestServer(clock);
    browser = await launchChromium();
    alice = browser.page;
    bob = await browser.context.newPage();
    await logIn(alice, server.url, "alice");
    await logIn(bob, server.url, "bob");
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
  beforeEach(() => clock.refillAll());

  it("loads duplexio's own client bundle, not socket.io's", async () => {
    const scripts = await alice.evaluate(() =>
      Array.from(document.scripts).map((s) => new URL(s.src, location.href).pathname),
    );
    assert.ok(scripts.includes("/socket.io/duplexio.min.js"), scripts.join(", "));
    const bundle = await fetch(`${server.url}socket.io/duplexio.min.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get("content-type") ?? "", /javascript/);
  });

  it("two pages chat: the message arrives as text, with a delivered tick for the sender", async () => {
    const text = `hello <b>bob</b> <img src=x onerror="document.title='pwned'"> ${Date.now()}`;
    await sendMessage(alice, text);
    await waitForMessage(bob, "lobby", text);
    // Rendered as text: the markup is visible characters, no element was created from it.
    const markup = await bob.evaluate(() => ({
      elements: document.querySelectorAll(".message .text *").length,
      title: document.title,
    }));
    assert.deepEqual(markup, { elements: 0, title: "duplexio chat" });
    const delivered = await alice.evaluate(
      (t) =>
        Array.from(document.querySelectorAll(".message.mine"))
          .find((e) => e.querySelector(".text")?.textContent === t)
          ?.getAttribute("data-state"),
      text,
    );
    assert.equal(delivered, "delivered");
    // Timestamps: each message carries a <time> with a machine-readable date.
    const stamp = await bob.locator(".message time").last().getAttribute("datetime");
    assert.ok(stamp && !Number.isNaN(Date.parse(stamp)), `datetime ${stamp}`);
    // Presence: both pages list both people in the lobby.
    await bob.waitForFunction(
      () => document.getElementById("members")?.textContent?.includes("alice"),
      undefined,
      { timeout: 10_000 },
    );
    const members = await alice.locator("#members li").allTextContents();
    assert.deepEqual(members, ["alice (you)", "bob"]);
    await saveScreenshot(bob, "chat-two-pages");
  });

  it("a room message reaches only the people in that room", async () => {
    const carol = await browser.context.newPage();
    try {
      await logIn(carol, server.url, "carol");
      await joinRoom(carol, "random");
      await joinRoom(alice, "random");
      const secret = `only for #random ${Date.now()}`;
      await sendMessage(alice, secret);
      await waitForMessage(carol, "random", secret);
      // The server handles alice's messages in order and bob's connection delivers them in
      // order: once bob has the lobby message sent after, he would have had the room one.
      await openRoom(alice, "lobby");
      const barrier = `back in the lobby ${Date.now()}`;
      await sendMessage(alice, barrier);
      await waitForMessage(bob, "lobby", barrier);
      const bobs = await messageTexts(bob);
      assert.equal(bobs.random, undefined, "bob has no #random list");
      assert.ok(!Object.values(bobs).flat().includes(secret), "bob never got the #random message");
      // Carol sees alice in #random's member list.
      await openRoom(carol, "random");
      await carol.waitForFunction(
        () => document.getElementById("members")?.textContent?.includes("alice"),
        undefined,
        { timeout: 10_000 },
      );
      await saveScreenshot(carol, "chat-room-random");
    } finally {
      await carol.close();
    }
  });

  it("the server's periodic clock tick arrives", async () => {
    // The test server ticks every 200 ms (5 s by default).
    const ticks = async () => Number(await alice.locator("#clock").getAttribute("data-ticks"));
    const first = await ticks();
    await alice.waitForFunction(
      (n) => Number(document.getElementById("clock")?.dataset.ticks) >= n + 2,
      first,
      { timeout: 10_000 },
    );
    assert.match((await alice.locator("#clock").textContent()) ?? "", /^server clock: \d/);
    await saveScreenshot(alice, "chat-tick");
  });

  it("shows who is typing", async () => {
    await openRoom(bob, "lobby");
    await openRoom(alice, "lobby");
    await bob.fill("#message", "");
    await bob.type("#message", "hel");
    await alice.waitForFunction(
      () => document.getElementById("typing")?.textContent === "bob is typing…",
      undefined,
      { timeout: 10_000 },
    );
    await bob.fill("#message", "");
  });

  it("refuses a message over the length limit with the server's error, and keeps serving", async () => {
    await openRoom(alice, "lobby");
    await alice.fill("#message", "x".repeat(501));
    assert.equal(await alice.locator("#counter").getAttribute("class"), "muted counter over");
    await alice.click("#message-form button[type=submit]");
    await alice.waitForSelector("#notice:not([hidden])", { timeout: 10_000 });
    assert.equal(
      await alice.locator("#notice").textContent(),
      "message too long: 501 characters, the limit is 500",
    );
    assert.equal(await alice.locator(LOBBY_MINE).last().getAttribute("data-state"), "failed");
    const after = `still here ${Date.now()}`;
    await sendMessage(alice, after);
    await waitForMessage(bob, "lobby", after);
  });

  it("rate-limits a flood with a visible notice; other people are still served", async () => {
    await openRoom(alice, "lobby");
    // The test's limiter clock stands still: exactly the burst of 5 gets through.
    await alice.evaluate(() => {
      const input = document.getElementById("message") as HTMLInputElement;
      const form = document.getElementById("message-form") as HTMLFormElement;
      for (let i = 0; i < 8; i++) {
        input.value = `flood ${i}`;
        form.requestSubmit();
      }
    });
    // Every message of the flood has its answer from the server.
    await alice.waitForFunction(
      () =>
        Array.from(document.querySelectorAll(".message.mine")).filter(
          (e) =>
            e.querySelector(".text")?.textContent?.startsWith("flood ") &&
            ["delivered", "failed"].includes(e.getAttribute("data-state") ?? ""),
        ).length === 8,
      undefined,
      { timeout: 10_000 },
    );
    const states = await alice.evaluate(() =>
      Array.from(document.querySelectorAll(".message.mine"))
        .filter((e) => e.querySelector(".text")?.textContent?.startsWith("flood "))
        .map((e) => e.getAttribute("data-state")),
    );
    assert.deepEqual(states, [...Array(5).fill("delivered"), ...Array(3).fill("failed")]);
    assert.match((await alice.locator("#notice").textContent()) ?? "", /sending too fast/);
    await saveScreenshot(alice, "chat-rate-limited");
    // Bob is unaffected.
    const fromBob = `bob still talks ${Date.now()}`;
    await sendMessage(bob, fromBob);
    await waitForMessage(alice, "lobby", fromBob);
  });

  it("queues messages while disconnected and recovers the missed ones on reconnect", async () => {
    await openRoom(alice, "lobby");
    // Keep alice offline: her reconnection handshakes (HTTP long-polling first) fail until unrouted.
    const block = (route: { abort(): Promise<void> }) => route.abort();
    await alice.route("**/socket.io/?*", block);
    await alice.click("#drop-connection");
    await alice.waitForSelector("#banner:not([hidden])", { timeout: 10_000 });
    assert.match((await alice.locator("#banner").textContent()) ?? "", /queued/);

    const queued = `sent while offline ${Date.now()}`;
    await alice.fill("#message", queued);
    await alice.click("#message-form button[type=submit]");
    assert.equal(await alice.locator(LOBBY_MINE).last().getAttribute("data-state"), "queued");
    const missed = `said while alice was away ${Date.now()}`;
    await sendMessage(bob, missed);
    await saveScreenshot(alice, "chat-offline");

    await alice.unroute("**/socket.io/?*", block);
    await alice.waitForFunction(
      () => document.getElementById("status")?.dataset.recovered === "true",
      undefined,
      { timeout: 20_000 },
    );
    assert.match((await alice.locator("#banner").textContent()) ?? "", /session recovered/);
    await waitForMessage(alice, "lobby", missed);
    await waitForMessage(bob, "lobby", queued);
    // The acknowledgement of the queued message came after the reconnection: it is delivered.
    await alice.waitForFunction(
      (t) =>
        Array.from(document.querySelectorAll(".message.mine")).some(
          (e) =>
            e.querySelector(".text")?.textContent === t &&
            e.getAttribute("data-state") === "delivered",
        ),
      queued,
      { timeout: 10_000 },
    );
    await saveScreenshot(alice, "chat-recovered");
  });
});
