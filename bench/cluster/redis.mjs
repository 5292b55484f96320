// A redis-server for one bench run: Debian's /usr/bin/redis-server on a free port of 127.0.0.1,
// nothing saved to disk (the same command line as test/helpers/redis.ts), never the system
// service. Every wait is bounded. A server never outlives the bench: `killAllRedis()` (called by
// the orchestrator on exit, Ctrl-C included) kills the ones still running, and each server has a
// watchdog shell reading a pipe from this process, which kills it when this process dies
// without running its exit handlers (SIGKILL).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REDIS_SERVER = "/usr/bin/redis-server";
const HOST = "127.0.0.1";

/** Processes running: { child, watchdog }. */
const running = new Set();
/** Directories of servers not stopped yet (one may be between its two processes, restarting). */
const directories = new Set();

/** Kills every server still running (SIGKILL, synchronous: safe in an 'exit' handler). */
export function killAllRedis() {
  for (const entry of running) {
    entry.child.kill("SIGKILL");
    entry.watchdog.kill("SIGKILL");
  }
  running.clear();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port of 127.0.0.1 that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true when `PING` on `port` gets `+PONG` within `ms`. Never rejects. */
function ping(port, ms) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = "";
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("*1\r\n$4\r\nPING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

/** A shell that kills `pid` when the pipe from this process reaches end of file. */
function startWatchdog(pid) {
  const watchdog = spawn(
    "/bin/sh",
    ["-c", 'read -r _; kill -KILL "$1" 2>/dev/null', "redis-watchdog", String(pid)],
    { stdio: ["pipe", "ignore", "ignore"] },
  );
  watchdog.on("error", () => {});
  watchdog.stdin.on("error", () => {});
  watchdog.unref();
  watchdog.stdin.unref?.();
  return watchdog;
}

class RedisServer {
  constructor(port, dir) {
    this.port = port;
    this.dir = dir;
    this.url = `redis://${HOST}:${port}`;
    this.entry = null;
    this.output = "";
  }

  get pid() {
    return this.entry?.child.pid ?? 0;
  }

  /** Spawns redis-server and waits (at most `readyMs`) until it answers PING. */
  async launch(readyMs) {
    this.output = "";
    const child = spawn(
      REDIS_SERVER,
      [
        ...["--port", String(this.port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        ...["--daemonize", "no", "--dir", this.dir, "--logfile", ""],
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const spawnError = await new Promise((resolve) => {
      child.once("spawn", () => resolve(null));
      child.once("error", resolve);
    });
    if (spawnError !== null) throw new Error(`cannot start ${REDIS_SERVER}: ${spawnError.message}`);
    const entry = { child, watchdog: startWatchdog(child.pid) };
    entry.exited = once(child, "exit").then(() => {
      running.delete(entry);
      entry.watchdog.kill("SIGKILL");
    });
    running.add(entry);
    this.entry = entry;
    const collect = (chunk) => {
      this.output = (this.output + chunk.toString()).slice(-16_384);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const deadline = performance.now() + readyMs;
    let gone = false;
    entry.exited.then(() => {
      gone = true;
    });
    while (performance.now() < deadline && !gone) {
      if (await ping(this.port, 500)) return;
      await sleep(10);
    }
    await this.terminate();
    throw new Error(
      `redis-server on port ${this.port} did not answer PING within ${readyMs} ms:\n${this.output}`,
    );
  }

  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. Never throws. */
  async terminate() {
    const entry = this.entry;
    if (entry === null) return;
    if (entry.child.exitCode === null && entry.child.signalCode === null) {
      entry.child.kill("SIGTERM");
      const timer = setTimeout(() => entry.child.kill("SIGKILL"), 5000);
      await entry.exited;
      clearTimeout(timer);
    }
    await entry.exited;
  }

  /** Starts again on the same port (retrying a while if it is still taken). */
  async restart() {
    await this.terminate();
    const deadline = performance.now() + 10_000;
    for (;;) {
      try {
        return await this.launch(10_000);
      } catch (error) {
        if (!this.output.includes("Address already in use") || performance.now() > deadline) {
          throw error;
        }
        await sleep(100);
      }
    }
  }

  /** Stops the server for good and deletes its directory. Idempotent, never throws. */
  async stop() {
    await this.terminate();
    rmSync(this.dir, { recursive: true, force: true });
    directories.delete(this.dir);
  }
}

/** Starts a redis-server on a free port of 127.0.0.1; resolves once it answers PING. */
export async function startRedis() {
  let lastError;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "duplexio-bench-redis-"));
    directories.add(dir);
    const server = new RedisServer(await freePort(), dir);
    try {
      await server.launch(10_000);
      return server;
    } catch (error) {
      lastError = error;
      await server.stop();
      if (!server.output.includes("Address already in use")) throw error;
    }
  }
  throw lastError;
}
