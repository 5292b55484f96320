/**
 * The hostile server (fixtures/server-process.ts) in a child process (test/helpers/child-server.ts):
 * a crash or an uncaught exception there shows as an exit or as output on stderr, which the tests
 * assert against.
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startChildServer } from "../helpers/child-server.js";
import { delay } from "../helpers/timing.js";

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
  const server = await startChildServer(fixture);
  return {
    child: server.child,
    url: `http://127.0.0.1:${server.port}`,
    stderr: server.stderr,
    expectAliveAndSilent: async () => {
      // Time for a crash in progress to finish exiting.
      await delay(200);
      server.assertAliveAndSilent("the hostile server");
    },
    stop: server.stop,
  };
}
