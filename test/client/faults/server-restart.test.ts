/**
 * The server process is killed (SIGKILL: no goodbye on any connection) and started again on the
 * same port. The client notices, retries with exponential backoff whose delays stay within the
 * bounds of the configured reconnectionDelay, reconnectionDelayMax and randomizationFactor, and
 * once back delivers what was emitted while the server was down exactly once and in order.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { afterEach, it } from "node:test";
import { waitUntil } from "../../helpers/timing.js";
import { type ClientSocket, io } from "../behaviour/client-under-test.js";
import { collect, describeAgainstEachServer, waitFor } from "../behaviour/harness.js";
import { ServerProcess } from "./server-process.js";

const DELAY = 200;
const DELAY_MAX = 1000;
const JITTER = 0.5;
/**
 * Timers never fire early by the event loop's clock, but that clock is read once per loop turn:
 * a timer set late in a busy turn counts from the turn's start, which performance.now() (read
 * where the timer was set) does not see. A spawn or a GC in that turn shows as an early timer.
 */
const EARLY_MS = 50;
/** How late a timer may fire on a loaded 2-core machine. */
const LATE_MS = 400;

describeAgainstEachServer("client faults: server killed and restarted", (kind) => {
  let servers: ServerProcess[] = [];
  let client: ClientSocket | undefined;
  afterEach(async () => {
    client?.io.reconnection(false);
    client?.disconnect();
    for (const server of servers) await server.kill();
    servers = [];
  });

  for (const transports of [["polling", "websocket"], ["websocket"]] as (
    | "polling"
    | "websocket"
  )[][]) {
    it(`reconnects with bounded backoff, buffered emits delivered once and in order (${transports.join("+")})`, async () => {
      // The replacement loads meanwhile, so bringing it up takes no process start-up.
      const [first, second] = await Promise.all([
        ServerProcess.start(kind.name),
        ServerProcess.load(kind.name),
      ]);
      servers.push(first, second);
      client = io(first.url, {
        forceNew: true,
        transports,
        reconnection: true,
        reconnectionDelay: DELAY,
        reconnectionDelayMax: DELAY_MAX,
        randomizationFactor: JITTER,
      });
      const socket = client;
      await waitFor(socket, "connect", 10000);
      for (let n = 1; n <= 5; n++) assert.equal(await socket.emitWithAck("seq", n), "ok");
      // The ack may come back before the process's line about the event is read from its pipe.
      await first.waitUntil(() => first.events.length >= 5, 5000, "the server's output");
      assert.deepEqual(
        first.events.map((e) => e.args[0]),
        [1, 2, 3, 4, 5],
      );

      // When each backoff timer started (the close, then each failed attempt) and fired.
      const started: number[] = [];
      const fired: number[] = [];
      socket.io.on("close", () => started.push(performance.now()));
      socket.io.on("reconnect_error", () => started.push(performance.now()));
      socket.io.on("reconnect_attempt", () => fired.push(performance.now()));
      const disconnects = collect<[string]>(socket, "disconnect");

      await first.kill();
      await waitUntil(() => disconnects.length === 1, 10000, "the client to notice the kill");
      assert.match(disconnects[0]![0], /^transport (close|error)$/);

      // Emitted while the server is down: buffered, some with acks.
      const acks: Promise<unknown>[] = [];
      for (let n = 6; n <= 25; n++) {
        if (n % 5 === 0) acks.push(socket.emitWithAck("seq", n));
        else socket.emit("seq", n);
      }
      // A few failed attempts first, so the delays have grown.
      await waitUntil(() => fired.length >= 3, 10000, "three reconnection attempts");
      await second.listen(first.port);
      if (!socket.connected) await waitFor(socket, "connect", 10000);
      assert.deepEqual(await Promise.all(acks), ["ok", "ok", "ok", "ok"]);
      assert.equal(await socket.emitWithAck("fence"), "ok");
      await second.waitUntil(
        () => second.events.some((e) => e.event === "fence"),
        5000,
        "the server's output",
      );
      assert.deepEqual(
        second.events.map((e) => (e.event === "fence" ? "fence" : e.args[0])),
        [...Array.from({ length: 20 }, (_, i) => i + 6), "fence"],
        "each buffered emit exactly once, in order, then the fence",
      );
      assert.equal(disconnects.length, 1);

      // Attempt k waited DELAY * 2^(k-1), moved by up to JITTER of itself, capped at DELAY_MAX.
      assert.ok(fired.length >= 3);
      for (let k = 1; k <= fired.length; k++) {
        const base = DELAY * 2 ** (k - 1);
        const low = Math.min(base * (1 - JITTER), DELAY_MAX);
        const high = Math.min(base * (1 + JITTER), DELAY_MAX);
        const waited = fired[k - 1]! - started[k - 1]!;
        assert.ok(
          waited >= low - EARLY_MS && waited <= high + LATE_MS,
          `attempt ${k} waited ${waited.toFixed(1)} ms, expected ${low}..${high} ms`,
        );
      }
    });
  }
});
