// Cluster benchmark: io.emit from one node to 1,000 clients spread over 3 nodes, duplexio's
// adapters (Redis Pub/Sub, Redis Streams, node:cluster) against socket.io 4.8's, one neutral raw
// Engine.IO load generator for all; then Redis restarted under a steady broadcast. See
// bench/cluster/README.md; `node bench/cluster/run.mjs --help` lists the flags.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { nextMessage, sendQuietly, stopChild, withDeadline } from "../lib/processes.mjs";
import { NOISY_OTHER_CPU_PERCENT } from "../lib/report.mjs";
import { packageVersion, writeResults } from "../lib/results-file.mjs";
import { CONFIGS, parseOptions, USAGE } from "./cli.mjs";
import { forkTracked, killEverything, profileName, startDeployment } from "./deployment.mjs";
import {
  formatRestartLine,
  formatRestartTable,
  formatThroughputLine,
  formatThroughputTable,
  isNoisyRun,
  summarizeRestart,
  summarizeThroughput,
} from "./report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const LOAD_GENERATOR = resolve(here, "load-generator.mjs");
/** How long the broadcasts still in flight after the measured window may take to arrive. */
const DRAIN_MS = 15_000;
/** After the drain: time for a duplicate to show up. */
const GRACE_MS = 300;
/** Connecting 1,000 clients on a loaded machine takes seconds: generous, but bounded. */
const CONNECT_TIMEOUT_MS = 60_000;
/** Restart scenario: steady phase before Redis is stopped, and the bounds after its restart. */
const RESTART_STEADY_MS = 1500;
const RESTART_MAX_RESUME_MS = 20_000;
const RESTART_AFTER_RESUME_MS = 2000;
const RESTART_GRACE_MS = 1000;

function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times. */
function clockTicks() {
  const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const value = Number(result.stdout?.trim());
  return Number.isInteger(value) && value > 0 ? value : 100;
}

/** Newest modification time (ms) of the files under `dir`, 0 when it does not exist. */
function newestMtime(dir) {
  let newest = 0;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) {
        newest = Math.max(
          newest,
          statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs,
        );
      }
    }
  } catch {
    // Missing directory.
  }
  return newest;
}

/** When dist/ was built, and whether src/ changed since (the figures would be stale). */
function distState() {
  const built = newestMtime(resolve(root, "dist", "adapters"));
  const source = newestMtime(resolve(root, "src"));
  return {
    distBuiltAt: built === 0 ? null : new Date(built).toISOString(),
    srcNewerThanDist: built === 0 || source > built,
  };
}

function redisServerVersion() {
  const result = spawnSync("/usr/bin/redis-server", ["--version"], { encoding: "utf8" });
  return /v=(\S+)/.exec(result.stdout ?? "")?.[1] ?? null;
}

/** Starts the load generator, hands it the ports, waits until every client is connected. */
async function connectLoad(deploymentPromise, loadConfig) {
  const load = forkTracked(LOAD_GENERATOR, [JSON.stringify(loadConfig)], { keepOutput: false });
  let deployment;
  try {
    // Node start-up of the generator overlaps the servers'.
    [deployment] = await Promise.all([
      deploymentPromise,
      withDeadline(nextMessage(load, "waiting", "load generator"), 15_000, "load generator start"),
    ]);
    sendQuietly(load, { type: "start", ports: deployment.ports });
    await withDeadline(
      nextMessage(load, "connected", "load generator"),
      CONNECT_TIMEOUT_MS,
      "connecting the clients",
    );
    return { load, deployment };
  } catch (error) {
    await stopChild(load, { type: "stop" });
    // The deployment may have started after all: stop it too.
    const started = await deploymentPromise.catch(() => null);
    await started?.stop();
    throw error;
  }
}

/**
 * Records the measured window of a profiled run in <dir>/windows.json, so that
 * profile-summary.mjs counts only the samples taken while the load was measured.
 */
function noteProfileWindow(dir, run) {
  const file = resolve(dir, "windows.json");
  let windows = {};
  try {
    windows = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // First run of this directory.
  }
  const tag = `round${run.round + 1}`;
  const names = run.clientsPerNode.map((_, i) => `node${i + 1}`);
  if (!CONFIGS[run.config].redis) names.push("primary");
  for (const name of names) {
    windows[profileName(run.config, tag, name)] = {
      config: run.config,
      round: run.round + 1,
      process: name,
      deliveriesPerSec: run.result.deliveriesPerSec,
      ...run.result.windowUs,
    };
  }
  writeFileSync(file, `${JSON.stringify(windows, null, 2)}\n`);
}

function withServerOutput(error, deployment) {
  const message = error instanceof Error ? error.message : String(error);
  const output = deployment?.output() ?? "";
  return output === "" ? message : `${message}\n--- server output ---\n${output}`;
}

