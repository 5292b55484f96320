/**
 * Drives the built `duplexio` command as a user would: spawned `node dist/cli/main.js ...`
 * processes (`npm test` builds dist first), their output read line by line, every wait bounded.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";

/** The command's entry point, as `npm start` and the `bin` field run it. */
export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Default bound of every wait in these tests. */
export const WAIT_MS = 15000;

/** How a finished command ended. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running command: its output so far, waits for lines in it, and its end. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = "";
  stderr = "";
  readonly exited: Promise<CliResult>;
  #changed: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, PORT: "" },
    });
    this.child.stdout.setEncoding("utf8");
    this.child.stderr.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => {
      this.stdout += chunk;
      this.#notify();
    });
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr += chunk;
      this.#notify();
    });
    // Writing to a process that already exited must not fail the test run.
    this.child.stdin.on("error", () => {});
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
        this.#notify();
      });
    });
  }

  #notify(): void {
    const waiting = this.#changed;
    this.#changed = [];
    for (const wake of waiting) wake();
  }

  /** The first match of `pattern` in stdout, waiting for it (rejects on exit or after `ms`). */
  waitForOutput(pattern: RegExp, ms = WAIT_MS): Promise<RegExpMatchArray> {
    return this.#waitFor(() => this.stdout, pattern, ms);
  }

  /** The first match of `pattern` in stderr, waiting for it (rejects on exit or after `ms`). */
  waitForStderr(pattern: RegExp, ms = WAIT_MS): Promise<RegExpMatchArray> {
    return this.#waitFor(() => this.stderr, pattern, ms);
  }

  async #waitFor(read: () => string, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    let done = false;
    this.exited.then(() => {
      done = true;
    });
    for (;;) {
      const match = pattern.exec(read());
      if (match) return match;
      if (done || this.child.exitCode !== null)
        throw new Error(
          `exited before printing ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `${pattern} not printed within ${ms} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#changed.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the exit (killing the process after `ms`, and then rejecting). */
  async waitForExit(ms = WAIT_MS): Promise<CliResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(
          new Error(`no exit within ${ms} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`),
        );
      }, ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process if it still runs (test clean-up). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** Runs the command to its end, with `input` piped to its stdin (then closed). */
export function runCli(args: string[], input = "", ms = WAIT_MS): Promise<CliResult> {
  const cli = new CliProcess(args);
  cli.child.stdin.end(input);
  return cli.waitForExit(ms);
}

/**
 * Starts a server command (`echo --port 0`, `serve --port 0`) and returns it with the port from
 * its listening line (`...127.0.0.1:PORT...`).
 */
export async function startServerCommand(
  args: string[],
): Promise<{ cli: CliProcess; port: number }> {
  const cli = new CliProcess(args);
  const match = await cli.waitForOutput(/127\.0\.0\.1:(\d+)/);
  return { cli, port: Number(match[1]) };
}

/** A TCP port on 127.0.0.1 that nothing listens on (taken from the OS, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server on 127.0.0.1 port 0 holding its port (for "port in use"). */
export async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { server, port };
}

/** Lines of printed output, each `HH:MM:SS.mmm <direction> text`, as [direction, text] pairs. */
export function printedLines(stdout: string): [string, string][] {
  const lines: [string, string][] = [];
  for (const line of stdout.split("\n")) {
    const match = /^\d{2}:\d{2}:\d{2}\.\d{3} ([<>*]) (.*)$/.exec(line);
    if (match) lines.push([match[1], match[2]]);
  }
  return lines;
}
