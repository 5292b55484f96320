/**
 * Runs Debian's python3 (which has python3-websockets; the `python3` on PATH may not) with a
 * script that prints one JSON object per line, and collects those lines. Every run is bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { withTimeout } from "./timing.js";

/** Debian's interpreter, with the distribution's packages. */
export const PYTHON = "/usr/bin/python3";

/** One line of output of an interop script. */
export type JsonLine = Record<string, unknown>;

/** A running script: the lines printed so far, and a way to wait for more. */
export class PythonProcess {
  readonly lines: JsonLine[] = [];
  stderr = "";
  private partial = "";
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      this.partial += chunk;
      const complete = this.partial.split("\n");
      this.partial = complete.pop() ?? "";
      for (const line of complete)
        if (line.trim() !== "") this.lines.push(JSON.parse(line) as JsonLine);
      this.wake();
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        this.wake();
        resolve(code);
      }),
    );
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The first line (from the start of output) for which `match` holds, waiting up to `ms`. */
  async waitForLine(
    match: (line: JsonLine) => boolean,
    ms: number,
    what: string,
  ): Promise<JsonLine> {
    const find = () => this.lines.find(match);
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (find() || this.child.exitCode !== null) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      ms,
      `python: ${what}`,
    );
    const line = find();
    if (!line) throw new Error(`python exited without ${what}; stderr:\n${this.stderr}`);
    return line;
  }

  /** Stops the process (SIGTERM, then SIGKILL if it lingers). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    await withTimeout(this.exited, 5000, "python to exit").catch(() => this.child.kill("SIGKILL"));
  }
}

/** Starts `script` with `args`, working directory the script's folder (for its imports). */
export function startPython(script: string, args: string[], cwd: string): PythonProcess {
  return new PythonProcess(
    spawn(PYTHON, ["-u", script, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] }),
  );
}

/** Runs a script to completion (killed after `ms`) and returns its lines, exit code and stderr. */
export async function runPython(
  script: string,
  args: string[],
  cwd: string,
  ms: number,
): Promise<{ lines: JsonLine[]; code: number | null; stderr: string }> {
  const run = startPython(script, args, cwd);
  try {
    const code = await withTimeout(run.exited, ms, `python ${script} ${args.join(" ")}`);
    return { lines: run.lines, code, stderr: run.stderr };
  } finally {
    await run.stop();
  }
}
