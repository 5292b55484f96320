/**
 * Runs an example as a user would (`node examples/.../server.mjs`, importing the package by its
 * name "duplexio", i.e. the built dist/ through package.json "exports"), on a free port of
 * 127.0.0.1, and collects what it prints.
 *
 * With DUPLEXIO_TEST_SUBJECT=socket.io, "duplexio" is made to resolve to socket.io instead
 * (reference/alias.cjs), to check the example suites themselves.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { withTimeout } from "../helpers/timing.js";
import { subjectIsSocketIoPackage } from "../socketio-interop/subject.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const alias = fileURLToPath(new URL("./reference/alias.cjs", import.meta.url));

/** A running example process. */
export class ExampleProcess {
  stdout = "";
  stderr = "";
  /** `http://127.0.0.1:<port>` once the example printed its "Listening on" line. */
  url = "";
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      this.stdout += chunk;
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

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first match of `pattern` in stdout, waiting up to `ms` (fails early if the process exits). */
  async waitForOutput(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (pattern.test(this.stdout) || !this.alive) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      ms,
      `the example to print ${pattern}; stdout so far:\n${this.stdout}\nstderr:\n${this.stderr}`,
    );
    const match = this.stdout.match(pattern);
    if (!match) {
      throw new Error(`the example exited without printing ${pattern}; stderr:\n${this.stderr}`);
    }
    return match;
  }

  /** Stops the process (SIGTERM, then SIGKILL if it lingers). */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill("SIGTERM");
    await withTimeout(this.exited, 5000, "the example to exit").catch(() =>
      this.child.kill("SIGKILL"),
    );
  }
}

/**
 * Starts `node <file relative to the repository>` (or `node <args...>`) with PORT=0,
 * HOST=127.0.0.1 and `env`, and waits for its "Listening on http://localhost:<port>/" line.
 */
export async function startExample(
  file: string | string[],
  env: Record<string, string> = {},
): Promise<ExampleProcess> {
  if (!subjectIsSocketIoPackage && !existsSync(new URL("dist/index.js", `file://${root}`))) {
    throw new Error("the examples import the built package: run `npm run build` first");
  }
  const preload = subjectIsSocketIoPackage ? ["--require", alias] : [];
  // Not a test process: without the runner's marker the example runs exactly as from a shell.
  const { NODE_TEST_CONTEXT: _, ...inherited } = process.env;
  const example = new ExampleProcess(
    spawn(process.execPath, [...preload, ...[file].flat()], {
      cwd: root,
      env: { ...inherited, PORT: "0", HOST: "127.0.0.1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  try {
    const [, port] = await example.waitForOutput(/Listening on http:\/\/localhost:(\d+)\//, 20000);
    example.url = `http://127.0.0.1:${port}`;
  } catch (error) {
    await example.stop();
    throw error;
  }
  return example;
}
