// Starting and stopping one configuration's processes for a run: Redis (when the adapter needs
// it) and N server nodes, each a fork of node.mjs, or one node:cluster primary
// (cluster-primary.mjs) with N workers. Every wait is bounded; every process started is tracked
// so that `killEverything()` (run.mjs calls it on exit and on Ctrl-C) leaves nothing behind.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { nextMessage, sendQuietly, stopChild, withDeadline } from "../lib/processes.mjs";
import { CONFIGS } from "./cli.mjs";
import { killAllRedis, startRedis } from "./redis.mjs";

const NODE = fileURLToPath(new URL("./node.mjs", import.meta.url));
const PRIMARY = fileURLToPath(new URL("./cluster-primary.mjs", import.meta.url));
const START_TIMEOUT_MS = 30_000;
const COUNT_TIMEOUT_MS = 8000;
const OUTPUT_LIMIT = 16_384;

/** Child processes started and not yet exited. */
const children = new Set();
/** Pids of node:cluster workers of a running deployment (children of its primary). */
const workerPids = new Set();

/** SIGKILLs every child and Redis still running (synchronous: fine in an 'exit' handler). */
export function killEverything() {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  for (const pid of workerPids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  workerPids.clear();
  killAllRedis();
}

/**
 * Forks `module` with piped output (kept, shown when a run fails) and an IPC channel; the child
 * is tracked until it exits.
 */
export function forkTracked(module, args, { execArgv = [], keepOutput = true } = {}) {
  const child = fork(module, args, {
    execArgv,
    stdio: ["ignore", keepOutput ? "pipe" : "inherit", keepOutput ? "pipe" : "inherit", "ipc"],
  });
  children.add(child);
  child.on("exit", () => children.delete(child));
  child.on("error", () => {});
  child.output = "";
  if (keepOutput) {
    const collect = (chunk) => {
      child.output = (child.output + chunk.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
  }
  return child;
}

let countId = 0;

/** The --cpu-prof-name of one process of a run. */
export function profileName(config, tag, process) {
  return `${config}.${tag}.${process}.cpuprofile`;
}

/**
 * Starts configuration `name` with `nodes` server nodes. Resolves with { ports (one per node,
 * node 1 first; all the same for node:cluster), pids ([{ label, pid }]: node1..nodeN and
 * "redis" or "primary"), redis, count(), output(), stop() }.
 */
export async function startDeployment(
  name,
  { nodes, redisRetryMs, cpuProfDir, nodeArgs = [], profileTag = "run" },
) {
  const config = CONFIGS[name];
  /** Node flags of one process; with --cpu-prof, its profile is "<config>.<tag>.<process>.cpuprofile". */
  const execArgvOf = (process) => [
    ...nodeArgs,
    ...(cpuProfDir === null
      ? []
      : [
          ...["--cpu-prof", "--cpu-prof-dir", cpuProfDir],
          ...["--cpu-prof-name", profileName(name, profileTag, process)],
        ]),
  ];
  const redis = config.redis ? await startRedis() : null;
  const processes = [];
  /** Server processes that exited before stop(): "node2 (exit code 1)". */
  const crashed = [];
  let stopping = false;
  const watchExit = (child, label) => {
    child.on("exit", (code, signal) => {
      if (!stopping) crashed.push(`${label} (${signal ?? `exit code ${code}`})`);
    });
    return child;
  };
  const deployment = {
    name,
    redis,
    ports: [],
    pids: [],
    crashed,
    output() {
      return processes
        .map((child) => child.output.trim())
        .filter((text) => text !== "")
        .join("\n");
    },
    async stop() {
      stopping = true;
      await Promise.all(processes.map((child) => stopChild(child, { type: "stop" })));
      // The primary has ended its workers (or they followed it when its channel closed).
      for (const { pid } of deployment.pids) workerPids.delete(pid);
      await redis?.stop();
    },
  };
  try {
    if (config.adapter === "cluster") {
      const primaryConfig = {
        server: config.server,
        workers: nodes,
        workerExecArgv: Array.from({ length: nodes }, (_, i) => execArgvOf(`node${i + 1}`)),
      };
      const primary = forkTracked(PRIMARY, [JSON.stringify(primaryConfig)], {
        execArgv: execArgvOf("primary"),
      });
      processes.push(watchExit(primary, "primary"));
      const listening = await withDeadline(
        nextMessage(primary, "listening", `${name} primary`),
        START_TIMEOUT_MS,
        `${name} start`,
      );
      for (const { pid } of listening.workers) workerPids.add(pid);
      deployment.ports = listening.workers.map(() => listening.port);
      deployment.pids = [
        ...listening.workers.map(({ name: label, pid }) => ({ label, pid })),
        { label: "primary", pid: listening.pid },
      ];
      deployment.count = async () => {
        const id = ++countId;
        const reply = nextMessage(primary, "count", `${name} primary`, id);
        sendQuietly(primary, { type: "count", id });
        return (await withDeadline(reply, COUNT_TIMEOUT_MS, "node counts")).nodes;
      };
    } else {
      for (let i = 0; i < nodes; i++) {
        const nodeConfig = {
          name: `node${i + 1}`,
          server: config.server,
          adapter: config.adapter,
          redisUrl: redis.url,
          redisRetryMs,
        };
        processes.push(
          watchExit(
            forkTracked(NODE, [JSON.stringify(nodeConfig)], {
              execArgv: execArgvOf(nodeConfig.name),
            }),
            nodeConfig.name,
          ),
        );
      }
      const listening = await withDeadline(
        Promise.all(
          processes.map((child, i) => nextMessage(child, "listening", `${name} node${i + 1}`)),
        ),
        START_TIMEOUT_MS,
        `${name} start`,
      );
      deployment.ports = listening.map((m) => m.port);
      deployment.pids = [
        ...listening.map((m) => ({ label: m.name, pid: m.pid })),
        { label: "redis", pid: redis.pid },
      ];
      deployment.count = async () => {
        const id = ++countId;
        const replies = processes.map((child, i) =>
          nextMessage(child, "count", `node${i + 1}`, id),
        );
        for (const child of processes) sendQuietly(child, { type: "count", id });
        return withDeadline(Promise.all(replies), COUNT_TIMEOUT_MS, "node counts");
      };
    }
  } catch (error) {
    const output = deployment.output();
    await deployment.stop();
    throw new Error(`${error.message}${output === "" ? "" : `\n--- server output ---\n${output}`}`);
  }
  return deployment;
}
