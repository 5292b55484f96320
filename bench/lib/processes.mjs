// Child-process plumbing for every bench: one server under test and one load generator per
// run, each in its own process, with hard deadlines so a hung child can never hang the bench.
// Servers are described as { kind: "raw" | "bun" | "socketio", config } (config reaches the
// server as JSON, see lib/server-control.mjs); their CPU time is read from /proc, the same way
// whatever the runtime.
import { fork, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { machineBusyPercent, sampleMachineCpu } from "./machine-cpu.mjs";

const SERVER_MODULES = {
  raw: fileURLToPath(new URL("../raw-server.mjs", import.meta.url)),
  bun: fileURLToPath(new URL("../bun-server.mjs", import.meta.url)),
  socketio: fileURLToPath(new URL("../socketio/server.mjs", import.meta.url)),
};
const ECHO_LOAD = fileURLToPath(new URL("../load-generator.mjs", import.meta.url));

/** Bun, the reference server for uWebSockets (its npm package: a prebuilt binary). */
const BUN_PACKAGE = "@oven/bun-linux-x64";
const BUN_VERSION = "1.4.5";
/**
 * Where the bench installs Bun on first use (gitignored). Not a devDependency: npm refuses to
 * install a package built for another platform, which would break `npm install` off linux-x64.
 */
const BUN_PREFIX = fileURLToPath(new URL("../.tools", import.meta.url));
export const BUN_BINARY = join(BUN_PREFIX, "node_modules", BUN_PACKAGE, "bin", "bun");

/**
 * Bun's version when its binary runs here, else null. On linux-x64 a missing binary is installed
 * first from the npm registry (`npm install --prefix bench/.tools`, about 40 MB, once).
 */
export function bunVersion() {
  if (!existsSync(BUN_BINARY)) {
    if (process.platform !== "linux" || process.arch !== "x64") return null;
    console.log(`installing ${BUN_PACKAGE}@${BUN_VERSION} into bench/.tools for the Bun rows...`);
    const install = spawnSync(
      "npm",
      [
        "install",
        "--prefix",
        BUN_PREFIX,
        "--no-save",
        "--no-audit",
        "--no-fund",
        `${BUN_PACKAGE}@${BUN_VERSION}`,
      ],
      { stdio: "inherit", timeout: 300_000 },
    );
    if (install.status !== 0 || !existsSync(BUN_BINARY)) return null;
  }
  const result = spawnSync(BUN_BINARY, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** Restricts every thread of `pid` (and threads it creates later) to one CPU. */
function pinToCpu(pid, cpu) {
  const result = spawnSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], {
    stdio: "ignore",
  });
  if (result.status !== 0)
    throw new Error(`taskset failed for pid ${pid} (is util-linux installed?)`);
}

export function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Resolves with the first IPC message of `type` (and `id`, when given); rejects if the child
 * reports an error or exits.
 */
export function nextMessage(child, type, what, id) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.type === type && (id === undefined || message.id === id)) {
        cleanup();
        resolve(message);
      } else if (message?.type === "error") {
        cleanup();
        reject(new Error(`${what}: ${message.message}`));
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${what} exited (${signal ?? code}) before sending "${type}"`));
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

/**
 * Sends over IPC without ever throwing: a child that is exiting (or has just disconnected, which
 * the parent may not know yet) makes send fail, and that is the caller's deadline's business.
 */
export function sendQuietly(child, message) {
  if (!child.connected) return;
  try {
    child.send(message, () => {});
  } catch {
    // The channel closed under us; the child is on its way out.
  }
}

/** Asks a child to exit (or waits for it to), then kills it after 3 s. Never throws. */
export async function stopChild(child, message) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  sendQuietly(child, message);
  try {
    await withDeadline(exited, 3000, "child exit");
  } catch {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS = (() => {
  const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** CPU ms (user + system, all threads) of process `pid` from /proc, or null. */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may hold spaces; fields after its ")" are space-separated.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 (1-based): 11 and 12 after the name and state.
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000;
  } catch {
    return null;
  }
}

/**
 * Raises the open-files limit of a child that must hold `files` descriptors, when the inherited
 * soft limit is lower and the hard limit allows it (util-linux prlimit). Otherwise the run fails
 * later with EMFILE; the error names `ulimit -n` as the fix.
 */
function ensureOpenFiles(pid, files) {
  const limits = readFileSync(`/proc/${pid}/limits`, "latin1");
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (match === null || match[1] === "unlimited" || Number(match[1]) >= files) return;
  const hard = match[2];
  if (hard !== "unlimited" && Number(hard) < files) {
    throw new Error(
      `${files} open files needed, hard limit ${hard}: raise it (ulimit -Hn ${files}) and retry`,
    );
  }
  const result = spawnSync("prlimit", ["--pid", String(pid), `--nofile=${files}:${hard}`], {
    stdio: "ignore",
  });
  if (result.status !== 0) {
    throw new Error(`prlimit failed; run the bench after ulimit -n ${files}`);
  }
}

function usageDelta(before, after) {
  // From /proc the CPU time is read when the orchestrator asks, so the window is the
  // orchestrator's; the fallback is the server's own answer, which comes late when its event
  // loop is starved.
  const fromProc = before.procCpuMs !== null && after.procCpuMs !== null;
  const wallMs = fromProc ? after.sampledAt - before.sampledAt : after.at - before.at;
  const cpuMs = fromProc
    ? after.procCpuMs - before.procCpuMs
    : (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000;
  return {
    wallMs,
    cpuMs,
    cpuPercent: (cpuMs / wallMs) * 100,
    eventLoopUtilization:
      before.elu === null || after.elu === null
        ? null
        : (after.elu.active - before.elu.active) /
          (after.elu.active - before.elu.active + after.elu.idle - before.elu.idle),
    rssMiB: after.rss / 1024 / 1024,
    rss: after.rss,
    messagesPerSec: ((after.messages - before.messages) / wallMs) * 1000,
    connections: after.connections,
  };
}

/**
 * Messages in flight per connection for a payload size: the --window value, lowered for big
 * payloads so one connection never has more than --inflight-cap bytes outstanding (at least one
 * message). Without the cap, 100 connections x 16 x 64 KiB would put 100 MiB in flight and the
 * run would measure memory pressure and queueing rather than the WebSocket code.
 */
export function effectiveWindow(options, size) {
  if (options.inflightCap === 0) return options.window;
  return Math.max(1, Math.min(options.window, Math.floor(options.inflightCap / size)));
}

/**
 * Forks the server and the load generator at once (Node's start-up is most of a run's
 * overhead), raises their open-files limits to `files` when needed, pins them with `pin`, and
 * resolves once the server listens and the generator waits. `stop()` ends both (never throws).
 */
async function startPair({
  server: serverSpec,
  loadModule,
  loadConfig,
  label,
  pin,
  files,
  cpuProfile,
}) {
  const isBun = serverSpec.kind === "bun";
  const execArgv = ["--expose-gc"];
  if (cpuProfile !== undefined) {
    // Written by V8 when the server exits on "stop" (process.exit), before the kill deadline.
    execArgv.push(
      "--cpu-prof",
      `--cpu-prof-dir=${cpuProfile.dir}`,
      `--cpu-prof-name=${cpuProfile.name}.cpuprofile`,
    );
  }
  // `module`/`args`: a server of the caller's own (bench/nosticky's cluster of workers).
  const serverModule = serverSpec.module ?? SERVER_MODULES[serverSpec.kind];
  const serverArgs = serverSpec.args ?? [JSON.stringify(serverSpec.config)];
  const server = fork(serverModule, serverArgs, {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: isBun ? [] : execArgv,
    ...(isBun ? { execPath: BUN_BINARY } : {}),
  });
  const load = fork(loadModule, [JSON.stringify(loadConfig)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // IPC failures surface as "error" events; the deadlines decide what they mean.
  server.on("error", () => {});
  load.on("error", () => {});
  const stop = () =>
    Promise.all([stopChild(load, { type: "stop" }), stopChild(server, { type: "stop" })]);
  try {
    if (files !== undefined) {
      ensureOpenFiles(server.pid, files);
      ensureOpenFiles(load.pid, files);
    }
    if (pin) {
      pinToCpu(server.pid, 0);
      pinToCpu(load.pid, 1);
    }
    const [listening] = await withDeadline(
      Promise.all([
        nextMessage(server, "listening", `${label} server`),
        nextMessage(load, "waiting", "load generator"),
      ]),
      15_000,
      "process start",
    );
    let requestId = 0;
    /** Asks the server for a "usage" or "memory" sample, with a deadline. */
    const sample = (type, ms = 5000) => {
      const id = ++requestId;
      const reply = nextMessage(server, type, `${label} server`, id);
      sendQuietly(server, { type, id });
      // A server of several processes adds its workers' CPU to its own answer (`ownCpu`).
      const procCpuMs = serverSpec.ownCpu ? null : processCpuMs(server.pid);
      const sampledAt = performance.now();
      const result = withDeadline(reply, ms, `server ${type} sample`).then((message) => ({
        ...message,
        procCpuMs,
        sampledAt,
      }));
      // Awaited by the caller; this only keeps a failure from being reported as unhandled.
      result.catch(() => {});
      return result;
    };
    return { server, load, port: listening.port, listeningRss: listening.rss, sample, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts a server process and a load generator process, hands the generator the server's port,
 * samples the server's CPU (and the machine's) when the generator says "measure-start" and
 * "measure-end", and resolves with the generator's result plus those samples.
 *
 * @param {{ server: { kind: string, config?: object, module?: string, args?: string[],
 *   ownCpu?: boolean }, loadModule: string, loadConfig: object,
 *   label: string, pin: boolean, deadlineMs: number, files?: number,
 *   cpuProfile?: { dir: string, name: string } }} spec `deadlineMs` bounds the wait for the
 *   generator's result once it has the port; `files`: descriptors each child must be able to
 *   open; `cpuProfile`: a Node server writes a V8 CPU profile `dir/name.cpuprofile`.
 */
export async function runMeasured(spec) {
  const pair = await startPair(spec);
  const { load, sample } = pair;
  try {
    sendQuietly(load, { type: "start", port: pair.port });
    let usageBefore;
    let usageAfter;
    let machineBefore = null;
    let machineAfter = null;
    // The measured window on CLOCK_MONOTONIC in microseconds, the clock of V8's CPU profiles.
    const windowUs = { start: null, end: null };
    const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
    load.on("message", (message) => {
      if (message?.type === "measure-start") {
        windowUs.start = monotonicUs();
        machineBefore = sampleMachineCpu();
        usageBefore = sample("usage");
      } else if (message?.type === "measure-end") {
        windowUs.end = monotonicUs();
        machineAfter = sampleMachineCpu();
        usageAfter = sample("usage");
      }
    });
    const { result } = await withDeadline(
      nextMessage(load, "result", "load generator"),
      spec.deadlineMs,
      "load generator",
    );
    if (usageBefore === undefined || usageAfter === undefined) {
      throw new Error("load generator finished without a measured window");
    }
    const serverUsage = usageDelta(await usageBefore, await usageAfter);
    serverUsage.listeningRss = pair.listeningRss;
    const machine = machineBusyPercent(machineBefore, machineAfter);
    return {
      result,
      server: serverUsage,
      windowUs,
      machineBusyPercent: machine,
      otherProcessesCpuPercent:
        machine === null
          ? null
          : Math.max(0, machine - serverUsage.cpuPercent - result.loadCpuPercent),
    };
  } finally {
    // After a result the load generator is exiting on its own; before, "stop" ends it.
    await pair.stop();
  }
}

/**
 * Idle memory: the server's memory after GC with no client (baseline), then with
 * `loadConfig.count` idle connections held open by the generator (after GC again). Resolves
 * with both samples and the cost per connection.
 */
export async function runIdle(spec) {
  const count = spec.loadConfig.count;
  // Each side holds one descriptor per connection, plus Node's own.
  const pair = await startPair({ ...spec, files: count + 1024 });
  const { load, sample } = pair;
  try {
    const baseline = await sample("memory", 15_000);
    const connected = nextMessage(load, "connected", "load generator");
    sendQuietly(load, { type: "start", port: pair.port });
    const { connectMs } = await withDeadline(connected, spec.deadlineMs, "idle connections");
    // The server may not have seen the last few connections yet (TCP accept after connect).
    const until = Date.now() + 10_000;
    let usage = await sample("usage");
    while (usage.connections !== count && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      usage = await sample("usage");
    }
    if (usage.connections !== count) {
      throw new Error(`server holds ${usage.connections} connections, expected ${count}`);
    }
    const held = await sample("memory", 30_000);
    if (held.connections !== count) {
      throw new Error(`server lost connections during GC: ${held.connections} of ${count}`);
    }
    return {
      connections: count,
      connectMs,
      baseline: { rss: baseline.rss, heapUsed: baseline.heapUsed },
      held: { rss: held.rss, heapUsed: held.heapUsed },
      rssPerConnection: (held.rss - baseline.rss) / count,
      heapPerConnection: (held.heapUsed - baseline.heapUsed) / count,
    };
  } finally {
    await pair.stop();
  }
}

/**
 * One measured raw echo run (bench/load-generator.mjs): start the server and the load
 * generator, give the generator the port, sample the server's CPU at measure-start and
 * measure-end, collect the result. `server` as for runMeasured.
 */
export async function runEcho({ server, label, size, options, deflate, connections, window }) {
  const config = {
    host: "127.0.0.1",
    connections,
    size,
    window,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    deflate,
    text: options.text ?? false,
    // A plain TCP echo server gets no handshake and sends back the masked frames it got.
    tcp: server.kind === "raw" && server.config.implementation === "tcp",
  };
  const measured = await runMeasured({
    server,
    loadModule: ECHO_LOAD,
    loadConfig: config,
    label,
    pin: options.pin,
    cpuProfile: options.cpuProfile,
    files: connections + 1024,
    deadlineMs: options.warmupMs + options.durationMs + 60_000,
  });
  return {
    ...measured.result,
    // Messages per second of server CPU: less sensitive than msg/s to other processes
    // stealing the server's core, though not immune (batching changes with the pace).
    messagesPerServerCpuSecond: measured.result.messagesPerSec / (measured.server.cpuPercent / 100),
    server: measured.server,
    windowUs: measured.windowUs,
    machineBusyPercent: measured.machineBusyPercent,
    otherProcessesCpuPercent: measured.otherProcessesCpuPercent,
  };
}
