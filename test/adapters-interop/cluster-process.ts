/**
 * Starts the `node:cluster` deployment of fixtures/cluster-node.ts as a child process and gives
 * its workers as nodes. Bounded: the start, each wait, the stop (SIGKILL of the primary after
 * 5 s; its workers exit when their IPC channel goes).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { withTimeout } from "../helpers/timing.js";
import type { ClusterConfig } from "./fixtures/cluster-node.js";
import type { NodeRef } from "./harness.js";

export type { ClusterConfig, WorkerConfig } from "./fixtures/cluster-node.js";

const SCRIPT = fileURLToPath(new URL("./fixtures/cluster-node.ts", import.meta.url));

/** A running deployment. */
export interface ClusterProcess {
  /** The workers, in the order of the config. */
  nodes: NodeRef[];
  /** Sends `signal` to worker `name` and waits until the primary saw it exit. */
  kill(name: string, signal: NodeJS.Signals): Promise<void>;
  /** Ends the primary (and so the workers). Idempotent. */
  stop(): Promise<void>;
  /** What the primary and its workers wrote to stderr (for error messages). */
  readonly stderr: string;
}

/** Forks the deployment; resolves once every worker listens. */
export async function startCluster(config: ClusterConfig, ms = 25_000): Promise<ClusterProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", SCRIPT, JSON.stringify(config)],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const waiter of waiters) waiter();
  });
  /** The first line matching `predicate` (already printed, or to come), bounded. */
  const lineWhere = (
    predicate: (line: Record<string, unknown>) => boolean,
    what: string,
    bound: number,
  ) =>
    withTimeout(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate);
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`the cluster exited before ${what}:\n${stderr}`));
          }
        };
        waiters.add(check);
        void exited.then(check);
        check();
      }),
      bound,
      what,
    );

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      child.stdin!.end();
      try {
        await withTimeout(exited, 5000, "the cluster primary to exit");
      } catch {
        child.kill("SIGKILL");
        await withTimeout(exited, 5000, "the cluster primary to exit on SIGKILL");
      }
    })();
    return stopped;
  };

  try {
    const ready = await lineWhere((line) => "ready" in line || "error" in line, "the workers", ms);
    if (!("ready" in ready))
      throw new Error(`the cluster did not start: ${String(ready.error)}\n${stderr}`);
    const listening = ready.ready as { name: string; port: number }[];
    const nodes = config.workers.map((worker) => {
      const port = listening.find((entry) => entry.name === worker.name)!.port;
      return { name: worker.name, kind: worker.server, url: `http://127.0.0.1:${port}` } as NodeRef;
    });
    return {
      nodes,
      get stderr() {
        return stderr;
      },
      async kill(name, signal) {
        child.stdin!.write(`${JSON.stringify({ kill: name, signal })}\n`);
        await lineWhere((line) => line.exited === name, `worker ${name} to exit`, 5000);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