async function runThroughput(config, round, options, ticks) {
  const loadConfig = {
    scenario: "throughput",
    host: "127.0.0.1",
    clients: options.clients,
    window: options.window,
    size: options.size,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    drainMs: DRAIN_MS,
    graceMs: GRACE_MS,
    maxBroadcasts: 2_000_000,
    loadProcesses: options.loadProcesses,
  };
  const { load, deployment } = await connectLoad(
    startDeployment(config, { ...options, profileTag: `round${round + 1}` }),
    loadConfig,
  );
  try {
    const connected = await deployment.count();
    sendQuietly(load, {
      type: "go",
      pids: [...deployment.pids, { label: "load", pid: load.pid }],
      clockTicks: ticks,
    });
    const { result } = await withDeadline(
      nextMessage(load, "result", "load generator"),
      options.warmupMs + options.durationMs + DRAIN_MS + GRACE_MS + 30_000,
      "load generator",
    );
    if (deployment.crashed.length > 0) throw new Error(`crashed: ${deployment.crashed.join(", ")}`);
    const handled = await deployment.count();
    const clientsPerNode = connected.map((node) => node.clients);
    return {
      result,
      clientsPerNode,
      broadcastsHandledPerNode: handled.map((node) => node.broadcasts),
      // Each node writes every broadcast to each of its clients (the control connection too): how
      // many of those deliveries one write system call carries, inverted.
      writesPerDelivery: clientsPerNode.map((clients, i) => {
        const writes = result.writeSyscalls[`node${i + 1}`];
        return writes === null || result.broadcasts === 0
          ? null
          : writes / (result.broadcasts * clients);
      }),
    };
  } catch (error) {
    throw new Error(withServerOutput(error, deployment));
  } finally {
    await stopChild(load, { type: "stop" });
    await deployment.stop();
  }
}

/** Why a finished run does not count, or undefined when it does. */
function checkThroughput(run, options) {
  const r = run.result;
  if (r.protocolErrors > 0 || r.droppedConnections > 0 || !r.exact) {
    return (
      `${r.protocolErrors} protocol errors, ${r.droppedConnections} dropped connections, ` +
      `${r.exact ? "exact" : "not exact"} (${r.firstError})`
    );
  }
  const handled = run.broadcastsHandledPerNode;
  const total = handled.reduce((a, b) => a + b, 0);
  if (total !== r.broadcastsSent || handled.filter((n) => n > 0).length !== 1) {
    return `the servers handled ${handled.join("/")} broadcasts, the generator sent ${r.broadcastsSent}`;
  }
  const clients = run.clientsPerNode.reduce((a, b) => a + b, 0);
  if (clients !== options.clients + 1) {
    return `${clients} clients connected to the servers, expected ${options.clients + 1}`;
  }
  return undefined;
}

