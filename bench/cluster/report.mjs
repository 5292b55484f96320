// Run lines, summaries and tables of bench/cluster/run.mjs.
import { fixed, grouped, NOISY_OTHER_CPU_PERCENT } from "../lib/report.mjs";
import { CONFIGS } from "./cli.mjs";

/** Labels of the processes under test, in column order ("node1".."nodeN", then the broker). */
function nodeLabels(cpuPercent) {
  return Object.keys(cpuPercent).filter((label) => label.startsWith("node"));
}

/** "redis" or "primary": what carries messages between the nodes. */
function brokerLabel(cpuPercent) {
  return "redis" in cpuPercent ? "redis" : "primary";
}

/** Sum of the CPU of the nodes and the broker (percent of one core). */
export function clusterCpuPercent(cpuPercent) {
  let sum = 0;
  for (const [label, value] of Object.entries(cpuPercent)) {
    if (label !== "load") sum += value ?? 0;
  }
  return sum;
}

export function isNoisyRun(run) {
  return (run.result?.otherProcessesCpuPercent ?? 0) > NOISY_OTHER_CPU_PERCENT;
}

/** "node cpu% 95/41/40 redis 12 load 60 other 5" */
function cpuText(result) {
  const cpu = result.cpuPercent;
  const nodes = nodeLabels(cpu)
    .map((label) => fixed(cpu[label], 0))
    .join("/");
  const broker = brokerLabel(cpu);
  return (
    `cpu% nodes ${nodes} ${broker} ${fixed(cpu[broker], 0)} load ${fixed(cpu.load, 0)}` +
    ` other ${fixed(result.otherProcessesCpuPercent, 0)}`
  );
}

export function formatThroughputLine(run) {
  const head = `${run.config.padEnd(18)} round ${run.round + 1}`;
  if (run.error !== undefined) return `${head}  FAILED: ${run.error}`;
  const r = run.result;
  return (
    `${head}  ${grouped(r.deliveriesPerSec).padStart(9)} deliveries/s` +
    ` (${grouped(r.broadcastsPerSec)} broadcasts/s, ${r.exact ? "exact" : "NOT EXACT"})` +
    `  last-client p50 ${fixed(r.latencyMs.p50, 1)} p99 ${fixed(r.latencyMs.p99, 1)} ms` +
    `  ${cpuText(r)}${isNoisyRun(run) ? "!" : ""}` +
    `  writes/delivery ${run.writesPerDelivery.map((w) => fixed(w, 2)).join("/")}` +
    `  clients/node ${run.clientsPerNode.join("/")}`
  );
}

