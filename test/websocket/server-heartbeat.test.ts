import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import type { HeartbeatOptions } from "../../src/websocket/index.js";
import { WebSocketServer } from "../../src/websocket/index.js";
import {
  closeWss,
  eventually,
  maskedFrame,
  openClient,
  RawPeer,
  roundTrip,
  withTimeout,
  wssPort,
} from "./server-helpers.js";

const PING = 0x9;
const PONG = 0xa;

/** Timers driven by the test: nothing fires until the test says so. */
class ManualTimers implements NonNullable<HeartbeatOptions["timers"]> {
  intervals = new Map<number, () => void>();
  timeouts = new Map<number, () => void>();
  #next = 1;

  setInterval(callback: () => void): unknown {
    const id = this.#next++;
    this.intervals.set(id, callback);
    return id;
  }
  clearInterval(handle: unknown): void {
    this.intervals.delete(handle as number);
  }
  setTimeout(callback: () => void): unknown {
    const id = this.#next++;
    this.timeouts.set(id, callback);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timeouts.delete(handle as number);
  }
  /** One interval tick (every interval timer). */
  tick(): void {
    for (const callback of [...this.intervals.values()]) callback();
  }
  /** Fires every pending timeout (the pong deadlines). */
  expire(): void {
    const pending = [...this.timeouts.values()];
    this.timeouts.clear();
    for (const callback of pending) callback();
  }
}

describe("WebSocketServer heartbeat", () => {
  it("terminates a peer that ignores pings and keeps one that answers them", async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      // A generous timeout: the answering client must never look dead on a loaded machine.
      heartbeat: { interval: 40, timeout: 600 },
    });
    wss.on("connection", (socket) => {
      socket.on("message", (data) => socket.send(data));
    });
    try {
      const port = await wssPort(wss);
      const alive = await openClient(`ws://127.0.0.1:${port}/`);
      let pingsAnswered = 0;
      alive.on("ping", () => {
        pingsAnswered++;
      });
      const silent = await RawPeer.upgrade(port);
      await silent.until(() => silent.ended, "the silent peer is terminated");
      assert.ok(
        silent.frames.some((frame) => frame.opcode === PING),
        "it was pinged first",
      );
      assert.equal(
        silent.frames.some((frame) => frame.opcode === 0x8),
        false,
        "terminated, not closed: a dead peer would not answer a close either",
      );
      await eventually(() => wss.clients.size === 1, "the silent peer leaves clients");
      // ws answers pings by itself: it survives several rounds.
      await eventually(() => pingsAnswered >= 4, "several heartbeat rounds");
      assert.equal(alive.readyState, alive.OPEN);
      assert.equal(await roundTrip(alive, "still alive"), "still alive");
      alive.close();
    } finally {
      await closeWss(wss);
    }
  });

  it("with manual timers: a pong in time saves the peer, a missed one ends it", async () => {
    const timers = new ManualTimers();
    const wss = new WebSocketServer({
      port: 0,
      host: "127.0.0.1",
      heartbeat: { interval: 1000, timeout: 500, timers },
    });
    try {
      const port = await wssPort(wss);
      const peer = await RawPeer.upgrade(port);
      await eventually(() => wss.clients.size === 1, "connection");
      const [serverSide] = [...wss.clients];

      timers.tick();
      await peer.until(() => peer.frames.some((frame) => frame.opcode === PING), "first ping");
      const ponged = once(serverSide, "pong");
      peer.socket.write(
        maskedFrame(PONG, peer.frames.find((f) => f.opcode === PING)?.payload ?? ""),
      );
      await withTimeout(ponged, 5000, "server got the pong");
      timers.expire();
      assert.equal(serverSide.readyState, serverSide.OPEN, "answered in time: kept");

      peer.frames.length = 0;
      timers.tick();
      await peer.until(() => peer.frames.some((frame) => frame.opcode === PING), "second ping");
      timers.expire(); // no pong this time
      await peer.until(() => peer.ended, "terminated");
      await eventually(() => wss.clients.size === 0, "removed from clients");
    } finally {
      await closeWss(wss);
    }
    assert.equal(timers.intervals.size, 0, "close() stops the heartbeat");
  });

  it("refuses unusable timings at construction", () => {
    assert.throws(
      () => new WebSocketServer({ noServer: true, heartbeat: { interval: 0 } }),
      TypeError,
    );
    assert.throws(
      () => new WebSocketServer({ noServer: true, heartbeat: { interval: 10, timeout: -1 } }),
      TypeError,
    );
  });
});