async function runRestart({ config, nodeArgs }, options, ticks) {
  const loadConfig = {
    scenario: "restart",
    host: "127.0.0.1",
    size: options.size,
    rate: options.rate,
    steadyMs: RESTART_STEADY_MS,
    maxResumeMs: RESTART_MAX_RESUME_MS,
    afterResumeMs: RESTART_AFTER_RESUME_MS,
    graceMs: RESTART_GRACE_MS,
  };
  const { load, deployment } = await connectLoad(
    startDeployment(config, { ...options, nodeArgs, profileTag: "restart" }),
    loadConfig,
  );
  const redis = deployment.redis;
  const timeline = {};
  let restartError = null;
  const onMessage = async (message) => {
    if (message?.type !== "stop-redis") return;
    try {
      const t0 = performance.now();
      await redis.terminate();
      timeline.exitMs = performance.now() - t0;
      sendQuietly(load, { type: "redis-down" });
      await sleep(options.outageMs);
      const t1 = performance.now();
      await redis.restart();
      timeline.restartToPongMs = performance.now() - t1;
      sendQuietly(load, { type: "redis-up" });
    } catch (error) {
      restartError = error;
    }
  };
  load.on("message", onMessage);
  try {
    sendQuietly(load, { type: "go", pids: deployment.pids, clockTicks: ticks });
    const { result } = await withDeadline(
      nextMessage(load, "result", "load generator"),
      RESTART_STEADY_MS +
        options.outageMs +
        RESTART_MAX_RESUME_MS +
        RESTART_AFTER_RESUME_MS +
        60_000,
      "load generator",
    );
    return {
      result: { ...result, redis: timeline, crashedNodes: [...deployment.crashed] },
      serverLog: deployment.output(),
    };
  } catch (error) {
    const cause = restartError === null ? error : restartError;
    throw new Error(withServerOutput(cause, deployment));
  } finally {
    load.off("message", onMessage);
    await stopChild(load, { type: "stop" });
    await deployment.stop();
  }
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  if (options.cpuProfDir !== null) {
    options.cpuProfDir = resolve(options.cpuProfDir);
    mkdirSync(options.cpuProfDir, { recursive: true });
  }
  const ticks = clockTicks();
  const dist = distState();
  if (dist.srcNewerThanDist) {
    console.log(
      "warning: src/ has changed since dist/ was built: duplexio is measured from dist/; run " +
        "npx tsc -p tsconfig.build.json first (npm run bench:cluster does)",
    );
  }
  const loadAverageAtStart = loadavg()[0];
  const doThroughput = options.scenarios.includes("throughput");
  const doRestart = options.scenarios.includes("restart");

  console.log(
    `${cpus().length} CPUs, load average ${loadAverageAtStart.toFixed(2)}; ${options.nodes} nodes; ` +
      `Redis ${redisServerVersion() ?? "?"}, node-redis ${packageVersion(root, "redis")}, ` +
      `socket.io ${packageVersion(root, "socket.io")}`,
  );

  const runs = [];
  if (doThroughput) {
    console.log(
      `\nthroughput: ${options.configs.length} configurations x ${options.rounds} rounds; ` +
        `${options.clients} receivers (${options.loadProcesses} load generator ` +
        `process${options.loadProcesses > 1 ? "es" : ""}) + 1 control connection on node 1, ${options.window} ` +
        `broadcasts of ${options.size} B in flight, ${options.warmupMs / 1000} s warm-up + ` +
        `${options.durationMs / 1000} s measured per run`,
    );
    for (let round = 0; round < options.rounds; round++) {
      // Alternate the order so drift (other processes on the machine) does not always favour
      // the same configuration.
      const order = round % 2 === 0 ? options.configs : [...options.configs].reverse();
      for (const config of order) {
        const run = { config, ...CONFIGS[config], round };
        try {
          Object.assign(run, await runThroughput(config, round, options, ticks));
          if (options.cpuProfDir !== null) noteProfileWindow(options.cpuProfDir, run);
          const problem = checkThroughput(run, options);
          if (problem !== undefined) run.error = problem;
        } catch (error) {
          run.error = error instanceof Error ? error.message : String(error);
        }
        run.noisy = isNoisyRun(run);
        runs.push(run);
        console.log(formatThroughputLine(run));
      }
    }
  }

  const restartRuns = [];
  if (doRestart) {
    console.log(
      `\nrestart: ${options.rate} broadcasts/s from node 1, one client per node; Redis stopped ` +
        `(SIGTERM) after ${RESTART_STEADY_MS / 1000} s, restarted on the same port ` +
        `${options.outageMs / 1000} s after it exited; node-redis reconnection: ` +
        `${options.redisRetryMs === null ? "the library's default back-off" : `every ${options.redisRetryMs} ms`}`,
    );
    for (let round = 0; round < options.restartRounds; round++) {
      for (const entry of options.restart) {
        const run = {
          config: entry.label,
          ...CONFIGS[entry.config],
          nodeArgs: entry.nodeArgs,
          round,
        };
        try {
          Object.assign(run, await runRestart(entry, options, ticks));
          const r = run.result;
          // A node that died (socket.io's, on an unhandled rejection) is a finding, not a bench
          // failure: its clients' connections drop, and the table says so.
          if (r.protocolErrors > 0) {
            run.error = `${r.protocolErrors} protocol errors (${r.firstError})`;
          }
        } catch (error) {
          run.error = error instanceof Error ? error.message : String(error);
        }
        restartRuns.push(run);
        console.log(formatRestartLine(run));
      }
    }
  }

  const throughput = doThroughput
    ? summarizeThroughput(runs, options.configs, options.baseline)
    : [];
  if (doThroughput) {
    console.log(`\n${formatThroughputTable(throughput, options.baseline)}`);
    const noisy = runs.filter((run) => run.noisy).length;
    if (noisy > 0) {
      console.log(
        `\n${noisy} of ${runs.length} runs saw other processes take more than ` +
          `${NOISY_OTHER_CPU_PERCENT}% of a CPU (marked "!"): treat those figures as noisy.`,
      );
    }
  }
  // One generator process reads every tick: past ~85% of a core it may be what limits the rate.
  const busyLoad = runs.filter((run) => run.result?.loadProcessesCpuPercent.some((p) => p > 85));
  if (busyLoad.length > 0) {
    console.log(
      `\n${busyLoad.length} runs had a load generator process above 85% of a core: it may be the ` +
        "bottleneck there; with spare cores, rerun with --load-processes 2.",
    );
  }
  if (doRestart) console.log(`\n${formatRestartTable(restartRuns)}`);

  writeResults({
    root,
    out: options.out,
    loadAverageAtStart,
    versions: {
      socketIo: packageVersion(root, "socket.io"),
      socketIoRedisAdapter: packageVersion(root, "@socket.io/redis-adapter"),
      socketIoRedisStreamsAdapter: packageVersion(root, "@socket.io/redis-streams-adapter"),
      socketIoClusterAdapter: packageVersion(root, "@socket.io/cluster-adapter"),
      nodeRedis: packageVersion(root, "redis"),
      redisServer: redisServerVersion(),
      ...dist,
    },
    options,
    labels: options.configs,
    summary: { throughput, restart: summarizeRestart(restartRuns) },
    runs: { throughput: runs, restart: restartRuns },
  });
  if ([...runs, ...restartRuns].some((r) => r.error !== undefined)) process.exitCode = 1;
}

// Nothing outlives the bench: children and Redis are killed on any exit, Ctrl-C included.
process.on("exit", killEverything);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping every server and Redis`);
    killEverything();
    process.exit(130);
  });
}

await main();
