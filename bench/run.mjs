// `npm run bench`: issue 10's whole table in one go. Every row (raw and Socket.IO echo, broadcast,
// idle memory, connection rate, permessage-deflate) for every server that row compares
// (duplexio, ws, socket.io, Bun, a plain Node TCP echo), round after round with the servers in
// alternating order, then per cell the median of the rounds with min-max, and the issue's
// targets read from the medians. See bench/README.md; `node bench/run.mjs --help` for flags.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { commandLine, parseList, parseNumber } from "./lib/cli.mjs";
import { bunVersion } from "./lib/processes.mjs";
import { isNoisy, NOISY_OTHER_CPU_PERCENT } from "./lib/report.mjs";
import { gitCommit, packageVersion, writeResults } from "./lib/results-file.mjs";
import { spread } from "./lib/stats.mjs";
import { measureBundles, ROWS, TARGETS } from "./lib/table.mjs";
import { formatCellLine, formatTable, formatTargets } from "./lib/table-report.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

const USAGE = `Usage: node bench/run.mjs [options]   (npm run bench -- [options]: builds dist/ first)

  --rows LIST             rows to run (in the table's order)          [all]
                          ${ROWS.map((r) => r.id).join(", ")}
  --servers LIST          only these servers (cells of other servers are skipped)  [all]
                          duplexio-raw, duplexio-sio, ws, socket.io, bun, tcp
  --rounds N              rounds; each cell shows the median with min-max       [3]
  --duration S            measured seconds per throughput / rate run            [3]
  --warmup S              warm-up seconds per run (not measured)                [1]
  --idle-connections N    connections held open by the memory rows              [10000]
  --rate-concurrency N    connection loops of the connection-rate row           [16]
  --duplexio-root DIR     measure the duplexio checkout in DIR (its built dist/)
                          instead of this one: the same bench for before/after [.]
  --pin                   server on CPU 0, load generator on CPU 1 (taskset)
  --cpu-prof DIR          every Node server under test writes a V8 CPU profile of its run to
                          DIR/<row>-<server>-r<round>.cpuprofile (Chrome DevTools), measured
                          windows in DIR/windows.json; summary of those windows:
                          node bench/cluster/profile-summary.mjs DIR. Profiling slows the
                          servers: not for the figures
  --out FILE              JSON results                 [bench/results/table-latest.json]
  --help                  this text
`;

const SERVER_FLAGS = {
  "duplexio-raw": "duplexio raw",
  "duplexio-sio": "duplexio Socket.IO",
  ws: "ws",
  "socket.io": "socket.io",
  bun: "Bun",
  tcp: "Node TCP",
};

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rows: { type: "string", default: ROWS.map((r) => r.id).join(",") },
      servers: { type: "string", default: Object.keys(SERVER_FLAGS).join(",") },
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      "idle-connections": { type: "string", default: "10000" },
      "rate-concurrency": { type: "string", default: "16" },
      "duplexio-root": { type: "string", default: root },
      pin: { type: "boolean", default: false },
      "cpu-prof": { type: "string" },
      out: { type: "string", default: "bench/results/table-latest.json" },
      help: { type: "boolean", default: false },
    },
  });
  const rowIds = new Set(ROWS.map((r) => r.id));
  const duplexioRoot = resolve(values["duplexio-root"]);
  if (!values.help && !existsSync(resolve(duplexioRoot, "dist/index.js"))) {
    throw new Error(`--duplexio-root: no built dist/ in ${duplexioRoot} (npm run build there)`);
  }
  return {
    help: values.help,
    rows: parseList(values.rows, "rows", (id, name) => {
      if (!rowIds.has(id)) throw new Error(`--${name}: unknown row ${id}`);
      return id;
    }),
    servers: parseList(values.servers, "servers", (s, name) => {
      if (SERVER_FLAGS[s] === undefined) throw new Error(`--${name}: unknown server ${s}`);
      return SERVER_FLAGS[s];
    }),
    rounds: parseNumber(values.rounds, "rounds", { min: 1, max: 20, integer: true }),
    durationMs:
      parseNumber(values.duration, "duration", { min: 0.5, max: 60, integer: false }) * 1000,
    warmupMs: parseNumber(values.warmup, "warmup", { min: 0, max: 30, integer: false }) * 1000,
    idleConnections: parseNumber(values["idle-connections"], "idle-connections", {
      min: 1,
      max: 50_000,
      integer: true,
    }),
    rateConcurrency: parseNumber(values["rate-concurrency"], "rate-concurrency", {
      min: 1,
      max: 1000,
      integer: true,
    }),
    duplexioRoot,
    pin: values.pin,
    cpuProfDir: values["cpu-prof"] === undefined ? null : resolve(values["cpu-prof"]),
    out: values.out,
  };
}

/**
 * Records a profiled run's measured window in <dir>/windows.json, so that
 * `node bench/cluster/profile-summary.mjs <dir>` counts only the samples of that window.
 */
function noteProfileWindow({ dir, name }, windowUs, rate) {
  const file = resolve(dir, "windows.json");
  mkdirSync(dir, { recursive: true });
  let windows = {};
  try {
    windows = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // First run into this directory.
  }
  // profile-summary.mjs shows the rate as "deliveries/s" (its own bench's unit): here it is the
  // row's unit (messages, acks, deliveries or connections per second).
  windows[`${name}.cpuprofile`] = {
    start: windowUs.start,
    end: windowUs.end,
    deliveriesPerSec: rate,
  };
  writeFileSync(file, `${JSON.stringify(windows, null, 2)}\n`);
}

