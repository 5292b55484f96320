/**
 * A server fixture in a child process, for the end-to-end fuzz and hostile-input suites: a crash
 * or an uncaught exception there shows as an exit or as output on stderr, which the suites assert
 * against after every case. The fixture prints `{"port":N}` once listening and stops on SIGTERM.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { withTimeout } from "./timing.js";

export interface ChildServer {
  child: ChildProcess;
  port: number;
  /** Everything the process printed on stderr so far. */
  stderr(): string;
  /** Asserts the process still runs and printed nothing on stderr. */
  assertAliveAndSilent(context: string): void;
  /** SIGTERM, then SIGKILL if it lingers. */
  stop(): Promise<void>;
}

/**
 * The environment of a fixture process: this one's with `changes` (an undefined value removes the
 * variable), without the test runner's marker, so that the fixture runs as a plain script.
 */
export function fixtureEnv(changes: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _, ...inherited } = process.env;
  const env = { ...inherited, ...changes };
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  return env;
}

/**
 * Starts `fixture` (a .ts file run through tsx) and waits for its port; `envChanges` as
 * {@link fixtureEnv} takes them.
 */
export async function startChildServer(
  fixture: string,
  envChanges: Record<string, string | undefined> = {},
): Promise<ChildServer> {
  const env = fixtureEnv(envChanges);
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
      30000,
      "the server process to listen",
    );
    const { port } = JSON.parse(firstLine) as { port: number };
    return {
      child,
      port,
      stderr: () => stderr,
      assertAliveAndSilent: (context) => {
        assert.ok(
          alive(),
          `${context}: the server process exited (${child.exitCode ?? child.signalCode}): ${stderr}`,
        );
        assert.equal(stderr, "", `${context}: the server process printed to stderr`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
