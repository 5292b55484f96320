// Child processes of the abuse and soak benches: every one is started here, registered, and
// killed (by its own pid, through its ChildProcess) when the runner ends, fails or gets Ctrl-C.
// Each child also exits by itself when its IPC channel closes (the runner died), see
// exitWithParent().
import { spawn } from "node:child_process";
import { once } from "node:events";

const live = new Set();
let handlersInstalled = false;

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Synchronous last resort: whatever is still running when the runner exits is killed.
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping ${live.size} child process(es) and exiting`);
      for (const child of live) child.kill("SIGKILL");
      process.exit(130);
    });
  }
}

/** In a child: exit when the parent goes away (its IPC channel closes). */
export function exitWithParent() {
  process.on("disconnect", () => process.exit(0));
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A child process with an IPC channel.
 * - `request(type, fields, timeoutMs)`: sends `{ type, id, ...fields }` and resolves with the
 *   child's reply of the same type and id.
 * - `next(type, timeoutMs)`: the next message of that type.
 * - `exited`: resolves with { code, signal } when it exits; `exitInfo` is set then.
 * - `stderrTail`: the last 4 KiB the child wrote to stderr (also echoed, prefixed).
 */
export class Child {
  constructor(process, label) {
    this.process = process;
    this.label = label;
    this.pid = process.pid;
    this.exitInfo = null;
    this.stderrTail = "";
    this.nextId = 1;
    this.exited = new Promise((resolve) => {
      process.once("exit", (code, signal) => {
        live.delete(process);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    process.on("error", () => {});
    process.stderr?.on("data", (chunk) => {
      const text = chunk.toString();
      this.stderrTail = (this.stderrTail + text).slice(-4096);
      for (const line of text.split("\n"))
        if (line.trim() !== "") console.error(`  [${label}] ${line}`);
    });
  }

  get running() {
    return this.exitInfo === null;
  }

  send(message) {
    if (!this.process.connected) return false;
    try {
      this.process.send(message, () => {});
      return true;
    } catch {
      return false;
    }
  }

  /** The next message matching `predicate`; rejects when the child exits first or on timeout. */
  waitFor(predicate, timeoutMs, what) {
    const wait = new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message?.type === "fatal") {
          cleanup();
          reject(new Error(`${this.label}: ${message.message}`));
        } else if (predicate(message)) {
          cleanup();
          resolve(message);
        }
      };
      const onExit = (code, signal) => {
        cleanup();
        reject(new Error(`${this.label} exited (${signal ?? code}) while waiting for ${what}`));
      };
      const cleanup = () => {
        this.process.off("message", onMessage);
        this.process.off("exit", onExit);
      };
      if (!this.running) {
        reject(new Error(`${this.label} is not running (waiting for ${what})`));
        return;
      }
      this.process.on("message", onMessage);
      this.process.on("exit", onExit);
    });
    return withDeadline(wait, timeoutMs, `${this.label}: ${what}`);
  }

  next(type, timeoutMs) {
    return this.waitFor((m) => m?.type === type, timeoutMs, `"${type}"`);
  }

  request(type, fields = {}, timeoutMs = 10_000) {
    const id = this.nextId++;
    const reply = this.waitFor(
      (m) => m?.type === type && m.id === id,
      timeoutMs,
      `"${type}" reply`,
    );
    this.send({ type, id, ...fields });
    return reply;
  }

  /** Asks the child to stop (message `stop`), waits up to `graceMs`, then SIGKILL. Never throws. */
  async stop(graceMs = 3000) {
    if (!this.running) return this.exitInfo;
    this.send({ type: "stop" });
    const timer = setTimeout(() => this.process.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
    return this.exitInfo;
  }

  kill() {
    if (this.running) this.process.kill("SIGKILL");
    return this.exited;
  }
}

/**
 * Starts `node [nodeArgs] script [args]` with an IPC channel. `nofile`, when set, raises the
 * child's open-file soft limit first (through `sh -c 'ulimit -n N; exec node ...'`: the IPC
 * descriptor survives the exec). stdout is inherited unless `quiet`; stderr is captured.
 */
export function startChild({
  script,
  args = [],
  nodeArgs = [],
  label,
  nofile,
  quiet = false,
  cwd,
}) {
  installHandlers();
  const nodeCommand = [process.execPath, ...nodeArgs, script, ...args];
  const stdio = ["ignore", quiet ? "ignore" : "inherit", "pipe", "ipc"];
  const child =
    nofile === undefined
      ? spawn(nodeCommand[0], nodeCommand.slice(1), { stdio, cwd })
      : spawn("/bin/sh", ["-c", `ulimit -n ${Number(nofile)} && exec "$@"`, "sh", ...nodeCommand], {
          stdio,
          cwd,
        });
  live.add(child);
  return new Child(child, label);
}

/**
 * Runs a command to completion with inherited stdio, killed (SIGKILL) after `timeoutMs`.
 * Resolves with { code, signal, timedOut, ms }; killed with the runner on Ctrl-C as well.
 */
export function runCommand(command, args, { cwd, env, timeoutMs }) {
  installHandlers();
  return new Promise((resolve) => {
    const began = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "inherit", "inherit"] });
    live.add(child);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ error: error.message, timedOut, ms: Math.round(performance.now() - began) });
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, timedOut, ms: Math.round(performance.now() - began) });
    });
  });
}

/** Waits for `child` to exit by itself, up to `ms`; then kills it. */
export async function awaitExit(child, ms) {
  if (!child.running) return child.exitInfo;
  const timer = setTimeout(() => child.kill(), ms);
  await child.exited;
  clearTimeout(timer);
  return child.exitInfo;
}

export { once };