async function main() {
  const options = commandLine(parseOptions, USAGE);
  if (options === null) return;
  const bun = bunVersion();
  const rows = ROWS.filter((row) => options.rows.includes(row.id));
  const ctx = { options, duplexioRoot: options.duplexioRoot };
  // Paths in the output and the JSON are relative to this checkout (no machine paths in results).
  const shownRoot = relative(root, options.duplexioRoot) || ".";
  const loadAverageAtStart = loadavg()[0];
  console.log(
    `${rows.length} rows x ${options.rounds} rounds; duplexio from ${shownRoot}; ` +
      `Bun ${bun ?? "n/a (not installed)"}; ${cpus().length} CPUs, load average ${loadAverageAtStart.toFixed(2)}` +
      `${options.pin ? "; server pinned to CPU 0, load to CPU 1" : ""}`,
  );

  const runs = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const [rowIndex, row] of rows.entries()) {
      // Alternate the order from one round and row to the next, so drift (other processes,
      // heat) does not always favour the same server.
      const cells = row.cells.filter((name) => options.servers.includes(name));
      if ((round + rowIndex) % 2 === 1) cells.reverse();
      for (const name of cells) {
        const run = { row: row.id, server: name, round };
        if (name === "Bun" && bun === null) {
          run.error = "n/a (not installed)";
        } else {
          const started = Date.now();
          const runOptions =
            options.cpuProfDir === null
              ? options
              : {
                  ...options,
                  cpuProfile: {
                    dir: options.cpuProfDir,
                    name: `${row.id}-${name.replace(/[^A-Za-z0-9.]+/g, "-")}-r${round + 1}`,
                  },
                };
          try {
            const { metrics, detail } = await row.run(name, { ...ctx, options: runOptions });
            run.metrics = metrics;
            run.detail = detail;
            const errors = detail.protocolErrors ?? detail.result?.protocolErrors ?? 0;
            const dropped = detail.droppedConnections ?? 0;
            if (errors > 0 || dropped > 0) {
              run.error = `${errors} protocol errors, ${dropped} dropped connections (${detail.firstError ?? detail.result?.firstError})`;
            }
          } catch (error) {
            run.error = error instanceof Error ? error.message : String(error);
          }
          run.seconds = (Date.now() - started) / 1000;
          if (runOptions.cpuProfile !== undefined && run.detail?.windowUs !== undefined) {
            noteProfileWindow(runOptions.cpuProfile, run.detail.windowUs, run.metrics.rate);
          }
          run.noisy = isNoisy({ result: run.detail });
        }
        runs.push(run);
        console.log(formatCellLine(run, row));
      }
    }
  }

  const summary = {};
  for (const row of rows) {
    summary[row.id] = {};
    for (const name of row.cells) {
      const ok = runs.filter((r) => r.row === row.id && r.server === name && r.error === undefined);
      const failed = runs.find(
        (r) => r.row === row.id && r.server === name && r.error !== undefined,
      );
      const cell = {
        rounds: ok.length,
        noisyRounds: ok.filter((r) => r.noisy).length,
        error: ok.length === 0 ? (failed?.error ?? null) : null,
      };
      for (const metric of row.metrics)
        cell[metric.key] = spread(ok.map((r) => r.metrics[metric.key]));
      summary[row.id][name] = cell;
    }
  }
  const bundles = measureBundles(options.duplexioRoot, root);
  const targets = TARGETS.map((target) => {
    const value = target.value(summary, bundles);
    const perCpu = target.perCpu?.(summary) ?? null;
    const met =
      value === null
        ? null
        : target.atMost !== undefined
          ? value <= target.atMost
          : target.atLeast !== undefined
            ? value >= target.atLeast
            : null;
    return {
      name: target.name,
      value,
      perCpu,
      atMost: target.atMost,
      atLeast: target.atLeast,
      met,
    };
  });

  console.log(`\n${formatTable(rows, summary, bundles, options)}`);
  console.log(`\n${formatTargets(targets)}`);
  const noisy = runs.filter((r) => r.noisy).length;
  if (noisy > 0) {
    console.log(
      `\n${noisy} of ${runs.length} runs saw other processes take more than ` +
        `${NOISY_OTHER_CPU_PERCENT}% of a CPU (cells with such rounds are marked "!"): rates ` +
        "swing with that; server CPU per unit (and the per-CPU ratios) much less.",
    );
  }

  writeResults({
    root,
    out: options.out,
    loadAverageAtStart,
    versions: {
      duplexioRoot: shownRoot,
      measuredDuplexioCommit: gitCommit(options.duplexioRoot),
      ws: packageVersion(root, "ws"),
      socketIo: packageVersion(root, "socket.io"),
      bun,
    },
    options: { ...options, duplexioRoot: shownRoot },
    labels: rows.map((r) => r.id),
    summary: { table: summary, bundles, targets },
    runs,
  });
  if (runs.some((r) => r.error !== undefined && r.error !== "n/a (not installed)"))
    process.exitCode = 1;
}

await main();
