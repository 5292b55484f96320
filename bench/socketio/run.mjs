// Socket.IO benchmark: duplexio's Server vs socket.io's, one neutral raw Engine.IO load
// generator for both. See bench/README.md; `node bench/socketio/run.mjs --help` lists the flags.
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine } from "../lib/cli.mjs";
import { isNoisy, labelServers, NOISY_OTHER_CPU_PERCENT } from "../lib/report.mjs";
import { packageVersion, writeResults } from "../lib/results-file.mjs";
import { parseOptions, USAGE } from "./cli.mjs";
import { runMessageLoad } from "./measure.mjs";
import { formatRunLine, formatSummary, summarize } from "./report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");

async function main() {
  const options = commandLine(parseOptions, USAGE);
  if (options === null) return;

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
          run.result = await runMessageLoad({
            server: { kind: "socketio", config: { implementation, duplexioRoot: root } },
            label,
            cell: { ...cell, protocol: "socketio" },
            options,
          });
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
