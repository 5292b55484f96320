/**
 * Runs fixtures/server.ts in a child process that a test can kill outright (SIGKILL: no goodbye
 * on any connection, as a crashed or killed server). A replacement can be loaded in advance
 * ({@link ServerProcess.load}) and made to listen on the old port right after the kill.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { withTimeout } from "../../helpers/timing.js";

const fixture = fileURLToPath(new URL("./fixtures/server.ts", import.meta.url));

/** An event the server process received. */
export interface ReceivedEvent {
  event: string;
  args: unknown[];
}

/** A running server process. */
export class ServerProcess {
  /** Events received, in order. */
  readonly events: ReceivedEvent[] = [];
  port = 0;
  ready = false;
  #stderr = "";
  #waiters: Array<() => void> = [];
  readonly #exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    let buffered = "";
    // Writing a port to a process that just died must not take the test down.
    child.stdin?.on("error", () => {});
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf("\n");
      while (newline !== -1) {
        const line = JSON.parse(buffered.slice(0, newline)) as {
          port?: number;
          ready?: boolean;
        } & ReceivedEvent;
        buffered = buffered.slice(newline + 1);
        if (line.ready) this.ready = true;
        else if (line.port !== undefined) this.port = line.port;
        else this.events.push(line);
        newline = buffered.indexOf("\n");
      }
      this.#wake();
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.#stderr += chunk;
    });
    this.#exited = new Promise((resolve) =>
      child.once("exit", () => {
        this.#wake();
        resolve();
      }),
    );
  }

  /** Starts a `kind` server process, loaded but not listening yet (see {@link listen}). */
  static async load(kind: string): Promise<ServerProcess> {
    // Not a test process itself: without the runner's marker it runs as a plain script.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const server = new ServerProcess(
      spawn(process.execPath, ["--import", "tsx", fixture], {
        env: { ...env, SERVER_KIND: kind },
        stdio: ["pipe", "pipe", "pipe"],
      }),
    );
    try {
      await server.waitUntil(() => server.ready, 30000, "the server process to load");
    } catch (error) {
      await server.kill();
      throw error;
    }
    return server;
  }

  /** Starts a `kind` server process listening on a free port. */
  static async start(kind: string): Promise<ServerProcess> {
    const server = await ServerProcess.load(kind);
    await server.listen(0);
    return server;
  }

  /** Makes a loaded server listen on `port` (0: a free one) and waits until it does. */
  async listen(port: number): Promise<void> {
    this.child.stdin?.write(`${port}\n`);
    await this.waitUntil(() => this.port !== 0, 10000, "the server process to listen");
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves once `condition` holds (checked on every output line); fails on exit or timeout. */
  waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (condition()) resolve();
          else if (!this.alive) reject(new Error(`the server process exited: ${this.#stderr}`));
          else this.#waiters.push(check);
        };
        check();
      }),
      ms,
      what,
    );
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill("SIGKILL");
    await withTimeout(this.#exited, 10000, "the server process to exit");
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
