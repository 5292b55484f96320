/**
 * `duplexio serve --workers 2`: two worker processes on one port (Node's cluster module hands the
 * TCP connections out round-robin), joined by the cluster adapter. Polling-only and WebSocket
 * clients, of duplexio and of the official socket.io-client, all get the chat's broadcasts; a
 * worker killed with SIGKILL is restarted (one line in the log), its clients reconnect (as new
 * sessions: the cluster adapter keeps no sessions for recovery, they died with the worker), the
 * other worker's WebSocket clients notice nothing, and the primary keeps serving; SIGINT then
 * stops everything, workers included.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { io as officialIo } from "socket.io-client";
import { io as duplexioIo } from "../../src/client/node.js";
import { waitUntil, withTimeout } from "../helpers/timing.js";
import { type CliProcess, startServerCommand } from "./helpers.js";

/** The part of both clients' sockets the test uses. */
interface ChatClient {
  readonly connected: boolean;
  readonly id: string | undefined;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  close(): unknown;
}

interface Watched {
  name: string;
  socket: ChatClient;
  /** Texts of the chat messages received from the others. */
  texts: string[];
  disconnects: string[];
  connects: number;
}

const running: CliProcess[] = [];
const clients: Watched[] = [];
after(() => {
  for (const { socket } of clients) socket.close();
  for (const cli of running) cli.kill();
});

