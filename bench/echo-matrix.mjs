// WebSocket echo matrix: duplexio vs ws over sizes and permessage-deflate off/on, one neutral
// raw-TCP load generator for both. See bench/README.md. `npm run bench:echo -- --help` lists the
// flags. (`npm run bench`, bench/run.mjs, is issue 10's whole table.)
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine, parseOptions, USAGE } from "./lib/cli.mjs";
import { effectiveWindow, runEcho } from "./lib/processes.mjs";
import {
  formatRunLine,
  formatSize,
  formatSummary,
  isNoisy,
  labelServers,
  NOISY_OTHER_CPU_PERCENT,
  summarize,
} from "./lib/report.mjs";
import { packageVersion, writeResults } from "./lib/results-file.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

async function main() {
  const options = commandLine(parseOptions, USAGE);
  if (options === null) return;

  const loadAverageAtStart = loadavg()[0];
  const labels = labelServers(options.servers);
  const cells = options.deflate.flatMap((deflate) =>
    options.sizes.map((size) => ({ deflate, size })),
  );
  const perRunSeconds = (options.warmupMs + options.durationMs) / 1000 + 1;
  const total = cells.length * labels.length * options.rounds;
  console.log(
    `${total} runs: servers ${labels.join(", ")}; ${options.connections} connections x ` +
      `${options.window} in flight (at most ${options.inflightCap === 0 ? "unlimited" : formatSize(options.inflightCap)} per connection); ${options.warmupMs / 1000} s warm-up + ${options.durationMs / 1000} s ` +
      `measured; about ${Math.ceil(total * perRunSeconds)} s; ${cpus().length} CPUs, load average ` +
      `${loadavg()[0].toFixed(2)}${options.pin ? "; server pinned to CPU 0, load to CPU 1" : ""}`,
  );

  const runs = [];
  let cellIndex = 0;
  for (const { deflate, size } of cells) {
    for (let round = 0; round < options.rounds; round++) {
      // Alternate the order from one round/cell to the next so drift (thermal, other processes
      // on the machine) does not always favour the same server.
      const order = labels.map((label, i) => ({ label, implementation: options.servers[i] }));
      if ((cellIndex + round) % 2 === 1) order.reverse();
      for (const { label, implementation } of order) {
        const run = {
          label,
          implementation,
          deflate,
          size,
          window: effectiveWindow(options, size),
          round,
        };
        try {
          run.result = await runEcho({
            server: {
              kind: "raw",
              config: { implementation, deflate, mode: "echo", duplexioRoot: root },
            },
            label,
            size,
            options,
            deflate,
            connections: options.connections,
            window: effectiveWindow(options, size),
          });
          if (run.result.protocolErrors > 0 || run.result.droppedConnections > 0) {
            run.error =
              `${run.result.protocolErrors} protocol errors, ${run.result.droppedConnections} dropped ` +
              `connections (${run.result.firstError})`;
          }
        } catch (error) {
          run.error = error instanceof Error ? error.message : String(error);
        }
        run.noisy = isNoisy(run);
        runs.push(run);
        console.log(formatRunLine(run));
      }
    }
    cellIndex++;
  }

  const summary = summarize(runs, labels, cells);
  console.log(`\n${formatSummary(summary, labels)}`);
  const noisy = runs.filter(isNoisy).length;
  if (noisy > 0) {
    console.log(
      `\n${noisy} of ${runs.length} runs saw other processes take more than ` +
        `${NOISY_OTHER_CPU_PERCENT}% of a CPU (marked "!"): treat those figures as noisy, rerun ` +
        "when the machine is quiet or with more --rounds.",
    );
  }

  writeResults({
    root,
    out: options.out,
    loadAverageAtStart,
    versions: { ws: packageVersion(root, "ws") },
    options,
    labels,
    summary,
    runs,
  });
  if (runs.some((r) => r.error !== undefined)) process.exitCode = 1;
}

await main();
