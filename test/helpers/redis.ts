/**
 * Real Redis servers for tests: Debian's /usr/bin/redis-server, started on a free port of
 * 127.0.0.1 with a fresh temporary directory, nothing saved to disk, never the system service.
 * `startRedisCluster` makes a Redis Cluster of such servers with /usr/bin/redis-cli. Every wait is
 * bounded, and no server outlives the test process: the ones still running are killed on
 * process 'exit', and each server has a watchdog (a shell reading a pipe from this process) that
 * kills it if this process dies without running 'exit' handlers (a signal, SIGKILL).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { delay, withTimeout } from "./timing.js";

/** Debian's server and command-line client (packages redis-server and redis-tools). */
export const REDIS_SERVER = "/usr/bin/redis-server";
export const REDIS_CLI = "/usr/bin/redis-cli";

const HOST = "127.0.0.1";
/** Redis Cluster's bus port is the client port + 10000. */
const CLUSTER_BUS_OFFSET = 10000;
/** How much of a server's output is kept for error messages. */
const LOG_LIMIT = 64 * 1024;

export interface RedisOptions {
  /** More redis-server arguments, after the helper's own (a later option wins). */
  args?: string[];
  /** Bound on the wait for the first `+PONG`, in ms (default 10000). */
  readyTimeoutMs?: number;
  /** Also require port + 10000 to be free (the cluster bus port). */
  clusterBus?: boolean;
}

/** A running redis-server. */
export interface RedisProcess {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The current process id (a new one after `restart()`). */
  readonly pid: number;
  /** The server's recent output (it logs to stdout). */
  readonly log: string;
  /** SIGTERM (SIGKILL after 5 s), waits for the exit, deletes the directory. Idempotent. */
  stop(): Promise<void>;
  /** Sends `signal` to the current process. */
  kill(signal: NodeJS.Signals): void;
  /**
   * Stops the server and starts it again on the same port and directory, resolving once it
   * answers PING. Nothing was saved, so the data is gone (a cluster node keeps its nodes.conf).
   */
  restart(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing until `thaw()`. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
}

/** A running Redis Cluster of masters only. */
export interface RedisClusterProcess {
  nodes: Array<{ host: string; port: number; url: string }>;
  /** The servers, in the order of `nodes`. */
  servers: RedisProcess[];
  stop(): Promise<void>;
}

// --- registry: what must not outlive this process ---------------------------------------------

interface Running {
  child: ChildProcess;
  watchdog: ChildProcess;
}
const running = new Set<Running>();
const directories = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const { child, watchdog } of running) {
      child.kill("SIGKILL");
      watchdog.kill("SIGKILL");
    }
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });
}

/** Lets the event loop end while `stream` is open (stdio pipes of child processes are Sockets). */
function unrefStream(stream: unknown): void {
  (stream as Partial<Socket> | null)?.unref?.();
}

/**
 * A shell that kills `pid` (and deletes `dir`) when the pipe from this process reaches end of
 * file, which happens however this process ends. Killed with SIGKILL once the server is stopped.
 */
function startWatchdog(pid: number, dir: string): ChildProcess {
  const watchdog = spawn(
    "/bin/sh",
    ["-c", 'read -r _; kill -KILL "$1" 2>/dev/null; rm -rf "$2"', "redis-watchdog", `${pid}`, dir],
    { stdio: ["pipe", "ignore", "ignore"] },
  );
  watchdog.on("error", () => undefined);
  watchdog.stdin?.on("error", () => undefined);
  watchdog.unref();
  unrefStream(watchdog.stdin);
  return watchdog;
}

// --- ports and raw commands ---------------------------------------------------------------------

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A port of 127.0.0.1 that was free a moment ago (and port + 10000 too, with `clusterBus`). */
async function freePort(clusterBus: boolean, avoid: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, HOST, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    if (port === 0 || avoid.has(port)) continue;
    if (!clusterBus) return port;
    if (port + CLUSTER_BUS_OFFSET > 65535 || avoid.has(port + CLUSTER_BUS_OFFSET)) continue;
    if (await canBind(port + CLUSTER_BUS_OFFSET)) return port;
  }
  throw new Error("redis helper: found no free port");
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/**
 * Sends one command over a fresh TCP connection and returns the reply: the text of a simple
 * string, integer or bulk string (null for a null bulk string). An error reply rejects with the
 * server's message (e.g. `MOVED 15495 127.0.0.1:7002`). Arrays are not supported. Bounded by `ms`.
 */
