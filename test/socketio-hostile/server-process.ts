/**
 * The hostile server (fixtures/server-process.ts) in a child process: a crash or an uncaught
 * exception there shows as an exit or as output on stderr, which the tests assert against.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { delay, withTimeout } from "../helpers/timing.js";

const fixture = fileURLToPath(new URL("./fixtures/server-process.ts", import.meta.url));

/** A running server process. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed on stderr so far. */
  stderr(): string;
  /** Asserts the process is still running and printed nothing on stderr. */
  expectAliveAndSilent(): Promise<void>;
  /** SIGTERM, then SIGKILL if it lingers. */
  stop(): Promise<void>;
}

/** Starts the server process and waits for its `{"port":N}` line. */
export async function startServerProcess(): Promise<ServerProcess> {
  // Not a test process itself: without the runner's marker it runs as a plain script.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!alive()) return;
    child.kill("SIGTERM");
    await withTimeout(exited, 10000, "the server process to stop").catch(() =>
      child.kill("SIGKILL"),
    );
  };
  try {
    const firstLine = await withTimeout(
      new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("\n")) resolve(out.split("\n")[0]);
        });
        child.once("exit", (code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
      }),
      20000,
      "the server process to listen",
    );
    const { port } = JSON.parse(firstLine) as { port: number };
    return {
      child,
      url: `http://127.0.0.1:${port}`,
      stderr: () => stderr,
      expectAliveAndSilent: async () => {
        // Time for a crash in progress to finish exiting.
        await delay(200);
        assert.equal(child.exitCode, null, `server exited: ${stderr}`);
        assert.equal(child.signalCode, null, `server killed: ${stderr}`);
        assert.equal(stderr, "", "the server printed to stderr");
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
