/**
 * Reconnection after the server drops the connection, the order of the Manager's and Socket's
 * events, backoff delays (with injected timers and randomness), giving up, and connection state
 * recovery (pid and offset sent back, missed packets replayed, `recovered`).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type EngineTimers, type IoOptions, io, Manager } from "../../../src/client/node.js";
import type { Socket as ServerSocket } from "../../../src/index.js";
import { delay, waitUntil as waitUntilTimed, withTimeout } from "../../helpers/timing.js";
import { record, startServer, type TestServer, TRANSPORTS, waitFor } from "./helpers.js";

const RECONNECTING: IoOptions = {
  reconnection: true,
  reconnectionDelay: 20,
  reconnectionDelayMax: 50,
  randomizationFactor: 0,
};

const MANAGER_EVENTS = [
  "open",
  "close",
  "error",
  "reconnect_attempt",
  "reconnect",
  "reconnect_error",
  "reconnect_failed",
] as const;

describe("client reconnection", () => {
  let server: TestServer | undefined;
  const extraManagers: Manager[] = [];
  afterEach(async () => {
    for (const manager of extraManagers.splice(0)) manager._close();
    await server?.close();
    server = undefined;
  });

  /** Resolves with each new server-side socket, in order. */
  function connections(target: TestServer, nsp = "/"): () => Promise<ServerSocket> {
    const queue: ServerSocket[] = [];
    const waiting: ((s: ServerSocket) => void)[] = [];
    target.io.of(nsp).on("connection", (s) => {
      const resolve = waiting.shift();
      if (resolve) resolve(s);
      else queue.push(s);
    });
    return () => {
      const ready = queue.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    };
  }

  for (const transport of TRANSPORTS) {
    it(`reconnects after the server drops the connection (${transport.name})`, async () => {
      server = await startServer({}, { ...RECONNECTING, ...transport.options });
      server.io.of("/admin");
      const nextConnection = connections(server);
      const client = server.client("/");
      const first = await nextConnection();
      await waitFor(client, "connect");
      const firstId = client.id;
      const events = record(client.io, MANAGER_EVENTS);
      const socketEvents = record(client, ["connect", "disconnect", "connect_error"]);

      first.conn.close();
      const second = await nextConnection();
      await waitFor(client, "connect");
      assert.notEqual(client.id, firstId, "a new session without recovery");
      assert.equal(client.recovered, false);
      const label = ([name, arg]: unknown[]) =>
        typeof arg === "string" || typeof arg === "number" ? `${name}:${arg}` : name;
      assert.deepEqual(events.map(label), [
        "close:transport close",
        "reconnect_attempt:1",
        "open",
        "reconnect:1",
      ]);
      assert.deepEqual(socketEvents.map(label), ["disconnect:transport close", "connect"]);
      // Usable afterwards.
      const got = waitFor(second, "x");
      client.emit("x", 1);
      assert.deepEqual(await got, [1]);
    });
  }

  it("reconnects every namespace of the connection and flushes what was emitted meanwhile", async () => {
    server = await startServer({}, RECONNECTING);
    const nextRoot = connections(server, "/");
    const nextAdmin = connections(server, "/admin");
    const manager = new Manager(server.url, { ...RECONNECTING, transports: ["websocket"] });
    extraManagers.push(manager);
    const root = manager.socket("/");
    const admin = manager.socket("/admin");
    const firstRoot = await nextRoot();
    await nextAdmin();
    await Promise.all([waitFor(root, "connect"), waitFor(admin, "connect")]);

    const lost = waitFor(admin, "disconnect");
    firstRoot.conn.close();
    await lost;
    admin.emit("while-away", 1);
    assert.equal(admin.sendBuffer.length, 1);
    const adminAgain = await nextAdmin();
    const arrived = waitFor(adminAgain, "while-away");
    const rootAgain = await nextRoot();
    assert.deepEqual(await arrived, [1]);
    assert.equal(adminAgain.conn, rootAgain.conn, "both namespaces share the new connection");
    assert.equal(server.io.engine.clientsCount, 1);
  });

  it("does not reconnect after a client or server disconnection", async () => {
    server = await startServer({}, RECONNECTING);
    const nextConnection = connections(server);
    const client = server.client("/");
    const first = await nextConnection();
    await waitFor(client, "connect");
    const events = record(client.io, MANAGER_EVENTS);
    first.disconnect();
    await waitFor(client, "disconnect");
    await delay(100);
    assert.deepEqual(
      events.map(([name]) => name),
      ["close"],
    );
    assert.equal(client.io._reconnecting, false);
  });

  it("gives up after reconnectionAttempts: reconnect_error each time, then reconnect_failed", async () => {
    server = await startServer(
      {},
      { ...RECONNECTING, reconnectionAttempts: 2, transports: ["websocket"] },
    );
    const nextConnection = connections(server);
    const client = server.client("/");
    const first = await nextConnection();
    await waitFor(client, "connect");
    const events = record(client.io, MANAGER_EVENTS);
    const failed = waitFor(client.io, "reconnect_failed");
    // Stop accepting connections, then drop the current one.
    await new Promise<void>((resolve) => {
      server!.http.close(() => resolve());
      first.conn.close();
      server!.http.closeAllConnections();
    });
    await failed;
    assert.deepEqual(
      events.map(([name, arg]) => (typeof arg === "number" ? `${name}:${arg}` : name)),
      [
        "close",
        "reconnect_attempt:1",
        "error",
        "reconnect_error",
        "reconnect_attempt:2",
        "error",
        // socket.io-client's order: the next attempt (here, giving up) is decided first.
        "reconnect_failed",
        "reconnect_error",
      ],
    );
    assert.equal(client.io._reconnecting, false);
  });

  it("waits the backoff delays, drawn with the injected timers and randomness", async () => {
    const delays: number[] = [];
    const timers: EngineTimers = {
      setTimeout: (callback, ms) => {
        delays.push(ms);
        // Compressed so the test is quick; what matters is the delay asked for.
        return setTimeout(callback, Math.min(ms, 5));
      },
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      now: () => Date.now(),
    };
    const socket = io("http://127.0.0.1:9", {
      forceNew: true,
      transports: ["websocket"],
      timeout: false,
      reconnectionAttempts: 4,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      random: () => 0.25,
      timers,
    });
    extraManagers.push(socket.io as unknown as Manager);
    await waitFor(socket.io, "reconnect_failed");
    // random 0.25: deviation floor(0.25 * 0.5 * delay) subtracted (its first decimal, 2, is even).
    assert.deepEqual(
      delays.filter((ms) => ms >= 100),
      [875, 1750, 3500, 5000],
    );
  });

  it("lets a Node process exit while reconnecting with autoUnref", async () => {
    const entry = fileURLToPath(new URL("../../../src/client/node.ts", import.meta.url));
    // Nothing listens on port 9: the client keeps failing and waiting between attempts.
    const start = (autoUnref: boolean) =>
      spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "--input-type=module",
          "-e",
          `const { io } = await import(${JSON.stringify(entry)});
           const socket = io("http://127.0.0.1:9", { autoUnref: ${autoUnref}, reconnectionDelay: 100, reconnectionDelayMax: 100, transports: ["websocket"] });
           socket.io.on("reconnect_attempt", (n) => console.log("attempt " + n));`,
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
    const unref = start(true);
    const [code] = await withTimeout(once(unref, "exit"), 30_000, "the autoUnref process to exit");
    assert.equal(code, 0);

    const ref = start(false);
    let output = "";
    ref.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await waitUntilTimed(() => /attempt 2/.test(output), 30_000, "two reconnection attempts");
      assert.equal(
        ref.exitCode,
        null,
        "without autoUnref the reconnection keeps the process alive",
      );
    } finally {
      ref.kill();
    }
  });

  it("stops reconnecting when the Manager is closed while waiting", async () => {
    server = await startServer(
      {},
      { ...RECONNECTING, reconnectionDelay: 100, reconnectionDelayMax: 100 },
    );
    const nextConnection = connections(server);
    const client = server.client("/");
    const first = await nextConnection();
    await waitFor(client, "connect");
    const events = record(client.io, MANAGER_EVENTS);
    first.conn.close();
    await waitFor(client, "disconnect");
    assert.equal(client.io._reconnecting, true);
    client.disconnect();
    await delay(200);
    assert.deepEqual(
      events.map(([name]) => name),
      ["close", "close"],
    );
    assert.equal(client.io._reconnecting, false);
  });

  for (const transport of TRANSPORTS) {
    it(`recovers the session and the missed packets (${transport.name})`, async () => {
      server = await startServer(
        { connectionStateRecovery: {} },
        { ...RECONNECTING, reconnectionDelay: 80, reconnectionDelayMax: 80, ...transport.options },
      );
      const nextConnection = connections(server);
      const client = server.client("/");
      const first = await nextConnection();
      await waitFor(client, "connect");
      assert.equal(client.recovered, false);
      const id = client.id;
      const received: unknown[] = [];
      client.on("tick", (n: number) => received.push(n));
      server.io.emit("tick", 1);
      await waitUntil(() => received.length === 1);

      const gone = waitFor(first, "disconnect");
      first.conn.close();
      await gone;
      // Broadcast while the client is away: kept for it by the server.
      server.io.emit("tick", 2);
      server.io.emit("tick", 3);
      const recoveredSocket = await nextConnection();
      await waitFor(client, "connect");
      assert.equal(client.recovered, true);
      assert.equal(client.id, id);
      assert.equal(recoveredSocket.id, id);
      assert.equal(recoveredSocket.recovered, true);
      await waitUntil(() => received.length === 3);
      assert.deepEqual(received, [1, 2, 3]);

      server.io.emit("tick", 4);
      await waitUntil(() => received.length === 4);
      assert.deepEqual(received, [1, 2, 3, 4]);
    });
  }

  it("does not claim recovery from a server without it", async () => {
    server = await startServer({}, RECONNECTING);
    const nextConnection = connections(server);
    const client = server.client("/");
    const first = await nextConnection();
    await waitFor(client, "connect");
    first.conn.close();
    await nextConnection();
    await waitFor(client, "connect");
    assert.equal(client.recovered, false);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await delay(10);
  assert.ok(condition(), "condition not met in time");
}
