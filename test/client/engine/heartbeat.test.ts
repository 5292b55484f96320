/**
 * The heartbeat watch: pongs answer pings, and a server that stops pinging is given up on after
 * pingInterval + pingTimeout with "ping timeout". Peers are fake polling servers (the real ones
 * always ping), and the deterministic cases drive the client's injected timers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EngineClient, type EngineTimers } from "../../../src/client/engine/index.js";
import { fakeEngine, next, openPacket, waitUntil } from "./helpers.js";

/** Timers that fire only when the test advances the clock. */
class ManualTimers implements EngineTimers {
  time = 1_000_000;
  #next = 1;
  readonly pending = new Map<number, { at: number; callback: () => void; ms: number }>();

  setTimeout(callback: () => void, ms: number): number {
    const id = this.#next++;
    this.pending.set(id, { at: this.time + ms, callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  now(): number {
    return this.time;
  }

  /** Moves the clock forward, firing what falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let dueId = -1;
      let dueAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.pending) {
        if (timer.at <= end && timer.at < dueAt) {
          dueId = id;
          dueAt = timer.at;
        }
      }
      if (dueId === -1) break;
      const timer = this.pending.get(dueId)!;
      this.pending.delete(dueId);
      this.time = timer.at;
      timer.callback();
    }
    this.time = end;
  }

  delays(): number[] {
    return [...this.pending.values()].map((timer) => timer.ms);
  }
}

describe("engine client heartbeat", () => {
  it("closes with 'ping timeout' when the server stops pinging", async () => {
    const server = await fakeEngine({
      handshake: openPacket({ pingInterval: 100, pingTimeout: 100 }),
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      let errored = false;
      client.on("error", () => {
        errored = true;
      });
      await next(client, "open");
      const [reason] = await next(client, "close", 3000);
      assert.equal(reason, "ping timeout");
      assert.equal(errored, false);
      // The server is told (if it is still there) with a close packet.
      await waitUntil(() => server.posts.includes("1"), 2000, "close packet");
    } finally {
      await server.close();
    }
  });

  it("answers each ping with a pong, then times out once the pings stop", async () => {
    const server = await fakeEngine({
      handshake: openPacket({ pingInterval: 150, pingTimeout: 150 }),
      // One ping, then silence.
      poll: (n) => (n === 1 ? "2" : null),
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"] });
      const [, [reason]] = await Promise.all([next(client, "ping"), next(client, "close", 3000)]);
      assert.equal(reason, "ping timeout");
      assert.equal(server.posts[0], "3");
    } finally {
      await server.close();
    }
  });

  it("arms pingInterval + pingTimeout at the handshake and re-arms it on each ping", async () => {
    const timers = new ManualTimers();
    let pings = 0;
    const server = await fakeEngine({
      handshake: openPacket({ pingInterval: 300, pingTimeout: 200 }),
      poll: (n) => (n <= 2 ? "2" : null),
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"], timers });
      client.on("ping", () => pings++);
      await next(client, "open");
      await waitUntil(() => pings === 2, 2000, "two pings");
      // Exactly one watch armed, with the full delay (the older ones were cleared).
      assert.deepEqual(timers.delays(), [500]);
      assert.equal(client.hasPingExpired(), false);
      const closed = next(client, "close");
      timers.advance(499);
      assert.equal(client.readyState, "open");
      timers.advance(1);
      assert.deepEqual(await closed, ["ping timeout", undefined]);
    } finally {
      await server.close();
    }
  });

  it("hasPingExpired(): a deadline passed with the timer not run yet (throttled tab) closes", async () => {
    const timers = new ManualTimers();
    const server = await fakeEngine({
      handshake: openPacket({ pingInterval: 300, pingTimeout: 200 }),
    });
    try {
      const client = new EngineClient(server.url, { transports: ["polling"], timers });
      await next(client, "open");
      timers.time += 501; // the clock moves, the timer does not fire
      const closed = next(client, "close");
      assert.equal(client.hasPingExpired(), true);
      assert.equal((await closed)[0], "ping timeout");
      assert.equal(client.hasPingExpired(), false);
    } finally {
      await server.close();
    }
  });
});
