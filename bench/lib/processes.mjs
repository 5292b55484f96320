// Child-process plumbing for run.mjs: one echo server and one load generator per run, each in
// its own process, with hard deadlines so a hung child can never hang the benchmark.
import { fork, spawnSync } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { machineBusyPercent, sampleMachineCpu } from "./machine-cpu.mjs";

const ECHO_SERVER = fileURLToPath(new URL("../echo-server.mjs", import.meta.url));
const LOAD_GENERATOR = fileURLToPath(new URL("../load-generator.mjs", import.meta.url));

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

function usageDelta(before, after) {
  const wallMs = after.at - before.at;
  const cpuMs = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000;
  const active = after.elu.active - before.elu.active;
  const idle = after.elu.idle - before.elu.idle;
  return {
    // The server's own sampling window: it answers late when its event loop is starved, and a
    // window much shorter than the load generator's makes cpuPercent meaningless.
    wallMs,
    cpuPercent: (cpuMs / wallMs) * 100,
    eventLoopUtilization: active / (active + idle),
    rssMiB: after.rss / 1024 / 1024,
    messagesPerSec: ((after.messages - before.messages) / wallMs) * 1000,
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
 * Starts a server process and a load generator process, hands the generator the server's port,
 * samples the server's CPU (and the machine's) when the generator says "measure-start" and
 * "measure-end", and resolves with the generator's result plus those samples. Any bench whose
 * children speak this IPC protocol can use it (the Socket.IO bench does).
 *
 * @param {{ serverModule: string, serverArgs: string[], loadModule: string, loadConfig: object,
 *   label: string, pin: boolean, deadlineMs: number }} spec `deadlineMs` bounds the wait for the
 *   generator's result once it has the port.
 */
export async function runMeasured({
  serverModule,
  serverArgs,
  loadModule,
  loadConfig,
  label,
  pin,
  deadlineMs,
}) {
  // Both processes start at once (Node's start-up is most of a run's overhead); the load
  // generator waits for the port.
  const server = fork(serverModule, serverArgs, {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const load = fork(loadModule, [JSON.stringify(loadConfig)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // IPC failures surface as "error" events; the deadlines below decide what they mean.
  server.on("error", () => {});
  load.on("error", () => {});
  try {
    if (pin) {
      pinToCpu(server.pid, 0);
      pinToCpu(load.pid, 1);
    }
    const [{ port }] = await withDeadline(
      Promise.all([
        nextMessage(server, "listening", `${label} server`),
        nextMessage(load, "waiting", "load generator"),
      ]),
      15_000,
      "process start",
    );
    sendQuietly(load, { type: "start", port });

    // Ids matter: a server whose event loop is busy may answer the first request late, after
    // the second was sent, and both replies must not be taken for the same one.
    let usageId = 0;
    const sampleServerUsage = () => {
      const id = ++usageId;
      const reply = nextMessage(server, "usage", `${label} server`, id);
      sendQuietly(server, { type: "usage", id });
      const sample = withDeadline(reply, 5000, "server usage sample");
      // Awaited below; this only keeps a failure from being reported as unhandled meanwhile.
      sample.catch(() => {});
      return sample;
    };
    let usageBefore;
    let usageAfter;
    let machineBefore = null;
    let machineAfter = null;
    load.on("message", (message) => {
      if (message?.type === "measure-start") {
        machineBefore = sampleMachineCpu();
        usageBefore = sampleServerUsage();
      } else if (message?.type === "measure-end") {
        machineAfter = sampleMachineCpu();
        usageAfter = sampleServerUsage();
      }
    });
    const { result } = await withDeadline(
      nextMessage(load, "result", "load generator"),
      deadlineMs,
      "load generator",
    );
    if (usageBefore === undefined || usageAfter === undefined) {
      throw new Error("load generator finished without a measured window");
    }
    const serverUsage = usageDelta(await usageBefore, await usageAfter);
    const machine = machineBusyPercent(machineBefore, machineAfter);
    return {
      result,
      server: serverUsage,
      machineBusyPercent: machine,
      otherProcessesCpuPercent:
        machine === null
          ? null
          : Math.max(0, machine - serverUsage.cpuPercent - result.loadCpuPercent),
    };
  } finally {
    // After a result the load generator is exiting on its own; before, "stop" ends it.
    await Promise.all([stopChild(load, { type: "stop" }), stopChild(server, { type: "stop" })]);
  }
}

/**
 * One measured run: start the server and the load generator, give the generator the port,
 * sample the server's CPU at the generator's measure-start and measure-end, collect the result.
 */
export async function runOnce({ implementation, deflate, size, options }) {
  const config = {
    host: "127.0.0.1",
    connections: options.connections,
    size,
    window: effectiveWindow(options, size),
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    deflate,
    text: options.text,
  };
  const measured = await runMeasured({
    serverModule: ECHO_SERVER,
    serverArgs: [implementation, deflate ? "1" : "0"],
    loadModule: LOAD_GENERATOR,
    loadConfig: config,
    label: implementation,
    pin: options.pin,
    deadlineMs: options.warmupMs + options.durationMs + 60_000,
  });
  return {
    ...measured.result,
    // Messages per second of server CPU: less sensitive than msg/s to other processes
    // stealing the server's core, though not immune (batching changes with the pace).
    messagesPerServerCpuSecond: measured.result.messagesPerSec / (measured.server.cpuPercent / 100),
    server: measured.server,
    machineBusyPercent: measured.machineBusyPercent,
    otherProcessesCpuPercent: measured.otherProcessesCpuPercent,
  };
}