export function sendCommand(port: number, args: string[], ms = 2000): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const socket = createConnection({ host: HOST, port });
    const finish = (error: Error | null, value: string | null = null) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(new Error(`redis ${args[0]} on port ${port} timed out after ${ms} ms`)),
      ms,
    );
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish(new Error(`redis port ${port} closed before replying`)));
    socket.on("connect", () => socket.write(encodeCommand(args)));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const lineEnd = buffer.indexOf("\r\n");
      if (lineEnd < 0) return;
      const line = buffer.subarray(1, lineEnd).toString();
      switch (String.fromCharCode(buffer[0])) {
        case "+":
        case ":":
          return finish(null, line);
        case "-":
          return finish(new Error(line));
        case "$": {
          const length = Number(line);
          if (length < 0) return finish(null, null);
          const end = lineEnd + 2 + length;
          if (buffer.length < end + 2) return;
          return finish(null, buffer.subarray(lineEnd + 2, end).toString());
        }
        default:
          return finish(new Error(`redis helper: unsupported reply ${JSON.stringify(line)}`));
      }
    });
  });
}

/** Polls PING until `+PONG`; rejects after `ms` or as soon as `exited` settles. */
async function waitForPong(port: number, ms: number, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + ms;
  let last = "no reply";
  while (Date.now() < deadline) {
    if (gone) throw new Error("redis-server exited before answering PING");
    try {
      if ((await sendCommand(port, ["PING"], 1000)) === "PONG") return;
    } catch (error) {
      last = (error as Error).message;
    }
    await delay(50);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${ms} ms (${last})`);
}

// --- one server ---------------------------------------------------------------------------------

class RedisServer implements RedisProcess {
  readonly host = HOST;
  readonly url: string;
  private current: Running | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = "";
  private stopped = false;

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly args: string[],
  ) {
    this.url = `redis://${HOST}:${port}`;
  }

  get pid(): number {
    return this.current?.child.pid ?? 0;
  }

  get log(): string {
    return this.output;
  }

  /** Spawns the server and waits until it answers PING; throws (after cleaning up) if not. */
  async launch(readyTimeoutMs: number): Promise<void> {
    const child = spawn(
      REDIS_SERVER,
      [
        "--port",
        `${this.port}`,
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        this.dir,
        "--logfile",
        "",
        ...this.args,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once("spawn", () => resolve(null));
      child.once("error", (error) => resolve(error));
    });
    if (spawned) throw new Error(`could not start ${REDIS_SERVER}: ${spawned.message}`);
    const entry: Running = { child, watchdog: startWatchdog(child.pid!, this.dir) };
    running.add(entry);
    this.current = entry;
    this.exited = exited.then(() => {
      running.delete(entry);
      entry.watchdog.kill("SIGKILL");
    });
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-LOG_LIMIT);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.unref();
    unrefStream(child.stdout);
    unrefStream(child.stderr);
    try {
      await waitForPong(this.port, readyTimeoutMs, this.exited);
    } catch (error) {
      await this.terminate();
      throw new Error(`${(error as Error).message}\n--- redis-server output ---\n${this.output}`);
    }
  }

  /** Ends the current process, if any: SIGTERM (SIGCONT too, in case it is frozen), SIGKILL. */
  private async terminate(): Promise<void> {
    const entry = this.current;
    if (!entry || entry.child.exitCode !== null || entry.child.signalCode !== null) {
      await this.exited;
      return;
    }
    entry.child.kill("SIGTERM");
    entry.child.kill("SIGCONT");
    try {
      await withTimeout(this.exited, 5000, `redis-server ${this.port} to exit on SIGTERM`);
    } catch {
      entry.child.kill("SIGKILL");
      await withTimeout(this.exited, 5000, `redis-server ${this.port} to exit on SIGKILL`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.terminate();
    directories.delete(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }

  kill(signal: NodeJS.Signals): void {
    this.current?.child.kill(signal);
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error("redis helper: restart() after stop()");
    await this.terminate();
    // The port was ours until now; another process may take it in between: retry for a while.
    const deadline = Date.now() + 10000;
    for (;;) {
      this.output = "";
      try {
        return await this.launch(10000);
      } catch (error) {
        if (!this.output.includes("Address already in use") || Date.now() > deadline) throw error;
        await delay(200);
      }
    }
  }

  freeze(): void {
    this.kill("SIGSTOP");
  }

  thaw(): void {
    this.kill("SIGCONT");
  }
}

async function startOn(avoid: ReadonlySet<number>, options: RedisOptions): Promise<RedisProcess> {
  installExitHook();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort(options.clusterBus ?? false, avoid);
    const dir = mkdtempSync(join(tmpdir(), "duplexio-redis-"));
    directories.add(dir);
    const server = new RedisServer(port, dir, options.args ?? []);
    try {
      await server.launch(options.readyTimeoutMs ?? 10000);
      return server;
    } catch (error) {
      lastError = error;
      const portTaken = server.log.includes("Address already in use");
      await server.stop();
      if (!portTaken) throw error;
    }
  }
  throw lastError;
}

/** Starts a redis-server on a free port of 127.0.0.1; resolves once it answers PING. */
export function startRedis(options: RedisOptions = {}): Promise<RedisProcess> {
  return startOn(new Set(), options);
}

// --- a cluster ----------------------------------------------------------------------------------

/** Runs redis-cli to completion (killed after `ms`); resolves with its output, rejects on failure. */
async function redisCli(args: string[], ms: number): Promise<string> {
  const child = spawn(REDIS_CLI, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const done = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  let code: number | null;
  try {
    code = await withTimeout(done, ms, `redis-cli ${args.join(" ")}`);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  if (code !== 0) throw new Error(`redis-cli ${args.join(" ")} exited with ${code}:\n${output}`);
  return output;
}

/** The `field:value` lines of an INFO-style reply. */
function infoFields(text: string | null): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of (text ?? "").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/**
 * Starts `masters` (at least 3, redis-cli's minimum) cluster-enabled servers, joins them with
 * `redis-cli --cluster create` (no replicas) and waits until every node reports
 * `cluster_state:ok` and knows all the others.
 */
export async function startRedisCluster(
  options: { masters?: number; readyTimeoutMs?: number } = {},
): Promise<RedisClusterProcess> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error("redis-cli --cluster create needs at least 3 masters");
  const servers: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i++) {
      const server = await startOn(taken, {
        clusterBus: true,
        args: [
          "--cluster-enabled",
          "yes",
          // Relative to --dir, the server's own temporary directory.
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          "2000",
        ],
      });
      servers.push(server);
      taken.add(server.port);
      taken.add(server.port + CLUSTER_BUS_OFFSET);
    }
    await redisCli(
      [
        "--cluster",
        "create",
        ...servers.map((server) => `${HOST}:${server.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      30000,
    );
    const readyMs = options.readyTimeoutMs ?? 20000;
    const deadline = Date.now() + readyMs;
    for (const server of servers) {
      for (;;) {
        const info = infoFields(
          await sendCommand(server.port, ["CLUSTER", "INFO"]).catch(() => null),
        );
        if (
          info.get("cluster_state") === "ok" &&
          info.get("cluster_known_nodes") === `${masters}` &&
          info.get("cluster_slots_assigned") === "16384"
        )
          break;
        if (Date.now() > deadline) {
          throw new Error(
            `redis cluster node ${server.port} not ready within ${readyMs} ms: ` +
              `state ${info.get("cluster_state")}, known nodes ${info.get("cluster_known_nodes")}`,
          );
        }
        await delay(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: servers.map(({ host, port, url }) => ({ host, port, url })),
    servers,
    stop,
  };
}