function median(sorted) {
  if (sorted.length === 0) return null;
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function ratio(a, b) {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

/**
 * One row per configuration: median deliveries/s with min and max over the successful rounds;
 * the other figures (latency, CPU) are those of the median round (the lower middle one for an
 * even count); ratios against `baseline` and against socket.io with the same adapter kind.
 */
export function summarizeThroughput(runs, configs, baseline) {
  const rows = configs.map((config) => {
    const ok = runs
      .filter((r) => r.config === config && r.error === undefined)
      .sort((a, b) => a.result.deliveriesPerSec - b.result.deliveriesPerSec);
    const failed = runs.filter((r) => r.config === config && r.error !== undefined).length;
    const mid = median(ok);
    const perCpu = ok
      .map((r) => r.result.deliveriesPerSec / (clusterCpuPercent(r.result.cpuPercent) / 100))
      .sort((a, b) => a - b);
    return {
      config,
      rounds: ok.length,
      failed,
      noisyRounds: ok.filter(isNoisyRun).length,
      deliveriesPerSec: {
        median: mid?.result.deliveriesPerSec ?? null,
        min: ok[0]?.result.deliveriesPerSec ?? null,
        max: ok.at(-1)?.result.deliveriesPerSec ?? null,
      },
      broadcastsPerSec: mid?.result.broadcastsPerSec ?? null,
      deliveriesPerClusterCpuSecond: median(perCpu),
      latencyMs:
        mid === null ? null : { p50: mid.result.latencyMs.p50, p99: mid.result.latencyMs.p99 },
      cpuPercent: mid?.result.cpuPercent ?? null,
      otherProcessesCpuPercent: mid?.result.otherProcessesCpuPercent ?? null,
      clientsPerNode: mid?.clientsPerNode ?? null,
      writesPerDelivery: mid?.writesPerDelivery ?? null,
    };
  });
  const byName = new Map(rows.map((row) => [row.config, row]));
  for (const row of rows) {
    const base = byName.get(baseline);
    row.ratio = ratio(row.deliveriesPerSec.median, base?.deliveriesPerSec.median ?? null);
    row.cpuRatio = ratio(
      row.deliveriesPerClusterCpuSecond,
      base?.deliveriesPerClusterCpuSecond ?? null,
    );
    // duplexio-X against socket.io-X, when both ran.
    const { server, adapter } = CONFIGS[row.config];
    const peer = server === "duplexio" ? byName.get(`socket.io-${adapter}`) : undefined;
    row.sameAdapterRatio =
      peer === undefined ? null : ratio(row.deliveriesPerSec.median, peer.deliveriesPerSec.median);
  }
  return rows;
}

function table(columns, rows, leftColumns = 1) {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function formatThroughputTable(rows, baseline) {
  const columns = [
    "configuration",
    "deliveries/s median",
    "(min-max)",
    `x ${baseline}`,
    "x same adapter",
    "/cluster-cpu-s",
    "cpu x",
    "p50/p99 ms",
    "cpu% nodes",
    "broker",
    "load",
    "other",
    "writes/delivery",
    "clients/node",
  ];
  const cells = rows.map((row) => {
    const cpu = row.cpuPercent;
    const d = row.deliveriesPerSec;
    return [
      row.config + (row.failed > 0 ? ` (${row.failed} failed)` : ""),
      `${grouped(d.median)}${row.noisyRounds > 0 ? "!" : ""}`,
      row.rounds > 1 ? `(${grouped(d.min)}-${grouped(d.max)})` : "",
      fixed(row.ratio, 2),
      fixed(row.sameAdapterRatio, 2),
      grouped(row.deliveriesPerClusterCpuSecond),
      fixed(row.cpuRatio, 2),
      row.latencyMs === null
        ? "-"
        : `${fixed(row.latencyMs.p50, 1)}/${fixed(row.latencyMs.p99, 1)}`,
      cpu === null
        ? "-"
        : nodeLabels(cpu)
            .map((l) => fixed(cpu[l], 0))
            .join("/"),
      cpu === null ? "-" : `${brokerLabel(cpu)} ${fixed(cpu[brokerLabel(cpu)], 0)}`,
      cpu === null ? "-" : fixed(cpu.load, 0),
      fixed(row.otherProcessesCpuPercent, 0),
      row.writesPerDelivery?.map((w) => fixed(w, 2)).join("/") ?? "-",
      row.clientsPerNode?.join("/") ?? "-",
    ];
  });
  return table(columns, cells);
}

// --- restart -----------------------------------------------------------------------------------

function ms(value) {
  return value === null || value === undefined ? "never" : `${Math.round(value)}`;
}

export function formatRestartLine(run) {
  const head = `${run.config.padEnd(18)} restart`;
  if (run.error !== undefined) return `${head}  FAILED: ${run.error}`;
  const r = run.result;
  const cross = r.receivers.slice(1);
  const crashed = r.crashedNodes.length === 0 ? "" : `; CRASHED: ${r.crashedNodes.join(", ")}`;
  return (
    `${head}  Redis down ${(r.outageMs / 1000).toFixed(1)} s${crashed}; resumed after restart: ` +
    cross.map((c) => `node${c.node} ${ms(c.resumeMs)} ms`).join(", ") +
    `; outage ticks on node2: ${cross[0].outage.sent} sent, ${cross[0].outage.delivered} late, ` +
    `${cross[0].outage.lost} lost; node1 local max gap ${ms(r.receivers[0].maxGapMs)} ms`
  );
}

export function formatRestartTable(runs) {
  const columns = [
    "configuration",
    "outage s",
    "resume ms node2/3",
    "first fresh ms",
    "outage ticks",
    "late",
    "lost",
    "max late ms",
    "lost outside",
    "dup",
    "node1 gap ms",
    "node1 lost",
    "crashed",
  ];
  const rounds = runs.some((run) => run.round > 0);
  const cells = runs.map((run) => {
    const name = rounds ? `${run.config} #${run.round + 1}` : run.config;
    if (run.error !== undefined) {
      return [name, "FAILED", ...columns.slice(2).map(() => "")];
    }
    const r = run.result;
    const [local, ...cross] = r.receivers;
    const worst = (pick) => cross.map(pick);
    return [
      name,
      (r.outageMs / 1000).toFixed(1),
      worst((c) => ms(c.resumeMs)).join("/"),
      worst((c) => ms(c.firstFreshMs)).join("/"),
      String(cross[0].outage.sent),
      worst((c) => String(c.outage.delivered)).join("/"),
      worst((c) => String(c.outage.lost)).join("/"),
      worst((c) => (c.outage.maxLateMs === null ? "-" : ms(c.outage.maxLateMs))).join("/"),
      worst((c) => String(c.lost - c.outage.lost)).join("/"),
      worst((c) => String(c.duplicates)).join("/"),
      ms(local.maxGapMs),
      String(local.lost),
      r.crashedNodes.length === 0 ? "-" : r.crashedNodes.join(", "),
    ];
  });
  return table(columns, cells);
}

/** The restart figures of each run, without the per-tick detail. */
export function summarizeRestart(runs) {
  return runs.map((run) => {
    if (run.error !== undefined) return { config: run.config, round: run.round, error: run.error };
    const r = run.result;
    return {
      config: run.config,
      round: run.round,
      outageMs: r.outageMs,
      crashedNodes: r.crashedNodes,
      nodes: r.receivers.map((c) => ({
        node: c.node,
        resumeMs: c.resumeMs,
        firstFreshMs: c.firstFreshMs,
        outageTicks: c.outage,
        lostOutsideOutage: c.lost - c.outage.lost,
        duplicates: c.duplicates,
        maxGapMs: c.maxGapMs,
      })),
    };
  });
}
