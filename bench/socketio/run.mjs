// Socket.IO benchmark: duplexio's Server vs socket.io's, one neutral raw Engine.IO load
// generator for both. See bench/README.md; `node bench/socketio/run.mjs --help` lists the flags.
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runMeasured } from "../lib/processes.mjs";
import { isNoisy, labelServers, NOISY_OTHER_CPU_PERCENT } from "../lib/report.mjs";
import { packageVersion, writeResults } from "../lib/results-file.mjs";
import { parseOptions, USAGE } from "./cli.mjs";
import { formatRunLine, formatSummary, summarize } from "./report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const SERVER = resolve(here, "server.mjs");
const LOAD_GENERATOR = resolve(here, "load-generator.mjs");
/** Upper bound on one broadcast run once connected; a stuck fan-out fails instead of hanging. */
const BROADCAST_MAX_MS = 60_000;
/** Server CPU window vs the load generator's, beyond which the CPU figures are void. */
const MAX_CPU_SAMPLE_SKEW = 0.2;

function loadConfig(cell, options) {
  if (cell.scenario === "echo") {
    return {
      scenario: "echo",
      host: "127.0.0.1",
      connections: options.connections,
      window: options.window,
      size: cell.size,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
    };
  }
  return {
    scenario: "broadcast",
    host: "127.0.0.1",
    clients: cell.clients,
    size: cell.size,
    broadcasts: options.broadcasts,
    // Whole bursts, so the measured window starts at a burst boundary.
    warmupBroadcasts: options.warmupBursts * options.burst,
    burst: options.burst,
    durationMs: options.durationMs,
    maxMs: BROADCAST_MAX_MS,
  };
}

async function runOnce(implementation, label, cell, options) {
  const measured = await runMeasured({
    serverModule: SERVER,
    serverArgs: [implementation],
    loadModule: LOAD_GENERATOR,
    loadConfig: loadConfig(cell, options),
    label,
    pin: options.pin,
    // Connecting 1,000 clients on a loaded machine takes seconds: generous, but bounded.
    deadlineMs:
      cell.scenario === "echo"
        ? options.warmupMs + options.durationMs + 60_000
        : BROADCAST_MAX_MS + 60_000,
  });
  // The server answers CPU samples from its event loop: starved by other processes, it may
  // answer both late and back to back, and CPU over that short window means nothing.
  const cpuSampleSkew =
    Math.abs(measured.server.wallMs - measured.result.elapsedMs) / measured.result.elapsedMs;
  const cpuSampleValid = cpuSampleSkew <= MAX_CPU_SAMPLE_SKEW;
  return {
    ...measured.result,
    cpuSampleValid,
    // Acks (echo) or deliveries (broadcast) per second of server CPU: less sensitive than the
    // rate to other processes stealing the server's core, though not immune.
    messagesPerServerCpuSecond: cpuSampleValid
      ? measured.result.messagesPerSec / (measured.server.cpuPercent / 100)
      : null,
    server: measured.server,
    machineBusyPercent: measured.machineBusyPercent,
    otherProcessesCpuPercent: measured.otherProcessesCpuPercent,
  };
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

  const loadAverageAtStart = loadavg()[0];
  const labels = labelServers(options.servers);
  const cells = options.scenarios.flatMap((scenario) =>
    scenario === "echo"
      ? options.sizes.map((size) => ({ scenario, size }))
      : [{ scenario, size: options.broadcastSize, clients: options.clients }],
  );
  const total = cells.length * labels.length * options.rounds;
  console.log(
    `${total} runs: servers ${labels.join(", ")}; echo: ${options.connections} connections x ` +
      `${options.window} in flight, ${options.warmupMs / 1000} s warm-up + ` +
      `${options.durationMs / 1000} s measured; broadcast: ${options.clients} clients, ` +
      `${options.warmupBursts} warm-up bursts of ${options.burst}, then bursts for ` +
      `${options.durationMs / 1000} s or ${options.broadcasts} broadcasts; ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(2)}` +
      `${options.pin ? "; server pinned to CPU 0, load to CPU 1" : ""}`,
  );

  const runs = [];
  let cellIndex = 0;
  for (const cell of cells) {
    for (let round = 0; round < options.rounds; round++) {
      // Alternate the order so drift (other processes on the machine) does not always favour
      // the same server.
      const order = labels.map((label, i) => ({ label, implementation: options.servers[i] }));
      if ((cellIndex + round) % 2 === 1) order.reverse();
      for (const { label, implementation } of order) {
        const run = { label, implementation, ...cell, round };
        try {
          run.result = await runOnce(implementation, label, cell, options);
          if (run.result.protocolErrors > 0 || run.result.droppedConnections > 0) {
            run.error =
              `${run.result.protocolErrors} protocol errors, ${run.result.droppedConnections} ` +
              `dropped connections (${run.result.firstError})`;
          }
        } catch (error) {
          run.error = error instanceof Error ? error.message : String(error);
        }
        // A void CPU sample also means the server was starved: count the run as disturbed.
        run.noisy = isNoisy(run) || run.result?.cpuSampleValid === false;
        runs.push(run);
        console.log(formatRunLine(run));
      }
    }
    cellIndex++;
  }

  const summary = summarize(runs, labels, cells);
  console.log(`\n${formatSummary(summary, labels)}`);
  const noisy = runs.filter((run) => run.noisy).length;
  if (noisy > 0) {
    console.log(
      `\n${noisy} of ${runs.length} runs saw other processes take more than ` +
        `${NOISY_OTHER_CPU_PERCENT}% of a CPU, or a server CPU sample too skewed to use (marked ` +
        '"!", /cpu-s "-"): treat those figures as noisy, rerun when the machine is quiet or with ' +
        "more --rounds.",
    );
  }

  writeResults({
    root,
    out: options.out,
    loadAverageAtStart,
    versions: { socketIo: packageVersion(root, "socket.io") },
    options,
    labels,
    summary,
    runs,
  });
  if (runs.some((r) => r.error !== undefined)) process.exitCode = 1;
}

await main();