/** The process ids of `pid`'s children (the workers of a primary). */
function childrenOf(pid: number): number[] {
  const result = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" });
  return result.stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function connectClient(
  name: string,
  url: string,
  transports: ("polling" | "websocket")[],
  official: boolean,
) {
  const options = {
    forceNew: true,
    transports,
    auth: { nickname: name },
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
  };
  const socket = (official ? officialIo(url, options) : duplexioIo(url, options)) as ChatClient;
  const watched: Watched = { name, socket, texts: [], disconnects: [], connects: 0 };
  socket.on("connect", () => watched.connects++);
  socket.on("message", (message: never) => watched.texts.push((message as { text: string }).text));
  socket.on("disconnect", (reason: never) => watched.disconnects.push(reason));
  clients.push(watched);
  return watched;
}

/** The Engine.IO session id of a client's connection. */
function engineId(socket: ChatClient): string {
  const id = (socket as unknown as { io: { engine?: { id?: string } } }).io.engine?.id;
  assert.ok(id, "a connected client has a session id");
  return id;
}

/** Joins every client to `room`, then each says something there: all the others hear it. */
async function everyoneHearsEveryone(room: string, round: string): Promise<void> {
  const named = (name: string, what: string) => (error: Error) => {
    throw new Error(`${name}, ${what}: ${error.message}`);
  };
  for (const { name, socket } of clients) {
    const ack = (await socket
      .timeout(10000)
      .emitWithAck("join", room)
      .catch(named(name, "join"))) as { ok: boolean };
    assert.equal(ack.ok, true);
  }
  for (const { name, socket } of clients) {
    const ack = (await socket
      .timeout(10000)
      .emitWithAck("message", { room, text: `${round} from ${name}` })
      .catch(named(name, "message"))) as { ok: boolean };
    assert.equal(ack.ok, true);
  }
  for (const watched of clients) {
    const expected = clients
      .filter((other) => other !== watched)
      .map((other) => `${round} from ${other.name}`)
      .sort();
    await waitUntil(
      () => expected.every((text) => watched.texts.includes(text)),
      10000,
      `${watched.name} to hear the others' ${round} messages (got ${watched.texts.join(", ")})`,
    );
  }
}

describe("duplexio serve --workers 2", () => {
  test("polling and WebSocket clients share the chat; a killed worker comes back; SIGINT stops all", async () => {
    const { cli, port } = await startServerCommand(["serve", "--workers", "2", "--port", "0"]);
    running.push(cli);
    await cli.waitForOutput(/workers: +2 processes on one port/);
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(() => childrenOf(cli.child.pid ?? 0).length === 2, 10000, "two workers");
    const workers = childrenOf(cli.child.pid ?? 0);

    connectClient("polling-duplexio", url, ["polling"], false);
    connectClient("polling-official", url, ["polling"], true);
    connectClient("ws-duplexio", url, ["websocket"], false);
    connectClient("ws-official", url, ["websocket"], true);
    connectClient("ws-duplexio-2", url, ["websocket"], false);
    connectClient("ws-official-2", url, ["websocket"], true);
    await waitUntil(
      () => clients.every(({ socket }) => socket.connected),
      10000,
      "every client to connect",
    );
    await everyoneHearsEveryone("room1", "first");
    for (const { name, disconnects } of clients) assert.deepEqual(disconnects, [], name);

    // Each session id starts with its worker's node id (16 hex digits): the clients by worker.
    const byWorker = new Map<string, Watched[]>();
    for (const watched of clients) {
      const owner = engineId(watched.socket).slice(0, 16);
      byWorker.set(owner, [...(byWorker.get(owner) ?? []), watched]);
    }

    // One worker dies: the primary restarts it, its clients reconnect.
    process.kill(workers[0], "SIGKILL");
    await cli.waitForStderr(/worker \d\/2 \(pid \d+\) killed by SIGKILL; restarting it in \d+ ms/);
    await waitUntil(
      () => childrenOf(cli.child.pid ?? 0).length === 2 && !alive(workers[0]),
      10000,
      "the worker to be replaced",
    );
    // The killed worker's group: the one whose WebSocket-only clients lost their connection
    // (cluster spreads the 4 WebSocket connections over both workers). Its polling clients learn
    // it from a request the other worker forwards to the dead owner: answered 400 at once when
    // the adapter's heartbeats show the owner gone (10 s), 503 at the latest (pingInterval + 5 s
    // after it was forwarded), and the client's own ping timeout (45 s) bounds it too. (A polling
    // client of the other worker may lose a request that a connection of the killed worker
    // carried, and reconnect: that says nothing of who held its session.)
    let cutOff: Watched[] = [];
    await waitUntil(
      () => {
        cutOff =
          [...byWorker.values()].find((group) =>
            group.some(({ name, disconnects }) => name.startsWith("ws-") && disconnects.length > 0),
          ) ?? [];
        return cutOff.length > 0;
      },
      15000,
      "a WebSocket client of the killed worker to be cut off",
    );
    await waitUntil(
      () => cutOff.every(({ disconnects }) => disconnects.length > 0),
      50000,
      "every client of the killed worker to be cut off",
    ).catch((error: Error) => {
      const groups = [...byWorker].map(
        ([owner, group]) =>
          `${owner}: ${group.map(({ name, disconnects }) => `${name} [${disconnects.join("/")}]`).join(", ")}`,
      );
      throw new Error(`${error.message}\n${groups.join("\n")}\nstderr: ${cli.stderr}`);
    });
    await waitUntil(
      () =>
        clients.every(({ socket }) => socket.connected) &&
        cutOff.every(({ connects }) => connects >= 2),
      15000,
      "every client to be connected again",
    );
    // The other worker's WebSocket-only clients never noticed: their one connection is to the
    // worker holding their session. (A polling client of that worker may have had a request on a
    // kept-alive connection the killed worker had accepted: that request fails with the worker,
    // as it would with a node behind a load balancer, and the client reconnects.)
    for (const { name, disconnects } of clients.filter((c) => !cutOff.includes(c))) {
      if (name.startsWith("ws-")) assert.deepEqual(disconnects, [], name);
    }
    // Settled: every client connected, and no disconnection for a second (a polling client
    // whose request the dead worker carried may reconnect a little later than the others).
    let settledSince = Date.now();
    let seen = clients.map(({ disconnects }) => disconnects.length).join();
    await waitUntil(
      () => {
        const now = clients.map(({ disconnects }) => disconnects.length).join();
        if (now !== seen || !clients.every(({ socket }) => socket.connected)) {
          seen = now;
          settledSince = Date.now();
        }
        return Date.now() - settledSince >= 1000;
      },
      20000,
      "the clients to settle",
    );
    await everyoneHearsEveryone("room2", "second").catch((error: Error) => {
      const states = clients.map(
        ({ name, socket, disconnects }) =>
          `${name}: ${socket.connected ? "connected" : "disconnected"}, disconnects ${disconnects.join("/")}`,
      );
      throw new Error(`${error.message}\n${states.join("\n")}\nstderr: ${cli.stderr}`);
    });
    assert.equal(cli.child.exitCode, null, "the primary keeps serving");

    for (const { socket } of clients) socket.close();
    const now = childrenOf(cli.child.pid ?? 0);
    cli.child.kill("SIGINT");
    const result = await cli.waitForExit(20000);
    assert.equal(result.code, 0, result.stderr);
    await waitUntil(() => now.every((pid) => !alive(pid)), 5000, "the workers to be gone");
  });
});

describe("duplexio serve --workers: usage", () => {
  test("a bad worker count is refused with the usage", async () => {
    const { runCli } = await import("./helpers.js");
    const result = await runCli(["serve", "--workers", "0", "--port", "0"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /invalid worker count "0": expected 1 to 1024, or auto/);
  });

  test("a port in use stops the primary with the workers' reason (exit 1)", async () => {
    const { occupyPort, runCli } = await import("./helpers.js");
    const { server, port } = await occupyPort();
    try {
      const result = await withTimeout(
        runCli(["serve", "--workers", "2", "--port", String(port)]),
        20000,
        "the command to fail",
      );
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      assert.match(result.stderr, /before any worker listened/);
    } finally {
      server.close();
    }
  });
});
